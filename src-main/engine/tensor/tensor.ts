/**
 * Tensors as plain records with free functions (no classes, no hidden state): easy to pass across the runtime
 * boundary, to structured-clone over IPC, and to test.
 */

/** Element types the engine handles. */
export type DType = 'float32' | 'int64' | 'int32' | 'bool';

/** Typed array backing each element type (`bool`: one byte per element, 0 or 1, as ONNX Runtime stores it). */
export interface DataOf {
  float32: Float32Array;
  int64: BigInt64Array;
  int32: Int32Array;
  bool: Uint8Array;
}

/** A dense row-major tensor. */
export interface Tensor<T extends DType = DType> {
  readonly type: T;
  readonly data: DataOf[T];
  readonly dims: readonly number[];
}

/** A float32 tensor, the common case. */
export type F32 = Tensor<'float32'>;

/** Number of elements for `dims`. */
export function sizeOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** Wraps data as a float32 tensor after checking the element count. */
export function f32(data: Float32Array, dims: readonly number[]): F32 {
  if (data.length !== sizeOf(dims)) {
    throw new RangeError(`tensor data has ${data.length} elements but dims [${dims.join(', ')}] need ${sizeOf(dims)}`);
  }
  return { type: 'float32', data, dims: [...dims] };
}

/** A zero-filled float32 tensor. */
export function zeros(dims: readonly number[]): F32 {
  return f32(new Float32Array(sizeOf(dims)), dims);
}

/** int64 tensor from plain numbers (token ids, masks). */
export function i64(values: readonly number[], dims: readonly number[]): Tensor<'int64'> {
  if (values.length !== sizeOf(dims)) {
    throw new RangeError(`int64 tensor has ${values.length} values but dims [${dims.join(', ')}] need ${sizeOf(dims)}`);
  }
  return { type: 'int64', data: BigInt64Array.from(values, (v) => BigInt(v)), dims: [...dims] };
}

/** bool tensor from 0/1 bytes (masks such as a DiT's `padding_mask`), after checking the element count. */
export function bools(data: Uint8Array, dims: readonly number[]): Tensor<'bool'> {
  if (data.length !== sizeOf(dims)) {
    throw new RangeError(`bool tensor has ${data.length} values but dims [${dims.join(', ')}] need ${sizeOf(dims)}`);
  }
  return { type: 'bool', data, dims: [...dims] };
}

/** Concatenates float32 tensors along axis 0 (batch). All other dims must agree. */
export function concatBatch(parts: readonly F32[]): F32 {
  if (parts.length === 0) throw new RangeError('concatBatch needs at least one tensor');
  const rest = parts[0].dims.slice(1);
  let rows = 0;
  for (const p of parts) {
    if (p.dims.length !== rest.length + 1 || p.dims.slice(1).some((d, i) => d !== rest[i])) {
      throw new RangeError(`concatBatch: dims [${p.dims.join(', ')}] do not match [*, ${rest.join(', ')}]`);
    }
    rows += p.dims[0];
  }
  const out = new Float32Array(rows * sizeOf(rest));
  let offset = 0;
  for (const p of parts) {
    out.set(p.data, offset);
    offset += p.data.length;
  }
  return f32(out, [rows, ...rest]);
}

/** Rows [start, end) along axis 0, as a view sharing memory with `t`. */
export function sliceBatch(t: F32, start: number, end: number): F32 {
  const row = sizeOf(t.dims.slice(1));
  return f32(t.data.subarray(start * row, end * row), [end - start, ...t.dims.slice(1)]);
}

/** The same data under new dims (element count must match). */
export function reshape<T extends DType>(t: Tensor<T>, dims: readonly number[]): Tensor<T> {
  if (sizeOf(dims) !== t.data.length) {
    throw new RangeError(`cannot reshape [${t.dims.join(', ')}] to [${dims.join(', ')}]`);
  }
  return { type: t.type, data: t.data, dims: [...dims] };
}

/** Largest absolute value, or 0 for an empty tensor. */
export function maxAbs(data: Float32Array): number {
  let m = 0;
  for (let i = 0; i < data.length; i++) {
    const a = Math.abs(data[i]);
    if (a > m || Number.isNaN(a)) m = a;
  }
  return m;
}

/** True when every element is finite. */
export function allFinite(data: Float32Array): boolean {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return false;
  return true;
}
