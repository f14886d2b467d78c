/**
 * What every checkpoint reader offers (safetensors, PyTorch .bin, sharded sets of either): a list of tensors read
 * from the file's header alone, then one tensor at a time as float32, so that converting a model holds about one
 * copy of its weights, never the file.
 */
import { CodedError, type ErrorCode } from '../../../contract/errors.ts';

/** Element types as safetensors names them; PyTorch storages map onto the same names. */
export type Dtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL' | 'C64' | 'C128' | 'F8_E4M3' | 'F8_E5M2' | 'U16' | 'U32' | 'U64';

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<Dtype, number>> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1, C64: 8, C128: 16,
  F8_E4M3: 1, F8_E5M2: 1, U16: 2, U32: 4, U64: 8,
};

/** The dtypes `read()` converts to float32; the others are listed but only `readBytes()` returns them. */
export const FLOAT_DTYPES: readonly Dtype[] = ['F32', 'F16', 'BF16', 'F64'];

/** True when `value` names a dtype this module knows. */
export function isDtype(value: unknown): value is Dtype {
  return typeof value === 'string' && Object.hasOwn(DTYPE_BYTES, value);
}

/** One tensor of a checkpoint as its header describes it. */
export interface TensorInfo {
  /** The state-dict key (`conv_in.weight`). */
  name: string;
  dtype: Dtype;
  /** Row-major dimensions; `[]` is a scalar. */
  shape: number[];
  /** Absolute byte offset of the first element in `file`. */
  offset: number;
  /** Byte length: product(shape) × dtype size. */
  byteLength: number;
  /** The file that holds the bytes (a shard's path for sharded checkpoints). */
  file: string;
}

/** A checkpoint opened for streaming: the listing is in memory, the weights stay on disk until read. */
export interface CheckpointReader {
  /** Every tensor, in the file's order. */
  tensors(): TensorInfo[];
  /** One tensor converted to float32 (F32, F16, BF16, F64); other dtypes are refused with a message naming them. */
  read(name: string): Promise<Float32Array>;
  /** One tensor's raw little-endian bytes in its own dtype (for int64 buffers such as `position_ids`). */
  readBytes(name: string): Promise<Uint8Array>;
  /** Releases the file handle(s); reading afterwards fails. */
  close(): Promise<void>;
}

/**
 * A checkpoint that cannot be read as it is: `corrupt` (truncated, inconsistent header, bad zip), `model-error`
 * (readable but not convertible: unsupported dtype, non-contiguous tensor, forbidden pickle content), `not-found`
 * (no such tensor), `io-error` (the disk). The message names the file, the tensor and what to do.
 */
export class CheckpointError extends CodedError {
  override name = 'CheckpointError';
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options?.cause === undefined ? {} : { cause: options.cause });
  }
}

/** The product of a shape's dimensions (1 for a scalar). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Shape as `[a, b, c]` for messages. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
