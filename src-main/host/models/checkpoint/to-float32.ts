/** Reading one tensor's byte range as float32: F32 straight into the result, F16/BF16/F64 through one conversion. */
import { readAt, type ByteSource } from './byte-source.ts';
import { CheckpointError, FLOAT_DTYPES, elementCount, formatShape, type TensorInfo } from './types.ts';

// NOTE: checkpoints are little-endian and typed arrays use the host's order; every platform Tessera ships on
// (x64, arm64) is little-endian, so a big-endian host is refused rather than silently misread.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reads `info`'s bytes from `source` and returns them as float32 values. */
export async function readFloat32(source: ByteSource, info: TensorInfo): Promise<Float32Array> {
  if (!LITTLE_ENDIAN) throw new CheckpointError('internal', 'This machine is big-endian; checkpoint tensors are little-endian and cannot be read here.');
  const n = elementCount(info.shape);
  switch (info.dtype) {
    case 'F32': {
      const out = new Float32Array(n);
      await source.readInto(info.offset, new Uint8Array(out.buffer));
      return out;
    }
    case 'F64': {
      const wide = new Float64Array(n);
      await source.readInto(info.offset, new Uint8Array(wide.buffer));
      return Float32Array.from(wide);
    }
    case 'F16': {
      const half = new Uint16Array(n);
      await source.readInto(info.offset, new Uint8Array(half.buffer));
      return halfToFloat32(half);
    }
    case 'BF16': {
      const half = new Uint16Array(n);
      await source.readInto(info.offset, new Uint8Array(half.buffer));
      // bfloat16 is the top half of a float32: shifting it back is exact.
      const bits = new Uint32Array(n);
      for (let i = 0; i < n; i++) bits[i] = half[i] << 16;
      return new Float32Array(bits.buffer);
    }
    default:
      throw new CheckpointError(
        'model-error',
        `Tensor '${info.name}' ${formatShape(info.shape)} in '${info.file}' has dtype ${info.dtype}, which cannot be read as float32 ` +
          `(supported: ${FLOAT_DTYPES.join(', ')}). Use readBytes() for integer buffers, or convert the checkpoint to float weights.`,
      );
  }
}

/** Reads `info`'s raw bytes (its own dtype, little-endian). */
export function readRaw(source: ByteSource, info: TensorInfo): Promise<Uint8Array> {
  return readAt(source, info.offset, info.byteLength);
}

// IEEE half → single by table: 2^16 entries, built once on first use (256 KiB).
let HALF_TABLE: Float32Array | undefined;

function halfTable(): Float32Array {
  if (HALF_TABLE) return HALF_TABLE;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) table[h] = sign * frac * 2 ** -24;
    else if (exp === 31) table[h] = frac === 0 ? sign * Infinity : NaN;
    else table[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  HALF_TABLE = table;
  return table;
}

/** Converts IEEE-754 half-precision bit patterns to float32 (exact: every half is a float32). */
export function halfToFloat32(half: Uint16Array): Float32Array {
  const table = halfTable();
  const out = new Float32Array(half.length);
  for (let i = 0; i < half.length; i++) out[i] = table[half[i]];
  return out;
}
