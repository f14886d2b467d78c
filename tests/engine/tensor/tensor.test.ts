/** Tensor records and their free functions. */
import { describe, expect, it } from 'vitest';
import { allFinite, concatBatch, f32, i64, maxAbs, reshape, sizeOf, sliceBatch, zeros } from '../../../src-main/engine/tensor/tensor.ts';

describe('tensor', () => {
  it('f32 checks the element count against the dims', () => {
    expect(f32(new Float32Array(6), [2, 3]).dims).toEqual([2, 3]);
    expect(() => f32(new Float32Array(5), [2, 3])).toThrow('tensor data has 5 elements but dims [2, 3] need 6');
    expect(sizeOf([])).toBe(1);
    expect(zeros([2, 2]).data).toEqual(new Float32Array(4));
  });

  it('i64 converts numbers to BigInt64Array', () => {
    const t = i64([0, 5, 2], [1, 3]);
    expect(t.type).toBe('int64');
    expect(Array.from(t.data)).toEqual([0n, 5n, 2n]);
    expect(() => i64([1, 2], [3])).toThrow(/int64 tensor has 2 values but dims \[3\] need 3/);
  });

  it('concatBatch stacks along axis 0 and checks the other dims', () => {
    const a = f32(Float32Array.from([1, 2]), [1, 2]);
    const b = f32(Float32Array.from([3, 4, 5, 6]), [2, 2]);
    const c = concatBatch([a, b]);
    expect(c.dims).toEqual([3, 2]);
    expect(Array.from(c.data)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => concatBatch([a, f32(new Float32Array(3), [1, 3])])).toThrow('concatBatch: dims [1, 3] do not match [*, 2]');
    expect(() => concatBatch([])).toThrow(/at least one/);
  });

  it('sliceBatch returns a view of rows; reshape keeps the data', () => {
    const t = f32(Float32Array.from([1, 2, 3, 4, 5, 6]), [3, 2]);
    const s = sliceBatch(t, 1, 3);
    expect(s.dims).toEqual([2, 2]);
    expect(Array.from(s.data)).toEqual([3, 4, 5, 6]);
    s.data[0] = 30;
    expect(t.data[2]).toBe(30);
    expect(reshape(t, [6]).data).toBe(t.data);
    expect(() => reshape(t, [4])).toThrow('cannot reshape [3, 2] to [4]');
  });

  it('maxAbs and allFinite see NaN and infinities', () => {
    expect(maxAbs(Float32Array.from([1, -3, 2]))).toBe(3);
    expect(maxAbs(Float32Array.from([1, Number.NaN]))).toBeNaN();
    expect(allFinite(Float32Array.from([1, 2]))).toBe(true);
    expect(allFinite(Float32Array.from([1, Number.POSITIVE_INFINITY]))).toBe(false);
  });
});
