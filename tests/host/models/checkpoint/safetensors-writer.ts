/** A safetensors writer for tests, with hooks to break the file in chosen ways. */
import type { ByteSource } from '../../../../src-main/host/models/checkpoint/byte-source.ts';

/** One tensor to write: dtype name, shape and its raw little-endian bytes. */
export interface SafetensorSpec {
  name: string;
  dtype: string;
  shape: number[];
  bytes: Uint8Array;
}

/** Bytes of a safetensors file; `header` may rewrite the JSON header object before it is encoded. */
export function safetensorsBytes(tensors: readonly SafetensorSpec[], header?: (h: Record<string, unknown>) => void): Uint8Array {
  const h: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const t of tensors) {
    h[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.bytes.length] };
    offset += t.bytes.length;
  }
  header?.(h);
  let json = JSON.stringify(h);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const jsonBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + jsonBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(jsonBytes.length), true);
  out.set(jsonBytes, 8);
  let p = 8 + jsonBytes.length;
  for (const t of tensors) {
    out.set(t.bytes, p);
    p += t.bytes.length;
  }
  return out;
}

/** Wraps a source and records every read (position, length), to prove what a reader touches. */
export function countingSource(inner: ByteSource): ByteSource & { reads: [number, number][]; bytesRead(): number } {
  const reads: [number, number][] = [];
  return {
    path: inner.path,
    size: inner.size,
    reads,
    bytesRead: () => reads.reduce((sum, [, n]) => sum + n, 0),
    readInto(position: number, target: Uint8Array) {
      reads.push([position, target.byteLength]);
      return inner.readInto(position, target);
    },
    close: () => inner.close(),
  };
}
