/**
 * packs/graph/nn.ts builds ConvTranspose1d in its polyphase form, nearest ×2 upsampling + Conv3×3 in its sub-pixel
 * form and, on request, Conv1d as a 2-D Conv over a one-row image (all for speed on ONNX Runtime's CPU provider,
 * issue 14). Each must equal the plain ONNX operators on the same
 * weights up to float rounding, for every kernel, stride and padding the vocoders and VAE decoders use and for
 * lengths down to one frame, and must create the same parameters (count and random draws) as the plain layer.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src-main/engine/tensor/rng.ts';
import { GraphBuilder } from '../../src-main/packs/graph/builder.ts';
import { type WeightSource, conv1d, conv2d, convTranspose1d, createNet, ints, unsqueeze, upsampleNearest2x, upsampleNearest2xConv3x3 } from '../../src-main/packs/graph/nn.ts';

/** A checkpoint stand-in: N(0, 1/fan)-ish tensors by key, the same for every build that asks. */
function randomWeights(seed: number): WeightSource & { read: string[] } {
  const cache = new Map<string, Float32Array>();
  const read: string[] = [];
  return {
    read,
    tensor(key, dims) {
      read.push(key);
      let t = cache.get(key);
      if (!t) {
        const n = dims.reduce((a, b) => a * b, 1);
        const scale = key.endsWith('bias') ? 0.1 : 1 / Math.sqrt(n / dims[0]);
        t = createRng(seed + cache.size).normals(n).map((v) => v * scale);
        cache.set(key, t);
      }
      return t;
    },
  };
}

async function runGraph(g: GraphBuilder, input: Float32Array, dims: number[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(g.toBytes(), { graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
  try {
    const out = await session.run({ x: new ort.Tensor('float32', input, dims) });
    const y = out.y;
    if (!(y.data instanceof Float32Array)) throw new Error('output is not float32');
    return { data: y.data, dims: y.dims };
  } finally {
    await session.release();
  }
}

/** max |a − b| / max |b|. */
function relMaxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let ref = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    ref = Math.max(ref, Math.abs(b[i]));
  }
  return diff / ref;
}

describe('convTranspose1d (polyphase Conv)', () => {
  // [cin, cout, k, stride, padding]: AudioLDM's HiFi-GAN stages (k, u, ⌊(k − u)/2⌋), then kernels that are not a
  // multiple of the stride, stride 1, zero padding and padding past a whole phase.
  const cases: [number, number, number, number, number][] = [
    [16, 8, 16, 5, 5],
    [8, 4, 16, 4, 6],
    [8, 4, 8, 2, 3],
    [4, 2, 4, 2, 1],
    [3, 5, 3, 2, 0],
    [4, 3, 5, 3, 2],
    [2, 3, 7, 3, 4],
    [3, 2, 3, 1, 1],
    [5, 4, 11, 4, 0],
  ];
  it.each(cases)('cin %i → cout %i, k %i, stride %i, padding %i equals ONNX ConvTranspose, also as a one-row image', async (cin, cout, k, u, p) => {
    const weights = randomWeights(k * 100 + u * 10 + p);
    for (const [length, row] of [1, 2, 7, 33].flatMap((n) => [[n, false], [n, true]] as const)) {
      if ((length - 1) * u - 2 * p + k < 1) continue;
      const ours = new GraphBuilder('ours');
      const net = createNet(ours, createRng(0), weights);
      const x = ours.input('x', 'float32', [1, cin, 'L']);
      const y = convTranspose1d(net, row ? unsqueeze(net, x, [2]) : x, cin, cout, k, u, p, { key: 'up', row });
      ours.output(row ? ours.op('Squeeze', [y, ints(net, [2])]) : y, 'y', 'float32', [1, cout, 'L2']);
      expect(net.parameters).toBe(cin * cout * k + cout);

      const ref = new GraphBuilder('reference');
      const w = ref.f32('w', weights.tensor('up.weight', [cin, cout, k]), [cin, cout, k]);
      const b = ref.f32('b', weights.tensor('up.bias', [cout]), [cout]);
      ref.output(ref.op('ConvTranspose', [ref.input('x', 'float32', [1, cin, 'L']), w, b], { kernel_shape: [k], strides: [u], pads: [p, p] }), 'y', 'float32', [1, cout, 'L2']);

      const input = createRng(length).normals(cin * length);
      const [a, r] = await Promise.all([runGraph(ours, input, [1, cin, length]), runGraph(ref, input, [1, cin, length])]);
      expect(a.dims).toEqual([1, cout, (length - 1) * u - 2 * p + k]);
      expect(a.dims).toEqual(r.dims);
      expect(relMaxDiff(a.data, r.data), `length ${length}${row ? ', row' : ''}`).toBeLessThan(1e-5);
    }
  });

  it('draws random weights as the plain layer did: weight [cin, cout, k] then bias, same gain', () => {
    // The polyphase weights are a permutation of the drawn ones (zeros aside), so the multiset of non-zero values
    // equals N(0, (gain/√(cin·k/u))²) draws followed by the bias draws from the same rng.
    const [cin, cout, k, u] = [4, 2, 8, 2];
    const g = new GraphBuilder('t');
    const net = createNet(g, createRng(42));
    convTranspose1d(net, g.input('x', 'float32', [1, cin, 'L']), cin, cout, k, u, 3, { gain: 2 });
    const drawn = createRng(42).normals(cin * cout * k).map((v) => (v * 2) / Math.sqrt((cin * k) / u));
    const stored = g.toModel().graph?.initializer?.find((t) => t.name?.startsWith('convt_phases'));
    const raw = stored?.rawData;
    if (!raw) throw new Error('no polyphase weight initializer');
    const values = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)).filter((v) => v !== 0);
    expect([...values].sort()).toEqual([...drawn].sort());
  });
});

describe('conv1d as a one-row image (row)', () => {
  it.each([
    [4, 6, 7, 1, 'same'],
    [3, 5, 3, 5, 'same'],
    [8, 1, 11, 1, 'same'],
    [4, 4, 4, 2, 1],
  ] as const)('cin %i → cout %i, k %i, dilation %i, padding %s equals Conv1d on [B, C, L], with the same parameters', async (cin, cout, k, dilation, padding) => {
    const weights = randomWeights(cin * 7 + k);
    const ours = new GraphBuilder('ours');
    const net = createNet(ours, createRng(0), weights);
    const x = ours.input('x', 'float32', [1, cin, 'L']);
    const y = conv1d(net, unsqueeze(net, x, [2]), cin, cout, k, { dilation, padding, key: 'c', row: true });
    ours.output(ours.op('Squeeze', [y, ints(net, [2])]), 'y', 'float32', [1, cout, 'L2']);
    const ref = new GraphBuilder('reference');
    const refNet = createNet(ref, createRng(0), weights);
    ref.output(conv1d(refNet, ref.input('x', 'float32', [1, cin, 'L']), cin, cout, k, { dilation, padding, key: 'c' }), 'y', 'float32', [1, cout, 'L2']);
    expect(net.parameters).toBe(refNet.parameters);
    const input = createRng(k).normals(cin * 40);
    const [a, r] = await Promise.all([runGraph(ours, input, [1, cin, 40]), runGraph(ref, input, [1, cin, 40])]);
    expect(a.dims).toEqual(r.dims);
    expect(relMaxDiff(a.data, r.data)).toBeLessThan(1e-5);
    // Random nets draw the same weights in both forms.
    const [ra, rb] = [createRng(5), createRng(5)];
    const ga = new GraphBuilder('a');
    conv1d(createNet(ga, ra), ga.input('x', 'float32', [1, cin, 1, 'L']), cin, cout, k, { dilation, padding, row: true });
    const gb = new GraphBuilder('b');
    conv1d(createNet(gb, rb), gb.input('x', 'float32', [1, cin, 'L']), cin, cout, k, { dilation, padding });
    expect(ra.normals(3)).toEqual(rb.normals(3));
  });
});

describe('upsampleNearest2xConv3x3 (sub-pixel Conv)', () => {
  it.each([
    [4, 4, 1, 1],
    [3, 5, 2, 3],
    [6, 6, 5, 16],
    [8, 4, 7, 4],
  ])('cin %i → cout %i on %i×%i equals Resize(nearest ×2) → Conv 3×3', async (cin, cout, h, w) => {
    const weights = randomWeights(cin * 10 + cout);
    const ours = new GraphBuilder('ours');
    const net = createNet(ours, createRng(0), weights);
    ours.output(upsampleNearest2xConv3x3(net, ours.input('x', 'float32', [1, cin, 'H', 'W']), cin, cout, { key: 'up.conv' }), 'y', 'float32', [1, cout, 'H2', 'W2']);

    const ref = new GraphBuilder('reference');
    const refNet = createNet(ref, createRng(0), weights);
    ref.output(conv2d(refNet, upsampleNearest2x(refNet, ref.input('x', 'float32', [1, cin, 'H', 'W'])), cin, cout, 3, { key: 'up.conv' }), 'y', 'float32', [1, cout, 'H2', 'W2']);
    expect(net.parameters).toBe(refNet.parameters);

    const x = createRng(h * w).normals(cin * h * w);
    const [a, r] = await Promise.all([runGraph(ours, x, [1, cin, h, w]), runGraph(ref, x, [1, cin, h, w])]);
    expect(a.dims).toEqual([1, cout, 2 * h, 2 * w]);
    expect(r.dims).toEqual(a.dims);
    expect(relMaxDiff(a.data, r.data)).toBeLessThan(1e-5);
  });

  it('reads the same keys and draws the same random weights as conv2d', () => {
    const weights = randomWeights(1);
    const g = new GraphBuilder('t');
    upsampleNearest2xConv3x3(createNet(g, createRng(0), weights), g.input('x', 'float32', [1, 2, 'H', 'W']), 2, 3, { key: 'k' });
    expect(weights.read).toEqual(['k.weight', 'k.bias']);
    // Random nets: the rng is left where conv2d leaves it (weight then bias drawn).
    const [a, b] = [createRng(9), createRng(9)];
    const ga = new GraphBuilder('a');
    upsampleNearest2xConv3x3(createNet(ga, a), ga.input('x', 'float32', [1, 2, 'H', 'W']), 2, 3);
    const gb = new GraphBuilder('b');
    conv2d(createNet(gb, b), gb.input('x', 'float32', [1, 2, 'H', 'W']), 2, 3, 3);
    expect(a.normals(4)).toEqual(b.normals(4));
  });
});
