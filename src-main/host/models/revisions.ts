/**
 * Commits a user entered for the repos a catalog entry does not pin, kept beside the partial download
 * (`<modelsDir>/.staging/<id>.revisions.json`) so that Resume — in this run or the next — fetches the same commit
 * without asking again. Removed when the install finishes or the partial download is removed.
 */
import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as v from 'valibot';
import writeFileAtomic from 'write-file-atomic';
import { commitSchema, isDownloadSource, type CatalogEntry } from '../../contract/catalog.ts';
import { isUnpinned } from './catalog.ts';
import { diskError } from './errors.ts';

const RevisionsSchema = v.record(v.string(), commitSchema);

const fileOf = (modelsDir: string, id: string): string => join(modelsDir, '.staging', `${id}.revisions.json`);

/** The commits remembered for `id` (empty when none, or when the file is unreadable: the user is asked again). */
export async function readEnteredRevisions(modelsDir: string, id: string): Promise<Record<string, string>> {
  try {
    const parsed = v.safeParse(RevisionsSchema, JSON.parse(await readFile(fileOf(modelsDir, id), 'utf8')));
    return parsed.success ? parsed.output : {};
  } catch {
    return {};
  }
}

/** Remembers the commits given for `entry`'s unpinned repos (others are ignored: the catalog pins them). */
export async function rememberRevisions(modelsDir: string, entry: CatalogEntry, revisions: Record<string, string>): Promise<void> {
  if (!isDownloadSource(entry.source)) return;
  const unpinned = new Set(entry.source.repos.filter((p) => isUnpinned(p.revision)).map((p) => p.repo));
  const kept = Object.fromEntries(Object.entries(revisions).filter(([repo]) => unpinned.has(repo)));
  if (Object.keys(kept).length === 0) return;
  const path = fileOf(modelsDir, entry.id);
  await mkdir(dirname(path), { recursive: true }).catch((e: unknown) => {
    throw diskError(e, 'create the staging folder for', path);
  });
  await writeFileAtomic(path, `${JSON.stringify(kept, null, 2)}\n`, { fsync: true }).catch((e: unknown) => {
    throw diskError(e, 'remember the entered revisions in', path);
  });
}

/** Forgets the commits remembered for `id`. */
export async function forgetRevisions(modelsDir: string, id: string): Promise<void> {
  await rm(fileOf(modelsDir, id), { force: true });
}
