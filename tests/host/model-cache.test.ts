/** The host's model cache opens audioldm models with the shared-statistics VAE rewrite unless asked not to. */
import { afterAll, describe, expect, it } from 'vitest';
import { ModelCache } from '../../src-main/host/generation/model-cache.ts';
import { TEST_CACHE_DIR } from '../helpers/packs.ts';

const cache = new ModelCache({ cacheDir: TEST_CACHE_DIR });
afterAll(() => cache.dispose());

describe('ModelCache', () => {
  it('opens shape-s for estimated decoding by default, and for window decoding when told', async () => {
    const byDefault = await cache.open('shape-s', { device: 'cpu', intraOpThreads: 1 });
    const windowOnly = await cache.open('shape-s', { device: 'cpu', intraOpThreads: 1, sharedStatsDecoder: false });
    expect(byDefault.defaultVaeDecode).toBe('estimated');
    expect(windowOnly.defaultVaeDecode).toBe('window');
    expect(byDefault).not.toBe(windowOnly);
    // The same options (the default spelt out) reuse the open model.
    expect(await cache.open('shape-s', { device: 'cpu', intraOpThreads: 1, sharedStatsDecoder: true })).toBe(byDefault);
  });
});
