/**
 * Floating-point operations of one run of an ONNX graph, counted from its nodes for the run's input shapes: the
 * numerator of the bench's GFLOP/s (cli/bench.ts), so that a figure follows the graph that actually ran rather than a
 * hand count that drifts from it.
 *
 * Counted: the operators that hold nearly all the arithmetic of the networks built here, at 2 FLOPs per
 * multiply-add (the convention of GEMM benchmarks and of PyTorch's FLOP counter):
 * | op | FLOPs |
 * |---|---|
 * | Conv | 2 · N · Cout · ∏out_spatial · (Cin/group) · ∏kernel |
 * | ConvTranspose | 2 · N · Cin · ∏in_spatial · (Cout/group) · ∏kernel |
 * | MatMul, Gemm, FusedMatMul | 2 · ∏batch · M · K · N |
 * | MultiHeadAttention (com.microsoft), Attention (opset 23) | 2 · B · Lq · Lkv · (Dqk + Dv) (q·kᵀ and p·v) |
 * Element-wise work, normalisations and softmax are left out: they are memory-bound and a few % of the FLOPs.
 *
 * Shapes come from a small forward shape propagation over the operators the project's builders emit (plus the
 * common ones of exported graphs), carrying the values of small integer tensors (Shape → Gather → Concat → Reshape).
 * A counted node whose input shapes stay unknown is listed in `unresolved`, so an undercount is visible, never silent.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type Node = onnxProto.onnx.INodeProto;

/** FLOPs of one graph run. */
export interface FlopCount {
  /** All counted FLOPs. */
  total: number;
  /** FLOPs by op type (`Conv`, `MatMul`, `MultiHeadAttention`, …). */
  byOp: Record<string, number>;
  /** Names of counted-type nodes whose input shapes could not be inferred (their FLOPs are missing from `total`). */
  unresolved: string[];
}

/** What is known about one tensor: its shape and, for small tensors, its values. */
interface Known {
  shape: number[];
  values?: number[];
}

/** Small tensors whose values are tracked (shapes, axes, split sizes, scales). */
const MAX_TRACKED_VALUES = 64;

const ONNX_INT64 = 7;
const ONNX_INT32 = 6;
const ONNX_FLOAT = 1;

/** Counts the FLOPs of `model` (ONNX bytes or a decoded ModelProto) run on inputs of `inputShapes`, by input name. */
export function countFlops(model: Uint8Array | onnxProto.onnx.IModelProto, inputShapes: Readonly<Record<string, readonly number[]>>): FlopCount {
  const decoded = model instanceof Uint8Array ? onnx.ModelProto.decode(model) : model;
  const graph = decoded.graph;
  if (!graph) throw new Error('countFlops: the model has no graph; pass ONNX model bytes');
  const known = new Map<string, Known>();
  for (const t of graph.initializer ?? []) known.set(t.name ?? '', initializerKnown(t));
  for (const input of graph.input ?? []) {
    const name = input.name ?? '';
    if (known.has(name)) continue;
    const given = inputShapes[name];
    if (given !== undefined) {
      known.set(name, { shape: [...given] });
      continue;
    }
    // A fixed declared shape needs no feed (e.g. a [1] flag); a symbolic one stays unknown.
    const dims = input.type?.tensorType?.shape?.dim ?? [];
    if (dims.length > 0 && dims.every((d) => d.dimValue !== undefined && d.dimValue !== null && !d.dimParam)) {
      known.set(name, { shape: dims.map((d) => int(d.dimValue)) });
    }
  }
  const count: FlopCount = { total: 0, byOp: {}, unresolved: [] };
  for (const node of graph.node ?? []) {
    const inputs = (node.input ?? []).map((name) => (name === '' ? undefined : known.get(name)));
    const flops = nodeFlops(node, inputs);
    if (flops === 'unknown') count.unresolved.push(node.name || `${node.opType} → ${(node.output ?? []).join(', ')}`);
    else if (flops > 0) {
      const op = node.opType ?? '?';
      count.byOp[op] = (count.byOp[op] ?? 0) + flops;
      count.total += flops;
    }
    let outs: (Known | undefined)[];
    try {
      outs = infer(node, inputs);
    } catch {
      // An inconsistent shape (a graph this propagation misreads) leaves the outputs unknown rather than failing.
      outs = [];
    }
    (node.output ?? []).forEach((name, i) => {
      const k = outs[i];
      if (k !== undefined && name !== '') known.set(name, k);
    });
  }
  return count;
}

function initializerKnown(t: onnxProto.onnx.ITensorProto): Known {
  const shape = (t.dims ?? []).map(int);
  const n = shape.reduce((a, b) => a * b, 1);
  if (n > MAX_TRACKED_VALUES) return { shape };
  const values = tensorValues(t, n);
  return values === undefined ? { shape } : { shape, values };
}

function tensorValues(t: onnxProto.onnx.ITensorProto, n: number): number[] | undefined {
  const raw = t.rawData;
  if (raw && raw.length > 0) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (t.dataType === ONNX_INT64 && raw.length === 8 * n) return Array.from({ length: n }, (_, i) => Number(view.getBigInt64(8 * i, true)));
    if (t.dataType === ONNX_INT32 && raw.length === 4 * n) return Array.from({ length: n }, (_, i) => view.getInt32(4 * i, true));
    if (t.dataType === ONNX_FLOAT && raw.length === 4 * n) return Array.from({ length: n }, (_, i) => view.getFloat32(4 * i, true));
    return undefined;
  }
  if (t.dataType === ONNX_INT64 && t.int64Data && t.int64Data.length === n) return t.int64Data.map(int);
  if (t.dataType === ONNX_INT32 && t.int32Data && t.int32Data.length === n) return [...t.int32Data];
  if (t.dataType === ONNX_FLOAT && t.floatData && t.floatData.length === n) return [...t.floatData];
  return undefined;
}

const product = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/** A protobuf int64 as a number: protobufjs gives numbers or Long-like {low, high} objects. */
function int(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'object' && v !== null && 'low' in v && 'high' in v) {
    const { low, high, unsigned } = v as { low: number; high: number; unsigned?: boolean };
    return (unsigned ? high >>> 0 : high) * 2 ** 32 + (low >>> 0);
  }
  return Number(v);
}

function attrOf(node: Node, name: string): onnxProto.onnx.IAttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

function intAttr(node: Node, name: string, fallback: number): number {
  const a = attrOf(node, name);
  return a?.i === undefined || a.i === null ? fallback : int(a.i);
}

function intsAttr(node: Node, name: string): number[] | undefined {
  const a = attrOf(node, name);
  return a?.ints && a.ints.length > 0 ? a.ints.map(int) : undefined;
}

/** FLOPs of a counted node, 0 for others, 'unknown' when a counted node's shapes are missing. */
function nodeFlops(node: Node, inputs: readonly (Known | undefined)[]): number | 'unknown' {
  // com.microsoft's own Attention packs the projections into one weight; it is not the opset-23 op counted here.
  if (node.opType === 'Attention' && isMsDomain(node)) return 'unknown';
  switch (node.opType) {
    case 'Conv': {
      const [x, w] = inputs;
      if (!x || !w) return 'unknown';
      const out = convOutputShape(node, x.shape, w.shape);
      // Each output element sums Cin/group · ∏kernel products: w's size per output channel.
      return 2 * product(out) * product(w.shape.slice(1));
    }
    case 'ConvTranspose': {
      const [x, w] = inputs;
      if (!x || !w) return 'unknown';
      // Each input element scatters into (Cout/group) · ∏kernel outputs: w's size per input channel.
      return 2 * product(x.shape) * product(w.shape.slice(1));
    }
    case 'MatMul':
    case 'FusedMatMul':
    case 'Gemm': {
      const [a, b] = inputs;
      if (!a || !b) return 'unknown';
      const out = matmulLike(node, a.shape, b.shape);
      return 2 * product(out.shape) * out.k;
    }
    case 'MultiHeadAttention':
    case 'Attention': {
      const [q, k, v] = inputs;
      if (!q || !k || !v) return 'unknown';
      if (q.shape.length !== 3 || k.shape.length !== 3 || v.shape.length !== 3) return 'unknown';
      const [b, lq, dqk] = q.shape;
      const lkv = k.shape[1];
      const dv = v.shape[2] * (node.opType === 'Attention' ? headRatio(node) : 1);
      return 2 * b * lq * lkv * (dqk + dv);
    }
    default:
      return 0;
  }
}

function isMsDomain(node: Node): boolean {
  return node.domain === 'com.microsoft';
}

/** q heads per kv head of an opset-23 Attention (grouped-query attention repeats k and v). */
function headRatio(node: Node): number {
  const q = intAttr(node, 'q_num_heads', 1);
  const kv = intAttr(node, 'kv_num_heads', q);
  return q / kv;
}

function convOutputShape(node: Node, x: readonly number[], w: readonly number[]): number[] {
  const rank = x.length - 2;
  const kernel = intsAttr(node, 'kernel_shape') ?? w.slice(2);
  const strides = intsAttr(node, 'strides') ?? Array<number>(rank).fill(1);
  const dilations = intsAttr(node, 'dilations') ?? Array<number>(rank).fill(1);
  const pads = intsAttr(node, 'pads') ?? Array<number>(2 * rank).fill(0);
  const autoPad = new TextDecoder().decode(attrOf(node, 'auto_pad')?.s ?? new Uint8Array());
  const spatial = x.slice(2).map((n, i) => {
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(n / strides[i]);
    const span = dilations[i] * (kernel[i] - 1) + 1;
    return Math.floor((n + pads[i] + pads[i + rank] - span) / strides[i]) + 1;
  });
  return [x[0], w[0], ...spatial];
}

function convTransposeOutputShape(node: Node, x: readonly number[], w: readonly number[]): number[] {
  const rank = x.length - 2;
  const group = intAttr(node, 'group', 1);
  const explicit = intsAttr(node, 'output_shape');
  const cout = w[1] * group;
  if (explicit) return [x[0], cout, ...explicit.slice(-rank)];
  const kernel = intsAttr(node, 'kernel_shape') ?? w.slice(2);
  const strides = intsAttr(node, 'strides') ?? Array<number>(rank).fill(1);
  const dilations = intsAttr(node, 'dilations') ?? Array<number>(rank).fill(1);
  const pads = intsAttr(node, 'pads') ?? Array<number>(2 * rank).fill(0);
  const outPad = intsAttr(node, 'output_padding') ?? Array<number>(rank).fill(0);
  const spatial = x.slice(2).map((n, i) => strides[i] * (n - 1) + outPad[i] + (kernel[i] - 1) * dilations[i] + 1 - pads[i] - pads[i + rank]);
  return [x[0], cout, ...spatial];
}

/** The output shape of MatMul/Gemm/FusedMatMul and its contracted size K. */
function matmulLike(node: Node, aIn: readonly number[], bIn: readonly number[]): { shape: number[]; k: number } {
  let a = [...aIn];
  let b = [...bIn];
  if (node.opType === 'Gemm' || node.opType === 'FusedMatMul') {
    const swap = (s: number[]): number[] => [...s.slice(0, -2), s[s.length - 1], s[s.length - 2]];
    if (intAttr(node, 'transA', 0) === 1) a = swap(a);
    if (intAttr(node, 'transB', 0) === 1) b = swap(b);
  }
  const aVec = a.length === 1;
  const bVec = b.length === 1;
  if (aVec) a = [1, a[0]];
  if (bVec) b = [b[0], 1];
  const k = a[a.length - 1];
  if (b[b.length - 2] !== k) throw new Error(`MatMul: inner dimensions ${k} and ${b[b.length - 2]} differ`);
  const batch = broadcast(a.slice(0, -2), b.slice(0, -2));
  const shape = [...batch, ...(aVec ? [] : [a[a.length - 2]]), ...(bVec ? [] : [b[b.length - 1]])];
  return { shape, k };
}

function broadcast(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`broadcast: ${x} and ${y} differ`);
    return x === 1 ? y : x;
  });
}

const normAxis = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

const UNARY = new Set([
  'Identity', 'Cast', 'CastLike', 'Sigmoid', 'Tanh', 'Relu', 'LeakyRelu', 'Elu', 'Selu', 'Gelu', 'FastGelu', 'QuickGelu', 'BiasGelu', 'Erf', 'Exp', 'Log',
  'Sqrt', 'Reciprocal', 'Neg', 'Abs', 'Floor', 'Ceil', 'Round', 'Not', 'Sin', 'Cos', 'Softmax', 'LogSoftmax', 'InstanceNormalization',
  'LayerNormalization', 'GroupNormalization', 'SkipLayerNormalization', 'Dropout', 'CumSum', 'Clip', 'Sign', 'IsNaN', 'IsInf', 'Softplus', 'HardSigmoid',
]);
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Mod', 'Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'And', 'Or', 'Where', 'Sum', 'Mean', 'PRelu', 'BitShift']);
const ARITH: Record<string, (x: number, y: number) => number> = {
  Add: (x, y) => x + y,
  Sub: (x, y) => x - y,
  Mul: (x, y) => x * y,
  Div: (x, y) => (Number.isInteger(x) && Number.isInteger(y) ? Math.trunc(x / y) : x / y),
  Max: Math.max,
  Min: Math.min,
  Mod: (x, y) => x % y,
  Equal: (x, y) => Number(x === y),
  Less: (x, y) => Number(x < y),
  Greater: (x, y) => Number(x > y),
};

/** Output shapes (and small values) of one node; undefined entries are unknown. */
function infer(node: Node, inputs: readonly (Known | undefined)[]): (Known | undefined)[] {
  const op = node.opType ?? '';
  const x = inputs[0];
  if (op === 'Constant') {
    const t = attrOf(node, 'value')?.t;
    return t ? [initializerKnown(t)] : [];
  }
  if (UNARY.has(op)) {
    if (!x) return [];
    const passValues = x.values && ['Identity', 'Cast', 'Floor', 'Ceil', 'Round', 'Neg', 'Abs'].includes(op);
    const values = passValues ? x.values?.map((v) => (op === 'Neg' ? -v : op === 'Abs' ? Math.abs(v) : op === 'Floor' ? Math.floor(v) : op === 'Ceil' ? Math.ceil(v) : op === 'Round' ? Math.round(v) : v)) : undefined;
    return [values ? { shape: [...x.shape], values } : { shape: [...x.shape] }];
  }
  if (BINARY.has(op)) {
    if (inputs.some((i) => i === undefined) || inputs.length === 0) return [];
    const all = inputs as Known[];
    const shape = all.map((i) => i.shape).reduce((s, t) => broadcast(s, t));
    const f = ARITH[op];
    if (f && all.length === 2 && all.every((i) => i.values) && product(shape) <= MAX_TRACKED_VALUES) {
      const [a, b] = all;
      const at = (k: Known, idx: number): number => (k.values as number[])[k.values?.length === 1 ? 0 : idx];
      return [{ shape, values: Array.from({ length: product(shape) }, (_, i) => f(at(a, i), at(b, i))) }];
    }
    return [{ shape }];
  }
  switch (op) {
    case 'Shape': {
      if (!x) return [];
      const rank = x.shape.length;
      const start = normAxis(intAttr(node, 'start', 0), rank);
      const end = normAxis(intAttr(node, 'end', rank), rank);
      const values = x.shape.slice(Math.max(0, start), Math.min(rank, end));
      return [{ shape: [values.length], values }];
    }
    case 'Size':
      return x ? [{ shape: [], values: [product(x.shape)] }] : [];
    case 'Gather': {
      const idx = inputs[1];
      if (!x || !idx) return [];
      const axis = normAxis(intAttr(node, 'axis', 0), x.shape.length);
      const shape = [...x.shape.slice(0, axis), ...idx.shape, ...x.shape.slice(axis + 1)];
      if (x.values && idx.values && x.shape.length === 1) {
        return [{ shape, values: idx.values.map((i) => (x.values as number[])[i < 0 ? i + x.shape[0] : i]) }];
      }
      return [{ shape }];
    }
    case 'Unsqueeze': {
      const axes = inputs[1]?.values ?? intsAttr(node, 'axes');
      if (!x || !axes) return [];
      const rank = x.shape.length + axes.length;
      const set = new Set(axes.map((a) => normAxis(a, rank)));
      const shape: number[] = [];
      let j = 0;
      for (let i = 0; i < rank; i++) shape.push(set.has(i) ? 1 : x.shape[j++]);
      return [x.values ? { shape, values: x.values } : { shape }];
    }
    case 'Squeeze': {
      if (!x) return [];
      const axes = inputs[1]?.values ?? intsAttr(node, 'axes');
      const set = new Set((axes ?? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))).map((a) => normAxis(a, x.shape.length)));
      const shape = x.shape.filter((_, i) => !set.has(i));
      return [x.values ? { shape, values: x.values } : { shape }];
    }
    case 'DepthToSpace':
    case 'SpaceToDepth': {
      if (!x || x.shape.length !== 4) return [];
      const b = intAttr(node, 'blocksize', 1);
      const [n, c, h, w] = x.shape;
      return [{ shape: op === 'DepthToSpace' ? [n, c / (b * b), h * b, w * b] : [n, c * b * b, h / b, w / b] }];
    }
    case 'Flatten': {
      if (!x) return [];
      const axis = normAxis(intAttr(node, 'axis', 1), x.shape.length);
      return [{ shape: [product(x.shape.slice(0, axis)), product(x.shape.slice(axis))] }];
    }
    case 'Reshape': {
      const target = inputs[1]?.values;
      if (!x || !target) return [];
      const allowZero = intAttr(node, 'allowzero', 0) === 1;
      const shape = target.map((d, i) => (d === 0 && !allowZero ? x.shape[i] : d));
      const infer = shape.indexOf(-1);
      if (infer >= 0) shape[infer] = product(x.shape) / product(shape.filter((_, i) => i !== infer));
      return [x.values ? { shape, values: x.values } : { shape }];
    }
    case 'Transpose': {
      if (!x) return [];
      const perm = intsAttr(node, 'perm') ?? x.shape.map((_, i) => x.shape.length - 1 - i);
      return [{ shape: perm.map((p) => x.shape[p]) }];
    }
    case 'Concat': {
      if (inputs.some((i) => i === undefined) || inputs.length === 0) return [];
      const all = inputs as Known[];
      const axis = normAxis(intAttr(node, 'axis', 0), all[0].shape.length);
      const shape = [...all[0].shape];
      shape[axis] = all.reduce((s, i) => s + i.shape[axis], 0);
      const values = all.every((i) => i.values) && shape.length === 1 ? all.flatMap((i) => i.values as number[]) : undefined;
      return [values ? { shape, values } : { shape }];
    }
    case 'Split': {
      if (!x) return [];
      const outputs = (node.output ?? []).length;
      const axis = normAxis(intAttr(node, 'axis', 0), x.shape.length);
      const sizes = inputs[1]?.values ?? intsAttr(node, 'split') ?? Array<number>(outputs).fill(Math.ceil(x.shape[axis] / outputs));
      return sizes.map((size, i) => {
        const shape = [...x.shape];
        shape[axis] = Math.min(size, x.shape[axis] - sizes.slice(0, i).reduce((a, b) => a + b, 0));
        return { shape };
      });
    }
    case 'Slice': {
      const [, starts, ends, axesIn, stepsIn] = inputs;
      if (!x || !starts?.values || !ends?.values) return [];
      const rank = x.shape.length;
      const axes = axesIn?.values ?? starts.values.map((_, i) => i);
      const steps = stepsIn?.values ?? axes.map(() => 1);
      const shape = [...x.shape];
      axes.forEach((a, i) => {
        const axis = normAxis(a, rank);
        const n = x.shape[axis];
        const step = steps[i];
        const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v < 0 ? v + n : v, lo), hi);
        const s = clamp((starts.values as number[])[i], step > 0 ? 0 : -1, step > 0 ? n : n - 1);
        const e = clamp((ends.values as number[])[i], step > 0 ? 0 : -1, step > 0 ? n : n - 1);
        shape[axis] = Math.max(0, Math.ceil((e - s) / step));
      });
      if (x.values && rank === 1) {
        const s0 = normAxis((starts.values as number[])[0], x.shape[0]);
        return [{ shape, values: x.values.slice(Math.max(0, s0), Math.max(0, s0) + shape[0]) }];
      }
      return [{ shape }];
    }
    case 'Expand': {
      const target = inputs[1]?.values;
      return x && target ? [{ shape: broadcast(x.shape, target) }] : [];
    }
    case 'ConstantOfShape': {
      const target = x?.values;
      return target ? [{ shape: [...target] }] : [];
    }
    case 'Range': {
      const [start, limit, delta] = inputs.map((i) => i?.values?.[0]);
      if (start === undefined || limit === undefined || delta === undefined) return [];
      const n = Math.max(0, Math.ceil((limit - start) / delta));
      return [n <= MAX_TRACKED_VALUES ? { shape: [n], values: Array.from({ length: n }, (_, i) => start + i * delta) } : { shape: [n] }];
    }
    case 'Pad': {
      const pads = inputs[1]?.values ?? intsAttr(node, 'pads');
      if (!x || !pads) return [];
      const rank = x.shape.length;
      return [{ shape: x.shape.map((d, i) => d + pads[i] + pads[i + rank]) }];
    }
    case 'Resize':
    case 'Upsample': {
      if (!x) return [];
      const sizes = inputs[3]?.values;
      if (sizes && sizes.length === x.shape.length) return [{ shape: [...sizes] }];
      const scales = (op === 'Upsample' ? inputs[1] : inputs[2])?.values;
      return scales && scales.length === x.shape.length ? [{ shape: x.shape.map((d, i) => Math.floor(d * scales[i])) }] : [];
    }
    case 'ReduceSum':
    case 'ReduceMean':
    case 'ReduceMax':
    case 'ReduceMin':
    case 'ReduceProd':
    case 'ReduceL2':
    case 'ReduceLogSumExp':
    case 'ReduceSumSquare': {
      if (!x) return [];
      const axes = inputs[1]?.values ?? intsAttr(node, 'axes');
      const keep = intAttr(node, 'keepdims', 1) === 1;
      const noopEmpty = intAttr(node, 'noop_with_empty_axes', 0) === 1;
      if (!axes && noopEmpty) return [{ shape: [...x.shape] }];
      const set = new Set((axes ?? x.shape.map((_, i) => i)).map((a) => normAxis(a, x.shape.length)));
      const shape = keep ? x.shape.map((d, i) => (set.has(i) ? 1 : d)) : x.shape.filter((_, i) => !set.has(i));
      return [{ shape }];
    }
    case 'ArgMax':
    case 'ArgMin': {
      if (!x) return [];
      const axis = normAxis(intAttr(node, 'axis', 0), x.shape.length);
      const keep = intAttr(node, 'keepdims', 1) === 1;
      return [{ shape: keep ? x.shape.map((d, i) => (i === axis ? 1 : d)) : x.shape.filter((_, i) => i !== axis) }];
    }
    case 'Conv':
      return x && inputs[1] ? [{ shape: convOutputShape(node, x.shape, inputs[1].shape) }] : [];
    case 'ConvTranspose':
      return x && inputs[1] ? [{ shape: convTransposeOutputShape(node, x.shape, inputs[1].shape) }] : [];
    case 'MatMul':
    case 'FusedMatMul':
    case 'Gemm':
      return x && inputs[1] ? [{ shape: matmulLike(node, x.shape, inputs[1].shape).shape }] : [];
    case 'MultiHeadAttention': {
      const v = inputs[2];
      return x && v && x.shape.length === 3 && v.shape.length === 3 ? [{ shape: [x.shape[0], x.shape[1], v.shape[2]] }] : [];
    }
    case 'Attention': {
      const v = inputs[2];
      if (isMsDomain(node) || !x || !v || x.shape.length !== 3 || v.shape.length !== 3) return [];
      return [{ shape: [x.shape[0], x.shape[1], v.shape[2] * headRatio(node)] }];
    }
    default:
      return [];
  }
}
