/**
 * Rewrites a decoder's GroupNorms to "normalise with given statistics", the graph half of exact GN-synchronised
 * chunked decoding (research/longform.md §5.2 step 4; the engine half is engine/longform/vae-shared-stats.ts).
 *
 * GroupNorm below opset 18 is exported as x[N,C,T,…] → Reshape [0,G,−1] → InstanceNormalization(scale, bias, ε) →
 * Reshape back → Mul γ → Add β. For the k-th such InstanceNormalization (graph order) the rewrite
 * - replaces it by  y = (x_g − μ_g) · scale_g / √(σ²_g + ε) + bias_g  with
 *   μ = o·μ_own + (1 − o)·μ_in,  σ² = o·σ²_own + (1 − o)·σ²_in:  μ_in, σ²_in the new float32 [G] graph inputs
 *   `gn{k}_mean`, `gn{k}_var`, μ_own, σ²_own the input's own per-(instance, group) statistics over all its frames (what
 *   the original InstanceNormalization uses) and o the float32 [1] input `own_stats` shared by every layer
 *   (ε from the node's `epsilon` attribute: 1e-6 in AudioLDM's VAE). o = 0 normalises with the given statistics, o = 1
 *   is the original graph (to float32 rounding), so one session serves both: an estimated shared-statistics decode
 *   runs its first pass with o = 1 and its second with o = 0 (engine/longform/vae-shared-stats.ts). A blend, not an
 *   `If`, keeps the graph one straight line of nodes; the own statistics cost two reductions per layer either way;
 * - adds the graph outputs `gn{k}_sum`, `gn{k}_sumsq` (float32 [G]: Σx and Σx² per group) and `gn{k}_count`
 *   (int64 [1]: elements per group, the same for every group) over the CORE frames of the pre-norm activation x only.
 *
 * The core is given once for all layers by the int64 [1] inputs `core_start`, `core_end` in input frames (axis 2 of
 * the time input, the latent). A layer whose time axis (axis 2 of x) has T_ℓ frames for T_in input frames uses
 * [⌊core_start·T_ℓ/T_in⌋, ⌊core_end·T_ℓ/T_in⌋), i.e. [s·u, e·u) for a decoder layer upsampled u× in time.
 * Statistics are shared by the whole batch (sums run over N too): chunked decoding runs batch 1, and for B > 1 this
 * is what it should be only if every row is a chunk of the same piece.
 *
 * Merging is left to the caller: the per-chunk sums accumulate in float64 inside the graph and are rounded to float32
 * once; the caller merges them in float64 as σ² = E[x²] − E[x]² (relative error ~6e-8·(1 + μ²/σ²), ample for
 * GroupNorm inputs, which are O(1)-centred). `upstream` lists the GroupNorms each layer's input depends on, so a
 * caller can finalise independent layers in one pass.
 *
 * NOTE: protobufjs drops fields unknown to onnx-proto's onnx.proto (v1.10) when decoding; graphs using newer
 * fields must be re-exported rather than rewritten.
 */
import onnxProto from 'onnx-proto';
import type { TensorSpec } from '../../contract/manifest.ts';

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type ValueInfoProto = onnxProto.onnx.IValueInfoProto;

/** Graph input with the first input frame of the core (int64 [1]). */
export const CORE_START_INPUT = 'core_start';
/** Graph input with the end (exclusive) of the core in input frames (int64 [1]). */
export const CORE_END_INPUT = 'core_end';
/** Graph input o (float32 [1]): 1 = every GroupNorm uses its input's own statistics (the original graph), 0 = the given ones. */
export const OWN_STATS_INPUT = 'own_stats';

/** One rewritten GroupNorm and the names of its statistics inputs and outputs. */
export interface GroupNormLayer {
  /** k in `gn{k}_…`: position among the graph's GroupNorms in topological order. */
  index: number;
  groups: number;
  /** The InstanceNormalization node's epsilon. */
  eps: number;
  /** Pre-norm activation [N, C, T, …] that feeds the GroupNorm's Reshape. */
  inputName: string;
  /** Indices of the GroupNorm layers whose statistics this layer's input depends on (transitively). */
  upstream: number[];
  /** float32 [G] inputs. */
  meanInput: string;
  varInput: string;
  /** float32 [G] outputs: Σx and Σx² over the core. */
  sumOutput: string;
  sumsqOutput: string;
  /** int64 [1] output: elements per group in the core. */
  countOutput: string;
}

/** Options of {@link rewriteGroupNormForSharedStats}. */
export interface RewriteOptions {
  /** Graph input whose axis 2 is the time axis the core refers to. Default: the first graph input. */
  timeInput?: string;
}

/** The rewritten model and its GroupNorm layers. */
export interface SharedStatsGraph {
  bytes: Uint8Array;
  layers: GroupNormLayer[];
}

const FLOAT = 1;
const INT64 = 7;
const DOUBLE = 11;

/** Rewrites every GroupNorm (Reshape → InstanceNormalization) to take its statistics as inputs and report core sums. */
export function rewriteGroupNormForSharedStats(modelBytes: Uint8Array, options: RewriteOptions = {}): SharedStatsGraph {
  const model = onnx.ModelProto.decode(modelBytes);
  const graph = model.graph;
  if (!graph) throw new Error('rewriteGroupNormForSharedStats: the model has no graph');
  const graphName = graph.name || '(unnamed)';
  const opset = defaultOpset(model.opsetImport ?? []);
  if (opset < 10) throw new Error(`graph '${graphName}': opset ${opset} is below 10 (Slice with inputs); re-export at opset ≥ 13`);

  const initializers = new Map((graph.initializer ?? []).map((t) => [t.name ?? '', t]));
  const nodes = topoSort(graphName, graph.node ?? [], new Set([...initializers.keys(), ...(graph.input ?? []).map((i) => i.name ?? '')]));
  const producer = new Map<string, NodeProto>();
  for (const n of nodes) for (const o of n.output ?? []) producer.set(o, n);
  const constant = (name: string): TensorProto | undefined => {
    const init = initializers.get(name);
    if (init) return init;
    const p = producer.get(name);
    if (p?.opType !== 'Constant') return undefined;
    return (p.attribute ?? []).find((a) => a.name === 'value')?.t ?? undefined;
  };
  const ranks = new Map<string, number>();
  for (const vi of [...(graph.input ?? []), ...(graph.valueInfo ?? []), ...(graph.output ?? [])]) {
    const dims = vi.type?.tensorType?.shape?.dim;
    if (vi.name && dims) ranks.set(vi.name, dims.length);
  }

  // 1. Find the GroupNorm pattern.
  interface Found {
    node: NodeProto;
    layer: GroupNormLayer;
  }
  const found: Found[] = [];
  for (const node of nodes) {
    if (node.opType !== 'InstanceNormalization' || (node.domain ?? '') !== '') continue;
    const grouped = node.input?.[0] ?? '';
    const reshape = producer.get(grouped);
    if (reshape?.opType !== 'Reshape') continue;
    const x = reshape.input?.[0] ?? '';
    const rank = ranks.get(x);
    if (rank !== undefined && rank !== 3 && rank !== 4) continue;
    const groups = groupCount(constant(node.input?.[1] ?? ''), constant(reshape.input?.[1] ?? ''));
    if (groups === undefined) {
      throw new Error(`graph '${graphName}': cannot tell the group count of InstanceNormalization '${node.name ?? grouped}' (scale is not a constant [G])`);
    }
    const epsAttr = (node.attribute ?? []).find((a) => a.name === 'epsilon');
    const k = found.length;
    found.push({
      node,
      layer: {
        index: k,
        groups,
        eps: epsAttr?.f ?? 1e-5,
        inputName: x,
        upstream: [],
        meanInput: `gn${k}_mean`,
        varInput: `gn${k}_var`,
        sumOutput: `gn${k}_sum`,
        sumsqOutput: `gn${k}_sumsq`,
        countOutput: `gn${k}_count`,
      },
    });
  }
  if (found.length === 0) {
    throw new Error(
      `graph '${graphName}': no GroupNorm pattern (Reshape of [N,C,T,…] → InstanceNormalization) found; ` +
        'only decoders exported with GroupNorm below opset 18 can be rewritten for shared statistics',
    );
  }

  // 2. Which GroupNorms each layer's input depends on (value paths only: Shape/Size outputs carry no values).
  const gnOf = new Map(found.map((f) => [f.node, f.layer.index]));
  const deps = new Map<string, bigint>();
  for (const n of nodes) {
    let mask = 0n;
    if (n.opType !== 'Shape' && n.opType !== 'Size') for (const i of n.input ?? []) mask |= deps.get(i) ?? 0n;
    const gn = gnOf.get(n);
    if (gn !== undefined) mask |= 1n << BigInt(gn);
    for (const o of n.output ?? []) deps.set(o, mask);
  }
  for (const { layer } of found) {
    const mask = deps.get(layer.inputName) ?? 0n;
    for (let j = 0; j < found.length; j++) if ((mask >> BigInt(j)) & 1n) layer.upstream.push(j);
  }

  // 3. Emit the replacement nodes.
  const inputs = graph.input ?? [];
  const initNames = new Set(initializers.keys());
  const timeInput = options.timeInput ?? inputs.find((i) => !initNames.has(i.name ?? ''))?.name ?? '';
  if (!inputs.some((i) => i.name === timeInput) || timeInput === '') {
    throw new Error(`graph '${graphName}': time input '${timeInput}' is not a graph input (inputs: ${inputs.map((i) => i.name).join(', ')})`);
  }
  const used = new Set<string>([...initNames, ...inputs.map((i) => i.name ?? ''), ...(graph.output ?? []).map((o) => o.name ?? '')]);
  for (const n of nodes) for (const o of n.output ?? []) used.add(o);
  const added = [CORE_START_INPUT, CORE_END_INPUT, OWN_STATS_INPUT, ...found.flatMap(({ layer: l }) => [l.meanInput, l.varInput, l.sumOutput, l.sumsqOutput, l.countOutput])];
  for (const name of added) {
    if (used.has(name)) throw new Error(`graph '${graphName}': tensor name '${name}' is already used; cannot add the shared-statistics inputs`);
    used.add(name);
  }
  const e = new Emitter(used, opset);
  const tIn = e.op('Gather', [e.op('Shape', [timeInput]), e.i64Scalar(2)], { axis: 0 });
  const blend = { own: OWN_STATS_INPUT, given: e.op('Sub', [e.f32Scalar(1), OWN_STATS_INPUT]) };
  const prelude = e.take();

  const replaced = new Map<NodeProto, NodeProto[]>();
  for (const { node, layer } of found) {
    replaced.set(node, emitLayer(e, node, layer, tIn, blend));
  }
  graph.node = [...prelude, ...nodes.flatMap((n) => replaced.get(n) ?? [n])];
  graph.initializer = [...(graph.initializer ?? []), ...e.initializers];
  graph.input = [
    ...inputs,
    valueInfo(CORE_START_INPUT, INT64, [1]),
    valueInfo(CORE_END_INPUT, INT64, [1]),
    valueInfo(OWN_STATS_INPUT, FLOAT, [1]),
    ...found.flatMap(({ layer: l }) => [valueInfo(l.meanInput, FLOAT, [l.groups]), valueInfo(l.varInput, FLOAT, [l.groups])]),
  ];
  graph.output = [
    ...(graph.output ?? []),
    ...found.flatMap(({ layer: l }) => [
      valueInfo(l.sumOutput, FLOAT, [l.groups]),
      valueInfo(l.sumsqOutput, FLOAT, [l.groups]),
      valueInfo(l.countOutput, INT64, [1]),
    ]),
  ];
  return { bytes: onnx.ModelProto.encode(model).finish(), layers: found.map((f) => f.layer) };
}

/** The rewritten graph's signature: the original inputs/outputs plus the core, own-statistics switch and statistics tensors. */
export function sharedStatsSignature(
  base: { inputs: readonly TensorSpec[]; outputs: readonly TensorSpec[] },
  layers: readonly GroupNormLayer[],
): { inputs: TensorSpec[]; outputs: TensorSpec[] } {
  return {
    inputs: [
      ...base.inputs,
      { name: CORE_START_INPUT, type: 'int64', dims: [1] },
      { name: CORE_END_INPUT, type: 'int64', dims: [1] },
      { name: OWN_STATS_INPUT, type: 'float32', dims: [1] },
      ...layers.flatMap((l): TensorSpec[] => [
        { name: l.meanInput, type: 'float32', dims: [l.groups] },
        { name: l.varInput, type: 'float32', dims: [l.groups] },
      ]),
    ],
    outputs: [
      ...base.outputs,
      ...layers.flatMap((l): TensorSpec[] => [
        { name: l.sumOutput, type: 'float32', dims: [l.groups] },
        { name: l.sumsqOutput, type: 'float32', dims: [l.groups] },
        { name: l.countOutput, type: 'int64', dims: [1] },
      ]),
    ],
  };
}

/**
 * The nodes that replace one InstanceNormalization: core sums of its pre-norm input, then normalise with the blend
 * of its own and the given statistics (`blend.own` = o, `blend.given` = 1 − o).
 */
function emitLayer(e: Emitter, node: NodeProto, layer: GroupNormLayer, tIn: string, blend: { own: string; given: string }): NodeProto[] {
  const [grouped, scale, bias] = [node.input?.[0] ?? '', node.input?.[1] ?? '', node.input?.[2] ?? ''];
  const out = node.output?.[0] ?? '';
  const x = layer.inputName;
  const G = layer.groups;
  // The core along axis 2 at this layer's resolution: frames [⌊s·T_ℓ/T_in⌋, ⌊e·T_ℓ/T_in⌋). Slicing (rather than
  // masking) reads only the core and keeps halo frames, which may hold anything, out of the sums.
  const tl = e.op('Gather', [e.op('Shape', [x]), e.i64Scalar(2)], { axis: 0 });
  const begin = e.op('Div', [e.op('Mul', [CORE_START_INPUT, tl]), tIn]);
  const end = e.op('Div', [e.op('Mul', [CORE_END_INPUT, tl]), tIn]);
  const core = e.op('Slice', [x, begin, end, e.i64([2])]);
  // Sums accumulate in float64 and are rounded to float32 once, so they stay exact to float32 precision at any core
  // size (float32 accumulation loses ~√n ulps; the caller's E[x²] − E[x]² needs accurate sums).
  const coreGroups = e.op('Reshape', [e.op('Cast', [core], { to: DOUBLE }), e.i64([0, G, -1])]);
  e.op('Cast', [e.reduceSum(coreGroups, [0, 2])], { to: FLOAT }, layer.sumOutput);
  e.op('Cast', [e.reduceSum(e.op('Mul', [coreGroups, coreGroups]), [0, 2])], { to: FLOAT }, layer.sumsqOutput);
  // Elements per group = size(core)/G, exact in int64.
  e.op('Reshape', [e.op('Div', [e.op('Size', [core]), e.i64Scalar(G)]), e.i64([1])], {}, layer.countOutput);
  // The input's own statistics per (instance, group) over all its frames, as InstanceNormalization computes them:
  // [N, G, 1]. Two passes (mean, then mean square deviation) so σ² keeps float32 precision at any offset.
  const ownMean = e.reduceMean(grouped, [2]);
  const deviation = e.op('Sub', [grouped, ownMean]);
  const ownVar = e.reduceMean(e.op('Mul', [deviation, deviation]), [2]);
  // μ = o·μ_own + (1 − o)·μ_in (o ∈ {0, 1} picks one exactly: 0·finite = 0), the same for σ²; [N, G, 1].
  const column = (t: string): string => e.op('Reshape', [t, e.i64([-1, 1])]);
  const mix = (own: string, given: string): string => e.op('Add', [e.op('Mul', [own, blend.own]), e.op('Mul', [column(given), blend.given])]);
  const mean = mix(ownMean, layer.meanInput);
  const variance = mix(ownVar, layer.varInput);
  // Normalise, then the InstanceNormalization's own per-group scale and bias.
  const invStd = e.op('Reciprocal', [e.op('Sqrt', [e.op('Add', [variance, e.f32Scalar(layer.eps)])])]);
  const centred = e.op('Sub', [grouped, mean]);
  e.op('Add', [e.op('Mul', [centred, e.op('Mul', [invStd, column(scale)])]), column(bias)], {}, out);
  return e.take();
}

/** Appends nodes and constants with fresh names. */
class Emitter {
  readonly initializers: TensorProto[] = [];
  private nodes: NodeProto[] = [];
  private counter = 0;
  private readonly consts = new Map<string, string>();

  constructor(
    private readonly used: Set<string>,
    private readonly opset: number,
  ) {}

  fresh(prefix: string): string {
    let name = `gnstats_${prefix}_${this.counter++}`;
    while (this.used.has(name)) name = `gnstats_${prefix}_${this.counter++}`;
    this.used.add(name);
    return name;
  }

  /** One node with one output (named `output` when given) and int attributes. */
  op(opType: string, inputs: string[], ints: Record<string, number> = {}, output?: string): string {
    const out = output ?? this.fresh(opType.toLowerCase());
    const T = onnx.AttributeProto.AttributeType;
    this.nodes.push({
      opType,
      input: inputs,
      output: [out],
      name: `${out}_node`,
      attribute: Object.entries(ints).map(([name, i]) => ({ name, type: T.INT, i })),
    });
    return out;
  }

  /** ReduceSum over `axes` without keepdims (axes are an attribute below opset 13, an input from 13). */
  reduceSum(x: string, axes: number[]): string {
    return this.reduce('ReduceSum', x, axes, 0, 13);
  }

  /** ReduceMean over `axes` keeping them (axes are an attribute below opset 18, an input from 18). */
  reduceMean(x: string, axes: number[]): string {
    return this.reduce('ReduceMean', x, axes, 1, 18);
  }

  private reduce(opType: string, x: string, axes: number[], keepdims: number, axesInputFrom: number): string {
    const out = this.fresh(opType.toLowerCase());
    const T = onnx.AttributeProto.AttributeType;
    const attribute: onnxProto.onnx.IAttributeProto[] = [{ name: 'keepdims', type: T.INT, i: keepdims }];
    const input = [x];
    if (this.opset >= axesInputFrom) input.push(this.i64(axes));
    else attribute.push({ name: 'axes', type: T.INTS, ints: axes });
    this.nodes.push({ opType, input, output: [out], name: `${out}_node`, attribute });
    return out;
  }

  i64(values: number[]): string {
    return this.constant(`i64:${values.join(',')}`, INT64, [values.length], new Uint8Array(BigInt64Array.from(values, (v) => BigInt(v)).buffer));
  }

  i64Scalar(value: number): string {
    return this.constant(`i64s:${value}`, INT64, [], new Uint8Array(BigInt64Array.of(BigInt(value)).buffer));
  }

  f32Scalar(value: number): string {
    return this.constant(`f32s:${value}`, FLOAT, [], new Uint8Array(Float32Array.of(value).buffer));
  }

  /** Hands over the nodes emitted since the last call. */
  take(): NodeProto[] {
    const nodes = this.nodes;
    this.nodes = [];
    return nodes;
  }

  private constant(key: string, dataType: number, dims: number[], rawData: Uint8Array): string {
    let name = this.consts.get(key);
    if (name === undefined) {
      name = this.fresh('const');
      // NOTE: raw_data is little-endian by the ONNX spec; typed arrays are little-endian on every platform we ship.
      this.initializers.push({ name, dataType, dims, rawData });
      this.consts.set(key, name);
    }
    return name;
  }
}

/** G from the InstanceNormalization scale ([G]) or, failing that, the Reshape target ([N, G, −1]). */
function groupCount(scale: TensorProto | undefined, shape: TensorProto | undefined): number | undefined {
  const dims = scale?.dims?.map(toNumber);
  if (dims?.length === 1 && dims[0] > 0) return dims[0];
  const values = shape ? int64Values(shape) : undefined;
  if (values?.length === 3 && values[1] > 0) return values[1];
  return undefined;
}

function int64Values(t: TensorProto): number[] | undefined {
  if (t.dataType !== INT64) return undefined;
  if (t.rawData && t.rawData.byteLength > 0) {
    const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
    return Array.from({ length: t.rawData.byteLength / 8 }, (_, i) => Number(view.getBigInt64(8 * i, true)));
  }
  return t.int64Data?.map(toNumber);
}

function toNumber(v: number | { toNumber(): number }): number {
  return typeof v === 'number' ? v : v.toNumber();
}

function defaultOpset(imports: readonly onnxProto.onnx.IOperatorSetIdProto[]): number {
  const entry = imports.find((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx');
  return entry?.version === undefined || entry.version === null ? 0 : toNumber(entry.version);
}

/** Nodes in a topological order (stable: graph order wherever it already is one). */
function topoSort(graphName: string, nodes: readonly NodeProto[], sources: ReadonlySet<string>): NodeProto[] {
  const producerIndex = new Map<string, number>();
  nodes.forEach((n, i) => (n.output ?? []).forEach((o) => producerIndex.set(o, i)));
  const waiting = nodes.map((n) => new Set((n.input ?? []).filter((i) => i !== '' && !sources.has(i) && producerIndex.has(i)).map((i) => producerIndex.get(i) ?? -1)));
  const consumers = nodes.map((): number[] => []);
  waiting.forEach((deps, i) => deps.forEach((d) => consumers[d].push(i)));
  const done = new Array<boolean>(nodes.length).fill(false);
  const order: NodeProto[] = [];
  // Repeatedly take the first ready node in graph order; O(n²) worst case, linear for sorted graphs.
  let progress = true;
  while (order.length < nodes.length && progress) {
    progress = false;
    for (let i = 0; i < nodes.length; i++) {
      if (done[i] || waiting[i].size > 0) continue;
      done[i] = true;
      order.push(nodes[i]);
      for (const c of consumers[i]) waiting[c].delete(i);
      progress = true;
    }
  }
  if (order.length < nodes.length) throw new Error(`graph '${graphName}': the nodes form a cycle; cannot rewrite`);
  return order;
}

function valueInfo(name: string, elemType: number, dims: readonly number[]): ValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } };
}
