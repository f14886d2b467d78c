/**
 * What the studio's action modules (edit-actions.ts, generation-actions.ts, project-actions.ts) share of the studio:
 * calls to the host that report their own failures. Each module declares the rest it needs as an interface of its
 * own, so the actions depend on these small shapes and StudioState (which composes them) on the actions, never the
 * other way round.
 */
import type { ApiResult, StudioApi } from '../../src-main/contract/api.ts';
import type { Notices } from './notices.svelte.ts';

/** Host calls that show a failure as a notice (StudioState implements them). */
export interface HostCalls {
  /** The host's API while connected. */
  readonly api: StudioApi | null;
  readonly notices: Notices;
  /** Calls the host; on failure shows `failure` with the host's message and resolves to null. */
  call<T>(failure: string, run: (api: StudioApi) => Promise<ApiResult<T>>): Promise<T | null>;
  /** Calls a host method that answers `null` on success; true when it succeeded. */
  succeeded(failure: string, run: (api: StudioApi) => Promise<ApiResult<null>>): Promise<boolean>;
}

/** The open project's host-side facts. */
export interface OpenProject {
  projectId: string;
  dir: string;
}

/** A recovery offer for the project just opened. */
export interface RecoveryOffer {
  savedAt: string | null;
}
