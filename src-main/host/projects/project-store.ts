/**
 * Project folders on disk: new, open, save, save-as, close, autosave and crash recovery (ARCHITECTURE.md §5,
 * research/ux.md §4.2). Every failure is a ProjectError with a code. Folder layout: ./layout.ts; write
 * durability: ./durable-fs.ts; the lock: ./project-lock.ts; migrations: ./migrations.ts.
 *
 * Rules this module keeps:
 * - Opening never writes `project.json`, whatever happens (migration happens in memory; a failed open changes
 *   nothing but the lock it took and gave back).
 * - Every write of `project.json` and of the journal is atomic and durable, and the writes of one handle run one
 *   at a time in call order.
 * - A save clears the journal; an autosave newer than `project.json` (and different from it) is offered on open.
 */
import { constants } from 'node:fs';
import { copyFile, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, isAbsolute, sep } from 'node:path';
import {
  createEmptyProject,
  parseProject,
  ProjectError,
  type NewId,
  type ProjectDocument,
} from '../../contract/project.ts';
import { copyTreeDurable, errnoCode, fsError, fsyncDirectory, removeTempLeftovers } from './durable-fs.ts';
import { APP_IDENTITY, randomId } from './ids.ts';
import { AUTOSAVE_FILE, migrationBackupPath, PROJECT_FILE, projectPaths, takeFilePath, type ProjectPaths } from './layout.ts';
import type { ProjectMigration } from './migrations.ts';
import { acquireProjectLock, type ProjectLock } from './project-lock.ts';
import { removePartialTakes } from './takes.ts';
import {
  clearJournal,
  readJournal,
  readProjectFile,
  serializeProject,
  writeJournal,
  writeProjectFile,
  type JournalEntry,
} from './project-file.ts';
import { errorMessage } from '../../contract/errors.ts';

/** Injected clock, ids and limits (tests and the app's composition root set these). */
export interface ProjectStoreOptions {
  /** The clock for `createdAt` and autosave times. */
  now?: () => Date;
  /** Id generator for new tracks, regions and takes. */
  newId?: NewId;
  /** `createdWith` of new projects (default: this build, `Tessera <package version>`). */
  createdWith?: string;
  /** Migration registry (default: PROJECT_MIGRATIONS). */
  migrations?: Readonly<Record<number, ProjectMigration>>;
  /** Lock staleness in ms (default LOCK_STALE_MS; every process must use the same value). */
  lockStaleMs?: number;
  /** Called when the lock could not be kept fresh (the next save tries to take it again). */
  onLockLost?: (error: Error) => void;
}

/** An open project. Opaque: pass it back to the functions of this module. */
export class ProjectHandle {
  /** @param dir The project folder, absolute. */
  constructor(readonly dir: string) {}
}

/** Unsaved work found in the journal after a crash. */
export interface Recovery {
  /** When the autosave was written, ISO 8601. */
  savedAt: string;
  document: ProjectDocument;
}

/** What opening (or creating) a project gives. */
export interface OpenedProject {
  handle: ProjectHandle;
  /** The saved document (migrated to the current version in memory). */
  document: ProjectDocument;
  /** An autosave with changes newer than the saved document, to offer to the user; null when none. */
  recovery: Recovery | null;
  /** The schemaVersion the file had when it was migrated on open; null when it was current. */
  migratedFrom: number | null;
  /** True when a lock left by a process that did not close the project (a crash) was taken over. */
  staleLockReplaced: boolean;
  /** Take files the document refers to that are not on disk (project-relative paths). */
  missingTakes: string[];
  /** Things the user may want to know that did not stop the open (an unreadable autosave, …). */
  warnings: string[];
}

interface HandleState {
  paths: ProjectPaths;
  lock: ProjectLock;
  options: ProjectStoreOptions;
  closed: boolean;
  /** The document as last opened or saved, and its serialized form. */
  saved: ProjectDocument;
  savedText: string;
  migratedFrom: number | null;
  /** Tail of the queue that keeps one handle's file operations in call order. */
  tail: Promise<unknown>;
}

const states = new WeakMap<ProjectHandle, HandleState>();

/** Creates a project in `dir` (a new or empty folder) and opens it. */
export async function createProject(dir: string, name: string, options: ProjectStoreOptions = {}): Promise<OpenedProject> {
  const paths = projectPaths(dir);
  const now = options.now ?? (() => new Date());
  const document = createEmptyProject(name, now(), {
    newId: options.newId ?? randomId,
    createdWith: options.createdWith ?? APP_IDENTITY,
  });
  const created = await prepareEmptyFolder(paths.dir, 'create a project in');
  let lock: ProjectLock | undefined;
  try {
    lock = await acquireProjectLock(paths, { staleMs: options.lockStaleMs, onLost: options.onLockLost });
    await mkdir(paths.takesDir, { recursive: true });
    await mkdir(paths.peaksDir, { recursive: true });
    await writeProjectFile(paths, document);
    await fsyncDirectory(dirname(paths.dir));
  } catch (e) {
    await lock?.release().catch(() => undefined);
    await undoFolder(paths, created);
    throw fsError(e, 'create the project in', paths.dir);
  }
  const handle = register(paths, lock, options, document, null);
  return { handle, document, recovery: null, migratedFrom: null, staleLockReplaced: false, missingTakes: [], warnings: [] };
}

/**
 * Opens the project in `dir`: locks it, reads and validates `project.json` (migrating older versions in memory),
 * sweeps temp files left by killed writers, and reports an autosave newer than the saved document.
 */
export async function openProject(dir: string, options: ProjectStoreOptions = {}): Promise<OpenedProject> {
  const paths = projectPaths(dir);
  const info = await stat(paths.dir).catch((e: unknown) => {
    throw errnoCode(e) === 'ENOENT' ? new ProjectError('not-found', `There is no folder '${paths.dir}'.`) : fsError(e, 'open', paths.dir);
  });
  if (!info.isDirectory()) throw new ProjectError('invalid-argument', `'${paths.dir}' is a file; a project is a folder.`);
  await stat(paths.projectFile).catch((e: unknown) => {
    throw errnoCode(e) === 'ENOENT'
      ? new ProjectError('not-found', `'${paths.dir}' is not a Tessera project: it has no ${PROJECT_FILE}.`)
      : fsError(e, 'open', paths.projectFile);
  });
  const lock = await acquireProjectLock(paths, { staleMs: options.lockStaleMs, onLost: options.onLockLost });
  try {
    const loaded = await readProjectFile(paths, options.migrations).catch(async (e: unknown) => {
      throw await withAutosaveHint(e, paths, options);
    });
    await removeTempLeftovers(paths.dir, PROJECT_FILE);
    await removeTempLeftovers(paths.stateDir, AUTOSAVE_FILE);
    await removePartialTakes(paths);
    const warnings: string[] = [];
    let recovery: Recovery | null = null;
    try {
      const journal = await readJournal(paths, options.migrations);
      if (journal && Date.parse(journal.savedAt) > loaded.mtimeMs && serializeProject(journal.document) !== loaded.text) {
        recovery = journal;
      }
    } catch (e) {
      warnings.push(`The autosave ${paths.autosave} could not be used and was ignored: ${errorMessage(e)}`);
    }
    const missingTakes = await findMissingTakes(paths, loaded.document);
    const handle = register(paths, lock, options, loaded.document, loaded.migratedFrom);
    return {
      handle,
      document: loaded.document,
      recovery,
      migratedFrom: loaded.migratedFrom,
      staleLockReplaced: lock.replacedStale,
      missingTakes,
      warnings,
    };
  } catch (e) {
    await lock.release().catch(() => undefined);
    throw fsError(e, 'open', paths.projectFile);
  }
}

/** Validates `doc` and writes it to `project.json` atomically; clears the autosave journal. */
export function saveProject(handle: ProjectHandle, doc: ProjectDocument): Promise<ProjectDocument> {
  return updateProject(handle, () => doc);
}

/**
 * Saves `change(last saved document)` as {@link saveProject} does, reading the last saved document inside the same
 * exclusive section as the write: a change computed from the saved state (new takes of a headless generation) can
 * never write back a document older than a save that finished before it.
 */
export function updateProject(handle: ProjectHandle, change: (saved: ProjectDocument) => ProjectDocument): Promise<ProjectDocument> {
  return exclusive(handle, async (state) => {
    const parsed = parseProject(change(state.saved), `the project to save in ${state.paths.dir}`);
    await ensureLock(state);
    await keepMigrationBackup(state);
    await writeProjectFile(state.paths, parsed);
    await clearJournal(state.paths);
    state.saved = parsed;
    state.savedText = serializeProject(parsed);
    return parsed;
  });
}

/**
 * Writes `doc` (default: the last saved document) as a new project in `newDir` (a new or empty folder), copying
 * `takes/` and `peaks/`, then closes the old project (its journal cleared: the unsaved work now lives in the new
 * one) and returns the new one, open.
 */
export async function saveProjectAs(handle: ProjectHandle, newDir: string, doc?: ProjectDocument): Promise<OpenedProject> {
  const old = stateOf(handle);
  const target = projectPaths(newDir);
  const fromOld = relative(old.paths.dir, target.dir);
  if (fromOld === '' || !(fromOld === '..' || fromOld.startsWith(`..${sep}`) || isAbsolute(fromOld))) {
    throw new ProjectError('invalid-argument', `'${target.dir}' is the project folder or inside it; save as into a separate folder.`);
  }
  const document = parseProject(doc ?? old.saved, `the project to save in ${target.dir}`);
  const created = await prepareEmptyFolder(target.dir, 'save the project as');
  let lock: ProjectLock | undefined;
  try {
    lock = await acquireProjectLock(target, { staleMs: old.options.lockStaleMs, onLost: old.options.onLockLost });
    await exclusive(handle, async (state) => {
      await copyTreeDurable(state.paths.takesDir, target.takesDir);
      await copyTreeDurable(state.paths.peaksDir, target.peaksDir);
    });
    await mkdir(target.takesDir, { recursive: true });
    await mkdir(target.peaksDir, { recursive: true });
    await writeProjectFile(target, document);
    await fsyncDirectory(target.dir);
    await fsyncDirectory(dirname(target.dir));
  } catch (e) {
    await lock?.release().catch(() => undefined);
    await undoFolder(target, created);
    throw fsError(e, 'save the project as', target.dir);
  }
  await closeProject(handle);
  const opened = register(target, lock, old.options, document, null);
  return {
    handle: opened,
    document,
    recovery: null,
    migratedFrom: null,
    staleLockReplaced: false,
    missingTakes: await findMissingTakes(target, document),
    warnings: [],
  };
}

/** Closes the project: removes the journal (unless `keepAutosave`) and releases the lock. Idempotent. */
export async function closeProject(handle: ProjectHandle, options: { keepAutosave?: boolean } = {}): Promise<void> {
  const state = states.get(handle);
  if (!state || state.closed) return;
  await exclusive(handle, async (s) => {
    s.closed = true;
    try {
      if (!options.keepAutosave) await clearJournal(s.paths);
    } finally {
      await s.lock.release();
    }
  });
}

/**
 * Writes the autosave journal (`.tessera/autosave.json`) with `doc` and the time; returns that time. A document
 * equal to the saved one clears the journal instead (nothing would be lost).
 */
export function autosave(handle: ProjectHandle, doc: ProjectDocument): Promise<string | null> {
  return exclusive(handle, async (state) => {
    const parsed = parseProject(doc, `the project to autosave in ${state.paths.dir}`);
    await ensureLock(state);
    if (serializeProject(parsed) === state.savedText) {
      await clearJournal(state.paths);
      return null;
    }
    return writeJournal(state.paths, parsed, (state.options.now ?? (() => new Date()))());
  });
}

/**
 * Takes the offered recovery: returns the autosaved document. Nothing is written: the journal stays until the
 * user saves (so a second crash still recovers), and the document counts as unsaved.
 */
export function acceptRecovery(handle: ProjectHandle): Promise<JournalEntry> {
  return exclusive(handle, async (state) => {
    const journal = await readJournal(state.paths, state.options.migrations);
    if (!journal) throw new ProjectError('not-found', `There is no autosave to recover in ${state.paths.stateDir}.`);
    return journal;
  });
}

/** Declines the offered recovery: the journal is deleted. */
export function discardRecovery(handle: ProjectHandle): Promise<void> {
  return exclusive(handle, (state) => clearJournal(state.paths));
}

/** The paths of an open project (for take, peak and export writers). */
export function pathsOf(handle: ProjectHandle): ProjectPaths {
  return stateOf(handle).paths;
}

// ─── internals ──────────────────────────────────────────────────────────────────────────────────────────────

function register(
  paths: ProjectPaths,
  lock: ProjectLock,
  options: ProjectStoreOptions,
  saved: ProjectDocument,
  migratedFrom: number | null,
): ProjectHandle {
  const handle = new ProjectHandle(paths.dir);
  states.set(handle, {
    paths,
    lock,
    options,
    closed: false,
    saved,
    savedText: serializeProject(saved),
    migratedFrom,
    tail: Promise.resolve(),
  });
  return handle;
}

function stateOf(handle: ProjectHandle): HandleState {
  const state = states.get(handle);
  if (!state) throw new ProjectError('invalid-argument', 'not a project handle from openProject or createProject');
  if (state.closed) throw new ProjectError('invalid-argument', `the project '${handle.dir}' is closed; open it again`);
  return state;
}

/** Runs `fn` after every earlier operation on the handle has finished. */
function exclusive<T>(handle: ProjectHandle, fn: (state: HandleState) => Promise<T>): Promise<T> {
  const state = states.get(handle);
  if (!state) return Promise.reject(new ProjectError('invalid-argument', 'not a project handle'));
  const run = state.tail.then(() => fn(stateOf(handle)));
  state.tail = run.catch(() => undefined);
  return run;
}

/** Before writing, makes sure the lock is still ours; one lost to a stall is taken again if nobody else has it. */
async function ensureLock(state: HandleState): Promise<void> {
  if (!state.lock.lost) return;
  state.lock = await acquireProjectLock(state.paths, { staleMs: state.options.lockStaleMs, onLost: state.options.onLockLost });
}

/** The first save after a migration keeps the original file in `.tessera/project.v<N>.json`. */
async function keepMigrationBackup(state: HandleState): Promise<void> {
  if (state.migratedFrom === null) return;
  const backup = migrationBackupPath(state.paths, state.migratedFrom);
  try {
    await copyFile(state.paths.projectFile, backup, constants.COPYFILE_EXCL);
    await fsyncDirectory(state.paths.stateDir);
  } catch (e) {
    if (errnoCode(e) !== 'EEXIST') throw fsError(e, 'keep a copy of the pre-migration file as', backup);
  }
  state.migratedFrom = null;
}

/** Makes sure `dir` is a new or empty folder; returns whether it was created (so a failure can remove it). */
async function prepareEmptyFolder(dir: string, action: string): Promise<boolean> {
  let entries: string[] | undefined;
  try {
    entries = await readdir(dir);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'ENOTDIR') throw new ProjectError('invalid-argument', `Cannot ${action} '${dir}': it is a file.`);
    if (code !== 'ENOENT') throw fsError(e, action, dir);
  }
  if (entries !== undefined) {
    if (entries.length > 0) {
      const hint = entries.includes(PROJECT_FILE) ? 'it already holds a project (open it instead)' : 'it is not empty';
      throw new ProjectError('invalid-argument', `Cannot ${action} '${dir}': ${hint}. Choose a new or empty folder.`);
    }
    return false;
  }
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    throw fsError(e, action, dir);
  }
  return true;
}

/** Removes what a failed create or save-as made: the folder if it made it, else the entries it added. */
async function undoFolder(paths: ProjectPaths, created: boolean): Promise<void> {
  const targets = created ? [paths.dir] : [paths.projectFile, paths.takesDir, paths.peaksDir, paths.stateDir];
  for (const target of targets) await rm(target, { recursive: true, force: true }).catch(() => undefined);
}

async function findMissingTakes(paths: ProjectPaths, doc: ProjectDocument): Promise<string[]> {
  const missing: string[] = [];
  for (const region of Object.values(doc.regions)) {
    for (const take of region.takes) {
      const present = await stat(takeFilePath(paths, take.file)).then(
        (s) => s.isFile(),
        () => false,
      );
      if (!present) missing.push(take.file);
    }
  }
  return missing;
}

/** A failed open mentions an autosave that might hold the user's work. */
async function withAutosaveHint(e: unknown, paths: ProjectPaths, options: ProjectStoreOptions): Promise<unknown> {
  if (!(e instanceof ProjectError) || e.code !== 'corrupt') return e;
  const journal = await readJournal(paths, options.migrations).catch(() => null);
  if (!journal) return e;
  return new ProjectError(
    e.code,
    `${e.message}\nAn autosave from ${journal.savedAt} is in ${join(paths.stateDir, AUTOSAVE_FILE)}; it may hold your latest work.`,
    e.issues,
    { cause: e.cause },
  );
}
