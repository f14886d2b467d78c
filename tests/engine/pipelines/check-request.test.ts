/**
 * Step 1 of the pipeline, checkRequest, against the settings table (contract/generation-settings.ts): every range is
 * the table's, messages say the table's range, and a refused request is coded `invalid-argument` end to end.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { toApiError } from '../../../src-main/contract/errors.ts';
import { LIMITS } from '../../../src-main/contract/generation-settings.ts';
import type { Manifest } from '../../../src-main/contract/manifest.ts';
import { InvalidRequestError } from '../../../src-main/engine/errors.ts';
import { checkRequest, type TextToAudioRequest } from '../../../src-main/engine/pipelines/text-to-audio.ts';
import { builtinPack, standinPack } from '../../helpers/packs.ts';

let sketch: Manifest;
let standin: Manifest;
beforeAll(async () => {
  sketch = (await builtinPack('sketch')).manifest;
  standin = (await standinPack()).manifest;
});

const base: TextToAudioRequest = { prompt: 'rain', seconds: 700, seed: 1, steps: 10, guidance: 2.5, sampler: 'ddim', eta: 0 };

function refusal(manifest: Manifest, request: TextToAudioRequest): InvalidRequestError {
  try {
    checkRequest(manifest, request);
  } catch (e) {
    if (e instanceof InvalidRequestError) return e;
    throw e;
  }
  throw new Error('the request was accepted');
}

describe('checkRequest ranges are the settings table’s', () => {
  it('accepts each range’s ends', () => {
    for (const patch of [{ guidance: 100 }, { guidance: 0 }, { eta: 1 }, { transition: 600 }, { steps: 1000 }, { seed: 2 ** 32 - 1 }, { tiling: { windowBatch: 256, strideRatio: 1 } }]) {
      expect(() => checkRequest(sketch, { ...base, ...patch })).not.toThrow();
    }
  });

  it.each([
    ['guidance', { guidance: 100.5 }, LIMITS.guidance.expected],
    ['eta', { eta: 1.5 }, LIMITS.eta.expected],
    ['transition', { transition: 600.5 }, LIMITS.transition.expected],
    ['steps', { steps: 1001 }, LIMITS.steps.expected],
    ['seed', { seed: 2 ** 32 }, LIMITS.seed.expected],
    ['tiling.windowBatch', { tiling: { windowBatch: 257 } }, LIMITS.windowBatch.expected],
    ['tiling.strideRatio', { tiling: { strideRatio: 1.5 } }, LIMITS.strideRatio.expected],
    ['tiling.finalMultiSteps', { tiling: { finalMultiSteps: -1 } }, LIMITS.finalMultiSteps.expected],
    ['regions[0].guidance', { prompt: undefined, regions: [{ start: 0, end: 700, prompt: 'rain', guidance: 101 }] }, LIMITS.guidance.expected],
  ] as Array<[string, Partial<TextToAudioRequest>, string]>)('%s out of range is refused with the table’s range', (field, patch, expected) => {
    const error = refusal(sketch, { ...base, ...patch });
    expect(error.field).toBe(field);
    expect(error.code).toBe('invalid-argument');
    expect(error.message).toContain(expected);
  });
});

describe('a sampler the model does not take', () => {
  it('is refused as invalid-argument, also where a boundary would call an unknown failure a model error', () => {
    for (const [manifest, sampler] of [[standin, 'ddim'], [sketch, 'pingpong']] as const) {
      const error = refusal(manifest, { ...base, seconds: 8, sampler });
      expect(error.field).toBe('sampler');
      expect(error.message).toMatch(new RegExp(`^sampler '${sampler}' does not fit model '${manifest.id}'`));
      expect(toApiError(error, { fallback: 'model-error' })).toMatchObject({ code: 'invalid-argument' });
    }
  });
});
