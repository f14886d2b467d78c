/**
 * A float32 ONNX graph → the same graph computing in float16, with chosen nodes kept in float32 and the graph's
 * inputs and outputs left float32 — what tools/export-audioldm does with ONNX Runtime's converter (`--fp16`,
 * audioldm_export/fp16.py), written for the node patterns this project's graph builder emits.
 *
 * Every float tensor gets one precision: that of the node producing it (float16 unless blocked), float32 for graph
 * inputs. A node reading a float tensor of the other precision reads a Cast of it (one per tensor and precision), so
 * two blocked nodes in a row talk in float32 directly (no Cast round trip through float16, which the exporter has to
 * remove afterwards). Float32 initializers read in float16 are converted (round to nearest even) and the float32
 * copy is dropped when nothing else reads it. A graph output produced in float16 is cast back to float32.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type Node = onnxProto.onnx.INodeProto;
type Tensor = onnxProto.onnx.ITensorProto;

const FLOAT = 1;
const INT64 = 7;
const FLOAT16 = 10;

/** Op types kept in float32 (normalisation and softmax; as the exporter's FP16_OP_BLOCK_LIST). */
export const FLOAT32_OPS: ReadonlySet<string> = new Set(['InstanceNormalization', 'GroupNormalization', 'LayerNormalization', 'Softmax']);

/**
 * Inputs that are not the node's data (shapes, axes, sizes) or must stay float32 whatever the node computes in
 * (Resize's roi and scales are tensor(float) by the ONNX spec), by op type and input position.
 */
const NON_DATA_INPUTS: Readonly<Record<string, readonly number[]>> = {
  Reshape: [1],
  Unsqueeze: [1],
  Squeeze: [1],
  Split: [1],
  Expand: [1],
  Slice: [1, 2, 3, 4],
  Resize: [1, 2, 3],
  // Shape reads only the dimensions, in any precision.
  Shape: [0],
  Size: [0],
};

/**
 * Names of the nodes computing the sinusoidal timestep embedding: every Sin/Cos and what feeds it, up to Shape/Size
 * (as fp16_block_nodes in the exporter). Its arguments t·ω reach ~1000 rad, where float16's spacing is 0.5.
 */
export function timestepEmbeddingNodes(nodes: readonly Node[]): Set<string> {
  const producer = new Map<string, Node>();
  for (const n of nodes) for (const out of n.output ?? []) producer.set(out, n);
  const keep = new Set<string>();
  const stack = nodes.filter((n) => n.opType === 'Sin' || n.opType === 'Cos');
  while (stack.length > 0) {
    const n = stack.pop() as Node;
    const name = nodeName(n);
    if (keep.has(name) || n.opType === 'Shape' || n.opType === 'Size') continue;
    keep.add(name);
    for (const input of n.input ?? []) {
      const p = producer.get(input);
      if (p) stack.push(p);
    }
  }
  return keep;
}

/** Options of {@link convertToFloat16}. */
export interface Float16Options {
  /** Op types kept in float32 (default {@link FLOAT32_OPS}). */
  float32Ops?: ReadonlySet<string>;
  /** Also keep the timestep embedding ({@link timestepEmbeddingNodes}) in float32 (default true). */
  keepTimestepEmbedding?: boolean;
}

/** Converts the float32 model `bytes` to float16 as the file comment says; returns the new model's bytes. */
export function convertToFloat16(bytes: Uint8Array, options: Float16Options = {}): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  convertModelToFloat16(model, options);
  return onnx.ModelProto.encode(model).finish();
}

/**
 * The same on a model not serialised yet (GraphBuilder.toModel), changed in place: a float32 graph over protobuf's
 * 2 GB (AudioLDM-L's UNet) cannot be serialised before its weights are halved.
 */
export function convertModelToFloat16(model: onnxProto.onnx.IModelProto, options: Float16Options = {}): void {
  const graph = model.graph;
  if (!graph) throw new Error('convertToFloat16: the model has no graph');
  const nodes = graph.node ?? [];
  const float32Ops = options.float32Ops ?? FLOAT32_OPS;
  const blocked = options.keepTimestepEmbedding === false ? new Set<string>() : timestepEmbeddingNodes(nodes);
  const isFloat32Node = (n: Node): boolean => float32Ops.has(n.opType ?? '') || blocked.has(nodeName(n));

  // Element type of every tensor, filled in node order (the builder emits nodes topologically sorted).
  const type = new Map<string, number>();
  for (const vi of graph.input ?? []) type.set(vi.name ?? '', vi.type?.tensorType?.elemType ?? 0);
  const inits = new Map<string, Tensor>();
  for (const t of graph.initializer ?? []) {
    inits.set(t.name ?? '', t);
    type.set(t.name ?? '', t.dataType ?? 0);
  }
  const readers = new Map<string, number>();
  for (const n of nodes) for (const input of n.input ?? []) readers.set(input, (readers.get(input) ?? 0) + 1);

  const casts = new Map<string, string>();
  const halfInits = new Map<string, string>();
  const newInits: Tensor[] = [];
  const out: Node[] = [];
  const taken = new Set<string>([...type.keys(), ...nodes.flatMap((n) => n.output ?? [])]);
  const fresh = (base: string): string => {
    let name = base;
    for (let i = 1; taken.has(name); i++) name = `${base}_${i}`;
    taken.add(name);
    return name;
  };
  /** `name` in precision `to`: itself, a float16 copy of an initializer, or a (shared) Cast. */
  const inPrecision = (name: string, to: number): string => {
    const from = type.get(name);
    if (from === to || (from !== FLOAT && from !== FLOAT16)) return name;
    const init = inits.get(name);
    if (init && to === FLOAT16) {
      let half = halfInits.get(name);
      if (half === undefined) {
        half = fresh(`${name}_fp16`);
        newInits.push(halfTensor(init, half));
        halfInits.set(name, half);
        type.set(half, FLOAT16);
      }
      return half;
    }
    const key = `${name}->${to}`;
    let cast = casts.get(key);
    if (cast === undefined) {
      cast = fresh(`${name}_${to === FLOAT16 ? 'fp16' : 'fp32'}`);
      out.push({ opType: 'Cast', input: [name], output: [cast], name: `${cast}_cast`, attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: to }] });
      casts.set(key, cast);
      type.set(cast, to);
    }
    return cast;
  };

  for (const n of nodes) {
    const precision = isFloat32Node(n) ? FLOAT : FLOAT16;
    const nonData = NON_DATA_INPUTS[n.opType ?? ''] ?? [];
    const inputs = (n.input ?? []).map((name, i) => (name === '' || nonData.includes(i) ? name : inPrecision(name, precision)));
    const dataTypes = (n.input ?? []).filter((name, i) => name !== '' && !nonData.includes(i)).map((name) => type.get(name));
    const floatData = dataTypes.some((t) => t === FLOAT || t === FLOAT16);
    const outType = n.opType === 'Shape' || n.opType === 'Size' ? INT64 : floatData ? precision : (dataTypes[0] ?? INT64);
    for (const o of n.output ?? []) type.set(o, outType);
    out.push({ ...n, input: inputs });
  }

  // Graph outputs stay float32.
  for (const vi of graph.output ?? []) {
    const name = vi.name ?? '';
    if (type.get(name) !== FLOAT16) continue;
    const inner = fresh(`${name}_fp16`);
    for (const n of out) n.output = (n.output ?? []).map((o) => (o === name ? inner : o));
    out.push({ opType: 'Cast', input: [inner], output: [name], name: `${name}_cast`, attribute: [{ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT }] });
  }

  // Float32 initializers nobody reads any more (all their readers took the float16 copy) are dropped.
  const used = new Set(out.flatMap((n) => n.input ?? []));
  graph.initializer = [...(graph.initializer ?? []).filter((t) => used.has(t.name ?? '') || (readers.get(t.name ?? '') ?? 0) === 0), ...newInits];
  // Still topologically sorted: each Cast was appended after its source's producer and before its first reader.
  graph.node = out;
  graph.valueInfo = [];
}

/** `n`'s name (the builder names every node; the first output stands in otherwise). */
function nodeName(n: Node): string {
  return n.name ?? n.output?.[0] ?? '';
}

/** A float16 copy of the float32 initializer `t`, named `name`. */
function halfTensor(t: Tensor, name: string): Tensor {
  const raw = t.rawData;
  if (!raw || raw.length === 0) throw new Error(`convertToFloat16: initializer '${t.name ?? ''}' keeps its values outside raw_data, which this converter does not read`);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const half = new Uint16Array(raw.byteLength / 4);
  for (let i = 0; i < half.length; i++) half[i] = toFloat16Bits(view.getFloat32(i * 4, true));
  const bytes = new Uint8Array(half.byteLength);
  const out = new DataView(bytes.buffer);
  for (let i = 0; i < half.length; i++) out.setUint16(i * 2, half[i], true);
  return { name, dataType: FLOAT16, dims: t.dims ?? [], rawData: bytes };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 bits of `value`, rounded to nearest even (overflow → ±inf, NaN stays NaN). */
export function toFloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal in float16 (or zero): the implicit bit joins the mantissa, shifted by the missing exponent.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (h & 1) !== 0)) h++;
    return sign | h;
  }
  // A carry out of the mantissa moves into the exponent, which is the correctly rounded result (up to inf).
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) !== 0)) h++;
  return sign | h;
}
