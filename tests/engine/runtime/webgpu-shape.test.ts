/**
 * shape-s (the reduced-width AudioLDM-S topology: the audioldm family's UNet, VAE and HiFi-GAN) generates on WebGPU
 * (SwiftShader, tests/helpers/webgpu.ts) and matches the CPU. SwiftShader compiles and runs every shader on the CPU:
 * one to two minutes for 0.32 s of audio (8 latent frames, one step, guidance off) on a loaded 2-core machine, where
 * the CPU provider takes 0.2 s. Its own file, so it runs beside the other WebGPU tests.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { LatentDiffusionModel } from '../../../src-main/engine/families/model.ts';
import { textToAudio, type TextToAudioRequest } from '../../../src-main/engine/pipelines/text-to-audio.ts';
import { openModel } from '../../../src-main/host/packs/load.ts';
import { builtinPack } from '../../helpers/packs.ts';
import { maxDifference, useSoftwareAdapter } from '../../helpers/webgpu.ts';

const skip = useSoftwareAdapter();
const opened: LatentDiffusionModel[] = [];
afterAll(async () => Promise.all(opened.map((m) => m.dispose())));

describe.skipIf(skip !== undefined)(`shape-s on WebGPU${skip === undefined ? '' : ` (skipped: ${skip})`}`, () => {
  // Tolerance: max |difference| ≤ 1e-3 × the CPU's peak; measured: 3.0e-6 at a peak of 0.85.
  it('generates 0.32 s matching the CPU', { timeout: 1_800_000 }, async () => {
    const pack = await builtinPack('shape-s');
    const request: TextToAudioRequest = { prompt: 'rain', seconds: 0.32, seed: 3, steps: 1, guidance: 1, sampler: 'ddim', eta: 0 };
    const audio: Float32Array[] = [];
    for (const device of ['cpu', 'webgpu'] as const) {
      // Window decoding: one VAE pass (the estimated mode's two would double SwiftShader's share).
      const model = await openModel(pack, { device, intraOpThreads: 1, sharedStatsDecoder: false });
      opened.push(model);
      expect(model.device).toEqual({ provider: device, precision: 'fp32' });
      audio.push((await textToAudio(model, request)).audio);
    }
    const { diff, peak } = maxDifference(audio[0], audio[1]);
    expect(peak).toBeGreaterThan(0.01);
    expect(diff).toBeLessThanOrEqual(1e-3 * peak);
  });
});
