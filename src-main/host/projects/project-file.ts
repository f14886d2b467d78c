/**
 * Reading and writing `project.json` and the autosave journal: bytes ↔ validated, migrated documents. Both files
 * are used only inside the project's real folder (./confine.ts): write-file-atomic writes through a link to its
 * target, so a `project.json` linked elsewhere would otherwise be overwritten there.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import * as v from 'valibot';
import { parseProject, ProjectError, type ProjectDocument } from '../../contract/project.ts';
import { confinedPath } from './confine.ts';
import { errnoCode, fsError, removeFileDurable, writeFileDurable } from './durable-fs.ts';
import { AUTOSAVE_FILE, PROJECT_FILE, STATE_DIR, type ProjectPaths } from './layout.ts';
import { migrateProjectJson, type ProjectMigration } from './migrations.ts';
import { errorMessage } from '../../contract/errors.ts';

const JOURNAL_SHOWN = `${STATE_DIR}/${AUTOSAVE_FILE}`;

/** A document read from disk. */
export interface LoadedDocument {
  document: ProjectDocument;
  /** The schemaVersion it was migrated from; null when it was current. */
  migratedFrom: number | null;
}

/** The bytes a document is stored as (stable: the same document always gives the same text). */
export function serializeProject(doc: ProjectDocument): string {
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Parses stored bytes: strict UTF-8 (a BOM is skipped), JSON, migrations, then the schema. Never writes. */
export function decodeProject(
  bytes: Uint8Array,
  where: string,
  migrations: Readonly<Record<number, ProjectMigration>> | undefined,
): LoadedDocument {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (e) {
    throw new ProjectError('corrupt', `${where} is not UTF-8 text; the file is damaged. Restore it from a backup.`, [], { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const reason = errorMessage(e);
    const empty = text.trim() === '' ? ' (the file is empty)' : '';
    throw new ProjectError(
      'corrupt',
      `${where} is not valid JSON${empty}: ${reason}. The file was left as it is; restore it from a backup.`,
      [{ path: '(root)', message: `not JSON: ${reason}` }],
      { cause: e },
    );
  }
  const migrated = migrateProjectJson(json, where, migrations);
  return { document: parseProject(migrated.json, where, 'corrupt'), migratedFrom: migrated.from };
}

/** Reads and validates `project.json`. */
export async function readProjectFile(
  paths: ProjectPaths,
  migrations?: Readonly<Record<number, ProjectMigration>>,
): Promise<LoadedDocument & { mtimeMs: number; text: string }> {
  let bytes: Buffer;
  let mtimeMs: number;
  try {
    const file = await confinedPath(paths.dir, paths.projectFile, PROJECT_FILE);
    bytes = await readFile(file);
    mtimeMs = (await stat(file)).mtimeMs;
  } catch (e) {
    throw (await folderInTheWay(e, paths.projectFile)) ?? fsError(e, 'read', paths.projectFile);
  }
  const loaded = decodeProject(bytes, paths.projectFile, migrations);
  return { ...loaded, mtimeMs, text: serializeProject(loaded.document) };
}

/** Writes `project.json` atomically and durably. */
export async function writeProjectFile(paths: ProjectPaths, doc: ProjectDocument): Promise<void> {
  try {
    await confinedPath(paths.dir, paths.projectFile, PROJECT_FILE);
    await writeFileDurable(paths.projectFile, serializeProject(doc));
  } catch (e) {
    throw (await folderInTheWay(e, paths.projectFile)) ?? fsError(e, 'save', paths.projectFile);
  }
}

/**
 * The error for a folder standing where a file must be (EISDIR on read; EISDIR, EPERM or ENOTEMPTY when a rename
 * meets it, by platform), checked on the path itself; undefined when that is not what happened.
 */
async function folderInTheWay(e: unknown, path: string): Promise<ProjectError | undefined> {
  if (!['EISDIR', 'EPERM', 'ENOTEMPTY', 'EEXIST'].includes(errnoCode(e) ?? '')) return undefined;
  if (!(await stat(path).then((s) => s.isDirectory(), () => false))) return undefined;
  return new ProjectError(
    'invalid-argument',
    `${basename(path)} in ${dirname(path)} is a folder, not a file; Tessera keeps the project document in a file of that name. ` +
      'Rename or move that folder (its contents are not read), then try again.',
    [],
    { cause: e },
  );
}

// ─── the autosave journal ────────────────────────────────────────────────────────────────────────────────────

const JournalSchema = v.strictObject({
  kind: v.literal('tessera-autosave'),
  savedAt: v.pipe(v.string(), v.isoTimestamp()),
  document: v.unknown(),
});

/** The journal's content once read. */
export interface JournalEntry {
  /** When the autosave was written, ISO 8601. */
  savedAt: string;
  document: ProjectDocument;
}

/** Writes the journal atomically: the document and the time it was written. */
export async function writeJournal(paths: ProjectPaths, doc: ProjectDocument, savedAt: Date): Promise<string> {
  const iso = savedAt.toISOString();
  const text = `${JSON.stringify({ kind: 'tessera-autosave', savedAt: iso, document: doc })}\n`;
  try {
    await confinedPath(paths.dir, paths.autosave, JOURNAL_SHOWN);
    await writeFileDurable(paths.autosave, text);
  } catch (e) {
    throw fsError(e, 'write the autosave', paths.autosave);
  }
  return iso;
}

/** Reads the journal: null when there is none; throws ProjectError when it is there but unusable. */
export async function readJournal(
  paths: ProjectPaths,
  migrations?: Readonly<Record<number, ProjectMigration>>,
): Promise<JournalEntry | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(await confinedPath(paths.dir, paths.autosave, JOURNAL_SHOWN));
  } catch (e) {
    if (fsError(e, 'read', paths.autosave).code === 'not-found') return null;
    throw fsError(e, 'read', paths.autosave);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    throw new ProjectError('corrupt', `${paths.autosave} is not valid JSON: ${String(e)}`, [], { cause: e });
  }
  const entry = v.safeParse(JournalSchema, json);
  if (!entry.success) throw new ProjectError('corrupt', `${paths.autosave} is not a Tessera autosave journal.`);
  const migrated = migrateProjectJson(entry.output.document, paths.autosave, migrations);
  return { savedAt: entry.output.savedAt, document: parseProject(migrated.json, paths.autosave, 'corrupt') };
}

/** Removes the journal (after a save, a discard, or a clean close). */
export async function clearJournal(paths: ProjectPaths): Promise<void> {
  try {
    await removeFileDurable(paths.autosave);
  } catch (e) {
    throw fsError(e, 'remove the autosave', paths.autosave);
  }
}
