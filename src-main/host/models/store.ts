/**
 * The models folder: installed packs, partial downloads, per-id locks, install records.
 *
 * ```
 * <modelsDir>/<id>/                  an installed pack: manifest.json, its files, tessera-install.json
 * <modelsDir>/.staging/<id>/         an install in progress: verified files and <name>.part downloads (kept to resume)
 * <modelsDir>/.locks/<id>.lock       proper-lockfile lock: one install/import/remove of an id at a time
 * <modelsDir>/.trash/                packs being replaced or removed (deleted right after the swap)
 * ```
 * A pack folder appears only through one rename of a complete, verified staging folder, so whatever is listed as
 * installed is whole; dot-folders are never listed.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { lock } from 'proper-lockfile';
import * as v from 'valibot';
import writeFileAtomic from 'write-file-atomic';
import { parseManifest, type Manifest } from '../../contract/manifest.ts';
import { errnoCode, fsyncDirectory } from '../projects/durable-fs.ts';
import { diskError, ModelsError } from './errors.ts';

/** The record an install leaves in the pack folder (verifyPack ignores files its manifest does not list). */
export const INSTALL_RECORD = 'tessera-install.json';

const InstallRecordSchema = v.object({
  schemaVersion: v.literal(1),
  id: v.string(),
  installedAt: v.string(),
  source: v.variant('kind', [
    v.object({ kind: v.literal('hub'), hub: v.string(), repos: v.array(v.object({ repo: v.string(), revision: v.string(), commit: v.optional(v.string()) })) }),
    v.object({ kind: v.literal('import'), from: v.string() }),
  ]),
  licence: v.object({ name: v.string(), url: v.optional(v.string()), acceptedAt: v.optional(v.string()) }),
  /** Every file of the folder (manifest-listed or not) with its verified size and sha256. */
  files: v.record(v.string(), v.object({ bytes: v.number(), sha256: v.string() })),
});
/** How and when a pack got into the models folder. */
export type InstallRecord = v.InferOutput<typeof InstallRecordSchema>;

/** Paths inside a models folder. */
export const layout = {
  pack: (modelsDir: string, id: string): string => join(modelsDir, id),
  staging: (modelsDir: string, id: string): string => join(modelsDir, '.staging', id),
  lock: (modelsDir: string, id: string): string => join(modelsDir, '.locks', `${id}.lock`),
  trash: (modelsDir: string): string => join(modelsDir, '.trash'),
};

/** One pack folder of the models folder, as listed (files not hashed: `verifyPack` does that when it is used). */
export interface InstalledPack {
  id: string;
  dir: string;
  /** The parsed manifest; absent when it cannot be read (then `problem` says why). */
  manifest?: Manifest;
  problem?: string;
  record?: InstallRecord;
  bytes: number;
}

/** Total size of the regular files under `dir` (0 when it does not exist). */
export async function folderBytes(dir: string): Promise<number> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  let total = 0;
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await folderBytes(path);
    else if (entry.isFile()) total += await stat(path).then((s) => s.size, () => 0);
  }
  return total;
}

/** Reads a pack folder's install record, if it has a valid one. */
export async function readInstallRecord(dir: string): Promise<InstallRecord | undefined> {
  try {
    const parsed = v.safeParse(InstallRecordSchema, JSON.parse(await readFile(join(dir, INSTALL_RECORD), 'utf8')));
    return parsed.success ? parsed.output : undefined;
  } catch {
    return undefined;
  }
}

/** Writes the install record into a staging folder (fsynced; the folder is synced by the final swap). */
export async function writeInstallRecord(dir: string, record: InstallRecord): Promise<void> {
  const path = join(dir, INSTALL_RECORD);
  try {
    await writeFileAtomic(path, `${JSON.stringify(record, null, 2)}\n`, { fsync: true });
  } catch (e) {
    throw diskError(e, 'write the install record', path);
  }
}

/** Reads one pack folder of the models folder (manifest parsed, not hashed). */
export async function readInstalled(modelsDir: string, id: string): Promise<InstalledPack | undefined> {
  const dir = layout.pack(modelsDir, id);
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) return undefined;
  const pack: InstalledPack = { id, dir, bytes: await folderBytes(dir) };
  const record = await readInstallRecord(dir);
  if (record) pack.record = record;
  try {
    pack.manifest = parseManifest(JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')), `model pack ${dir}`);
    if (pack.manifest.id !== id) pack.problem = `its manifest says id '${pack.manifest.id}' but the folder is named '${id}'`;
  } catch (e) {
    pack.problem = e instanceof SyntaxError ? `manifest.json is not valid JSON (${e.message})` : (e as Error).message;
  }
  return pack;
}

/** Every pack folder of the models folder, by id (a missing models folder holds none). */
export async function listInstalled(modelsDir: string): Promise<InstalledPack[]> {
  let names: string[];
  try {
    names = (await readdir(modelsDir, { withFileTypes: true })).filter((d) => d.isDirectory() && !d.name.startsWith('.')).map((d) => d.name);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return [];
    throw diskError(e, 'list the models folder', modelsDir);
  }
  const packs = await Promise.all(names.sort().map((id) => readInstalled(modelsDir, id)));
  return packs.filter((p): p is InstalledPack => p !== undefined);
}

/** Disk use of the models folder. */
export interface DiskUsage {
  modelsDir: string;
  packs: Array<{ id: string; bytes: number }>;
  /** Partial downloads (resumable) by id. */
  partial: Array<{ id: string; bytes: number }>;
  totalBytes: number;
  /** Free space on the models folder's disk, when it can be read. */
  freeBytes?: number;
}

/** Sizes of installed packs and partial downloads, and the free space left. */
export async function diskUsage(modelsDir: string): Promise<DiskUsage> {
  const packs = (await listInstalled(modelsDir)).map((p) => ({ id: p.id, bytes: p.bytes }));
  const stagingRoot = join(modelsDir, '.staging');
  const staged = await readdir(stagingRoot, { withFileTypes: true }).catch(() => []);
  const partial = await Promise.all(staged.filter((d) => d.isDirectory()).map(async (d) => ({ id: d.name, bytes: await folderBytes(join(stagingRoot, d.name)) })));
  const totalBytes = [...packs, ...partial].reduce((sum, p) => sum + p.bytes, 0);
  const free = await freeSpace(modelsDir);
  return { modelsDir, packs, partial, totalBytes, ...(free === undefined ? {} : { freeBytes: free }) };
}

/** Free bytes on the disk holding `dir` (or its nearest existing parent), if the platform says. */
export async function freeSpace(dir: string): Promise<number | undefined> {
  let at = dir;
  for (let i = 0; i < 64; i++) {
    try {
      const s = await statfs(at);
      return s.bavail * s.bsize;
    } catch {
      const parent = join(at, '..');
      if (parent === at) return undefined;
      at = parent;
    }
  }
  return undefined;
}

/** Creates `dir` (and parents), turning failures into an io-error that names it. */
export async function ensureDir(dir: string, what: string): Promise<void> {
  try {
    await makeDirs(dir, 32);
  } catch (e) {
    throw diskError(e, `create ${what}`, dir);
  }
}

/**
 * mkdir -p, one level at a time.
 * NOTE: Node 20's `mkdir(…, { recursive: true })` spins forever on some paths it cannot create (seen under /proc),
 * so parents are created explicitly and every failure surfaces.
 */
async function makeDirs(dir: string, depth: number): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (info?.isDirectory()) return;
  if (info) throw Object.assign(new Error('a file is in the way (not a folder)'), { code: 'ENOTDIR' });
  try {
    await mkdir(dir);
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'EEXIST' && (await stat(dir).catch(() => undefined))?.isDirectory()) return;
    const parent = join(dir, '..');
    if (code !== 'ENOENT' || parent === dir || depth <= 0) throw e;
    await makeDirs(parent, depth - 1);
    await mkdir(dir).catch(async (again: unknown) => {
      if (errnoCode(again) !== 'EEXIST' || !(await stat(dir).catch(() => undefined))?.isDirectory()) throw again;
    });
  }
}

/** Runs `work` holding the lock of `id` in `modelsDir`; another holder gives a `busy` error. */
export async function withIdLock<T>(modelsDir: string, id: string, work: () => Promise<T>): Promise<T> {
  const path = layout.lock(modelsDir, id);
  await ensureDir(join(modelsDir, '.locks'), 'the models folder');
  let unlock: () => Promise<void>;
  try {
    // The default onCompromised throws from a timer; a lost lock only matters to a rival, who then proceeds.
    unlock = await lock(path, { lockfilePath: path, realpath: false, stale: 30_000, update: 10_000, retries: 0, onCompromised: () => undefined });
  } catch (e) {
    if (errnoCode(e) === 'ELOCKED') {
      throw new ModelsError('busy', `Another Tessera process is installing, importing or removing '${id}' (lock ${path}). Wait for it to finish; a lock left by a crashed process expires within 30 s.`, { cause: e });
    }
    throw diskError(e, 'lock', path);
  }
  try {
    return await work();
  } finally {
    await unlock().catch(() => undefined);
  }
}

/**
 * Puts the complete folder `from` at `to` with one rename (an existing `to` is moved to the trash first and
 * deleted after), then fsyncs the models folder so the rename survives a power cut.
 */
export async function swapIntoPlace(modelsDir: string, from: string, to: string): Promise<void> {
  const trashRoot = layout.trash(modelsDir);
  const old = join(trashRoot, `${randomBytes(6).toString('hex')}`);
  let moved = false;
  try {
    if (await stat(to).catch(() => undefined)) {
      await makeDirs(trashRoot, 1);
      await rename(to, old);
      moved = true;
    }
    await rename(from, to);
    await fsyncDirectory(modelsDir);
  } catch (e) {
    if (moved) await rename(old, to).catch(() => undefined);
    throw diskError(e, 'move the verified pack into place at', to);
  }
  if (moved) await rm(old, { recursive: true, force: true }).catch(() => undefined);
}

/** Removes an installed pack and any partial download of it; returns the bytes freed. */
export async function removeInstalled(modelsDir: string, id: string): Promise<{ id: string; freedBytes: number; removedPack: boolean; removedPartial: boolean }> {
  return withIdLock(modelsDir, id, async () => {
    const dir = layout.pack(modelsDir, id);
    const staging = layout.staging(modelsDir, id);
    const packBytes = (await stat(dir).catch(() => undefined))?.isDirectory() ? await folderBytes(dir) : undefined;
    const partialBytes = (await stat(staging).catch(() => undefined))?.isDirectory() ? await folderBytes(staging) : undefined;
    if (packBytes === undefined && partialBytes === undefined) {
      throw new ModelsError('not-found', `'${id}' is not installed in ${modelsDir} and has no partial download there; \`npm run models -- list\` shows what is.`);
    }
    if (packBytes !== undefined) {
      const trash = join(layout.trash(modelsDir), `${id}-${randomBytes(6).toString('hex')}`);
      try {
        await makeDirs(layout.trash(modelsDir), 1);
        await rename(dir, trash);
        await fsyncDirectory(modelsDir);
        await rm(trash, { recursive: true, force: true });
      } catch (e) {
        throw diskError(e, 'remove the pack folder', dir);
      }
    }
    if (partialBytes !== undefined) await rm(staging, { recursive: true, force: true }).catch((e: unknown) => {
      throw diskError(e, 'remove the partial download', staging);
    });
    return { id, freedBytes: (packBytes ?? 0) + (partialBytes ?? 0), removedPack: packBytes !== undefined, removedPartial: partialBytes !== undefined };
  });
}
