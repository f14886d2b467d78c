/** The model manager's one error class: an API error code plus a message that names the file, the cause and the fix. */
import { CodedError, errorMessage, type ErrorCode } from '../../contract/errors.ts';
import { errnoCode } from '../projects/durable-fs.ts';

/**
 * A model-manager failure. `code` is the StudioApi code it maps to: `invalid-argument` (unknown id, licence not
 * accepted, unpinned revision), `not-found` (not on the hub, not installed), `io-error` (disk or network), `corrupt`
 * (hash or size mismatch), `model-error` (the pack's manifest is not loadable), `busy` (another install holds the
 * lock), `cancelled`.
 */
export class ModelsError extends CodedError {
  override name = 'ModelsError';
  /** A network failure worth retrying (dropped connection, 5xx, 429); the partial download is kept. */
  readonly transient: boolean;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; transient?: boolean }) {
    super(code, message, options?.cause === undefined ? {} : { cause: options.cause });
    this.transient = options?.transient ?? false;
  }
}

/** Wraps a file-system failure as an `io-error` that names the action, the path and what to do. */
export function diskError(e: unknown, action: string, path: string): ModelsError {
  if (e instanceof ModelsError) return e;
  const code = errnoCode(e);
  const reason = errorMessage(e);
  const hint =
    code === 'ENOSPC' ? 'The disk is full: free some space (or point TESSERA_MODELS_DIR at a larger disk) and try again.'
    : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'Check that the folder is writable, or set TESSERA_MODELS_DIR to a writable folder.'
    : code === 'ENOTDIR' || code === 'EEXIST' ? 'A file is in the way of a folder Tessera needs: move it, or set TESSERA_MODELS_DIR to another folder.'
    : 'Check the disk and the folder, then try again.';
  return new ModelsError('io-error', `Could not ${action} '${path}': ${reason}. ${hint}`, { cause: e });
}

/** True for an AbortSignal-caused rejection (fetch, streams, timers). */
export function isAbort(e: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || (e instanceof Error && e.name === 'AbortError');
}
