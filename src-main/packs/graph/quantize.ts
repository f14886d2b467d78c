/**
 * A float32 ONNX graph → the same graph with its weight layers in int8, quantized dynamically for ONNX Runtime's CPU
 * provider (issue 14, "The CPU path"): weights per output channel (symmetric int8) here, activations per tensor
 * (asymmetric uint8) at run time, so no calibration data is needed. The u8×s8 products run on MLAS's integer GEMM
 * (AVX-512 VNNI here: 3× the float32 GEMM on one core). Measured on the full-size AudioLDM-S UNet, batch 2, 2 shared
 * cores: 1.6–1.9× faster than float32, ε 38.5 dB SNR against its float32 ε (38.3 dB on the audioldm-tiny golden).
 *
 * - MatMul by a 2-D initializer (Linear) → `com.microsoft.DynamicQuantizeMatMul`, its bias Add folded in; a 2-D Gemm
 *   with an initializer B likewise.
 * - Conv (2-D, group 1) → DynamicQuantizeLinear → Transpose to NHWC → im2col in uint8 (Pad with the zero point, one
 *   Slice per kernel tap, Concat) → `com.microsoft.MatMulIntegerToFloat` (bias folded in) → Transpose back to NCHW.
 *   ORT's own integer convolution (ConvInteger) takes uint8 weights only, packs them on every call and ran no faster
 *   than the float32 convolution; DequantizeLinear → Conv (QDQ without an output Q) runs in float32 and was slower.
 *
 * What stays float32, and why:
 * - Layers that read the raw residual stream (a residual Add, a Concat of skips, a Resize, another Conv's output, or
 *   the graph input, through Reshape/Transpose). One scale per tensor fits a normalised input (after GroupNorm,
 *   SiLU, LayerNorm, attention, GEGLU); the raw stream mixes magnitudes (the up blocks' 1×1 shortcuts over
 *   concat(h, skip) alone cost 4 dB of ε SNR on the full-size UNet) and these layers are ~7 % of its float32 time.
 * - Everything not downstream of the activation input (`sample`): the timestep and class embeddings run on N rows
 *   and gain nothing.
 * - Layers with fewer than `minChannels` input or output channels (the UNet's conv_in and conv_out, 8 latent
 *   channels): few FLOPs, and the network's own input and output.
 * - Normalisations, Softmax, attention itself (activation × activation) and the timestep sinusoid are not weight
 *   layers and are never touched.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type Node = onnxProto.onnx.INodeProto;
type Tensor = onnxProto.onnx.ITensorProto;
type Attribute = onnxProto.onnx.IAttributeProto;

const FLOAT = 1;
const INT8 = 3;
const INT64 = 7;
const MS_DOMAIN = 'com.microsoft';
const ATTR = onnx.AttributeProto.AttributeType;
/** Slice's "to the end" (INT64_MAX would do; any value past the axis is clamped). */
const TO_END = 2 ** 53 - 1;

/** Options of {@link quantizeModelInt8}. */
export interface Int8Options {
  /** The graph input whose descendants are quantized (default: the first input). */
  activationInput?: string;
  /**
   * Weights in [−63, 63] instead of [−127, 127] (default false). CPUs without VNNI multiply u8×s8 with `vpmaddubsw`,
   * whose int16 pair sums saturate at full range (ONNX Runtime's quantization docs, "reduce_range"); costs ~2 dB SNR.
   */
  reduceRange?: boolean;
  /** Layers with fewer input or output channels than this stay float32 (default 16). */
  minChannels?: number;
}

/** What {@link quantizeModelInt8} did. */
export interface Int8Report {
  /** MatMul and Gemm nodes now int8. */
  matmuls: number;
  /** Conv nodes now int8. */
  convs: number;
  /** Weight layers on the activation path kept float32 (raw-stream input, too few channels, unsupported form). */
  keptFloat32: number;
}

/** Quantizes the float32 model `bytes` as the file comment says; returns the new model's bytes. */
export function quantizeInt8(bytes: Uint8Array, options: Int8Options = {}): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  quantizeModelInt8(model, options);
  return onnx.ModelProto.encode(model).finish();
}

/** The UNet's int8 variant (activations: `sample`), changed in place; see the file comment. */
export function quantizeUnetInt8(model: onnxProto.onnx.IModelProto): Int8Report {
  return quantizeModelInt8(model, { activationInput: 'sample' });
}

/** Quantizes a model not serialised yet (or decoded), in place; returns what it changed. */
export function quantizeModelInt8(model: onnxProto.onnx.IModelProto, options: Int8Options = {}): Int8Report {
  const graph = model.graph;
  if (!graph) throw new Error('quantizeInt8: the model has no graph');
  const nodes = graph.node ?? [];
  const source = options.activationInput ?? graph.input?.[0]?.name ?? '';
  if (!(graph.input ?? []).some((i) => i.name === source)) {
    throw new Error(`quantizeInt8: the graph has no input '${source}'; give activationInput, one of: ${(graph.input ?? []).map((i) => i.name).join(', ')}`);
  }
  const qmax = options.reduceRange === true ? 63 : 127;
  const minChannels = options.minChannels ?? 16;

  const inits = new Map<string, Tensor>();
  for (const t of graph.initializer ?? []) inits.set(t.name ?? '', t);
  const producer = new Map<string, Node>();
  const readers = new Map<string, Node[]>();
  for (const n of nodes) {
    for (const o of n.output ?? []) producer.set(o, n);
    for (const i of n.input ?? []) {
      const list = readers.get(i);
      if (list) list.push(n);
      else readers.set(i, [n]);
    }
  }
  const graphOutputs = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  // Tensors computed from the activation input (nodes are topologically sorted, as the builder and ONNX require).
  const live = new Set<string>([source]);
  for (const n of nodes) if ((n.input ?? []).some((i) => live.has(i))) for (const o of n.output ?? []) live.add(o);

  const taken = new Set<string>([...inits.keys(), ...(graph.input ?? []).map((i) => i.name ?? ''), ...nodes.flatMap((n) => n.output ?? [])]);
  const fresh = (base: string): string => {
    let name = base;
    for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  };
  const newInits: Tensor[] = [];
  const constant = (base: string, dataType: number, dims: readonly number[], data: ArrayBufferView): string => {
    const name = fresh(base);
    newInits.push({ name, dataType, dims: [...dims], rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() });
    return name;
  };
  const int64s = (base: string, values: readonly number[]): string => constant(base, INT64, [values.length], BigInt64Array.from(values.map((v) => BigInt(v))));

  const out: Node[] = [];
  const emit = (opType: string, inputs: readonly string[], outputs: readonly string[], attribute: Attribute[] = [], domain = ''): void => {
    out.push({ opType, domain, input: [...inputs], output: [...outputs], name: fresh(`${outputs[0]}_int8`), attribute });
  };
  // One DynamicQuantizeLinear (and NHWC copy) per activation, however many convolutions read it.
  const quantized = new Map<string, { q: string; scale: string; zero: string; nhwc?: string }>();
  const quantize = (x: string): { q: string; scale: string; zero: string; nhwc?: string } => {
    let r = quantized.get(x);
    if (!r) {
      r = { q: fresh(`${x}_u8`), scale: fresh(`${x}_scale`), zero: fresh(`${x}_zero`) };
      emit('DynamicQuantizeLinear', [x], [r.q, r.scale, r.zero]);
      quantized.set(x, r);
    }
    return r;
  };

  const report: Int8Report = { matmuls: 0, convs: 0, keptFloat32: 0 };
  const folded = new Set<Node>();
  const replaced = new Set<string>();

  for (const n of nodes) {
    if (folded.has(n)) continue;
    const op = n.opType ?? '';
    const ins = n.input ?? [];
    const weight = inits.get(ins[1] ?? '');
    const isWeightLayer = (op === 'MatMul' || op === 'Gemm' || op === 'Conv') && (n.domain ?? '') === '' && weight !== undefined && live.has(ins[0]);
    if (!isWeightLayer) {
      out.push(n);
      continue;
    }
    const layer = op === 'Conv' ? convLayer(n, weight, inits) : linearLayer(n, weight, inits);
    if (!layer || Math.min(layer.inChannels, layer.outChannels) < minChannels || isRawStream(ins[0], producer, inits)) {
      report.keptFloat32++;
      out.push(n);
      continue;
    }
    const output = n.output?.[0] ?? '';
    replaced.add(ins[1]);
    if (layer.kind === 'linear') {
      const { K, N } = layer;
      const { q, scale } = quantizeColumns(layer.weights, K, N, qmax);
      let bias = layer.bias;
      let result = output;
      // MatMul + Add(bias [N]) → one node with the bias input.
      const next = readers.get(output) ?? [];
      if (bias === undefined && next.length === 1 && next[0].opType === 'Add' && !graphOutputs.has(output)) {
        const add = next[0];
        const other = add.input?.[0] === output ? add.input?.[1] : add.input?.[0];
        const b = other === undefined ? undefined : inits.get(other);
        if (b && b.dataType === FLOAT && (b.dims ?? []).length === 1 && Number(b.dims?.[0]) === N) {
          bias = other;
          result = add.output?.[0] ?? '';
          folded.add(add);
        }
      }
      const wq = constant(`${ins[1]}_int8`, INT8, [K, N], q);
      const ws = constant(`${ins[1]}_scale`, FLOAT, [N], scale);
      emit('DynamicQuantizeMatMul', bias === undefined ? [ins[0], wq, ws] : [ins[0], wq, ws, '', bias], [result], [], MS_DOMAIN);
      if (bias !== undefined) replaced.add(bias);
      report.matmuls++;
      continue;
    }

    // Convolution as im2col × weights [K, M] with K ordered (tap row, tap column, input channel), NHWC.
    const { M, C, kernel, pads, strides, dilations } = layer;
    const taps = kernel[0] * kernel[1];
    const K = taps * C;
    const rows = new Float32Array(M * K);
    for (let m = 0; m < M; m++)
      for (let c = 0; c < C; c++)
        for (let t = 0; t < taps; t++) rows[m * K + t * C + c] = layer.weights[(m * C + c) * taps + t];
    const { q, scale } = quantizeRows(rows, M, K, qmax);
    const wq = constant(`${ins[1]}_int8`, INT8, [K, M], transposeInt8(q, M, K));
    const ws = constant(`${ins[1]}_scale`, FLOAT, [M], scale);
    const bias = constant(`${ins[1]}_bias`, FLOAT, [M], layer.biasData ?? new Float32Array(M));
    if (ins[2]) replaced.add(ins[2]);
    const x = quantize(ins[0]);
    if (x.nhwc === undefined) {
      x.nhwc = fresh(`${ins[0]}_u8_nhwc`);
      emit('Transpose', [x.q], [x.nhwc], [{ name: 'perm', type: ATTR.INTS, ints: [0, 2, 3, 1] }]);
    }
    let cols = x.nhwc;
    if (taps > 1 || strides.some((s) => s !== 1) || pads.some((p) => p !== 0)) {
      let padded = x.nhwc;
      if (pads.some((p) => p !== 0)) {
        padded = fresh(`${output}_padded`);
        // Padding with the zero point is padding with 0.0.
        emit('Pad', [x.nhwc, int64s(`${output}_pads`, [0, pads[0], pads[1], 0, 0, pads[2], pads[3], 0]), x.zero], [padded]);
      }
      const slices: string[] = [];
      for (let i = 0; i < kernel[0]; i++) {
        for (let j = 0; j < kernel[1]; j++) {
          // Tap (i, j) reads padded[i·d + s·y] for output y: it ends (k−1−i)·d before the padded end.
          const tail = [(kernel[0] - 1 - i) * dilations[0], (kernel[1] - 1 - j) * dilations[1]];
          const slice = fresh(`${output}_tap${i}${j}`);
          emit('Slice', [padded, int64s(`${output}_starts`, [i * dilations[0], j * dilations[1]]), int64s(`${output}_ends`, tail.map((t) => (t === 0 ? TO_END : -t))), int64s(`${output}_axes`, [1, 2]), int64s(`${output}_steps`, strides)], [slice]);
          slices.push(slice);
        }
      }
      if (slices.length === 1) cols = slices[0];
      else {
        cols = fresh(`${output}_cols`);
        emit('Concat', slices, [cols], [{ name: 'axis', type: ATTR.INT, i: 3 }]);
      }
    }
    const nhwcOut = fresh(`${output}_nhwc`);
    emit('MatMulIntegerToFloat', [cols, wq, x.scale, ws, x.zero, '', bias], [nhwcOut], [], MS_DOMAIN);
    emit('Transpose', [nhwcOut], [output], [{ name: 'perm', type: ATTR.INTS, ints: [0, 3, 1, 2] }]);
    report.convs++;
  }

  // Float32 weights nothing reads any more are dropped.
  const used = new Set(out.flatMap((n) => n.input ?? []));
  graph.initializer = [...(graph.initializer ?? []).filter((t) => !replaced.has(t.name ?? '') || used.has(t.name ?? '')), ...newInits];
  graph.node = out;
  graph.valueInfo = [];
  if ((report.matmuls > 0 || report.convs > 0) && !(model.opsetImport ?? []).some((o) => (o.domain ?? '') === MS_DOMAIN)) {
    model.opsetImport = [...(model.opsetImport ?? []), { domain: MS_DOMAIN, version: 1 }];
  }
  return report;
}

/**
 * Whether tensor `name` is the raw residual stream: produced (through Reshape/Transpose/Identity) by a residual Add
 * (no initializer operand), a Concat, a Resize or a Conv, or a graph input.
 */
export function isRawStream(name: string, producer: ReadonlyMap<string, Node>, inits: ReadonlyMap<string, Tensor>): boolean {
  let p = producer.get(name);
  while (p && (p.opType === 'Reshape' || p.opType === 'Transpose' || p.opType === 'Identity')) p = producer.get(p.input?.[0] ?? '');
  if (!p) return !inits.has(name);
  const op = p.opType ?? '';
  if (op === 'Concat' || op === 'Resize' || op === 'Conv') return true;
  return op === 'Add' && (p.input ?? []).every((i) => !inits.has(i));
}

/** A Linear: y = x·W (+ bias), W [K, N]. */
interface LinearLayer {
  kind: 'linear';
  K: number;
  N: number;
  inChannels: number;
  outChannels: number;
  weights: Float32Array;
  /** A Gemm's bias input (MatMul biases are found in the Add that follows). */
  bias?: string;
}

/** A 2-D group-1 Conv. */
interface ConvLayer {
  kind: 'conv';
  M: number;
  C: number;
  inChannels: number;
  outChannels: number;
  kernel: [number, number];
  /** [top, left, bottom, right]. */
  pads: number[];
  strides: number[];
  dilations: number[];
  weights: Float32Array;
  biasData?: Float32Array;
}

/** MatMul by [K, N], or Gemm (alpha = beta = 1, A untransposed, 1-D bias) by B or Bᵀ; undefined for other forms. */
function linearLayer(n: Node, w: Tensor, inits: ReadonlyMap<string, Tensor>): LinearLayer | undefined {
  const dims = (w.dims ?? []).map(Number);
  if (dims.length !== 2 || w.dataType !== FLOAT) return undefined;
  if (n.opType === 'MatMul') return { kind: 'linear', K: dims[0], N: dims[1], inChannels: dims[0], outChannels: dims[1], weights: floatData(w) };
  const a = attributes(n);
  if ((a.alpha ?? 1) !== 1 || (a.beta ?? 1) !== 1 || (a.transA ?? 0) !== 0) return undefined;
  const transB = (a.transB ?? 0) === 1;
  const [K, N] = transB ? [dims[1], dims[0]] : dims;
  const biasName = n.input?.[2];
  if (biasName) {
    const b = inits.get(biasName);
    if (!b || b.dataType !== FLOAT || (b.dims ?? []).length !== 1 || Number(b.dims?.[0]) !== N) return undefined;
  }
  const data = floatData(w);
  return { kind: 'linear', K, N, inChannels: K, outChannels: N, weights: transB ? transposeFloat(data, N, K) : data, ...(biasName ? { bias: biasName } : {}) };
}

/** A Conv with a 2-D kernel, one group, explicit pads and an initializer bias (or none); undefined otherwise. */
function convLayer(n: Node, w: Tensor, inits: ReadonlyMap<string, Tensor>): ConvLayer | undefined {
  const dims = (w.dims ?? []).map(Number);
  const a = attributes(n);
  const autoPad = (n.attribute ?? []).find((x) => x.name === 'auto_pad');
  const autoPadValue = autoPad?.s ? new TextDecoder().decode(autoPad.s) : 'NOTSET';
  if (dims.length !== 4 || w.dataType !== FLOAT || (a.group ?? 1) !== 1 || autoPadValue !== 'NOTSET') return undefined;
  const biasName = n.input?.[2];
  const bias = biasName ? inits.get(biasName) : undefined;
  if (biasName && !bias) return undefined;
  const [M, C, kh, kw] = dims;
  return {
    kind: 'conv',
    M,
    C,
    inChannels: C,
    outChannels: M,
    kernel: [kh, kw],
    pads: ints(n, 'pads') ?? [0, 0, 0, 0],
    strides: ints(n, 'strides') ?? [1, 1],
    dilations: ints(n, 'dilations') ?? [1, 1],
    weights: floatData(w),
    ...(bias ? { biasData: floatData(bias) } : {}),
  };
}

function attributes(n: Node): Record<string, number | undefined> {
  const r: Record<string, number | undefined> = {};
  for (const a of n.attribute ?? []) if (a.type === ATTR.INT) r[a.name ?? ''] = Number(a.i);
  return r;
}

function ints(n: Node, name: string): number[] | undefined {
  const a = (n.attribute ?? []).find((x) => x.name === name);
  return a?.ints && a.ints.length > 0 ? a.ints.map(Number) : undefined;
}

/** The values of float32 initializer `t` (a copy). */
function floatData(t: Tensor): Float32Array {
  const name = t.name ?? '';
  if (t.dataType !== FLOAT) throw new Error(`quantizeInt8: initializer '${name}' is type ${t.dataType ?? '?'}, not float32 (1)`);
  if ((t.externalData ?? []).length > 0) {
    throw new Error(`quantizeInt8: initializer '${name}' is stored in external data; quantize the model before its weights move to shards (GraphBuilder.toModel, then toExternal)`);
  }
  const count = (t.dims ?? []).reduce<number>((a, d) => a * Number(d), 1);
  const raw = t.rawData;
  // A copy: a decoded Buffer's offset need not be a multiple of 4.
  const data = raw && raw.length > 0 ? new Float32Array(new Uint8Array(raw).buffer) : Float32Array.from(t.floatData ?? []);
  if (data.length !== count) throw new Error(`quantizeInt8: initializer '${name}' of dims [${(t.dims ?? []).join(', ')}] holds ${data.length} values, not ${count}`);
  return data;
}

/** Symmetric per-row int8 of [rows, cols] (scale = max|row| / qmax; an all-zero row gets scale 1). */
function quantizeRows(data: Float32Array, rows: number, cols: number, qmax: number): { q: Int8Array; scale: Float32Array } {
  const q = new Int8Array(rows * cols);
  const scale = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let max = 0;
    for (let c = 0; c < cols; c++) max = Math.max(max, Math.abs(data[base + c]));
    const s = max > 0 ? max / qmax : 1;
    scale[r] = s;
    for (let c = 0; c < cols; c++) q[base + c] = Math.round(data[base + c] / s);
  }
  return { q, scale };
}

/** Symmetric per-column int8 of [rows, cols]. */
function quantizeColumns(data: Float32Array, rows: number, cols: number, qmax: number): { q: Int8Array; scale: Float32Array } {
  const max = new Float32Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) max[c] = Math.max(max[c], Math.abs(data[r * cols + c]));
  const scale = max.map((m) => (m > 0 ? m / qmax : 1));
  const q = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) q[r * cols + c] = Math.round(data[r * cols + c] / scale[c]);
  return { q, scale };
}

function transposeInt8(a: Int8Array, rows: number, cols: number): Int8Array {
  const t = new Int8Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
}

function transposeFloat(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
}
