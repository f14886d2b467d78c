/**
 * Neural-network layers over {@link GraphBuilder}, with weights drawn from an injected {@link Rng}, or read from a
 * checkpoint ({@link WeightSource}) by the state-dict name each layer is given (`key`): one topology serves the
 * random-weight packs and the checkpoint converter.
 *
 * Layouts follow PyTorch (NC… activations, Conv weights [out, in/groups, …k], Linear as MatMul by [in, out]) and
 * the node patterns follow what `torch.onnx.export` emits at opset 17, so graphs built here look to ONNX Runtime
 * like exported models (GroupNorm as Reshape → InstanceNormalization → Reshape → Mul/Add, GELU via Erf, nearest
 * upsampling via Resize). Random weights are N(0, (gain/√fan_in)²) so activations stay O(1) through deep stacks.
 */
import type { Rng } from '../../engine/tensor/rng.ts';
import type { GraphBuilder } from './builder.ts';
import type { ExternalizedGraph } from './external-data.ts';

/**
 * Trainable tensors from a checkpoint, by state-dict name (`conv_in.weight`). Implementations check the shape and name
 * the key, its expected and actual shape, and what to do when it is missing or wrong.
 */
export interface WeightSource {
  /**
   * Tensor `key` as float32, row-major in `dims`. The checkpoint's shape must equal `dims`, size-1 axes aside (a
   * GroupNorm affine [C] serves dims [C, 1, 1]); `transpose`: stored as [out, in] (PyTorch Linear) for dims [in, out].
   */
  tensor(key: string, dims: readonly number[], options?: { transpose?: boolean }): Float32Array;
}

/** A graph under construction plus where its weights come from. */
export interface Net {
  readonly g: GraphBuilder;
  readonly rng: Rng;
  /** When set, every parameter is read from it by its state-dict key instead of drawn from `rng`. */
  readonly weights?: WeightSource;
  /** Trainable elements created so far (weights, biases, norm affines); constants are not counted. */
  parameters: number;
  /** Shared constants by key, so repeated shapes and norm scales become one initializer. */
  readonly constants: Map<string, string>;
}

/** One finished graph: ONNX bytes and its trainable-parameter count. */
export interface BuiltGraph {
  /** The whole graph serialised (on first use; a graph over 2 GB cannot be: use `external`). */
  readonly bytes: Uint8Array;
  parameters: number;
  /**
   * The graph with its weights in external-data shards (graph.toExternal), for graphs too large to serialise whole.
   * Present on graphs not yet serialised; the weights move out, so use either this or `bytes`.
   */
  external?: (shardNames: readonly string[]) => ExternalizedGraph;
}

/** Starts a network on `g` drawing weights from `rng`, or reading them from `weights`. */
export function createNet(g: GraphBuilder, rng: Rng, weights?: WeightSource): Net {
  return { g, rng, parameters: 0, constants: new Map(), ...(weights ? { weights } : {}) };
}

/** The network's graph, serialised when first asked (whole, or with external data), and its parameter count. */
export function finishNet(net: Net, docString: string): BuiltGraph {
  let bytes: Uint8Array | undefined;
  return {
    parameters: net.parameters,
    get bytes(): Uint8Array {
      bytes ??= net.g.toBytes(docString);
      return bytes;
    },
    external: (shardNames) => net.g.toExternal(docString, shardNames),
  };
}

/** Gain that keeps unit variance through SiLU (1/E[silu(z)²] ≈ 2.82 for z ~ N(0,1)). */
export const SILU_GAIN = 1.68;
/** Gain on the last layer of a residual branch, so each residual add grows the stream by only ~6 %. */
export const RESIDUAL_GAIN = 0.25;

/** He gain for a leaky ReLU of negative slope `slope`. */
export function leakyGain(slope: number): number {
  return Math.sqrt(2 / (1 + slope * slope));
}

/**
 * A trainable tensor: N(center, spread²) samples (weights: center 0; norm scales: center 1), or, on a net with
 * {@link WeightSource}, the checkpoint's tensor `key` (`transpose`: stored [out, in], used [in, out]).
 */
export function param(net: Net, prefix: string, dims: readonly number[], spread: number, center = 0, key?: string, transpose = false): string {
  const n = dims.reduce((a, b) => a * b, 1);
  let data: Float32Array;
  if (net.weights) {
    if (key === undefined) throw new Error(`a ${prefix} parameter of [${dims.join(', ')}] has no state-dict name; every layer built from a checkpoint needs its key`);
    data = net.weights.tensor(key, dims, { transpose });
  } else {
    data = net.rng.normals(n);
    for (let i = 0; i < n; i++) data[i] = center + spread * data[i];
  }
  net.parameters += n;
  return net.g.init(prefix, { type: 'float32', data, dims });
}

/** `key.suffix`, or undefined without a key. */
function sub(key: string | undefined, suffix: string): string | undefined {
  return key === undefined ? undefined : `${key}.${suffix}`;
}

/** A cached int64 constant (shapes, axes). */
export function ints(net: Net, values: readonly number[]): string {
  const key = `i64:${values.join(',')}`;
  let name = net.constants.get(key);
  if (name === undefined) {
    name = net.g.i64('shape', values);
    net.constants.set(key, name);
  }
  return name;
}

/** A cached 1-D float32 constant. */
export function floats(net: Net, values: readonly number[]): string {
  const key = `f32v:${values.join(',')}`;
  let name = net.constants.get(key);
  if (name === undefined) {
    name = net.g.f32('values', values, [values.length]);
    net.constants.set(key, name);
  }
  return name;
}

/** A cached float32 constant filled with `value`. */
export function filled(net: Net, value: number, dims: readonly number[]): string {
  const key = `f32:${value}:${dims.join(',')}`;
  let name = net.constants.get(key);
  if (name === undefined) {
    const n = dims.reduce((a, b) => a * b, 1);
    name = dims.length === 0 ? net.g.scalar(value) : net.g.f32('const', new Float32Array(n).fill(value), dims);
    net.constants.set(key, name);
  }
  return name;
}

/** Reshape to `shape` (0 copies the input dim, −1 infers it). */
export function reshape(net: Net, x: string, shape: readonly number[]): string {
  return net.g.op('Reshape', [x, ints(net, shape)]);
}

/** Transpose by `perm`. */
export function transpose(net: Net, x: string, perm: readonly number[]): string {
  return net.g.op('Transpose', [x], { perm: [...perm] });
}

/** Inserts size-1 axes. */
export function unsqueeze(net: Net, x: string, axes: readonly number[]): string {
  return net.g.op('Unsqueeze', [x, ints(net, axes)]);
}

/** Element-wise sum. */
export function add(net: Net, a: string, b: string): string {
  return net.g.op('Add', [a, b]);
}

/** Options of {@link linear}. */
export interface LinearOptions {
  /** Multiplies the 1/√fan_in weight scale (use {@link SILU_GAIN} after SiLU). */
  gain?: number;
  /** Adds a bias (default true). */
  bias?: boolean;
  /** State-dict name (`…proj_in`): `key.weight` [out, in] and `key.bias` when built from a checkpoint. */
  key?: string;
}

/** Linear layer on the last axis: x[…, inF] · W[inF, outF] + b. */
export function linear(net: Net, x: string, inF: number, outF: number, opts: LinearOptions = {}): string {
  const w = param(net, 'linear_w', [inF, outF], (opts.gain ?? 1) / Math.sqrt(inF), 0, sub(opts.key, 'weight'), true);
  const y = net.g.op('MatMul', [x, w]);
  return opts.bias === false ? y : add(net, y, param(net, 'linear_b', [outF], 0.02, 0, sub(opts.key, 'bias')));
}

/** Options of {@link conv1d} and {@link conv2d}. */
export interface ConvOptions {
  stride?: number;
  dilation?: number;
  groups?: number;
  /** 'same' (default; odd kernels only) or explicit symmetric padding. */
  padding?: 'same' | number;
  bias?: boolean;
  gain?: number;
  /** State-dict name: `key.weight` and `key.bias` when built from a checkpoint. */
  key?: string;
}

function conv(net: Net, x: string, rank: 1 | 2, cin: number, cout: number, k: number, opts: ConvOptions): string {
  const { stride = 1, dilation = 1, groups = 1 } = opts;
  if (cin % groups !== 0 || cout % groups !== 0) throw new Error(`conv: channels ${cin}→${cout} not divisible by groups ${groups}`);
  let pad: number;
  if (opts.padding === undefined || opts.padding === 'same') {
    if (k % 2 === 0) throw new Error(`conv: 'same' padding needs an odd kernel, got ${k}`);
    pad = ((k - 1) * dilation) / 2;
  } else pad = opts.padding;
  const fanIn = (cin / groups) * k ** rank;
  const kernel = Array<number>(rank).fill(k);
  const w = param(net, 'conv_w', [cout, cin / groups, ...kernel], (opts.gain ?? 1) / Math.sqrt(fanIn), 0, sub(opts.key, 'weight'));
  const inputs = opts.bias === false ? [x, w] : [x, w, param(net, 'conv_b', [cout], 0.02, 0, sub(opts.key, 'bias'))];
  return net.g.op('Conv', inputs, {
    kernel_shape: kernel,
    strides: Array<number>(rank).fill(stride),
    dilations: Array<number>(rank).fill(dilation),
    pads: Array<number>(2 * rank).fill(pad),
    group: groups,
  });
}

/** Conv1d on [B, cin, L]. */
export function conv1d(net: Net, x: string, cin: number, cout: number, k: number, opts: ConvOptions = {}): string {
  return conv(net, x, 1, cin, cout, k, opts);
}

/** Conv2d with a square kernel on [B, cin, H, W]. */
export function conv2d(net: Net, x: string, cin: number, cout: number, k: number, opts: ConvOptions = {}): string {
  return conv(net, x, 2, cin, cout, k, opts);
}

/** ConvTranspose1d on [B, cin, L] → [B, cout, (L−1)·stride − 2·padding + k]. */
export function convTranspose1d(
  net: Net,
  x: string,
  cin: number,
  cout: number,
  k: number,
  stride: number,
  padding: number,
  opts: { gain?: number; key?: string } = {},
): string {
  // Each output sample sums about k/stride taps of every input channel.
  const fanIn = (cin * k) / stride;
  const w = param(net, 'convt_w', [cin, cout, k], (opts.gain ?? 1) / Math.sqrt(fanIn), 0, sub(opts.key, 'weight'));
  const b = param(net, 'convt_b', [cout], 0.02, 0, sub(opts.key, 'bias'));
  return net.g.op('ConvTranspose', [x, w, b], { kernel_shape: [k], strides: [stride], pads: [padding, padding] });
}

/** GroupNorm over [B, C, …] (spatialRank trailing axes), exported the PyTorch opset-17 way via InstanceNormalization. */
export function groupNorm(net: Net, x: string, channels: number, numGroups: number, eps: number, spatialRank = 2, key?: string): string {
  if (channels % numGroups !== 0) throw new Error(`groupNorm: ${channels} channels not divisible by ${numGroups} groups`);
  const g = net.g;
  const grouped = reshape(net, x, [0, numGroups, -1]);
  const normed = g.op('InstanceNormalization', [grouped, filled(net, 1, [numGroups]), filled(net, 0, [numGroups])], {
    epsilon: { float: eps },
  });
  const back = g.op('Reshape', [normed, g.op('Shape', [x])]);
  const affine = [channels, ...Array<number>(spatialRank).fill(1)];
  const scaled = g.op('Mul', [back, param(net, 'gn_gamma', affine, 0.1, 1, sub(key, 'weight'))]);
  return add(net, scaled, param(net, 'gn_beta', affine, 0.1, 0, sub(key, 'bias')));
}

/** Groups for GroupNorm: 32 when the channels allow it (AudioLDM's GroupNorm32), else the largest common divisor. */
export function normGroups(channels: number): number {
  let a = 32;
  let b = channels;
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** LayerNorm over the last axis (size `dim`). */
export function layerNorm(net: Net, x: string, dim: number, eps = 1e-5, key?: string): string {
  return net.g.op('LayerNormalization', [x, param(net, 'ln_gamma', [dim], 0.1, 1, sub(key, 'weight')), param(net, 'ln_beta', [dim], 0.1, 0, sub(key, 'bias'))], {
    axis: -1,
    epsilon: { float: eps },
  });
}

/** SiLU as PyTorch exports it: x · sigmoid(x). */
export function silu(net: Net, x: string): string {
  return net.g.op('Mul', [x, net.g.op('Sigmoid', [x])]);
}

/** Leaky ReLU with negative slope `alpha`. */
export function leakyRelu(net: Net, x: string, alpha: number): string {
  return net.g.op('LeakyRelu', [x], { alpha: { float: alpha } });
}

/** Exact GELU as PyTorch exports it below opset 20: 0.5·x·(1 + erf(x/√2)). */
export function gelu(net: Net, x: string): string {
  const g = net.g;
  const erf = g.op('Erf', [g.op('Mul', [x, filled(net, Math.SQRT1_2, [])])]);
  return g.op('Mul', [g.op('Mul', [x, filled(net, 0.5, [])]), add(net, erf, filled(net, 1, []))]);
}

/** Sinusoidal timestep embedding [N] → [N, dim]: [cos, sin] (flip_sin_to_cos), freq_shift 0, freqs e^(−ln(P)·i/half). */
export function timestepEmbedding(net: Net, t: string, dim: number, maxPeriod = 10000): string {
  if (dim % 2 !== 0) throw new Error(`timestepEmbedding: dim ${dim} must be even`);
  const half = dim / 2;
  const freqs = Array.from({ length: half }, (_, i) => Math.exp((-Math.log(maxPeriod) * i) / half));
  const g = net.g;
  const args = g.op('Mul', [unsqueeze(net, t, [1]), g.f32('freqs', freqs, [half])]);
  return g.op('Concat', [g.op('Cos', [args]), g.op('Sin', [args])], { axis: 1 });
}

/** Nearest-neighbour ×2 upsampling of the last `spatialRank` axes (PyTorch's `interpolate(mode='nearest')` export). */
export function upsampleNearest2x(net: Net, x: string, spatialRank = 2): string {
  const scales = [1, 1, ...Array<number>(spatialRank).fill(2)];
  return net.g.op('Resize', [x, '', floats(net, scales)], {
    mode: 'nearest',
    coordinate_transformation_mode: 'asymmetric',
    nearest_mode: 'floor',
  });
}

/** [B, C, …spatial] → tokens [B, L, C] with L the flattened spatial positions. */
export function toTokens(net: Net, x: string): string {
  return transpose(net, reshape(net, x, [0, 0, -1]), [0, 2, 1]);
}

/** Tokens [B, L, C] → the shape of `like` ([B, C, …spatial]). */
export function fromTokens(net: Net, tokens: string, like: string): string {
  return net.g.op('Reshape', [transpose(net, tokens, [0, 2, 1]), net.g.op('Shape', [like])]);
}

/** Options of {@link attention}. */
export interface AttentionOptions {
  /** Biases on the q/k/v projections (VAE AttnBlock: yes; transformer blocks: no). */
  qkvBias?: boolean;
  /** State-dict names of the four projections (diffusers: `…to_q`, `…to_k`, `…to_v`, `…to_out.0`). */
  keys?: { q: string; k: string; v: string; out: string };
}

/** Self-attention over tokens [B, L, C] with `heads` heads (MatMul/Softmax), including the output projection. */
export function attention(net: Net, x: string, channels: number, heads: number, opts: AttentionOptions = {}): string {
  if (channels % heads !== 0) throw new Error(`attention: ${channels} channels not divisible by ${heads} heads`);
  const g = net.g;
  const d = channels / heads;
  const bias = opts.qkvBias ?? false;
  // The 1/√d scale is folded into q (one [B,h,L,d] multiply instead of one over the [B,h,L,L] scores).
  const keys = opts.keys;
  const q = g.op('Mul', [linear(net, x, channels, channels, { bias, ...(keys ? { key: keys.q } : {}) }), filled(net, 1 / Math.sqrt(d), [])]);
  const k = linear(net, x, channels, channels, { bias, ...(keys ? { key: keys.k } : {}) });
  const v = linear(net, x, channels, channels, { bias, ...(keys ? { key: keys.v } : {}) });
  let out: string;
  if (heads === 1) {
    const probs = g.op('Softmax', [g.op('MatMul', [q, transpose(net, k, [0, 2, 1])])], { axis: -1 });
    out = g.op('MatMul', [probs, v]);
  } else {
    const split = (t: string, perm: number[]): string => transpose(net, reshape(net, t, [0, 0, heads, d]), perm);
    const scores = g.op('MatMul', [split(q, [0, 2, 1, 3]), split(k, [0, 2, 3, 1])]);
    const probs = g.op('Softmax', [scores], { axis: -1 });
    const merged = g.op('MatMul', [probs, split(v, [0, 2, 1, 3])]);
    out = reshape(net, transpose(net, merged, [0, 2, 1, 3]), [0, 0, channels]);
  }
  return linear(net, out, channels, channels, { gain: RESIDUAL_GAIN * 2, ...(keys ? { key: keys.out } : {}) });
}

/** Maps an output index interval [lo, hi] of a layer to the input interval it reads (receptive-field tracing). */
export type IntervalMap = (lo: number, hi: number) => [number, number];

/** Stride-1 convolution with symmetric 'same' padding: reads ±(k−1)·d/2. */
export function convSpan(k: number, dilation = 1): IntervalMap {
  const h = ((k - 1) * dilation) / 2;
  return (lo, hi) => [lo - h, hi + h];
}

/** ConvTranspose1d(k, stride u, padding p): output o reads inputs i with o = i·u − p + j, 0 ≤ j < k. */
export function transposedConvSpan(k: number, u: number, p: number): IntervalMap {
  return (lo, hi) => [Math.ceil((lo + p - (k - 1)) / u), Math.floor((hi + p) / u)];
}

/** Nearest ×u upsampling: output o reads input ⌊o/u⌋. */
export function nearestUpSpan(u: number): IntervalMap {
  return (lo, hi) => [Math.floor(lo / u), Math.floor(hi / u)];
}

/** Parallel branches (summed or averaged): the union of their input intervals. */
export function parallelSpan(branches: readonly (readonly IntervalMap[])[]): IntervalMap {
  return (lo, hi) => {
    const spans = branches.map((layers) => traceBack(layers, lo, hi));
    return [Math.min(...spans.map((s) => s[0])), Math.max(...spans.map((s) => s[1]))];
  };
}

/** The input interval that output interval [lo, hi] of a layer stack (first layer first) depends on. */
export function traceBack(layers: readonly IntervalMap[], lo: number, hi: number): [number, number] {
  let span: [number, number] = [lo, hi];
  for (let i = layers.length - 1; i >= 0; i--) span = layers[i](span[0], span[1]);
  return span;
}
