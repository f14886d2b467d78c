/**
 * A small ONNX graph builder: the project's own way to produce model packs without Python.
 *
 * Protobuf encoding comes from `onnx-proto` (the generated protobufjs module of the official onnx.proto that
 * onnxruntime-web used); this file only keeps names unique and turns typed arrays into TensorProtos. Output bytes
 * depend only on the calls made, so the same recipe always produces the same file (and the same sha256).
 */
import onnxProto from 'onnx-proto';
import { moveToShards, type ExternalizedGraph } from './external-data.ts';

const { onnx } = onnxProto;

/** Element types the builder emits (ONNX TensorProto.DataType codes). */
export type ElemType = 'float32' | 'int64' | 'int32' | 'bool';

const ELEM_CODE: Record<ElemType, number> = { float32: 1, int32: 6, int64: 7, bool: 9 };

/** A dimension: a fixed size or a symbolic name such as `"B"` or `"T"`. */
export type Dim = number | string;

/** Attribute values accepted by {@link GraphBuilder.op}. */
export type AttrValue = number | string | number[] | { float: number } | { floats: number[] } | { tensor: ConstTensor };

/** Data for an initializer or constant. */
export type ConstTensor =
  | { type: 'float32'; data: Float32Array; dims: readonly number[] }
  | { type: 'int64'; data: BigInt64Array; dims: readonly number[] }
  | { type: 'int32'; data: Int32Array; dims: readonly number[] };

/** An operator set besides the default ONNX one (`ai.onnx`), by domain name and version. */
export interface OpsetDomain {
  readonly domain: string;
  readonly version: number;
}

/**
 * ONNX Runtime's contrib operators (`com.microsoft`, version 1): fused kernels such as MultiHeadAttention that the CPU,
 * CUDA and WebGPU providers implement and other runtimes may not.
 */
export const MS_DOMAIN: OpsetDomain = { domain: 'com.microsoft', version: 1 };

/** One graph under construction. Names returned by the methods are the tensor names to pass to later ops. */
export class GraphBuilder {
  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  /** Operator sets imported besides the default one, by domain (each imported once, at one version). */
  private readonly domains = new Map<string, number>();
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(
    readonly name: string,
    private readonly opset = 17,
  ) {}

  /** A fresh tensor name with a readable prefix. */
  fresh(prefix: string): string {
    let name = `${prefix}_${this.counter++}`;
    while (this.used.has(name)) name = `${prefix}_${this.counter++}`;
    this.used.add(name);
    return name;
  }

  private claim(name: string): string {
    if (this.used.has(name)) throw new Error(`graph '${this.name}': tensor name '${name}' is already used`);
    this.used.add(name);
    return name;
  }

  /** Declares a graph input. */
  input(name: string, type: ElemType, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(this.claim(name), type, dims));
    return name;
  }

  /** Declares `value` as a graph output named `name` (adds an Identity when the names differ). */
  output(value: string, name: string, type: ElemType, dims: readonly Dim[]): string {
    if (value !== name) this.nodes.push({ opType: 'Identity', input: [value], output: [this.claim(name)], name: `out_${name}` });
    this.outputs.push(valueInfo(name, type, dims));
    return name;
  }

  /** Adds a weight or constant tensor; returns its name. */
  init(prefix: string, t: ConstTensor): string {
    const name = this.fresh(prefix);
    this.initializers.push(tensorProto(name, t));
    return name;
  }

  /** float32 initializer from any numeric array. */
  f32(prefix: string, data: ArrayLike<number>, dims: readonly number[]): string {
    return this.init(prefix, { type: 'float32', data: Float32Array.from(data), dims });
  }

  /** int64 initializer (shapes, axes, indices). */
  i64(prefix: string, data: readonly number[], dims: readonly number[] = [data.length]): string {
    return this.init(prefix, { type: 'int64', data: BigInt64Array.from(data.map((v) => BigInt(v))), dims });
  }

  /** float32 scalar constant. */
  scalar(value: number): string {
    return this.f32('c', [value], []);
  }

  /** Appends a node with one output and returns that output's name. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, prefix = opType.toLowerCase()): string {
    return this.opN(opType, inputs, 1, attrs, prefix)[0];
  }

  /** Appends a node with `count` outputs. An empty string in `inputs` marks an omitted optional input. */
  opN(opType: string, inputs: readonly string[], count: number, attrs: Record<string, AttrValue> = {}, prefix = opType.toLowerCase()): string[] {
    const outputs = Array.from({ length: count }, () => this.fresh(prefix));
    this.nodes.push({
      opType,
      input: [...inputs],
      output: outputs,
      name: `${outputs[0]}_node`,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outputs;
  }

  /**
   * Appends a node of another operator set (`domain`, e.g. {@link MS_DOMAIN}) with `count` outputs and imports that
   * operator set into the model. A graph with such nodes loads only in runtimes that implement them.
   */
  domainOpN(domain: OpsetDomain, opType: string, inputs: readonly string[], count: number, attrs: Record<string, AttrValue> = {}, prefix = opType.toLowerCase()): string[] {
    this.importDomain(domain);
    const outputs = this.opN(opType, inputs, count, attrs, prefix);
    const node = this.nodes[this.nodes.length - 1];
    node.domain = domain.domain;
    return outputs;
  }

  /** Imports operator set `domain` (done by {@link domainOpN}); one graph holds each domain at one version only. */
  importDomain(domain: OpsetDomain): void {
    const had = this.domains.get(domain.domain);
    if (had !== undefined && had !== domain.version) {
      throw new Error(`graph '${this.name}': operator set '${domain.domain}' is already imported at version ${had}, not ${domain.version}; use one version per graph`);
    }
    this.domains.set(domain.domain, domain.version);
  }

  /** Serialises the graph to ONNX model bytes. */
  toBytes(docString = ''): Uint8Array {
    return onnx.ModelProto.encode(this.toModel(docString)).finish();
  }

  /**
   * Serialises the graph with every initializer of at least 1 KiB in the external-data shards `shardNames`
   * (external-data.ts): the layout of graphs over protobuf's 2 GB, which cannot be serialised whole. Moves the weights
   * out of this builder: call it once, last.
   */
  toExternal(docString: string, shardNames: readonly string[]): ExternalizedGraph {
    const shards = moveToShards(this.initializers, shardNames);
    return { graph: this.toBytes(docString), shards };
  }

  /** The model as a protobuf object, not serialised (for passes over graphs too large to serialise in float32). */
  toModel(docString = ''): onnxProto.onnx.ModelProto {
    return onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'tessera-graph-builder',
      producerVersion: '1',
      docString,
      // Imported domains follow the default one in import order, so a graph without them serialises as before.
      opsetImport: [{ domain: '', version: this.opset }, ...[...this.domains].map(([domain, version]) => ({ domain, version }))],
      graph: {
        name: this.name,
        node: this.nodes,
        input: this.inputs,
        output: this.outputs,
        initializer: this.initializers,
      },
    });
  }
}

function valueInfo(name: string, type: ElemType, dims: readonly Dim[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEM_CODE[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function tensorProto(name: string, t: ConstTensor): onnxProto.onnx.ITensorProto {
  // NOTE: raw_data is little-endian by the ONNX spec; typed arrays are little-endian on every platform we ship.
  const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  return { name, dataType: ELEM_CODE[t.type], dims: [...t.dims], rawData: bytes.slice() };
}

function attribute(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute '${name}': ${v} is not an integer; use { float: ${v} }`);
    return { name, type: T.INT, i: v };
  }
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  if ('floats' in v) return { name, type: T.FLOATS, floats: v.floats };
  return { name, type: T.TENSOR, t: tensorProto(`${name}_value`, v.tensor) };
}
