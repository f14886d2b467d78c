/** Named error classes of the engine. Messages name the bad value, what is allowed and what to do. */

/** A request field is out of range or of the wrong kind. */
export class InvalidRequestError extends Error {
  override name = 'InvalidRequestError';
  constructor(
    readonly field: string,
    readonly value: unknown,
    message: string,
  ) {
    super(message);
  }
}

/** The caller's AbortSignal fired; the work stopped between steps. */
export class CancelledError extends Error {
  override name = 'CancelledError';
  constructor(readonly stage: string) {
    super(`generation cancelled during ${stage}`);
  }
}

/** Throws {@link CancelledError} if `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, stage: string): void {
  if (signal?.aborted) throw new CancelledError(stage);
}
