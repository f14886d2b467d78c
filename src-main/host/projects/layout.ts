/**
 * The project folder layout. A project is a folder; only `project.json` is required to open one.
 *
 * ```
 * <project>/
 *   project.json          the document (ProjectDocument), written atomically
 *   takes/                generated audio, and each piece's final latent (.npy), immutable: written once under a fresh
 *                         name, never overwritten
 *   peaks/                multi-resolution min/max peak cache (derived; may be deleted)
 *   .tessera/lock         proper-lockfile lock directory: the project is open in some process
 *   .tessera/autosave.json  the autosave journal (unsaved edits), cleared by every save
 *   .tessera/project.v<N>.json  the file as it was before a migration from schemaVersion N first saved over it
 * ```
 */
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ProjectError } from '../../contract/project.ts';

export const PROJECT_FILE = 'project.json';
export const TAKES_DIR = 'takes';
export const PEAKS_DIR = 'peaks';
export const STATE_DIR = '.tessera';
export const LOCK_NAME = 'lock';
export const AUTOSAVE_FILE = 'autosave.json';

/** Absolute paths of one project folder's parts. */
export interface ProjectPaths {
  dir: string;
  projectFile: string;
  takesDir: string;
  peaksDir: string;
  stateDir: string;
  lock: string;
  autosave: string;
}

/** The paths of the project folder `dir` (resolved against the working directory). */
export function projectPaths(dir: string): ProjectPaths {
  const root = resolve(dir);
  const state = join(root, STATE_DIR);
  return {
    dir: root,
    projectFile: join(root, PROJECT_FILE),
    takesDir: join(root, TAKES_DIR),
    peaksDir: join(root, PEAKS_DIR),
    stateDir: state,
    lock: join(state, LOCK_NAME),
    autosave: join(state, AUTOSAVE_FILE),
  };
}

/** Where the pre-migration copy of a file of schemaVersion `version` is kept. */
export function migrationBackupPath(paths: ProjectPaths, version: number): string {
  return join(paths.stateDir, `project.v${version}.json`);
}

/**
 * The absolute path of a take's `file` (`takes/…`), refusing anything that would leave `takes/` (the schema
 * already forbids `..`; this is the second fence for paths that come from elsewhere).
 */
export function takeFilePath(paths: ProjectPaths, file: string): string {
  const full = resolve(paths.dir, file);
  const inside = relative(paths.takesDir, full);
  if (inside === '' || inside.startsWith(`..${sep}`) || inside === '..' || isAbsolute(inside)) {
    throw new ProjectError('invalid-argument', `take file '${file}' is not inside ${paths.takesDir}`);
  }
  return full;
}
