/** The converter's error: a coded failure whose message names the file, the tensor or field, and what to do. */
import { CodedError, type ErrorCode } from '../../../contract/errors.ts';

/**
 * A diffusers folder that cannot become a pack: `model-error` (not an AudioLDM folder, a missing or mis-shaped
 * tensor, an unsupported config), `not-found` (a file the folder must have), `cancelled`, `io-error`.
 */
export class ConvertError extends CodedError {
  override name = 'ConvertError';
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options?.cause === undefined ? {} : { cause: options.cause });
  }
}

/** Throws a `cancelled` ConvertError when `signal` has fired; `during` says what was interrupted. */
export function throwIfCancelled(signal: AbortSignal | undefined, during: string): void {
  if (signal?.aborted) throw new ConvertError('cancelled', `Conversion cancelled while ${during}; nothing was installed.`);
}
