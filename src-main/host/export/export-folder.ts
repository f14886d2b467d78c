/**
 * What an export keeps in its output folder besides the audio: a hidden staging folder while it writes, and the
 * export record `.tessera-export.json` afterwards.
 *
 * - Staging: `.tessera-export-<pid>-<random>.staging/` inside the output folder (same filesystem, so moving a file
 *   into place is one atomic rename). A process killed mid-export leaves it behind; the next export into the folder
 *   removes every staging folder whose process is gone, and the `.<name>.<random>.partial` files older versions
 *   left next to the final names.
 * - The record lists, per exporting project, the files it wrote with their size and sha256. The next export of the
 *   same project removes the files it no longer writes (a deleted or renamed track's stem) — only while each is
 *   still exactly the file Tessera wrote; a file the user replaced or edited is left alone and forgotten. Names in
 *   the record are plain file names of this folder (anything else is ignored), so a damaged or hostile record can
 *   delete nothing but unchanged files Tessera itself wrote here.
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as v from 'valibot';
import { errnoCode } from '../projects/durable-fs.ts';

/** The export record's file name in an output folder. */
export const EXPORT_RECORD = '.tessera-export.json';
const STAGING = /^\.tessera-export-(\d+)-[0-9a-f]{12}\.staging$/;
const LEGACY_PARTIAL = /^\..+\.(?:wav|flac)\.[0-9a-f]{12}\.partial$/;
/** A plain, visible file name in one folder: no separators, not `.`/`..`, not hidden. */
const PLAIN_NAME = /^[^./\\\0][^/\\\0]*$/;

/** One file an export wrote. */
export interface RecordedFile {
  name: string;
  bytes: number;
  sha256: string;
}

const RecordSchema = v.object({
  kind: v.literal('tessera-export'),
  version: v.literal(1),
  exports: v.array(
    v.object({
      project: v.string(),
      files: v.array(v.object({ name: v.string(), bytes: v.number(), sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)) })),
    }),
  ),
});
type ExportRecord = v.InferOutput<typeof RecordSchema>;

/** The sha256 of bytes, hex. */
export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Creates this export's staging folder in `folder`. */
export async function createStaging(folder: string): Promise<string> {
  const staging = join(folder, `.tessera-export-${process.pid}-${randomBytes(6).toString('hex')}.staging`);
  await mkdir(staging);
  return staging;
}

/** Removes staging folders of exports whose process is gone, and older versions' `.partial` files. */
export async function removeLeftovers(folder: string): Promise<void> {
  const names = await readdir(folder).catch(() => [] as string[]);
  for (const name of names) {
    const staging = STAGING.exec(name);
    if ((staging && !processAlive(Number(staging[1]))) || LEGACY_PARTIAL.test(name)) {
      await rm(join(folder, name), { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

/**
 * Updates the record for `project` writing `written` (names staged for this export): before the files move into
 * place, the record already lists both the new files and the ones to remove, so a crash at any later point still
 * leaves every file Tessera wrote on record. Returns the files of the previous export to remove.
 */
export async function recordBeforeCommit(folder: string, staging: string, project: string, written: RecordedFile[]): Promise<RecordedFile[]> {
  const record = await readRecord(folder);
  const names = new Set(written.map((f) => f.name));
  const previous = record.exports.find((e) => e.project === project)?.files ?? [];
  const stale = previous.filter((f) => !names.has(f.name));
  await writeRecord(folder, staging, withProject(record, project, [...written, ...stale], names));
  return stale;
}

/** After the commit: removes the stale files that are still exactly Tessera's, and records only `written`. */
export async function recordAfterCommit(folder: string, staging: string, project: string, written: RecordedFile[], stale: RecordedFile[]): Promise<void> {
  for (const file of stale) if (await unchanged(folder, file)) await rm(join(folder, file.name), { force: true });
  const record = await readRecord(folder);
  await writeRecord(folder, staging, withProject(record, project, written, new Set(written.map((f) => f.name))));
}

/** `record` with `project`'s files set to `files` and the names in `taken` removed from every other project. */
function withProject(record: ExportRecord, project: string, files: RecordedFile[], taken: Set<string>): ExportRecord {
  const others = record.exports
    .filter((e) => e.project !== project)
    .map((e) => ({ project: e.project, files: e.files.filter((f) => !taken.has(f.name)) }))
    .filter((e) => e.files.length > 0);
  return { kind: 'tessera-export', version: 1, exports: [...others, { project, files }] };
}

async function readRecord(folder: string): Promise<ExportRecord> {
  const empty: ExportRecord = { kind: 'tessera-export', version: 1, exports: [] };
  let json: unknown;
  try {
    json = JSON.parse(await readFile(join(folder, EXPORT_RECORD), 'utf8'));
  } catch {
    return empty; // none yet, or unreadable: then nothing is known to be Tessera's
  }
  const parsed = v.safeParse(RecordSchema, json);
  if (!parsed.success) return empty;
  return {
    ...parsed.output,
    exports: parsed.output.exports.map((e) => ({ project: e.project, files: e.files.filter((f) => PLAIN_NAME.test(f.name) && f.name !== EXPORT_RECORD) })),
  };
}

/** Writes the record into staging, then renames it into place (atomic; no temp file outside staging). */
async function writeRecord(folder: string, staging: string, record: ExportRecord): Promise<void> {
  const temp = join(staging, EXPORT_RECORD);
  await writeFile(temp, `${JSON.stringify(record, null, 2)}\n`, { flush: true });
  await rename(temp, join(folder, EXPORT_RECORD));
}

/** True when `file` in `folder` is a plain file with the recorded size and sha256. */
async function unchanged(folder: string, file: RecordedFile): Promise<boolean> {
  const path = join(folder, file.name);
  const info = await lstat(path).catch(() => undefined);
  if (!info?.isFile() || info.size !== file.bytes) return false;
  return sha256Of(await readFile(path)) === file.sha256;
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true; // a concurrent export of this very process
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errnoCode(e) === 'EPERM'; // alive, but another user's
  }
}
