/**
 * safetensors, parsed directly: an 8-byte little-endian header length N, N bytes of JSON
 * `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?: {string: string}}`, then the raw little-endian
 * data, with offsets relative to its start. Opening reads the header only; `read` reads one tensor's range.
 */
import { openFileSource, readAt, type ByteSource } from './byte-source.ts';
import { FileCheckpointReader } from './file-reader.ts';
import {
  CheckpointError,
  DTYPE_BYTES,
  elementCount,
  formatShape,
  isDtype,
  type TensorInfo,
} from './types.ts';

/** The safetensors library refuses headers over 100 MB; so do we, before allocating them. */
const MAX_HEADER_BYTES = 100_000_000;

const REDOWNLOAD = 'Download or copy the file again; if it persists, the checkpoint itself is broken.';

/** A safetensors file opened for streaming. */
export class SafetensorsReader extends FileCheckpointReader {
  private constructor(
    source: ByteSource,
    list: TensorInfo[],
    /** The header's `__metadata__` (`{format: 'pt'}` from PyTorch), empty when absent. */
    readonly metadata: Readonly<Record<string, string>>,
  ) {
    super(source, list);
  }

  /** Opens `path` and validates its header against the file's size. */
  static async open(path: string): Promise<SafetensorsReader> {
    return SafetensorsReader.fromSource(await openFileSource(path));
  }

  /** Reads the header from an already opened source (tests pass a counting wrapper); closes it on failure. */
  static async fromSource(source: ByteSource): Promise<SafetensorsReader> {
    try {
      const { tensors, metadata } = await readHeader(source);
      return new SafetensorsReader(source, tensors, metadata);
    } catch (e) {
      await source.close();
      throw e;
    }
  }
}

interface Header {
  tensors: TensorInfo[];
  metadata: Record<string, string>;
}

async function readHeader(source: ByteSource): Promise<Header> {
  const path = source.path;
  const bad = (what: string): CheckpointError => new CheckpointError('corrupt', `'${path}' is not a valid safetensors file: ${what}. ${REDOWNLOAD}`);
  if (source.size < 8) throw bad(`it has ${source.size} bytes, fewer than the 8-byte header length`);
  const lengthBytes = await readAt(source, 0, 8);
  const headerLength = new DataView(lengthBytes.buffer).getBigUint64(0, true);
  if (headerLength > BigInt(source.size - 8)) {
    throw bad(`the header length says ${headerLength} bytes, but the file has only ${source.size - 8} bytes after it (truncated, or not safetensors)`);
  }
  if (headerLength > BigInt(MAX_HEADER_BYTES)) throw bad(`the header length ${headerLength} bytes exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const n = Number(headerLength);
  const dataStart = 8 + n;
  const dataSize = source.size - dataStart;

  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await readAt(source, 8, n)));
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw bad(`its ${n}-byte JSON header does not parse (${e instanceof Error ? e.message : String(e)})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw bad('its JSON header is not an object');

  const metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  const ranges: { name: string; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw bad('__metadata__ is not an object');
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') throw bad(`__metadata__.${k} is ${JSON.stringify(v)}, not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const where = `tensor '${name}'`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw bad(`${where} is not an object with dtype, shape and data_offsets`);
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (!isDtype(dtype)) {
      throw new CheckpointError('model-error', `${where} in '${path}' has unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(DTYPE_BYTES).join(', ')}). The file may come from a newer safetensors; convert it to F32/F16/BF16.`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad(`${where} has shape ${JSON.stringify(shape)}, not a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      throw bad(`${where} has data_offsets ${JSON.stringify(offsets)}, not [begin, end] with 0 ≤ begin ≤ end`);
    }
    const [begin, end] = offsets as [number, number];
    const dims = shape as number[];
    const expected = elementCount(dims) * DTYPE_BYTES[dtype];
    if (end - begin !== expected) {
      throw bad(`${where} (${dtype} ${formatShape(dims)}) needs ${expected} bytes, but its data_offsets [${begin}, ${end}] span ${end - begin}`);
    }
    ranges.push({ name, begin, end });
    tensors.push({ name, dtype, shape: dims, offset: dataStart + begin, byteLength: expected, file: path });
  }

  // The format requires the data to be exactly the tensors' ranges, back to back: no gap, overlap or tail.
  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const r of ranges) {
    if (r.begin < cursor) throw bad(`tensor '${r.name}' starts at data byte ${r.begin}, inside the previous tensor (which ends at ${cursor}): the ranges overlap`);
    if (r.begin > cursor) throw bad(`tensor '${r.name}' starts at data byte ${r.begin}, leaving a gap after byte ${cursor}: the ranges are not contiguous`);
    cursor = r.end;
  }
  if (cursor > dataSize) {
    const last = ranges[ranges.length - 1];
    throw bad(`tensor '${last.name}' ends at data byte ${cursor}, but the file holds only ${dataSize} data bytes: the file is truncated`);
  }
  if (cursor < dataSize) throw bad(`the tensors cover ${cursor} data bytes, but the file holds ${dataSize}: ${dataSize - cursor} unexplained bytes at the end`);
  return { tensors, metadata };
}
