/**
 * The studio API's importModel on a diffusers AudioLDM folder (issue 13): the view's id and head split reach the
 * converter, conversion progress is announced in the `convert` phase under that id, and the pack is listed after.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StudioEventName, StudioEvents } from '../../src-main/contract/api.ts';
import { createStudioHost, type StudioHost } from '../../src-main/host/studio-host.ts';
import { AUDIOLDM_TINY } from '../helpers/audioldm-fixture.ts';
import { TEST_CACHE_DIR } from '../helpers/packs.ts';

let work: string;
let host: StudioHost;
const events: { name: StudioEventName; payload: unknown }[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-import-model-'));
  host = createStudioHost({
    cacheDir: TEST_CACHE_DIR,
    projectsDir: join(work, 'projects'),
    models: { modelsDir: join(work, 'models') },
    log: () => undefined,
    emit: <K extends StudioEventName>(name: K, payload: StudioEvents[K]) => void events.push({ name, payload }),
  });
});
afterAll(async () => {
  await host.dispose();
  await rm(work, { recursive: true, force: true });
});

describe('importModel with a diffusers folder', () => {
  it('converts it under the given id with the given head split, announcing the conversion', async () => {
    const dir = join(work, 'some-folder-name');
    await cp(join(AUDIOLDM_TINY, 'model'), dir, { recursive: true });
    // The tiny fixture's widths need the config's head split (the default, AudioLDM's original, refuses them).
    await expect(host.api.importModel({ dir, id: 'tiny-refused' })).rejects.toThrow(/original attention-head split is unknown; convert with heads 'config'/);
    const result = await host.api.importModel({ dir, id: 'tiny-from-view', heads: 'config' });
    if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
    expect(result.value.id).toBe('tiny-from-view');
    const progress = events.filter((e) => e.name === 'modelProgress').map((e) => e.payload as StudioEvents['modelProgress']);
    expect(progress.some((p) => p.id === 'tiny-from-view' && p.phase === 'convert')).toBe(true);
    const listed = await host.api.listModels({});
    expect(listed.ok && listed.value.some((m) => m.id === 'tiny-from-view')).toBe(true);
  }, 120_000);
});
