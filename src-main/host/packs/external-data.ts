/**
 * The external-data files an ONNX graph reads (TensorProto.external_data `location`, for graphs over 2 GB and
 * sharded bundles), found by walking the protobuf wire format of the file with positioned reads.
 *
 * Hand-written because no maintained library reads these fields without decoding the whole model into memory
 * (onnx-proto/protobufjs would load a 1.6 GB single-file UNet to find none). Only the messages that can hold
 * tensors are entered (model → graph → node → attribute → tensor, sparse tensors, functions, training info; field
 * numbers from onnx.proto); everything else, weights included, is skipped by its length without being read.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { CodedError } from '../../contract/errors.ts';

/** One external-data reference of a graph. */
export interface ExternalDataRef {
  /** The tensor that reads it. */
  tensor: string;
  /** The `location` entry as written in the graph (relative to the graph's folder). */
  location: string;
}

/** The graph file cannot be read as an ONNX model. */
export class GraphFormatError extends CodedError<'model-error'> {
  override name = 'GraphFormatError';
  constructor(message: string) {
    super('model-error', message);
  }
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;
/** Largest string read (tensor names, external-data keys and values); longer ones are not ONNX the runtime loads. */
const MAX_STRING = 64 * 1024;

type Kind = 'model' | 'graph' | 'node' | 'attribute' | 'tensor' | 'sparse' | 'function' | 'training' | 'entry';

/** For each message kind, the LEN fields that hold messages worth entering (onnx.proto field numbers). */
const CHILDREN: Record<Exclude<Kind, 'tensor' | 'entry'>, Readonly<Record<number, Kind>>> = {
  model: { 7: 'graph', 20: 'training', 25: 'function' },
  graph: { 1: 'node', 5: 'tensor', 15: 'sparse' },
  node: { 5: 'attribute' },
  attribute: { 5: 'tensor', 6: 'graph', 10: 'tensor', 11: 'graph', 22: 'sparse', 23: 'sparse' },
  sparse: { 1: 'tensor', 2: 'tensor' },
  function: { 7: 'node' },
  training: { 1: 'graph', 2: 'graph' },
};

/** Buffered positioned reads over a file. */
class Reader {
  private buffer = Buffer.alloc(64 * 1024);
  private bufferStart = 0;
  private bufferEnd = 0;

  constructor(
    private readonly file: FileHandle,
    private readonly size: number,
    private readonly name: string,
  ) {}

  private async byteAt(pos: number): Promise<number> {
    if (pos < this.bufferStart || pos >= this.bufferEnd) {
      if (pos >= this.size) throw new GraphFormatError(`${this.name}: the protobuf ends in the middle of a field (byte ${pos} of ${this.size}); the file is truncated or not an ONNX model`);
      const { bytesRead } = await this.file.read(this.buffer, 0, this.buffer.length, pos);
      this.bufferStart = pos;
      this.bufferEnd = pos + bytesRead;
    }
    return this.buffer[pos - this.bufferStart];
  }

  /** A varint at `pos`: its value (as a number: lengths and field keys fit in 2^53) and the position after it. */
  async varint(pos: number): Promise<[number, number]> {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const byte = await this.byteAt(pos + i);
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return [value, pos + i + 1];
      scale *= 128;
    }
    throw new GraphFormatError(`${this.name}: a varint at byte ${pos} is longer than 10 bytes; not an ONNX model`);
  }

  async string(pos: number, length: number): Promise<string> {
    if (length > MAX_STRING) throw new GraphFormatError(`${this.name}: a name of ${length} bytes at byte ${pos}; not an ONNX model Tessera loads`);
    const out = Buffer.alloc(length);
    if (length > 0) await this.file.read(out, 0, length, pos);
    return out.toString('utf8');
  }
}

/** Lists every external-data reference of the ONNX graph in `path`. */
export async function externalDataRefs(path: string): Promise<ExternalDataRef[]> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const reader = new Reader(file, size, path);
    const refs: ExternalDataRef[] = [];
    await walk(reader, 'model', 0, size, refs, 0);
    return refs;
  } finally {
    await file.close();
  }
}

/** Walks the message of `kind` in [start, end), collecting tensors' external-data locations. */
async function walk(reader: Reader, kind: Exclude<Kind, 'entry'>, start: number, end: number, refs: ExternalDataRef[], depth: number): Promise<void> {
  if (depth > 64) throw new GraphFormatError('graphs nest more than 64 levels deep; not an ONNX model Tessera loads');
  let pos = start;
  let tensorName = '';
  const locations: string[] = [];
  while (pos < end) {
    const [key, afterKey] = await reader.varint(pos);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    pos = afterKey;
    if (wire === WIRE_VARINT) pos = (await reader.varint(pos))[1];
    else if (wire === WIRE_FIXED64) pos += 8;
    else if (wire === WIRE_FIXED32) pos += 4;
    else if (wire === WIRE_LEN) {
      const [length, body] = await reader.varint(pos);
      pos = body + length;
      if (pos > end) throw new GraphFormatError(`field ${field} at byte ${body} runs past its message (${pos} > ${end}); the file is truncated or not an ONNX model`);
      if (kind === 'tensor') {
        if (field === 8) tensorName = await reader.string(body, length);
        else if (field === 13) {
          const entry = await readEntry(reader, body, pos);
          if (entry.key === 'location') locations.push(entry.value);
        }
      } else {
        const child = CHILDREN[kind][field];
        if (child && child !== 'entry') await walk(reader, child, body, pos, refs, depth + 1);
      }
    } else throw new GraphFormatError(`wire type ${wire} at byte ${afterKey}; not an ONNX model (protobuf groups are not used by ONNX)`);
  }
  for (const location of locations) refs.push({ tensor: tensorName, location });
}

/** A StringStringEntryProto (key = 1, value = 2). */
async function readEntry(reader: Reader, start: number, end: number): Promise<{ key: string; value: string }> {
  let pos = start;
  const entry = { key: '', value: '' };
  while (pos < end) {
    const [key, afterKey] = await reader.varint(pos);
    if (key % 8 !== WIRE_LEN) throw new GraphFormatError(`an external_data entry at byte ${start} holds a non-string field; not an ONNX model`);
    const [length, body] = await reader.varint(afterKey);
    const text = await reader.string(body, length);
    if (Math.floor(key / 8) === 1) entry.key = text;
    else if (Math.floor(key / 8) === 2) entry.value = text;
    pos = body + length;
  }
  return entry;
}
