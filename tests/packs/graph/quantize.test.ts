/**
 * packs/graph/quantize.ts: the int8 UNet keeps ε within 30 dB SNR of diffusers' float32 ε on the audioldm-tiny golden
 * fixture (issue 14's bar for offering reduced precision); its im2col convolution and folded Linear compute exactly
 * what the float32 layers do when weights and inputs are exact in int8 (so the tap order, padding, strides and
 * dilations are right); and the layers the file comment keeps in float32 stay so.
 */
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { TensorSpec } from '../../../src-main/contract/manifest.ts';
import { openSession } from '../../../src-main/engine/runtime/session.ts';
import { f32 } from '../../../src-main/engine/tensor/tensor.ts';
import { parseUnetConfig } from '../../../src-main/packs/audioldm/config-unet-vae.ts';
import { buildAudioLdmUnet } from '../../../src-main/packs/audioldm/unet.ts';
import { GraphBuilder } from '../../../src-main/packs/graph/builder.ts';
import { quantizeModelInt8, quantizeUnetInt8 } from '../../../src-main/packs/graph/quantize.ts';
import { AUDIOLDM_TINY, fixtureConfig, mapSource, readCheckpointTensors, readGolden } from '../../helpers/audioldm-fixture.ts';

const { onnx } = onnxProto;

/** 10·log10(Σref² / Σ(x − ref)²). */
function snrDb(actual: Float32Array, reference: Float32Array): number {
  expect(actual.length).toBe(reference.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < reference.length; i++) {
    num += (actual[i] - reference[i]) ** 2;
    den += reference[i] ** 2;
  }
  return 10 * Math.log10(den / num);
}

function opCounts(model: onnxProto.onnx.IModelProto): Map<string, number> {
  const counts = new Map<string, number>();
  for (const n of model.graph?.node ?? []) counts.set(n.opType ?? '', (counts.get(n.opType ?? '') ?? 0) + 1);
  return counts;
}

async function runModel(model: onnxProto.onnx.IModelProto, feeds: Record<string, ort.Tensor>): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish(), { graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
  try {
    const y = (await session.run(feeds)).y.data;
    if (!(y instanceof Float32Array)) throw new Error('output y is not float32');
    return y;
  } finally {
    await session.release();
  }
}

/** Integers in [−q, q] with ±q in every output channel (row of `rows`), so each channel's scale is exactly 1. */
function integerWeights(rows: number, perRow: number, q: number, seed: number): Float32Array {
  const w = new Float32Array(rows * perRow);
  let s = seed;
  for (let i = 0; i < w.length; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    w[i] = (s % (2 * q + 1)) - q;
  }
  for (let r = 0; r < rows; r++) w[r * perRow + (r % perRow)] = r % 2 === 0 ? q : -q;
  return w;
}

describe('int8 quantization of the UNet', () => {
  it('keeps the audioldm-tiny UNet ε ≥ 30 dB SNR against the golden float32 ε', async () => {
    const tensors = await readCheckpointTensors(join(AUDIOLDM_TINY, 'model', 'unet', 'diffusion_pytorch_model.safetensors'));
    const built = buildAudioLdmUnet(parseUnetConfig(fixtureConfig('unet')), mapSource(tensors, 'unet', 'unet/diffusion_pytorch_model.safetensors'), { heads: 'config' });
    const model = onnx.ModelProto.decode(built.bytes);
    const before = opCounts(model);
    const report = quantizeUnetInt8(model);
    const after = opCounts(model);

    // Every Linear on the sample's path is int8; convolutions reading normalised activations are too.
    expect(after.get('DynamicQuantizeMatMul')).toBe(report.matmuls);
    expect(after.get('MatMulIntegerToFloat')).toBe(report.convs);
    expect(report.matmuls).toBeGreaterThan(100);
    expect(report.convs).toBeGreaterThan(40);
    expect(after.get('Conv')).toBe((before.get('Conv') ?? 0) - report.convs);
    // Normalisations, attention and the timestep sinusoid are untouched.
    for (const op of ['InstanceNormalization', 'LayerNormalization', 'Softmax', 'MultiHeadAttention', 'Sin', 'Cos']) expect(after.get(op), op).toBe(before.get(op));
    const bytes = onnx.ModelProto.encode(model).finish();
    expect(bytes.length).toBeLessThan(built.bytes.length * 0.5);

    const spec = (name: string, dims: (number | string)[]): TensorSpec => ({ name, type: 'float32', dims });
    const expected = { inputs: [spec('sample', ['N', 8, 'T', 16]), spec('timestep', ['N']), spec('class_labels', ['N', 512])], outputs: [spec('noise_pred', ['N', 8, 'T', 16])] };
    const session = await openSession(bytes, { name: 'unet-int8', device: 'cpu', intraOpThreads: 1, expected });
    try {
      const sample = (await readGolden('unet_sample')).data;
      const text = (await readGolden('text_embeds')).data;
      if (!(sample instanceof Float32Array) || !(text instanceof Float32Array)) throw new Error('golden inputs are not float32');
      const out = await session.run({ sample: f32(sample, [2, 8, 64, 16]), timestep: f32(Float32Array.of(501, 501), [2]), class_labels: f32(text, [2, 512]) });
      const eps = out.noise_pred?.data;
      const golden = (await readGolden('unet_noise_pred')).data;
      if (!(eps instanceof Float32Array) || !(golden instanceof Float32Array)) throw new Error('noise_pred is not float32');
      const snr = snrDb(eps, golden);
      console.info(`int8 UNet ε vs golden float32 ε: ${snr.toFixed(1)} dB SNR (${report.matmuls} Linear, ${report.convs} Conv int8; ${report.keptFloat32} kept float32)`);
      expect(snr).toBeGreaterThanOrEqual(30);
      // Not a float32 graph in disguise: int8 rounding shows.
      expect(snr).toBeLessThan(80);
    } finally {
      await session.dispose();
    }
  });
});

describe('int8 layers compute the float32 layer exactly on int8-exact values', () => {
  /** Convolutions of every form the builder emits: 'same' 3×3, strided, pointwise, the sub-pixel upsampler's 2×2. */
  const convs: Array<{ what: string; k: [number, number]; pads: number[]; strides: number[]; dilations: number[] }> = [
    { what: '3×3, pad 1', k: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1], dilations: [1, 1] },
    { what: '3×3, stride 2, pad 1', k: [3, 3], pads: [1, 1, 1, 1], strides: [2, 2], dilations: [1, 1] },
    { what: '1×1', k: [1, 1], pads: [0, 0, 0, 0], strides: [1, 1], dilations: [1, 1] },
    { what: '2×2, pad 1', k: [2, 2], pads: [1, 1, 1, 1], strides: [1, 1], dilations: [1, 1] },
    { what: '3×1, dilation 2, asymmetric pads', k: [3, 1], pads: [2, 0, 1, 1], strides: [1, 2], dilations: [2, 1] },
  ];
  for (const c of convs) {
    it(`Conv ${c.what}`, async () => {
      const [cin, cout, h, w] = [24, 32, 9, 6];
      const g = new GraphBuilder('conv');
      const x = g.input('x', 'float32', [2, cin, 'H', w]);
      // The input through an activation, as the layers the pass quantizes read it (a graph input is raw stream).
      const act = g.op('Relu', [x]);
      const weight = g.f32('w', integerWeights(cout, cin * c.k[0] * c.k[1], 127, 7), [cout, cin, ...c.k]);
      const bias = g.f32('b', Array.from({ length: cout }, (_, i) => i / 8 - 2), [cout]);
      const y = g.op('Conv', [act, weight, bias], { kernel_shape: c.k, pads: c.pads, strides: c.strides, dilations: c.dilations, group: 1 });
      g.output(y, 'y', 'float32', [2, cout, 'Ho', 'Wo']);
      // Integers 0…255 with both ends present: DynamicQuantizeLinear's scale is 1 and its zero point 0.
      const data = Float32Array.from({ length: 2 * cin * h * w }, (_, i) => (i * 37) % 256);
      data[0] = 255;
      data[1] = 0;
      const feeds = { x: new ort.Tensor('float32', data, [2, cin, h, w]) };

      const reference = await runModel(g.toModel(), feeds);
      const model = g.toModel();
      expect(quantizeModelInt8(model)).toEqual({ matmuls: 0, convs: 1, keptFloat32: 0 });
      expect(opCounts(model).get('Conv')).toBeUndefined();
      const actual = await runModel(model, feeds);
      expect(actual.length).toBe(reference.length);
      let maxDiff = 0;
      for (let i = 0; i < reference.length; i++) maxDiff = Math.max(maxDiff, Math.abs(actual[i] - reference[i]));
      expect(maxDiff).toBeLessThanOrEqual(1e-3);
    });
  }

  it('Linear (MatMul + bias Add → one node) and Gemm with a transposed B', async () => {
    const [k, n] = [48, 40];
    const g = new GraphBuilder('linear');
    const x = g.input('x', 'float32', [3, k]);
    const act = g.op('Relu', [x]);
    const wT = integerWeights(n, k, 127, 3); // [n, k]: one int8 scale per output column
    const w = new Float32Array(k * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) w[j * n + i] = wT[i * k + j];
    const linear = g.op('Add', [g.op('MatMul', [act, g.f32('w', w, [k, n])]), g.f32('b', Array.from({ length: n }, (_, i) => i - 7), [n])]);
    const gemm = g.op('Gemm', [g.op('Relu', [linear]), g.f32('wt', integerWeights(n, n, 127, 5), [n, n]), g.f32('c', Array.from({ length: n }, (_, i) => 0.5 * i), [n])], { transB: 1 });
    g.output(gemm, 'y', 'float32', [3, n]);
    const data = Float32Array.from({ length: 3 * k }, (_, i) => (i * 53) % 256);
    data[0] = 255;
    data[1] = 0;
    const feeds = { x: new ort.Tensor('float32', data, [3, k]) };

    const reference = await runModel(g.toModel(), feeds);
    const model = g.toModel();
    expect(quantizeModelInt8(model)).toEqual({ matmuls: 2, convs: 0, keptFloat32: 0 });
    const ops = opCounts(model);
    expect(ops.get('DynamicQuantizeMatMul')).toBe(2);
    // The bias Add is folded into the first node; the second's input is not int8-exact, so compare in relative terms.
    expect(ops.get('Add')).toBeUndefined();
    const actual = await runModel(model, feeds);
    expect(snrDb(actual, reference)).toBeGreaterThan(40);
  });
});

describe('what stays float32', () => {
  /** sample → Relu → conv A; concat(sample, A) → conv B; A + B → conv C; thin conv D; cond → MatMul E (not on the path). */
  function mixedGraph(): GraphBuilder {
    const g = new GraphBuilder('mixed');
    const x = g.input('sample', 'float32', [1, 16, 8, 8]);
    const cond = g.input('cond', 'float32', [1, 32]);
    const conv = (input: string, cin: number, cout: number, seed: number): string =>
      g.op('Conv', [input, g.f32('w', integerWeights(cout, cin * 9, 127, seed), [cout, cin, 3, 3])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    const a = conv(g.op('Relu', [x]), 16, 16, 1);
    const b = conv(g.op('Concat', [x, a], { axis: 1 }), 32, 16, 2);
    const c = conv(g.op('Add', [a, b]), 16, 16, 3);
    const d = conv(g.op('Relu', [c]), 16, 8, 4);
    const e = g.op('MatMul', [cond, g.f32('we', integerWeights(32, 8, 127, 5), [32, 8])]);
    g.output(g.op('Add', [d, g.op('Reshape', [e, g.i64('shape', [1, 8, 1, 1])])]), 'y', 'float32', [1, 8, 8, 8]);
    return g;
  }

  it('keeps the raw residual stream, thin layers and the conditioning path in float32', async () => {
    const model = mixedGraph().toModel();
    const report = quantizeModelInt8(model, { activationInput: 'sample' });
    // A is int8; B (a Concat), C (a residual Add) and D (8 output channels) stay; E is not on the sample's path.
    expect(report).toEqual({ matmuls: 0, convs: 1, keptFloat32: 3 });
    const ops = opCounts(model);
    expect(ops.get('Conv')).toBe(3);
    expect(ops.get('MatMul')).toBe(1);
    const feeds = {
      sample: new ort.Tensor('float32', Float32Array.from({ length: 16 * 64 }, (_, i) => Math.sin(i)), [1, 16, 8, 8]),
      cond: new ort.Tensor('float32', Float32Array.from({ length: 32 }, (_, i) => Math.cos(i)), [1, 32]),
    };
    expect(snrDb(await runModel(model, feeds), await runModel(mixedGraph().toModel(), feeds))).toBeGreaterThan(30);
    // With no channel minimum the thin conv D is quantized too.
    expect(quantizeModelInt8(mixedGraph().toModel(), { activationInput: 'sample', minChannels: 1 })).toEqual({ matmuls: 0, convs: 2, keptFloat32: 2 });
  });

  it('limits weights to ±63 with reduceRange (CPUs without VNNI) and to ±127 without', () => {
    for (const [reduceRange, limit] of [
      [false, 127],
      [true, 63],
    ] as const) {
      const model = mixedGraph().toModel();
      quantizeModelInt8(model, { activationInput: 'sample', reduceRange });
      const int8 = (model.graph?.initializer ?? []).filter((t) => t.dataType === 3);
      expect(int8).toHaveLength(1);
      const values = new Int8Array(new Uint8Array(int8[0].rawData ?? []).buffer);
      expect(Math.max(...values.map(Math.abs))).toBe(limit);
    }
  });

  it('names the missing activation input and an initializer kept in external data', () => {
    expect(() => quantizeModelInt8(mixedGraph().toModel(), { activationInput: 'latent' })).toThrow("the graph has no input 'latent'; give activationInput, one of: sample, cond");
    const model = mixedGraph().toModel();
    const w = (model.graph?.initializer ?? []).find((t) => (t.dims ?? []).length === 4);
    if (!w) throw new Error('no conv weight');
    w.rawData = new Uint8Array(0);
    w.externalData = [{ key: 'location', value: 'unet.onnx.data' }];
    expect(() => quantizeModelInt8(model, { activationInput: 'sample' })).toThrow(`initializer '${w.name ?? ''}' is stored in external data`);
  });
});
