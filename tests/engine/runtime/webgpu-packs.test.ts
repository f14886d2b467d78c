/**
 * Every model family's small built-in pack generates on WebGPU (SwiftShader, tests/helpers/webgpu.ts) and matches the
 * CPU: the stable-audio-3 stand-in and the sketch-gp oracle here (the audioldm family's sketch through the CLI in
 * tests/cli/generate-webgpu.test.ts, shape-s in webgpu-shape.test.ts). SwiftShader runs shaders on the CPU, seconds
 * per graph, so the pieces are short: one step, no guidance.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { LatentDiffusionModel } from '../../../src-main/engine/families/model.ts';
import { textToAudio, type TextToAudioRequest } from '../../../src-main/engine/pipelines/text-to-audio.ts';
import { ensureBuiltinPack } from '../../../src-main/host/packs/builtin.ts';
import { openModel } from '../../../src-main/host/packs/load.ts';
import type { RuntimeChoice } from '../../../src-main/host/runtime-probe.ts';
import { GAUSS_PACK_ID } from '../../../src-main/packs/gauss/index.ts';
import { TEST_CACHE_DIR } from '../../helpers/packs.ts';
import { maxDifference, useSoftwareAdapter } from '../../helpers/webgpu.ts';

const skip = useSoftwareAdapter();
const opened: LatentDiffusionModel[] = [];
afterAll(async () => Promise.all(opened.map((m) => m.dispose())));

/** The piece generated on `device`, with the model's device report. */
async function generate(id: string, device: 'cpu' | 'webgpu', request: Omit<TextToAudioRequest, 'sampler'>): Promise<{ audio: Float32Array; device: LatentDiffusionModel['device'] }> {
  const pack = await ensureBuiltinPack(id, TEST_CACHE_DIR);
  const model = await openModel(pack, { device, intraOpThreads: 1 });
  opened.push(model);
  const result = await textToAudio(model, { ...request, sampler: pack.manifest.defaults.sampler });
  return { audio: result.audio, device: model.device };
}

describe.skipIf(skip !== undefined)(`small packs on WebGPU match the CPU${skip === undefined ? '' : ` (skipped: ${skip})`}`, () => {
  // Each case: 1 s or less, one step, guidance off (one UNet row). Tolerance: max |difference| ≤ 1e-3 × the CPU's
  // peak; measured on SwiftShader: stand-in 3e-8 (peak 0.37), sketch-gp 6e-5 (peak 0.58, its exact-oracle UNet's
  // large matrix products summed in another order).
  it.each([
    ['stable-audio-3-standin', 1],
    [GAUSS_PACK_ID, 0.5],
  ] as const)('%s', { timeout: 300_000 }, async (id, seconds) => {
    const request = { prompt: 'rain', seconds, seed: 3, steps: 1, guidance: 1, eta: 0 };
    const cpu = await generate(id, 'cpu', request);
    const gpu = await generate(id, 'webgpu', request);
    expect(gpu.device).toEqual({ provider: 'webgpu', precision: 'fp32' });
    const { diff, peak } = maxDifference(cpu.audio, gpu.audio);
    expect(peak).toBeGreaterThan(0.01);
    expect(diff).toBeLessThanOrEqual(1e-3 * peak);
  });

  it('where the probe reports shader-f16, the UNet opens converted to float16 (precision fp32 keeps it float32)', { timeout: 300_000 }, async () => {
    const pack = await ensureBuiltinPack(GAUSS_PACK_ID, TEST_CACHE_DIR);
    const runtime = (): RuntimeChoice => ({ installed: { available: ['cpu', 'webgpu'], missing: {} }, webgpu: { available: true, shaderF16: true } });
    const claimed = await openModel(pack, { device: 'webgpu', intraOpThreads: 1, runtime: runtime() });
    opened.push(claimed);
    expect(claimed.device).toEqual({ provider: 'webgpu', precision: 'fp16' });
    // SwiftShader has no shader-f16 (the real probe says so, and then nothing is converted): its first float16
    // kernel fails the run, with ORT's reason in the error.
    await expect(textToAudio(claimed, { prompt: 'rain', seconds: 0.5, seed: 3, steps: 1, guidance: 1, eta: 0, sampler: 'ddim' })).rejects.toThrow(/requires f16 but the device does not support it/);
    const asFp32 = await openModel(pack, { device: 'webgpu', intraOpThreads: 1, precision: { webgpu: 'fp32' }, runtime: runtime() });
    opened.push(asFp32);
    expect(asFp32.device).toEqual({ provider: 'webgpu', precision: 'fp32' });
  });
});
