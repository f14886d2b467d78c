/**
 * packs/graph/nn.ts's attention: the fused kernel (ONNX Runtime's com.microsoft.MultiHeadAttention, issue 14) must
 * compute what the plain MatMul/Softmax chain computes, from the same parameters drawn in the same order, for one
 * head with q/k/v biases (the VAE's AttnBlock) and for many heads (the UNet's transformer blocks), in float32 and in
 * the float16 graphs graph/float16.ts makes; its node must import the com.microsoft operator set; and GELU must be in
 * the form ONNX Runtime fuses into one kernel.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { afterAll, describe, expect, it } from 'vitest';
import { createRng } from '../../src-main/engine/tensor/rng.ts';
import { GraphBuilder, MS_DOMAIN } from '../../src-main/packs/graph/builder.ts';
import { convertToFloat16 } from '../../src-main/packs/graph/float16.ts';
import { type AttentionKernel, attention, createNet, gelu } from '../../src-main/packs/graph/nn.ts';
import { buildUnet } from '../../src-main/packs/shape/unet.ts';

const { onnx } = onnxProto;

function attentionGraph(kernel: AttentionKernel, channels: number, heads: number, qkvBias: boolean): { bytes: Uint8Array; parameters: number } {
  const g = new GraphBuilder('attention');
  const net = createNet(g, createRng(11));
  const x = g.input('x', 'float32', ['B', 'L', channels]);
  g.output(attention(net, x, channels, heads, { kernel, qkvBias }), 'y', 'float32', ['B', 'L', channels]);
  return { bytes: g.toBytes(), parameters: net.parameters };
}

async function run(bytes: Uint8Array, feeds: Record<string, ort.Tensor>, output: string): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1, logSeverityLevel: 3 });
  try {
    return (await session.run(feeds))[output].data as Float32Array;
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const tokens = (b: number, l: number, c: number, seed: number): ort.Tensor => new ort.Tensor('float32', createRng(seed).normals(b * l * c), [b, l, c]);

describe('attention kernels', () => {
  for (const [channels, heads, qkvBias] of [
    [64, 1, true],
    [64, 4, false],
    [96, 3, true],
  ] as const) {
    it(`fused equals matmul: ${channels} channels, ${heads} head(s), q/k/v bias ${qkvBias}`, async () => {
      const fused = attentionGraph('fused', channels, heads, qkvBias);
      const matmul = attentionGraph('matmul', channels, heads, qkvBias);
      expect(fused.parameters).toBe(matmul.parameters);
      const x = tokens(2, 37, channels, 5);
      const [a, b] = [await run(fused.bytes, { x }, 'y'), await run(matmul.bytes, { x }, 'y')];
      expect(maxAbsDiff(a, b)).toBeLessThan(2e-6);
      // Not a trivially small output: the comparison has something to compare.
      expect(Math.max(...a.map(Math.abs))).toBeGreaterThan(0.05);
    });
  }

  it('is the plain chain by default, which every execution provider runs (attention-webgpu.test.ts)', () => {
    const g = new GraphBuilder('attention');
    const x = g.input('x', 'float32', ['B', 'L', 32]);
    g.output(attention(createNet(g, createRng(11)), x, 32, 2), 'y', 'float32', ['B', 'L', 32]);
    expect(g.toBytes()).toEqual(attentionGraph('matmul', 32, 2, false).bytes);
  });

  it('emits one com.microsoft MultiHeadAttention node and imports that operator set only when fused', () => {
    const fused = onnx.ModelProto.decode(attentionGraph('fused', 32, 2, true).bytes);
    const matmul = onnx.ModelProto.decode(attentionGraph('matmul', 32, 2, true).bytes);
    expect(fused.graph?.node?.filter((n) => n.opType === 'MultiHeadAttention').map((n) => n.domain)).toEqual(['com.microsoft']);
    expect(fused.graph?.node?.some((n) => n.opType === 'Softmax')).toBe(false);
    expect(fused.opsetImport?.map((o) => o.domain)).toEqual(['', 'com.microsoft']);
    expect(matmul.opsetImport?.map((o) => o.domain)).toEqual(['']);
  });

  it('runs in a float16 graph on the CPU provider, close to float32', async () => {
    const { bytes } = attentionGraph('fused', 64, 4, true);
    const x = tokens(2, 20, 64, 9);
    const err = maxAbsDiff(await run(bytes, { x }, 'y'), await run(convertToFloat16(bytes), { x }, 'y'));
    expect(err).toBeLessThan(2e-3);
  });

  it('gives the same shape UNet output with either kernel (reduced width)', async () => {
    const size = { modelChannels: 32, resBlocks: 1 };
    const feeds = {
      sample: new ort.Tensor('float32', createRng(2).normals(2 * 8 * 16 * 16), [2, 8, 16, 16]),
      timestep: new ort.Tensor('float32', Float32Array.from([900, 20]), [2]),
      class_labels: new ort.Tensor('float32', createRng(3).normals(2 * 512).map((v) => v / Math.sqrt(512)), [2, 512]),
    };
    const fused = await run(buildUnet(size, createRng(4), { attentionKernel: 'fused' }).bytes, feeds, 'noise_pred');
    const matmul = await run(buildUnet(size, createRng(4), { attentionKernel: 'matmul' }).bytes, feeds, 'noise_pred');
    expect(maxAbsDiff(fused, matmul)).toBeLessThan(1e-4);
  });
});

describe('GraphBuilder operator sets', () => {
  it('imports a domain once, at one version, after the default set', () => {
    const g = new GraphBuilder('domains');
    const x = g.input('x', 'float32', [1, 4, 8]);
    const a = g.domainOpN(MS_DOMAIN, 'MultiHeadAttention', [x, x, x], 1, { num_heads: 2 })[0];
    const b = g.domainOpN(MS_DOMAIN, 'MultiHeadAttention', [a, a, a], 1, { num_heads: 2 })[0];
    g.output(b, 'y', 'float32', [1, 4, 8]);
    const model = onnx.ModelProto.decode(g.toBytes());
    expect(model.opsetImport?.map((o) => [o.domain, Number(o.version)])).toEqual([
      ['', 17],
      ['com.microsoft', 1],
    ]);
    expect(() => g.importDomain({ domain: 'com.microsoft', version: 2 })).toThrow(/already imported at version 1, not 2/);
  });
});

describe('gelu', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-gelu-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is exact GELU, and ONNX Runtime fuses it (with a preceding bias Add) into single kernels', async () => {
    const g = new GraphBuilder('gelu');
    const net = createNet(g, createRng(1));
    const x = g.input('x', 'float32', [64]);
    const biased = g.op('Add', [g.op('Mul', [x, g.scalar(1)]), g.f32('b', new Float32Array(64).fill(0.25), [64])]);
    g.output(gelu(net, x), 'y', 'float32', [64]);
    g.output(gelu(net, biased), 'z', 'float32', [64]);
    const bytes = g.toBytes();
    const xs = Float32Array.from({ length: 64 }, (_, i) => -4 + i / 8);
    const session = await ort.InferenceSession.create(bytes, { optimizedModelFilePath: join(dir, 'opt.onnx'), logSeverityLevel: 3 });
    const y = (await session.run({ x: new ort.Tensor('float32', xs, [64]) })).y.data as Float32Array;
    await session.release();
    // GELU(x) = x·Φ(x); Φ through erf by Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7).
    const erf = (v: number): number => {
      const s = Math.sign(v);
      const a = Math.abs(v);
      const t = 1 / (1 + 0.3275911 * a);
      return s * (1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a));
    };
    xs.forEach((v, i) => expect(Math.abs(y[i] - 0.5 * v * (1 + erf(v / Math.SQRT2)))).toBeLessThan(1e-6));
    const ops = onnx.ModelProto.decode(readFileSync(join(dir, 'opt.onnx'))).graph?.node?.map((n) => n.opType) ?? [];
    expect(ops).toContain('Gelu');
    expect(ops).toContain('BiasGelu');
    expect(ops).not.toContain('Erf');
  });
});
