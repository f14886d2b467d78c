/**
 * Named error classes of the engine. Messages name the bad value, what is allowed and what to do. Each extends the
 * contract's {@link CodedError}, so every boundary (RPC server, job queue, worker) reports it with its own code.
 */
import { CodedError, errorMessage } from '../contract/errors.ts';
import { withinLimit, type NumberLimit } from '../contract/generation-settings.ts';
import type { Tensor } from './tensor/tensor.ts';

/** A request field is out of range or of the wrong kind. */
export class InvalidRequestError extends CodedError<'invalid-argument'> {
  override name = 'InvalidRequestError';
  constructor(
    readonly field: string,
    readonly value: unknown,
    message: string,
  ) {
    super('invalid-argument', message);
  }
}

/** The caller's AbortSignal fired; the work stopped between steps. */
export class CancelledError extends CodedError<'cancelled'> {
  override name = 'CancelledError';
  constructor(readonly stage: string) {
    super('cancelled', `generation cancelled during ${stage}`);
  }
}

/**
 * ONNX Runtime refused to run a graph on feeds that matched its declaration (a shape the graph cannot take inside, a
 * failing kernel, memory). The message names the graph and every feed's name, type and dims, and keeps ORT's own
 * message; `cause` is the original error.
 */
export class ModelRunError extends CodedError<'model-error'> {
  override name = 'ModelRunError';
  constructor(
    readonly graph: string,
    feeds: Readonly<Record<string, Tensor>>,
    cause: unknown,
  ) {
    const fed = Object.entries(feeds).map(([name, t]) => `'${name}' ${t.type} [${t.dims.join(', ')}]`);
    super(
      'model-error',
      `${graph}: ONNX Runtime failed to run the graph: ${errorMessage(cause)}\n` +
        `  feeds: ${fed.length > 0 ? fed.join(', ') : 'none'}\n` +
        "The feeds match the pack's declaration of the graph, so the graph itself refuses them: check the manifest's tensor list against the graph (or re-export the pack), or report the model.",
      { cause },
    );
  }
}

/** Throws {@link CancelledError} if `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, stage: string): void {
  if (signal?.aborted) throw new CancelledError(stage);
}

/** How {@link checkLimit} names a value: its label in the message (default the field), unit and a closing hint. */
export interface LimitWording {
  label?: string;
  /** Appended to the value (`' s'`). */
  unit?: string;
  /** What else helps ("3.5 is the model's default"). */
  hint?: string;
}

/**
 * Refuses `value` outside `limit` (contract/generation-settings.ts) with an {@link InvalidRequestError} naming the
 * field, the value, the bound it crossed and the table's range: "steps 0 must be a whole number from 1 to 1000",
 * "guidance -1 must be a number ≥ 0; expected a number from 0 to 100 (≤ 1 disables guidance)".
 */
export function checkLimit(field: string, value: unknown, limit: NumberLimit, wording: LimitWording = {}): void {
  if (withinLimit(limit, value)) return;
  const { label = field, unit = '', hint } = wording;
  const tail = hint === undefined ? '' : `; ${hint}`;
  if (limit.integer) throw new InvalidRequestError(field, value, `${label} ${String(value)}${unit} must be ${limit.expected}${tail}`);
  const above = typeof value === 'number' && value > limit.max;
  const problem = above ? `must be at most ${limit.max}${unit}` : `must be a number ${limit.exclusiveMin === true ? '>' : '≥'} ${limit.min}`;
  throw new InvalidRequestError(field, value, `${label} ${String(value)}${unit} ${problem}; expected ${limit.expected}${tail}`);
}
