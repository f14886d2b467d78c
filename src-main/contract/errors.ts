/**
 * Errors as every layer raises them and every boundary reports them: one coded base class (`CodedError`), one way
 * to read the message of anything thrown (`errorMessage`) and one mapping to the API's coded result
 * (`toApiError`), used by the RPC server, the job queue and the engine worker alike.
 */

/** Why a call failed. A superset of ProjectErrorCode, so project errors map one to one. */
export type ErrorCode =
  | 'invalid-argument'
  | 'not-found'
  | 'model-error'
  | 'cancelled'
  | 'io-error'
  | 'busy'
  | 'locked'
  | 'future-version'
  | 'corrupt'
  | 'internal';

/** Every error code, for exhaustive checks and for telling a coded error from an arbitrary `code` property. */
export const ERROR_CODES: readonly ErrorCode[] = [
  'invalid-argument',
  'not-found',
  'model-error',
  'cancelled',
  'io-error',
  'busy',
  'locked',
  'future-version',
  'corrupt',
  'internal',
];

/** True when `value` is one of the API's error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** A failure as it crosses the process boundary; `details` is plain JSON (e.g. `{ issues: [{path, message}] }`). */
export interface ApiError {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

/** One problem in a document or request: dotted path (`regions.rgn_x.start`, `(root)`) and what is wrong. */
export interface ErrorIssue {
  path: string;
  message: string;
}

/**
 * The base of every error Tessera raises on purpose: a code from {@link ERROR_CODES} that the boundaries keep, a
 * message that names the value, what was expected and what to do, and, for documents, each field problem.
 */
export class CodedError<C extends ErrorCode = ErrorCode> extends Error {
  override name = 'CodedError';
  constructor(
    readonly code: C,
    message: string,
    options: { cause?: unknown; issues?: readonly ErrorIssue[] } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.issues = options.issues ?? [];
  }
  /** Each field problem when a document or request is at fault (empty otherwise). */
  readonly issues: readonly ErrorIssue[];
}

/** The message of anything thrown (an Error's message, an object's `message`, else its string form). */
export function errorMessage(e: unknown): string {
  try {
    if (e instanceof Error) return e.message;
    if (e !== null && typeof e === 'object' && 'message' in e && typeof e.message === 'string') return e.message;
    return String(e);
  } catch {
    return 'unprintable error';
  }
}

/** Issues listed in an API error's details at most. */
const MAX_ISSUES = 20;

/**
 * Maps a thrown value to a coded API error: an error whose `code` is an {@link ErrorCode} keeps it (its `issues` go
 * into `details`), a Node system error (`ENOENT`, `EACCES`) is `io-error`, anything else gets `fallback`: the RPC
 * server reports unexpected failures as `internal`, a generation job as `model-error` (the model or its runtime
 * failed). `cancelled`: the caller's own cancel fired, so the outcome is `cancelled` whatever was thrown.
 */
export function toApiError(e: unknown, options: { cancelled?: boolean; fallback?: ErrorCode } = {}): ApiError {
  const message = errorMessage(e);
  if (options.cancelled === true) return { code: 'cancelled', message: message === '' ? 'cancelled' : message };
  if (e !== null && typeof e === 'object') {
    const code: unknown = 'code' in e ? e.code : undefined;
    if (isErrorCode(code)) {
      const issues: unknown = 'issues' in e ? e.issues : undefined;
      return Array.isArray(issues) && issues.length > 0 ? { code, message, details: { issues: plainIssues(issues) } } : { code, message };
    }
    if (typeof code === 'string' && /^E[A-Z0-9_]+$/.test(code)) return { code: 'io-error', message };
  }
  return { code: options.fallback ?? 'internal', message };
}

/** Copies `{path, message}` pairs out of an error's issue list, dropping anything else it may carry. */
function plainIssues(issues: readonly unknown[]): ErrorIssue[] {
  return issues.slice(0, MAX_ISSUES).flatMap((issue) => {
    if (issue === null || typeof issue !== 'object') return [];
    const path: unknown = 'path' in issue ? issue.path : undefined;
    const text: unknown = 'message' in issue ? issue.message : undefined;
    return typeof path === 'string' && typeof text === 'string' ? [{ path, message: text }] : [];
  });
}
