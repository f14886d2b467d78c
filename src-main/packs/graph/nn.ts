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
import { type GraphBuilder, MS_DOMAIN } from './builder.ts';
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

/**
 * A Conv with kernel k along each spatial axis where `along` is true and 1 (no stride, dilation or padding) where it
 * is false: [true] Conv1d, [true, true] Conv2d, [false, true] Conv1d over a signal held as a one-row image.
 */
function conv(net: Net, x: string, along: readonly boolean[], cin: number, cout: number, k: number, opts: ConvOptions): string {
  const { stride = 1, dilation = 1, groups = 1 } = opts;
  if (cin % groups !== 0 || cout % groups !== 0) throw new Error(`conv: channels ${cin}→${cout} not divisible by groups ${groups}`);
  let pad: number;
  if (opts.padding === undefined || opts.padding === 'same') {
    if (k % 2 === 0) throw new Error(`conv: 'same' padding needs an odd kernel, got ${k}`);
    pad = ((k - 1) * dilation) / 2;
  } else pad = opts.padding;
  const kernel = along.map((on) => (on ? k : 1));
  const fanIn = (cin / groups) * kernel.reduce((a, b) => a * b, 1);
  const spread = (opts.gain ?? 1) / Math.sqrt(fanIn);
  let w: string;
  if (along.every((on) => on)) w = param(net, 'conv_w', [cout, cin / groups, ...kernel], spread, 0, sub(opts.key, 'weight'));
  else {
    // Asked for in the checkpoint's layout (a Conv1d's [cout, cin, k]; also what a missing tensor's message names),
    // stored with the size-1 kernel axes: the same values in the same order.
    const values = paramValues(net, 'conv_w', [cout, cin / groups, ...kernel.filter((_, i) => along[i])], spread, 0, sub(opts.key, 'weight'));
    w = net.g.init('conv_w', { type: 'float32', data: values, dims: [cout, cin / groups, ...kernel] });
  }
  const inputs = opts.bias === false ? [x, w] : [x, w, param(net, 'conv_b', [cout], 0.02, 0, sub(opts.key, 'bias'))];
  const per = (value: number, off: number): number[] => along.map((on) => (on ? value : off));
  return net.g.op('Conv', inputs, {
    kernel_shape: kernel,
    strides: per(stride, 1),
    dilations: per(dilation, 1),
    pads: [...per(pad, 0), ...per(pad, 0)],
    group: groups,
  });
}

/** Options of {@link conv1d}. */
export interface Conv1dOptions extends ConvOptions {
  /**
   * `x` is [B, cin, 1, L], the signal as a one-row image, and the layer a 2-D Conv with kernel [1, k] giving
   * [B, cout, 1, L']: the same parameters (a checkpoint's [cout, cin, k] serves [cout, cin, 1, k]) and the same
   * function, but ONNX Runtime's CPU provider runs 2-D Convs with its blocked NCHWc kernels and 1-D ones with im2col
   * and GEMM, which was 7–40 % slower on every layer shape of AudioLDM's HiFi-GAN (one thread, issue 14).
   */
  row?: boolean;
}

/** Conv1d on [B, cin, L] (or [B, cin, 1, L] with `row`). */
export function conv1d(net: Net, x: string, cin: number, cout: number, k: number, opts: Conv1dOptions = {}): string {
  return conv(net, x, opts.row === true ? [false, true] : [true], cin, cout, k, opts);
}

/** Conv2d with a square kernel on [B, cin, H, W]. */
export function conv2d(net: Net, x: string, cin: number, cout: number, k: number, opts: ConvOptions = {}): string {
  return conv(net, x, [true, true], cin, cout, k, opts);
}

/**
 * The values {@link param} would create for the same arguments (drawn in the same order, or read by `key`), counted
 * as trainable but not yet an initializer: for layers that store their parameters rearranged.
 */
function paramValues(net: Net, what: string, dims: readonly number[], spread: number, center = 0, key?: string): Float32Array {
  const n = dims.reduce((a, b) => a * b, 1);
  let data: Float32Array;
  if (net.weights) {
    if (key === undefined) throw new Error(`a ${what} parameter of [${dims.join(', ')}] has no state-dict name; every layer built from a checkpoint needs its key`);
    data = net.weights.tensor(key, dims);
  } else {
    data = net.rng.normals(n);
    for (let i = 0; i < n; i++) data[i] = center + spread * data[i];
  }
  net.parameters += n;
  return data;
}

/** Slice ends at or beyond this clamp to the axis length (ONNX Slice semantics): "to the end". */
const SLICE_TO_END = Number.MAX_SAFE_INTEGER;

/**
 * ConvTranspose1d on [B, cin, L] → [B, cout, (L−1)·stride − 2·padding + k], PyTorch's weight layout [cin, cout, k].
 *
 * Built in its polyphase form, because ONNX Runtime's CPU ConvTranspose (col2im) ran at a third of the speed of its
 * Conv on AudioLDM's HiFi-GAN (issue 14: 12 % of the vocoder's time for 5 % of its FLOPs). With u = stride,
 * K = ⌈k/u⌉ and o + p = q·u + r (0 ≤ r < u), the output is y[o] = b + Σ_m x[q − m]·w[m·u + r] (m·u + r < k): for each
 * phase r a stride-1 correlation with the taps w[r], w[u + r], … reversed. One Conv with u·cout output channels
 * (channel co·u + r holds phase r of channel co; phases with fewer than K taps padded with zeros) over x padded by K − 1
 * gives phase r at q = 0 … L + K − 2; Reshape/Transpose interleave the phases into s = q·u + r, and y = s[p, p + L_out).
 * Equal to ConvTranspose up to float rounding (tests/packs/nn-conv.test.ts). `row`: x is [B, cin, 1, L] and the
 * output [B, cout, 1, L_out] (see {@link Conv1dOptions.row}).
 */
export function convTranspose1d(
  net: Net,
  x: string,
  cin: number,
  cout: number,
  k: number,
  stride: number,
  padding: number,
  opts: { gain?: number; key?: string; row?: boolean } = {},
): string {
  if (!Number.isInteger(stride) || stride < 1 || !Number.isInteger(padding) || padding < 0 || !Number.isInteger(k) || k < 1) {
    throw new Error(`convTranspose1d: kernel ${k}, stride ${stride} and padding ${padding} must be integers (k, stride ≥ 1, padding ≥ 0)`);
  }
  // Each output sample sums about k/stride taps of every input channel.
  const fanIn = (cin * k) / stride;
  const w = paramValues(net, 'convt_w', [cin, cout, k], (opts.gain ?? 1) / Math.sqrt(fanIn), 0, sub(opts.key, 'weight'));
  const b = paramValues(net, 'convt_b', [cout], 0.02, 0, sub(opts.key, 'bias'));
  const u = stride;
  const taps = Math.ceil(k / u);
  const phases = new Float32Array(cout * u * cin * taps);
  const bias = new Float32Array(cout * u);
  for (let co = 0; co < cout; co++) {
    for (let r = 0; r < u; r++) {
      bias[co * u + r] = b[co];
      for (let ci = 0; ci < cin; ci++) {
        for (let n = 0; n < taps; n++) {
          const j = (taps - 1 - n) * u + r;
          if (j < k) phases[((co * u + r) * cin + ci) * taps + n] = w[(ci * cout + co) * k + j];
        }
      }
    }
  }
  const g = net.g;
  const row = opts.row === true;
  const stacked = g.op('Conv', [x, g.f32('convt_phases', phases, [cout * u, cin, ...(row ? [1] : []), taps]), g.f32('convt_bias', bias, [cout * u])], {
    kernel_shape: row ? [1, taps] : [taps],
    strides: row ? [1, 1] : [1],
    dilations: row ? [1, 1] : [1],
    pads: row ? [0, taps - 1, 0, taps - 1] : [taps - 1, taps - 1],
    group: 1,
  });
  const interleaved = reshape(net, transpose(net, reshape(net, stacked, [0, cout, u, -1]), [0, 1, 3, 2]), row ? [0, cout, 1, -1] : [0, cout, -1]);
  // s has (L + K − 1)·u samples; the output drops `padding` at the start and K·u + padding − k at the end.
  const cut = taps * u + padding - k;
  return g.op('Slice', [interleaved, ints(net, [padding]), ints(net, [cut === 0 ? SLICE_TO_END : -cut]), ints(net, [row ? 3 : 2])]);
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

/**
 * Exact GELU below opset 20: (x·0.5)·(1 + erf(x/√2)). The division by √2 (not a multiplication by 1/√2) is the form
 * ONNX Runtime's GeluFusion recognises: it becomes one `Gelu` kernel (`BiasGelu` after a bias Add) instead of five
 * element-wise passes.
 */
export function gelu(net: Net, x: string): string {
  const g = net.g;
  const erf = g.op('Erf', [g.op('Div', [x, filled(net, Math.SQRT2, [])])]);
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

/**
 * Nearest ×2 upsampling followed by a 3×3 Conv2d ('same' padding) on [B, cin, H, W] → [B, cout, 2H, 2W]: the
 * upsampler of AutoencoderKL and UNet up blocks, with the parameters {@link conv2d} would create (same keys, same
 * random draws).
 *
 * Built in its sub-pixel form, 2.25× fewer FLOPs: along each axis, output 2i reads the upsampled inputs 2i − 1, 2i,
 * 2i + 1, i.e. x[i − 1], x[i], x[i] (taps w0 and w1 + w2), and output 2i + 1 reads x[i], x[i], x[i + 1] (taps w0 + w1
 * and w2). Over x padded by 1, a 2×2 Conv at position i' reads x[i' − 1], x[i']: output 2i' − 1 (taps [w0 + w1, w2])
 * and output 2i' (taps [w0, w1 + w2]). So one 2×2 Conv with 4·cout channels (slot (a, b) for output rows 2i' − 1 + a,
 * columns 2j' − 1 + b) at (H + 1)×(W + 1), DepthToSpace(2) (DCR: channel (2a + b)·cout + co) and a crop of one row and
 * column at each border are the upsampled conv. Equal up to float rounding (tests/packs/nn-conv.test.ts).
 */
export function upsampleNearest2xConv3x3(net: Net, x: string, cin: number, cout: number, opts: Pick<ConvOptions, 'gain' | 'key'> = {}): string {
  const k = 3;
  const w = paramValues(net, 'conv_w', [cout, cin, k, k], (opts.gain ?? 1) / Math.sqrt(cin * k * k), 0, sub(opts.key, 'weight'));
  const b = paramValues(net, 'conv_b', [cout], 0.02, 0, sub(opts.key, 'bias'));
  // merge[a][t][j]: weight of 3×3 tap j in 2×2 tap t for slot a (a = 0: output 2i' − 1, a = 1: output 2i').
  const merge = [
    [
      [1, 1, 0],
      [0, 0, 1],
    ],
    [
      [1, 0, 0],
      [0, 1, 1],
    ],
  ];
  const sub2 = new Float32Array(4 * cout * cin * 4);
  const bias = new Float32Array(4 * cout);
  for (let a = 0; a < 2; a++) {
    for (let bb = 0; bb < 2; bb++) {
      for (let co = 0; co < cout; co++) {
        const oc = (2 * a + bb) * cout + co;
        bias[oc] = b[co];
        for (let ci = 0; ci < cin; ci++) {
          const src = (co * cin + ci) * 9;
          const dst = (oc * cin + ci) * 4;
          for (let tr = 0; tr < 2; tr++) {
            for (let tc = 0; tc < 2; tc++) {
              let s = 0;
              for (let jr = 0; jr < 3; jr++) {
                if (merge[a][tr][jr] === 0) continue;
                for (let jc = 0; jc < 3; jc++) if (merge[bb][tc][jc] !== 0) s += w[src + jr * 3 + jc];
              }
              sub2[dst + tr * 2 + tc] = s;
            }
          }
        }
      }
    }
  }
  const g = net.g;
  const slots = g.op('Conv', [x, g.f32('upconv_w', sub2, [4 * cout, cin, 2, 2]), g.f32('upconv_b', bias, [4 * cout])], {
    kernel_shape: [2, 2],
    strides: [1, 1],
    dilations: [1, 1],
    pads: [1, 1, 1, 1],
    group: 1,
  });
  const up = g.op('DepthToSpace', [slots], { blocksize: 2, mode: 'DCR' });
  return g.op('Slice', [up, ints(net, [1, 1]), ints(net, [-1, -1]), ints(net, [2, 3])]);
}

/** [B, C, …spatial] → tokens [B, L, C] with L the flattened spatial positions. */
export function toTokens(net: Net, x: string): string {
  return transpose(net, reshape(net, x, [0, 0, -1]), [0, 2, 1]);
}

/** Tokens [B, L, C] → the shape of `like` ([B, C, …spatial]). */
export function fromTokens(net: Net, tokens: string, like: string): string {
  return net.g.op('Reshape', [transpose(net, tokens, [0, 2, 1]), net.g.op('Shape', [like])]);
}

/**
 * How {@link attention} computes softmax(q·kᵀ/√d)·v:
 * - `matmul` (default): plain ONNX (MatMul, Softmax, MatMul with the head split as Reshape/Transpose), as
 *   `torch.onnx.export` emits it. Runs on every execution provider, float16 included.
 * - `fused`: one ONNX Runtime contrib `com.microsoft.MultiHeadAttention` node. On the CPU provider it runs MLAS's flash
 *   attention, which never materialises the [B, h, L, L] scores: 2.5–3 % less CPU time per full-size AudioLDM-S UNet
 *   call, the same time on the VAE's single head (issue 14, docs/BENCHMARKS.md). NOTE: not the default because
 *   ONNX Runtime 1.30's WebGPU MultiHeadAttention returns wrong values from 32 tokens on (SwiftShader: max |error|
 *   0.03 on outputs of 0.08, exact below 32), and packs are built once for every device.
 */
export type AttentionKernel = 'fused' | 'matmul';

/** The default {@link AttentionKernel}: the one every execution provider runs correctly. */
export const DEFAULT_ATTENTION_KERNEL: AttentionKernel = 'matmul';

/** Options of {@link attention}. */
export interface AttentionOptions {
  /** Biases on the q/k/v projections (VAE AttnBlock: yes; transformer blocks: no). */
  qkvBias?: boolean;
  /** State-dict names of the four projections (diffusers: `…to_q`, `…to_k`, `…to_v`, `…to_out.0`). */
  keys?: { q: string; k: string; v: string; out: string };
  /** Default {@link DEFAULT_ATTENTION_KERNEL}. Both kernels read the same parameters in the same order. */
  kernel?: AttentionKernel;
}

/** Self-attention over tokens [B, L, C] with `heads` heads, including the output projection. */
export function attention(net: Net, x: string, channels: number, heads: number, opts: AttentionOptions = {}): string {
  if (channels % heads !== 0) throw new Error(`attention: ${channels} channels not divisible by ${heads} heads`);
  const g = net.g;
  const d = channels / heads;
  const bias = opts.qkvBias ?? false;
  const keys = opts.keys;
  const kernel = opts.kernel ?? DEFAULT_ATTENTION_KERNEL;
  let out: string;
  if (kernel === 'fused') {
    // The q/k/v biases go into the node's packed bias input [3C], which the kernel adds while splitting heads.
    const q = linear(net, x, channels, channels, { bias: false, ...(keys ? { key: keys.q } : {}) });
    const qb = bias ? param(net, 'linear_b', [channels], 0.02, 0, keys ? `${keys.q}.bias` : undefined) : undefined;
    const k = linear(net, x, channels, channels, { bias: false, ...(keys ? { key: keys.k } : {}) });
    const kb = bias ? param(net, 'linear_b', [channels], 0.02, 0, keys ? `${keys.k}.bias` : undefined) : undefined;
    const v = linear(net, x, channels, channels, { bias: false, ...(keys ? { key: keys.v } : {}) });
    const vb = bias ? param(net, 'linear_b', [channels], 0.02, 0, keys ? `${keys.v}.bias` : undefined) : undefined;
    const inputs = [q, k, v];
    if (qb !== undefined && kb !== undefined && vb !== undefined) inputs.push(g.op('Concat', [qb, kb, vb], { axis: 0 }));
    out = g.domainOpN(MS_DOMAIN, 'MultiHeadAttention', inputs, 1, { num_heads: heads, scale: { float: 1 / Math.sqrt(d) } }, 'mha')[0];
  } else {
    // The 1/√d scale is folded into q (one [B,h,L,d] multiply instead of one over the [B,h,L,L] scores).
    const q = g.op('Mul', [linear(net, x, channels, channels, { bias, ...(keys ? { key: keys.q } : {}) }), filled(net, 1 / Math.sqrt(d), [])]);
    const k = linear(net, x, channels, channels, { bias, ...(keys ? { key: keys.k } : {}) });
    const v = linear(net, x, channels, channels, { bias, ...(keys ? { key: keys.v } : {}) });
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
