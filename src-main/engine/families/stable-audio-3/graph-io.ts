/** Checks of the stable-audio-3 graphs' declared inputs and returned outputs, with messages naming both shapes. */
import type { TensorSpec } from '../../../contract/manifest.ts';
import type { ModelSession } from '../../runtime/session.ts';
import type { F32, Tensor } from '../../tensor/tensor.ts';

/** The declared input `name` of a session (the contract guarantees it exists). */
export function spec(session: ModelSession, name: string): TensorSpec {
  const found = session.signature.inputs.find((t) => t.name === name);
  if (!found) throw new Error(`${session.name}: input '${name}' is not declared`);
  return found;
}

/**
 * Dims to feed for an input declared as `declared` when the natural shape is `shape` (rows first): a fixed size
 * stays (a fixed 1 where rows go broadcasts one row's value, e.g. t [1]), a symbolic size takes the natural one.
 */
export function resolveDims(declared: TensorSpec, shape: number[], rows: number): number[] {
  if (declared.dims.length !== shape.length) {
    throw new Error(`input '${declared.name}' is declared [${declared.dims.join(', ')}] but the contract feeds rank ${shape.length} [${shape.join(', ')}]`);
  }
  return declared.dims.map((d, i) => {
    if (typeof d === 'string') return shape[i];
    if (i === 0 && d === 1 && rows > 1 && declared.dims.length > 1) {
      throw new Error(`input '${declared.name}' has a fixed batch of 1; cannot feed ${rows} rows`);
    }
    return d;
  });
}

/** A tensor's type and dims for messages ("float32 [1, 2]"), or "missing". */
export function describeTensor(t: Tensor | undefined): string {
  return t ? `${t.type} [${t.dims.join(', ')}]` : 'missing';
}

/** `t` as float32 of exactly `dims`; otherwise an error naming `what`, what it is and what was expected. */
export function expectF32(t: Tensor | undefined, what: string, dims: readonly number[]): F32 {
  if (!t || t.type !== 'float32' || t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i])) {
    throw new Error(`${what} is ${describeTensor(t)}, expected float32 [${dims.join(', ')}]`);
  }
  return t as F32;
}
