/**
 * Installing a catalog entry: plan (offline checks) → lock the id → ask the hub what each file must be → check the
 * free space → download every file into `.staging/<id>/` (resuming `.part` files, reusing identical files of other
 * installed packs) and verify it → complete or check the manifest → write the install record → `verifyPack` the
 * staging folder → one rename into `<modelsDir>/<id>`. Any failure leaves the installed set as it was; partial
 * downloads stay in staging for the next attempt.
 */
import { constants } from 'node:fs';
import { copyFile, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { CatalogEntry } from '../../contract/catalog.ts';
import type { Manifest } from '../../contract/manifest.ts';
import { PackError, verifyPack } from '../packs/load.ts';
import { backoff, downloadFile, type ByteEvent } from './download.ts';
import { diskError, isAbort, ModelsError } from './errors.ts';
import { fetchFileInfo, type NetOptions } from './hub.ts';
import { checkManifest, completeManifest, planInstall, type InstallPlan, type PlannedFile } from './plan.ts';
import { etaSeconds, RateMeter, throttle, type InstallProgress } from './progress.ts';
import { ensureDir, freeSpace as statFreeSpace, INSTALL_RECORD, layout, listInstalled, swapIntoPlace, withIdLock, writeInstallRecord, type InstallRecord } from './store.ts';
import { canVerify, digestFile, digestMismatch, type Expected, type FileDigest } from './verify.ts';

/** Options of {@link installPack}. */
export interface InstallOptions extends NetOptions {
  modelsDir: string;
  hubUrl: string;
  /** The user has read and accepted `entry.licence`; without it nothing is fetched. */
  acceptLicence: boolean;
  /** Commits for repos whose catalog revision is UNPINNED (or to override it): repo → 40-hex commit. */
  revisions?: Record<string, string>;
  /** Retries per file after a dropped connection (default 5). */
  retries?: number;
  /** First back-off delay, ms (default 1000). */
  retryDelayMs?: number;
  onProgress?: (p: InstallProgress) => void;
  /** Clock for speed and ETA (default Date.now). */
  now?: () => number;
  /** Free-space probe (default: statfs of the models folder). */
  freeSpace?: (dir: string) => Promise<number | undefined>;
  /** Opens every graph of the verified download before it is installed (see ModelManagerOptions.checkPack). */
  checkPack?: (dir: string) => Promise<void>;
}

/** What an install did. */
export interface InstallResult {
  id: string;
  dir: string;
  manifest: Manifest;
  /** Bytes of the pack's files. */
  bytes: number;
  /** Bytes that came over the network in this run. */
  downloadedBytes: number;
  /** Bytes found in `.part` files or finished files from an earlier run and kept. */
  resumedBytes: number;
  /** Files copied from another installed pack instead of downloaded. */
  reusedFiles: string[];
  /** Times a partial file was discarded and fetched from byte 0 (server ignored Range, file changed). */
  restarts: number;
}

interface FileState extends PlannedFile {
  expected: Expected;
  url: string;
  commit?: string;
}

/** Installs `entry` into `o.modelsDir`; see the file comment. */
export async function installPack(entry: CatalogEntry, o: InstallOptions): Promise<InstallResult> {
  const plan = planInstall(entry, o);
  const id = entry.id;
  await ensureDir(o.modelsDir, 'the models folder');
  return withIdLock(o.modelsDir, id, () => fetchAndInstall(entry, plan, o)).catch((e: unknown) => {
    if (isAbort(e, o.signal) && !(e instanceof ModelsError)) throw new ModelsError('cancelled', `Install of '${id}' cancelled; downloaded files are kept for the next attempt.`, { cause: e });
    throw e;
  });
}

async function fetchAndInstall(entry: CatalogEntry, plan: InstallPlan, o: InstallOptions): Promise<InstallResult> {
  const id = entry.id;
  const staging = layout.staging(o.modelsDir, id);
  await ensureDir(staging, 'the staging folder');
  const now = o.now ?? Date.now;
  const stats: Pick<InstallResult, 'downloadedBytes' | 'resumedBytes' | 'reusedFiles' | 'restarts'> = { downloadedBytes: 0, resumedBytes: 0, reusedFiles: [], restarts: 0 };

  const files: FileState[] = [];
  for (const f of plan.files) files.push(await describeFile(f, o));
  const sized = files.every((f) => f.expected.bytes !== undefined);
  const bytesTotal = sized ? files.reduce((s, f) => s + (f.expected.bytes ?? 0), 0) : null;
  await checkFreeSpace(files, staging, o);

  const meter = new RateMeter(now);
  let bytesDone = 0;
  const emit = throttle<InstallProgress>((p) => o.onProgress?.(p), now);
  const report = (phase: InstallProgress['phase'], file: string, fileDone: number, fileTotal: number | undefined, force = false): void => {
    const rate = meter.rate();
    emit({ id, phase, file, fileBytesDone: fileDone, fileBytesTotal: fileTotal ?? null, bytesDone, bytesTotal, bytesPerSecond: rate, etaSeconds: etaSeconds(bytesTotal === null ? null : bytesTotal - bytesDone, rate) }, force);
  };

  const reusable = await reusableFiles(o.modelsDir, id);
  const digests = new Map<string, FileDigest>();
  const ordered = [...files].sort((a, b) => Number(b.name === 'manifest.json') - Number(a.name === 'manifest.json') || (a.expected.bytes ?? Infinity) - (b.expected.bytes ?? Infinity));
  for (const f of ordered) {
    if (o.signal?.aborted) throw new ModelsError('cancelled', `Install of '${id}' cancelled; downloaded files are kept for the next attempt.`);
    const dest = join(staging, f.name);
    report('download', f.name, 0, f.expected.bytes, true);
    let digest = await keptFile(dest, f.expected);
    if (digest) stats.resumedBytes += digest.bytes;
    else {
      digest = await reuse(reusable, f, dest, o.signal);
      if (digest) stats.reusedFiles.push(f.name);
    }
    if (digest) bytesDone += digest.bytes;
    else {
      const got = await downloadFile(
        { url: f.url, dest, label: `${f.repo}/${f.path}`, expected: f.expected },
        {
          ...(o.fetch ? { fetch: o.fetch } : {}),
          ...(o.signal ? { signal: o.signal } : {}),
          ...(o.retries === undefined ? {} : { retries: o.retries }),
          ...(o.retryDelayMs === undefined ? {} : { retryDelayMs: o.retryDelayMs }),
          onBytes: (e: ByteEvent) => {
            bytesDone += e.delta;
            if (e.network) meter.add(e.delta);
            report('download', f.name, e.fileDone, e.fileTotal);
          },
          onVerify: () => report('verify', f.name, 0, f.expected.bytes),
        },
      ).catch((e: unknown) => {
        if (isAbort(e, o.signal) && !(e instanceof ModelsError)) throw new ModelsError('cancelled', `Install of '${id}' cancelled; downloaded files are kept for the next attempt.`);
        throw e;
      });
      digest = got.digest;
      stats.downloadedBytes += got.downloaded;
      stats.resumedBytes += got.resumedFrom;
      stats.restarts += got.restarts;
    }
    digests.set(f.name, digest);
    report('download', f.name, digest.bytes, digest.bytes, true);
    if (f.name === 'manifest.json' && plan.manifest === 'included') {
      // Checked as soon as it arrives, before the large files are fetched.
      checkManifest(id, await readJson(dest), plan.files, `manifest.json from ${f.repo}@${f.revision.slice(0, 12)}`);
    }
  }

  if (o.signal?.aborted) throw new ModelsError('cancelled', `Install of '${id}' cancelled; downloaded files are kept for the next attempt.`);
  report('install', '', 0, undefined, true);
  if (plan.manifest !== 'included') {
    const text = `${JSON.stringify(completeManifest(plan.manifest, new Map([...digests].map(([n, d]) => [n, d.sha256]))), null, 2)}\n`;
    const path = join(staging, 'manifest.json');
    await writeFileAtomic(path, text, { fsync: true }).catch((e: unknown) => {
      throw diskError(e, 'write the manifest', path);
    });
    checkManifest(id, JSON.parse(text), plan.files, 'completed draft manifest');
    digests.set('manifest.json', await digestFile(path));
  }
  await removeStrays(staging, new Set([...digests.keys(), INSTALL_RECORD]));
  await writeInstallRecord(staging, installRecord(entry, o.hubUrl, files, digests, now));
  let manifest: Manifest;
  try {
    manifest = (await verifyPack(staging)).manifest;
  } catch (e) {
    if (e instanceof PackError) throw new ModelsError('model-error', `'${id}' downloaded and verified, but does not load as a pack: ${e.message}`);
    throw e;
  }
  if (o.checkPack) {
    try {
      await o.checkPack(staging);
    } catch (e) {
      throw new ModelsError(
        'model-error',
        `'${id}' downloaded and verified, but its graphs do not load in this Tessera, so it was not installed: ${(e as Error).message}\n` +
          'The downloaded files are kept; a newer Tessera or a corrected catalog entry may load them.',
      );
    }
  }
  const dir = layout.pack(o.modelsDir, id);
  await swapIntoPlace(o.modelsDir, staging, dir);
  report('install', '', 0, undefined, true);
  return { id, dir, manifest, bytes: [...digests.values()].reduce((s, d) => s + d.bytes, 0), ...stats };
}

/** Asks the hub what one file must be, and reconciles it with what the catalog pins. */
async function describeFile(f: PlannedFile, o: InstallOptions): Promise<FileState> {
  let info;
  for (let attempt = 0; ; attempt++) {
    try {
      info = await fetchFileInfo(o.hubUrl, f.repo, f.revision, f.path, o);
      break;
    } catch (e) {
      if (!(e instanceof ModelsError) || !e.transient || attempt >= (o.retries ?? 5)) throw e;
      await backoff(attempt + 1, o.retryDelayMs, o.signal);
      if (o.signal?.aborted) throw new ModelsError('cancelled', `Install cancelled while asking the hub about ${f.repo}/${f.path}.`);
    }
  }
  const label = `${f.repo}/${f.path}@${f.revision.slice(0, 12)}`;
  if (info.commit !== undefined && info.commit !== f.revision) {
    throw new ModelsError('corrupt', `${label}: the hub served commit ${info.commit}, not the pinned ${f.revision}. Check TESSERA_HUB_URL (a mirror must serve the pinned commit) and the catalog entry.`);
  }
  if (f.catalogBytes !== undefined && info.size !== undefined && info.size !== f.catalogBytes) {
    throw new ModelsError('corrupt', `${label}: the hub declares ${info.size} bytes, the catalog ${f.catalogBytes}. The pinned revision or the catalog is wrong; nothing was downloaded.`);
  }
  if (f.catalogSha256 !== undefined && info.sha256 !== undefined && info.sha256 !== f.catalogSha256) {
    throw new ModelsError('corrupt', `${label}: the hub declares sha256 ${info.sha256}, the catalog pins ${f.catalogSha256}. The pinned revision or the catalog is wrong; nothing was downloaded.`);
  }
  const expected: Expected = {
    ...(info.size ?? f.catalogBytes) !== undefined ? { bytes: info.size ?? f.catalogBytes } : {},
    ...(info.sha256 ?? f.catalogSha256) !== undefined ? { sha256: info.sha256 ?? f.catalogSha256 } : {},
    ...(info.gitSha1 !== undefined ? { gitSha1: info.gitSha1 } : {}),
  };
  if (expected.bytes === undefined) {
    // Without a size nothing bounds the download or counts towards the free-space check.
    throw new ModelsError('corrupt', `${label}: the hub declares no size for this file (X-Linked-Size or Content-Length) and the catalog pins none. Tessera downloads nothing it cannot bound: use a hub or mirror that declares sizes, or pin the file's bytes in the catalog.`);
  }
  if (!canVerify(expected)) {
    throw new ModelsError('corrupt', `${label}: the hub declares no sha256 (X-Linked-Etag) or git blob id (ETag) for this file, and the catalog pins none. Tessera installs nothing it cannot verify: use a hub or mirror that declares hashes, or pin the file's sha256 in the catalog.`);
  }
  return { ...f, expected, url: info.url, ...(info.commit ? { commit: info.commit } : {}) };
}

async function checkFreeSpace(files: FileState[], staging: string, o: InstallOptions): Promise<void> {
  let need = 0;
  for (const f of files) {
    const have = await stat(join(staging, f.name)).then((s) => s.size, () => stat(join(staging, `${f.name}.part`)).then((s) => s.size, () => 0));
    need += Math.max(0, (f.expected.bytes ?? 0) - have);
  }
  const free = await (o.freeSpace ?? statFreeSpace)(staging);
  if (free !== undefined && need > free) {
    throw new ModelsError('io-error', `Not enough disk space in ${o.modelsDir}: the download needs ${need} more bytes, ${free} are free. Free some space, or set TESSERA_MODELS_DIR to a folder on a larger disk.`);
  }
}

/** A finished file from an earlier run, if it still matches (else it is removed). */
async function keptFile(dest: string, expected: Expected): Promise<FileDigest | undefined> {
  if (!(await stat(dest).catch(() => undefined))?.isFile()) return undefined;
  const digest = await digestFile(dest).catch(() => undefined);
  if (digest && digestMismatch(digest, expected).length === 0) return digest;
  await rm(dest, { force: true });
  return undefined;
}

/** sha256 → path of every file of other installed packs (from their install records). */
async function reusableFiles(modelsDir: string, id: string): Promise<Map<string, string>> {
  const map = new Map<string, string>();
  for (const pack of await listInstalled(modelsDir)) {
    if (pack.id === id || !pack.record) continue;
    for (const [name, file] of Object.entries(pack.record.files)) map.set(file.sha256, join(pack.dir, name));
  }
  return map;
}

/** Copies an identical file from another installed pack (copy-on-write where possible), verified like a download. */
async function reuse(reusable: Map<string, string>, f: FileState, dest: string, signal: AbortSignal | undefined): Promise<FileDigest | undefined> {
  const source = f.expected.sha256 === undefined ? undefined : reusable.get(f.expected.sha256);
  if (!source) return undefined;
  const temp = `${dest}.copy`;
  try {
    await copyFile(source, temp, constants.COPYFILE_FICLONE);
    const handle = await open(temp, 'r+');
    await handle.sync().finally(() => handle.close());
    const digest = await digestFile(temp, undefined, signal);
    if (digestMismatch(digest, f.expected).length > 0) throw new Error('changed since it was installed');
    await rename(temp, dest);
    return digest;
  } catch {
    await rm(temp, { force: true });
    return undefined;
  }
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new ModelsError('model-error', `${path}: manifest.json is not valid JSON (${(e as Error).message}).`);
  }
}

/** Removes staging entries that are not part of the pack (stale files from an earlier catalog). */
async function removeStrays(staging: string, keep: Set<string>): Promise<void> {
  for (const name of await readdir(staging)) if (!keep.has(name)) await rm(join(staging, name), { recursive: true, force: true });
}

function installRecord(entry: CatalogEntry, hubUrl: string, files: FileState[], digests: Map<string, FileDigest>, now: () => number): InstallRecord {
  const list: Array<{ repo: string; revision: string; commit?: string }> = [];
  for (const f of files) {
    if (list.some((r) => r.repo === f.repo)) continue;
    list.push({ repo: f.repo, revision: f.revision, ...(f.commit ? { commit: f.commit } : {}) });
  }
  const at = new Date(now()).toISOString();
  return {
    schemaVersion: 1,
    id: entry.id,
    installedAt: at,
    source: { kind: 'hub', hub: hubUrl, repos: list },
    licence: { name: entry.licence.name, url: entry.licence.url, acceptedAt: at },
    files: Object.fromEntries([...digests].map(([name, d]) => [name, { bytes: d.bytes, sha256: d.sha256 }])),
  };
}
