/**
 * packs/graph/flops.ts counts the FLOPs of a graph run from its nodes and the run's input shapes. Each counted
 * operator is checked against a hand count, shapes must flow through the reshapes, splits and resizes the builders
 * emit, and a node whose shapes cannot be known is reported rather than silently left out.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src-main/engine/tensor/rng.ts';
import { GraphBuilder, MS_DOMAIN } from '../../src-main/packs/graph/builder.ts';
import { countFlops } from '../../src-main/packs/graph/flops.ts';
import { attention, createNet } from '../../src-main/packs/graph/nn.ts';
import { buildUnet } from '../../src-main/packs/shape/unet.ts';

function graph(build: (g: GraphBuilder) => void): Uint8Array {
  const g = new GraphBuilder('flops', 17);
  build(g);
  return g.toBytes();
}

const weight = (g: GraphBuilder, dims: number[]): string => g.f32('w', new Float32Array(dims.reduce((a, b) => a * b, 1)), dims);

describe('countFlops: one operator against a hand count', () => {
  it('Conv: 2 · N · Cout · output positions · Cin/group · kernel taps, for padding, stride and groups', () => {
    const bytes = graph((g) => {
      const x = g.input('x', 'float32', ['N', 6, 'H', 'W']);
      const a = g.op('Conv', [x, weight(g, [4, 6, 3, 3])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
      const b = g.op('Conv', [a, weight(g, [8, 2, 3, 3])], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], group: 2 });
      g.output(b, 'y', 'float32', ['N', 8, 'H2', 'W2']);
    });
    // a: [2, 4, 10, 12]; b: [2, 8, 5, 6] with 2 input channels per group.
    const handA = 2 * 2 * 4 * 10 * 12 * 6 * 9;
    const handB = 2 * 2 * 8 * 5 * 6 * 2 * 9;
    const count = countFlops(bytes, { x: [2, 6, 10, 12] });
    expect(count).toEqual({ total: handA + handB, byOp: { Conv: handA + handB }, unresolved: [] });
  });

  it('ConvTranspose: every input element times Cout/group · kernel taps, and its output feeds the next count', () => {
    const bytes = graph((g) => {
      const x = g.input('x', 'float32', [1, 4, 'T']);
      const up = g.op('ConvTranspose', [x, weight(g, [4, 3, 5])], { kernel_shape: [5], strides: [2], pads: [1, 1] });
      // (T − 1)·2 − 2 + 5 = 2T + 1 frames; a 1×1 conv over them counts 2 · 3 · (2T + 1) · 3.
      g.output(g.op('Conv', [up, weight(g, [3, 3, 1])], { kernel_shape: [1] }), 'y', 'float32', [1, 3, 'T2']);
    });
    const count = countFlops(bytes, { x: [1, 4, 10] });
    expect(count.byOp).toEqual({ ConvTranspose: 2 * 4 * 10 * 3 * 5, Conv: 2 * 3 * 21 * 3 });
  });

  it('MatMul broadcasts batch axes; Gemm honours transB', () => {
    const bytes = graph((g) => {
      const x = g.input('x', 'float32', [2, 3, 5, 7]);
      const y = g.op('MatMul', [x, weight(g, [7, 4])]);
      const flat = g.op('Reshape', [y, g.i64('shape', [-1, 4])]);
      g.output(g.op('Gemm', [flat, weight(g, [9, 4]), weight(g, [9])], { transB: 1 }), 'z', 'float32', [30, 9]);
    });
    const count = countFlops(bytes, { x: [2, 3, 5, 7] });
    expect(count.byOp).toEqual({ MatMul: 2 * 2 * 3 * 5 * 7 * 4, Gemm: 2 * 30 * 4 * 9 });
  });

  it('MultiHeadAttention: q·kᵀ and p·v, 2 · B · Lq · Lkv · (Dqk + Dv), whatever the heads', () => {
    const bytes = graph((g) => {
      const q = g.input('q', 'float32', ['B', 'L', 16]);
      const kv = g.input('kv', 'float32', ['B', 'M', 16]);
      g.output(g.domainOpN(MS_DOMAIN, 'MultiHeadAttention', [q, kv, kv], 1, { num_heads: 4 })[0], 'y', 'float32', ['B', 'L', 16]);
    });
    expect(countFlops(bytes, { q: [2, 10, 16], kv: [2, 12, 16] }).total).toBe(2 * 2 * 10 * 12 * (16 + 16));
  });
});

describe('countFlops: shapes through the graph', () => {
  it('follows Shape → Gather → Concat → Reshape, Transpose, Split and Resize to the counted nodes', () => {
    const bytes = graph((g) => {
      const x = g.input('x', 'float32', ['N', 4, 'T']);
      // [N, 4, T] → [N, T, 4] with the shape read from the tensor itself, as exported graphs do.
      const shape = g.op('Shape', [x]);
      const n = g.op('Gather', [shape, g.i64('i0', [0])], { axis: 0 });
      const t = g.op('Gather', [shape, g.i64('i2', [2])], { axis: 0 });
      const tokens = g.op('Reshape', [g.op('Transpose', [x], { perm: [0, 2, 1] }), g.op('Concat', [n, t, g.i64('c', [4])], { axis: 0 })]);
      const [a] = g.opN('Split', [tokens, g.i64('split', [1, 3])], 2, { axis: 2 });
      const up = g.op('Resize', [g.op('Unsqueeze', [a, g.i64('ax', [1])]), '', g.f32('scales', [1, 1, 2, 1], [4])], { mode: 'nearest' });
      // up: [N, 1, 2T, 1] → MatMul by [1, 5].
      g.output(g.op('MatMul', [up, weight(g, [1, 5])]), 'y', 'float32', ['N', 1, 'T2', 5]);
    });
    expect(countFlops(bytes, { x: [3, 4, 7] }).byOp).toEqual({ MatMul: 2 * 3 * 1 * 14 * 1 * 5 });
  });

  it('lists a counted node whose input shape is unknown instead of counting it as zero', () => {
    const bytes = graph((g) => {
      const x = g.input('x', 'float32', ['N', 4]);
      // NonZero's output length depends on the data: no shape propagation can know it.
      const idx = g.op('NonZero', [x]);
      const picked = g.op('Cast', [idx], { to: 1 });
      const y = g.op('MatMul', [x, weight(g, [4, 2])]);
      g.output(g.op('MatMul', [picked, weight(g, [2, 2])]), 'p', 'float32', [2, 2]);
      g.output(y, 'y', 'float32', ['N', 2]);
    });
    const count = countFlops(bytes, { x: [5, 4] });
    expect(count.total).toBe(2 * 5 * 4 * 2);
    expect(count.unresolved).toHaveLength(1);
  });

  it('counts an attention layer as its four projections plus the attention core, with either kernel', () => {
    const [B, L, C] = [2, 24, 32];
    const hand = 4 * (2 * B * L * C * C) + 2 * B * L * L * (C + C);
    for (const kernel of ['fused', 'matmul'] as const) {
      const g = new GraphBuilder('attn');
      const net = createNet(g, createRng(1));
      const x = g.input('x', 'float32', ['B', 'L', C]);
      g.output(attention(net, x, C, 4, { kernel, qkvBias: true }), 'y', 'float32', ['B', 'L', C]);
      expect(countFlops(g.toBytes(), { x: [B, L, C] }).total, kernel).toBe(hand);
    }
  });

  it('counts the same FLOPs in the shape UNet whichever attention kernel it was built with, all of them resolved', () => {
    const inputs = { sample: [2, 8, 32, 16], timestep: [2], class_labels: [2, 512] };
    const size = { modelChannels: 16, resBlocks: 1 };
    const fused = countFlops(buildUnet(size, createRng(3), { attentionKernel: 'fused' }).bytes, inputs);
    const matmul = countFlops(buildUnet(size, createRng(3), { attentionKernel: 'matmul' }).bytes, inputs);
    expect(fused.unresolved).toEqual([]);
    expect(matmul.unresolved).toEqual([]);
    expect(fused.total).toBe(matmul.total);
    expect(fused.byOp.MultiHeadAttention).toBeGreaterThan(0);
    expect(fused.byOp.Conv).toBe(matmul.byOp.Conv);
  });
});
