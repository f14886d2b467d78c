/**
 * One project, one process: a proper-lockfile lock at `<project>/.tessera/lock`.
 *
 * proper-lockfile creates the lock with `mkdir` (atomic, also on network filesystems) and touches its mtime every
 * `staleMs / 2`; a lock whose mtime is older than `staleMs` belongs to a dead process and is taken over. The lock
 * is removed by `release()`, and on process exit (including SIGINT/SIGTERM, through signal-exit); after SIGKILL or
 * a power cut it goes stale within `staleMs`. Within one process a second open of the same folder fails the same
 * way as from another process (the `mkdir` finds it).
 */
import { mkdir, stat } from 'node:fs/promises';
import { lock } from 'proper-lockfile';
import { ProjectError } from '../../contract/project.ts';
import { errnoCode, fsError } from './durable-fs.ts';
import type { ProjectPaths } from './layout.ts';

/** A lock not refreshed for this long belongs to a process that died. */
export const LOCK_STALE_MS = 10_000;

/** A held project lock. */
export interface ProjectLock {
  /** Removes the lock (no-op when already released, or when it was lost and may now be another's). */
  release(): Promise<void>;
  /** Set when the lock could not be refreshed in time (system sleep, blocked event loop) and may be taken. */
  readonly lost: Error | undefined;
  /** True when a stale lock from a process that did not close the project was taken over. */
  readonly replacedStale: boolean;
}

/** Takes the lock of a project folder, or throws ProjectError `locked` naming the folder. */
export async function acquireProjectLock(
  paths: ProjectPaths,
  options: { staleMs?: number; onLost?: (error: Error) => void } = {},
): Promise<ProjectLock> {
  const staleMs = options.staleMs ?? LOCK_STALE_MS;
  try {
    await mkdir(paths.stateDir, { recursive: true });
  } catch (e) {
    throw fsError(e, 'create the project state folder', paths.stateDir);
  }
  const existed = await stat(paths.lock).then(
    () => true,
    () => false,
  );
  let lost: Error | undefined;
  let released = false;
  let unlock: () => Promise<void>;
  try {
    unlock = await lock(paths.dir, {
      lockfilePath: paths.lock,
      stale: staleMs,
      update: staleMs / 2,
      retries: 0,
      realpath: true,
      // The default throws from a timer (crashing the process); record it instead and let saves re-lock.
      onCompromised: (error) => {
        lost = error;
        options.onLost?.(error);
      },
    });
  } catch (e) {
    if (errnoCode(e) === 'ELOCKED') {
      throw new ProjectError(
        'locked',
        `The project '${paths.dir}' is already open in another Tessera window or process (lock: ${paths.lock}). ` +
          `Close it there first; if that process crashed, the lock expires within ${Math.round(staleMs / 1000)} s.`,
        [],
        { cause: e },
      );
    }
    throw fsError(e, 'lock the project folder', paths.dir);
  }
  return {
    get lost() {
      return lost;
    },
    replacedStale: existed,
    async release() {
      if (released || lost) return;
      released = true;
      await unlock().catch((e: unknown) => {
        if (errnoCode(e) !== 'ERELEASED') throw fsError(e, 'unlock the project folder', paths.dir);
      });
    },
  };
}
