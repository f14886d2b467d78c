/**
 * Moving a graph's weights into ONNX external-data files, the layout of graphs over 2 GB and of sharded bundles
 * (the lsb Stable Audio 3 graphs: `dit_q4.onnx` + `dit_q4_chunk_{0..3}.data`). Each initializer's raw bytes go to one
 * shard at a 4096-byte-aligned offset (so ONNX Runtime may map them), the tensor keeps its name, type and dims and
 * gets `data_location = EXTERNAL` with `location`, `offset` and `length` entries (onnx.proto, external_data).
 * Pure: bytes in, bytes out.
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

/** Alignment of every tensor inside a shard. */
const ALIGN = 4096;
/**
 * Tensors below this many bytes stay in the graph, as onnx's `convert_model_to_external_data` keeps them
 * (size_threshold 1024): small int64 axes and shapes must be readable by shape inference when the graph loads.
 */
const MIN_EXTERNAL_BYTES = 1024;

/** A graph whose weights live in `shards` (file name → bytes), next to it in the pack folder. */
export interface ExternalizedGraph {
  graph: Uint8Array;
  shards: Record<string, Uint8Array>;
}

/**
 * Moves every initializer of at least 1 KiB into the shards named `shardNames` (plain file names, written next to the
 * graph), balancing their sizes: each tensor goes to the shard with the fewest bytes so far. A shard that gets no
 * tensor (fewer tensors than shards) holds one zero block, so every named file exists.
 */
export function externalizeInitializers(bytes: Uint8Array, shardNames: readonly string[]): ExternalizedGraph {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph;
  if (!graph) throw new RangeError('the model has no graph');
  const shards = moveToShards(graph.initializer ?? [], shardNames);
  return { graph: onnx.ModelProto.encode(model).finish(), shards };
}

/**
 * Moves the raw data of every initializer of at least 1 KiB out of `initializers` (mutated: each becomes an external
 * reference) into shards, balancing their sizes; see {@link externalizeInitializers}. Each tensor's bytes are copied
 * straight into its shard and released from the tensor at once, so at most one extra copy of the weights exists.
 */
export function moveToShards(initializers: onnxProto.onnx.ITensorProto[], shardNames: readonly string[]): Record<string, Uint8Array> {
  if (shardNames.length === 0) throw new RangeError('moveToShards needs at least one shard name');
  for (const name of shardNames) {
    if (!/^[A-Za-z0-9._-]+$/.test(name) || name === '.' || name === '..') throw new RangeError(`shard name '${name}' must be a plain file name`);
  }
  const sizes = shardNames.map(() => 0);
  const moved = [...initializers]
    .filter((t) => t.rawData && t.rawData.length >= MIN_EXTERNAL_BYTES)
    .sort((a, b) => (b.rawData?.length ?? 0) - (a.rawData?.length ?? 0) || String(a.name).localeCompare(String(b.name)));
  // Place first (offsets and shard sizes), then copy into shards allocated once.
  const placed = moved.map((tensor) => {
    const length = (tensor.rawData as Uint8Array).length;
    const k = sizes.indexOf(Math.min(...sizes));
    const offset = sizes[k];
    sizes[k] += Math.ceil(length / ALIGN) * ALIGN;
    return { tensor, k, offset, length };
  });
  const out = sizes.map((size) => new Uint8Array(Math.max(size, ALIGN)));
  for (const { tensor, k, offset, length } of placed) {
    out[k].set(tensor.rawData as Uint8Array, offset);
    tensor.rawData = new Uint8Array(0);
    tensor.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    tensor.externalData = [
      { key: 'location', value: shardNames[k] },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(length) },
    ];
  }
  return Object.fromEntries(shardNames.map((name, k) => [name, out[k]]));
}
