/**
 * The float16 UNet option of the converter (`unetFp16`, `models import --fp16`): the fixture's UNet converted to
 * float16 with GroupNorm, LayerNorm, Softmax and the timestep embedding kept in float32 predicts diffusers' noise
 * within float16 round-off (relative RMS < 2e-3; the float32 pack matches to 1e-5), keeps float32 inputs and
 * outputs, is about half the size, says so in its name, description and licence, and generates through the engine
 * (textToAudio) close to the golden pipeline. Also the float16 rounding itself.
 */
import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudioLdmModel } from '../../../../src-main/engine/families/audioldm/model.ts';
import { textToAudio } from '../../../../src-main/engine/pipelines/text-to-audio.ts';
import { f32 } from '../../../../src-main/engine/tensor/tensor.ts';
import type { ConvertResult } from '../../../../src-main/host/models/convert/audioldm.ts';
import { openAudioLdmModel } from '../../../../src-main/host/packs/load.ts';
import { toFloat16Bits } from '../../../../src-main/packs/graph/float16.ts';
import { compare, convertTiny, goldenF32, tempDir } from './golden.ts';

/** Relative RMS error allowed for a float16 UNet's noise prediction (float16 has an 11-bit significand: ~5e-4). */
const FP16_REL_RMS = 2e-3;

let work: string;
let result: ConvertResult;
let model: AudioLdmModel;

beforeAll(async () => {
  work = await tempDir('tessera-convert-fp16-');
  result = await convertTiny(work, 'pack-fp16', { unetFp16: true });
  model = await openAudioLdmModel(result.pack, { device: 'cpu', intraOpThreads: 1 });
}, 60_000);

afterAll(async () => {
  await model?.dispose();
  await rm(work, { recursive: true, force: true });
});

describe('a converted pack with a float16 UNet', () => {
  it(`predicts diffusers' noise at timestep 501 within relative RMS ${FP16_REL_RMS}`, async () => {
    const eps = await model.predict(f32(await goldenF32('unet_sample'), [2, 8, 64, 16]), 501, f32(await goldenF32('text_embeds'), [2, 512]));
    const golden = await goldenF32('unet_noise_pred');
    const { relRms } = compare(eps.data, golden);
    expect(relRms).toBeLessThan(FP16_REL_RMS);
    // Measured here: 1.3e-3. Not the float32 graph by accident: float16 round-off shows.
    expect(relRms).toBeGreaterThan(1e-5);
  });

  it('computes in float16 with normalisation, softmax and the timestep embedding in float32, float32 I/O', async () => {
    const m = onnxProto.onnx.ModelProto.decode(await readFile(join(result.pack.dir, 'unet.onnx')));
    const graph = m.graph as onnxProto.onnx.IGraphProto;
    expect((graph.input ?? []).map((i) => i.type?.tensorType?.elemType)).toEqual([1, 1, 1]);
    expect((graph.output ?? []).map((o) => o.type?.tensorType?.elemType)).toEqual([1]);
    const types = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t.dataType]));
    const byName = new Map<string, onnxProto.onnx.INodeProto>();
    for (const n of graph.node ?? []) for (const o of n.output ?? []) byName.set(o, n);
    // Every Conv and MatMul weight is float16; LayerNorm affines stay float32.
    const convWeights = (graph.node ?? []).filter((n) => n.opType === 'Conv').map((n) => types.get(n.input?.[1] ?? ''));
    expect(new Set(convWeights)).toEqual(new Set([10]));
    const lnGammas = (graph.node ?? []).filter((n) => n.opType === 'LayerNormalization').map((n) => types.get(n.input?.[1] ?? ''));
    expect(new Set(lnGammas)).toEqual(new Set([1]));
    // Normalisations and softmax read float32 (a Cast to float32, or another float32 producer).
    for (const n of (graph.node ?? []).filter((x) => ['InstanceNormalization', 'LayerNormalization', 'Softmax'].includes(x.opType ?? ''))) {
      const p = byName.get(n.input?.[0] ?? '');
      expect(p?.opType === 'Cast' ? Number(p.attribute?.[0]?.i) : 'not a cast', `${n.opType} ${n.name}`).toBe(1);
    }
    // The sinusoid's argument is computed from the float32 timestep without a float16 step.
    const sin = (graph.node ?? []).find((n) => n.opType === 'Sin');
    expect(byName.get(sin?.input?.[0] ?? '')?.opType).toBe('Mul');
    const sizes = { fp16: (await stat(join(result.pack.dir, 'unet.onnx'))).size };
    const fp32 = await convertTiny(work, 'pack-fp32');
    const fp32Size = (await stat(join(fp32.pack.dir, 'unet.onnx'))).size;
    expect(sizes.fp16).toBeLessThan(fp32Size * 0.6);
  }, 60_000);

  it('says so in its name, description and licence, as the exporter does', () => {
    const m = result.pack.manifest;
    expect(m.name).toBe('AudioLDM tiny (test) (fp16 UNet)');
    expect(m.description).toContain('The UNet was converted to float16 (normalisation, softmax and the timestep embedding kept in float32).');
    expect(m.licence.text).toContain('The UNet was converted to float16');
  });

  it('generates through the engine close to the golden 5-step pipeline', async () => {
    const initialLatent = f32(await goldenF32('pipe_initial_latents'), [1, 8, 64, 16]);
    const run = await textToAudio(model, { prompt: 'a dog barks in the rain', seconds: 2.56, seed: 0, steps: 5, guidance: 2.5, sampler: 'ddim', eta: 0 }, { initialLatent });
    expect(run.audio.length).toBe(40960);
    expect(run.audio.every(Number.isFinite)).toBe(true);
    // Measured here: 5.7e-4 (latent) and 7.4e-4 (audio); float32 packs match to 1e-5.
    expect(compare(run.latent.data, await goldenF32('pipe_final_latent')).relRms).toBeLessThan(FP16_REL_RMS);
    expect(compare(run.audio, await goldenF32('pipe_audio')).relRms).toBeLessThan(FP16_REL_RMS);
  }, 30_000);
});

describe('a float16 UNet with external data', () => {
  it('keeps its float16 weights in unet.onnx.data and predicts the same noise', async () => {
    const { pack } = await convertTiny(work, 'pack-fp16-external', { unetFp16: true, externalDataAbove: 100_000 });
    if (pack.manifest.family !== 'audioldm') throw new Error('expected an audioldm pack');
    expect(pack.manifest.components.unet.externalData?.map((f) => f.file)).toEqual(['unet.onnx.data']);
    const opened = await openAudioLdmModel(pack, { device: 'cpu', intraOpThreads: 1 });
    try {
      const eps = await opened.predict(f32(await goldenF32('unet_sample'), [2, 8, 64, 16]), 501, f32(await goldenF32('text_embeds'), [2, 512]));
      expect(compare(eps.data, await goldenF32('unet_noise_pred')).relRms).toBeLessThan(FP16_REL_RMS);
    } finally {
      await opened.dispose();
    }
  }, 60_000);
});

describe('float16 rounding', () => {
  it('rounds to nearest even, with subnormals, overflow and NaN', () => {
    expect(toFloat16Bits(1)).toBe(0x3c00);
    expect(toFloat16Bits(-2)).toBe(0xc000);
    expect(toFloat16Bits(65504)).toBe(0x7bff);
    expect(toFloat16Bits(65520)).toBe(0x7c00); // halfway to the next step: rounds up to infinity
    expect(toFloat16Bits(1e9)).toBe(0x7c00);
    expect(toFloat16Bits(1 + 2 ** -11)).toBe(0x3c00); // a tie: to the even mantissa
    expect(toFloat16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(toFloat16Bits(2 ** -24)).toBe(0x0001);
    expect(toFloat16Bits(2 ** -14)).toBe(0x0400);
    expect(toFloat16Bits(2 ** -26)).toBe(0x0000);
    expect(toFloat16Bits(-0)).toBe(0x8000);
    expect(toFloat16Bits(Number.NaN) & 0x7c00).toBe(0x7c00);
    expect(toFloat16Bits(Number.NaN) & 0x3ff).not.toBe(0);
  });
});
