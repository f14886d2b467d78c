/**
 * Layers built from a checkpoint (packs/graph/nn.ts WeightSource): every parameter is read by its state-dict key in
 * PyTorch's layout (Linear stored [out, in]), the graph computes what PyTorch's layers compute with those tensors, and
 * a layer without a key is refused when building from weights. Random-weight builds are unchanged (fingerprints).
 */
import { describe, expect, it } from 'vitest';
import { openSession } from '../../src-main/engine/runtime/session.ts';
import { createRng } from '../../src-main/engine/tensor/rng.ts';
import { f32 } from '../../src-main/engine/tensor/tensor.ts';
import { GraphBuilder } from '../../src-main/packs/graph/builder.ts';
import { createNet, finishNet, groupNorm, linear, type WeightSource } from '../../src-main/packs/graph/nn.ts';

/** A map of named tensors with their stored shapes, as a checkpoint reader would give them. */
function mapSource(tensors: Record<string, { shape: number[]; data: number[] }>, read: string[]): WeightSource {
  return {
    tensor(key, dims, options) {
      const t = tensors[key];
      if (!t) throw new Error(`tensor '${key}' is missing`);
      const want = options?.transpose ? [dims[1], dims[0]] : dims.filter((d) => d !== 1);
      expect(t.shape.filter((d) => d !== 1)).toEqual(want.filter((d) => d !== 1));
      read.push(key);
      if (!options?.transpose) return Float32Array.from(t.data);
      const [rows, cols] = t.shape;
      return Float32Array.from({ length: rows * cols }, (_, i) => t.data[(i % rows) * cols + Math.floor(i / rows)]);
    },
  };
}

describe('a net built from a checkpoint', () => {
  it('reads Linear and GroupNorm tensors by key in PyTorch layout and computes their result', async () => {
    // Linear 3 → 2 (weight [out, in]) on x [1, 2, 3], then GroupNorm(1 group, 2 channels) on [1, 2, 2] (the linear's
    // output transposed to channels-first).
    const W = [[1, 2, 3], [-1, 0, 0.5]];
    const b = [0.1, -0.2];
    const read: string[] = [];
    const source = mapSource(
      {
        'proj.weight': { shape: [2, 3], data: W.flat() },
        'proj.bias': { shape: [2], data: b },
        'norm.weight': { shape: [2], data: [2, 0.5] },
        'norm.bias': { shape: [2], data: [0, 1] },
      },
      read,
    );
    const g = new GraphBuilder('weights');
    const net = createNet(g, createRng(0), source);
    const x = g.input('x', 'float32', [1, 2, 3]);
    const y = linear(net, x, 3, 2, { key: 'proj' });
    const normed = groupNorm(net, g.op('Transpose', [y], { perm: [0, 2, 1] }), 2, 1, 1e-5, 1, 'norm');
    g.output(normed, 'y', 'float32', [1, 2, 2]);
    const built = finishNet(net, 'test');
    expect(read).toEqual(['proj.weight', 'proj.bias', 'norm.weight', 'norm.bias']);
    expect(built.parameters).toBe(6 + 2 + 2 + 2);
    const session = await openSession(built.bytes, { name: 'weights', device: 'cpu', intraOpThreads: 1, expected: { inputs: [{ name: 'x', type: 'float32', dims: [1, 2, 3] }], outputs: [{ name: 'y', type: 'float32', dims: [1, 2, 2] }] } });
    try {
      const input = [[0.5, -1, 2], [1, 1, 1]];
      const out = (await session.run({ x: f32(Float32Array.from(input.flat()), [1, 2, 3]) })).y.data as Float32Array;
      // By hand (float64): h[t][o] = Σ_i x[t][i]·W[o][i] + b[o]; channels-first c[o][t]; one group over all 4 values.
      const h = input.map((row) => W.map((w, o) => w.reduce((sum, wi, i) => sum + wi * row[i], b[o])));
      const c = [0, 1].map((o) => h.map((row) => row[o]));
      const flat = c.flat();
      const mean = flat.reduce((a, v) => a + v, 0) / 4;
      const variance = flat.reduce((a, v) => a + (v - mean) ** 2, 0) / 4;
      const want = c.flatMap((row, o) => row.map((v) => ((v - mean) / Math.sqrt(variance + 1e-5)) * [2, 0.5][o] + [0, 1][o]));
      want.forEach((v, i) => expect(out[i]).toBeCloseTo(v, 5));
    } finally {
      await session.dispose();
    }
  });

  it('refuses a layer without a state-dict key', () => {
    const g = new GraphBuilder('nokey');
    const net = createNet(g, createRng(0), mapSource({}, []));
    expect(() => linear(net, g.input('x', 'float32', [1, 3]), 3, 2)).toThrow(/linear_w parameter of \[3, 2\] has no state-dict name/);
  });
});
