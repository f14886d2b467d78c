/**
 * Installing a catalog entry: plan (offline checks) → lock the id → ask the hub what each file must be → check the
 * free space → download every file into `.staging/<id>/` (resuming `.part` files, reusing identical files of other
 * installed packs) and verify it → then either
 * - hub entries: complete or check the manifest → write the install record → `verifyPack` the staging folder → one
 *   rename into `<modelsDir>/<id>`; or
 * - convert entries: run the converter on the downloaded checkpoint folder (progress phase `convert`, cancellable)
 *   into `.staging/<id>/.convert/pack` → install record → `verifyPack` + open every graph → one rename into place →
 *   the downloaded checkpoint is deleted.
 * Any failure leaves the installed set as it was; partial downloads (and a verified checkpoint that failed to
 * convert) stay in staging for the next attempt, a half-written pack never does.
 */
import { constants } from 'node:fs';
import { copyFile, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { CatalogEntry } from '../../contract/catalog.ts';
import { CodedError } from '../../contract/errors.ts';
import type { Manifest } from '../../contract/manifest.ts';
import { PackError, verifyPack } from '../packs/load.ts';
import { convertDiffusersAudioLdm, type ConvertOptions, type ConvertResult } from './convert/audioldm.ts';
import { backoff, downloadFile, type ByteEvent } from './download.ts';
import { diskError, isAbort, ModelsError } from './errors.ts';
import { fetchFileInfo, type NetOptions, type RemoteFileInfo } from './hub.ts';
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
  /** Runs the converter for a convert entry (default: in this process; see ModelManagerOptions.convert). */
  convert?: ConvertAudioLdm;
}

/**
 * Converts a diffusers AudioLDM folder into a pack, with the contract of `convertDiffusersAudioLdm`: in this process
 * (that function itself) or in a worker process (engine-worker.ts `convertInWorker`, as the studio host does).
 */
export type ConvertAudioLdm = (sourceDir: string, outDir: string, options: ConvertOptions) => Promise<ConvertResult>;

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
  /** Convert entries: seconds the conversion took. */
  convertSeconds?: number;
}

interface FileState extends PlannedFile {
  expected: Expected;
  url: string;
  commit?: string;
}

/** The folder inside a convert entry's staging folder where the converter writes the pack (never a repo path). */
const CONVERT_DIR = '.convert';

type Stats = Pick<InstallResult, 'downloadedBytes' | 'resumedBytes' | 'reusedFiles' | 'restarts'>;
type Report = (phase: InstallProgress['phase'], file: string, fileDone: number, fileTotal: number | undefined, force?: boolean) => void;

const cancelled = (id: string): ModelsError => new ModelsError('cancelled', `Install of '${id}' cancelled; downloaded files are kept for the next attempt.`);

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
  const stats: Stats = { downloadedBytes: 0, resumedBytes: 0, reusedFiles: [], restarts: 0 };

  const files: FileState[] = [];
  for (const f of plan.files) files.push(await describeFile(f, o));
  const sized = files.every((f) => f.expected.bytes !== undefined);
  const bytesTotal = sized ? files.reduce((s, f) => s + (f.expected.bytes ?? 0), 0) : null;
  await checkFreeSpace(files, staging, o, plan.convert !== undefined);

  const meter = new RateMeter(now);
  let bytesDone = 0;
  const emit = throttle<InstallProgress>((p) => o.onProgress?.(p), now);
  const report: Report = (phase, file, fileDone, fileTotal, force = false) => {
    if (phase === 'convert') return reportConversion(file, fileDone, fileTotal);
    const rate = meter.rate();
    emit({ id, phase, file, fileBytesDone: fileDone, fileBytesTotal: fileTotal ?? null, bytesDone, bytesTotal, bytesPerSecond: rate, etaSeconds: etaSeconds(bytesTotal === null ? null : bytesTotal - bytesDone, rate) }, force);
  };

  // The conversion counts its own work (bytes of weights read and built) from 0 to its total, with its own speed.
  const convertMeter = new RateMeter(now);
  let converted = 0;
  let stage: string | undefined;
  const reportConversion = (name: string, done: number, total: number | undefined): void => {
    if (done > converted) convertMeter.add(done - converted);
    converted = Math.max(converted, done);
    const rate = convertMeter.rate();
    const changed = name !== stage;
    stage = name;
    emit(
      { id, phase: 'convert', file: name, fileBytesDone: done, fileBytesTotal: total ?? null, bytesDone: done, bytesTotal: total ?? null, bytesPerSecond: rate, etaSeconds: etaSeconds(total === undefined ? null : total - done, rate) },
      changed || done === total,
    );
  };

  const reusable = await reusableFiles(o.modelsDir, id);
  const digests = new Map<string, FileDigest>();
  const ordered = [...files].sort((a, b) => Number(b.name === 'manifest.json') - Number(a.name === 'manifest.json') || (a.expected.bytes ?? Infinity) - (b.expected.bytes ?? Infinity));
  for (const f of ordered) {
    if (o.signal?.aborted) throw cancelled(id);
    const dest = join(staging, f.name);
    if (f.name.includes('/')) await ensureDir(dirname(dest), 'the staging folder');
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
        if (isAbort(e, o.signal) && !(e instanceof ModelsError)) throw cancelled(id);
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

  if (o.signal?.aborted) throw cancelled(id);
  if (plan.convert) {
    await removeStrays(staging, new Set(digests.keys()), new Set([CONVERT_DIR]));
    return convertAndInstall(entry, plan, o, { staging, files, report, now, stats });
  }
  report('install', '', 0, undefined, true);
  if (plan.manifest !== 'included' && plan.manifest !== 'converted') {
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
  const manifest = await verifyAndCheck(id, staging, o, 'downloaded and verified');
  const dir = layout.pack(o.modelsDir, id);
  await swapIntoPlace(o.modelsDir, staging, dir);
  report('install', '', 0, undefined, true);
  return { id, dir, manifest, bytes: [...digests.values()].reduce((s, d) => s + d.bytes, 0), ...stats };
}

/**
 * A convert entry after its download: the converter builds the pack from the checkpoint folder in staging; the pack
 * is verified and opened like a download, renamed into place, and the checkpoint deleted. A failed or cancelled
 * conversion removes what it wrote and keeps the verified checkpoint, so the next attempt only converts.
 */
async function convertAndInstall(
  entry: CatalogEntry,
  plan: InstallPlan,
  o: InstallOptions,
  s: { staging: string; files: FileState[]; report: Report; now: () => number; stats: Stats },
): Promise<InstallResult> {
  const id = entry.id;
  const work = join(s.staging, CONVERT_DIR);
  const out = join(work, 'pack');
  const repo = s.files[0];
  const from = `${repo.repo}@${repo.revision.slice(0, 12)}`;
  await rm(work, { recursive: true, force: true });
  await ensureDir(work, 'the conversion folder');
  const started = s.now();
  try {
    s.report('convert', '', 0, undefined, true);
    try {
      await (o.convert ?? convertDiffusersAudioLdm)(s.staging, out, {
        id,
        name: entry.name,
        source: repo.repo,
        revision: repo.commit ?? repo.revision,
        ...(plan.convert?.heads ? { heads: plan.convert.heads } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
        onProgress: (stage, done, total) => s.report('convert', stage, done, total),
      });
    } catch (e) {
      throw conversionError(id, from, s.staging, e, o.signal);
    }
    if (o.signal?.aborted) throw cancelledConversion(id);
    const convertSeconds = (s.now() - started) / 1000;
    s.report('install', '', 0, undefined, true);
    const digests = new Map<string, FileDigest>();
    for (const name of (await readdir(out)).sort()) {
      if (name !== INSTALL_RECORD) digests.set(name, await digestFile(join(out, name), undefined, o.signal));
    }
    await writeInstallRecord(out, installRecord(entry, o.hubUrl, s.files, digests, s.now));
    const manifest = await verifyAndCheck(id, out, o, `converted from ${from}`);
    if (manifest.id !== id) throw new ModelsError('model-error', `'${id}': the converter wrote a pack with id '${manifest.id}'; nothing was installed (a converter bug: report it).`);
    if (o.signal?.aborted) throw cancelledConversion(id);
    const dir = layout.pack(o.modelsDir, id);
    await swapIntoPlace(o.modelsDir, out, dir);
    // The pack is in place: the checkpoint it came from is no longer needed.
    await rm(s.staging, { recursive: true, force: true }).catch(() => undefined);
    s.report('install', '', 0, undefined, true);
    return { id, dir, manifest, bytes: [...digests.values()].reduce((n, d) => n + d.bytes, 0), ...s.stats, convertSeconds };
  } finally {
    await rm(work, { recursive: true, force: true }).catch(() => undefined);
  }
}

const cancelledConversion = (id: string): ModelsError =>
  new ModelsError('cancelled', `Install of '${id}' cancelled while converting; nothing was installed. The downloaded checkpoint is kept, so the next install only converts it.`);

/** A converter failure as a ModelsError that says where the checkpoint came from and that nothing was installed. */
function conversionError(id: string, from: string, staging: string, e: unknown, signal: AbortSignal | undefined): ModelsError {
  if (isAbort(e, signal) || (e instanceof CodedError && e.code === 'cancelled')) return cancelledConversion(id);
  const code = e instanceof CodedError && ['corrupt', 'model-error', 'io-error', 'not-found'].includes(e.code) ? e.code : 'model-error';
  const reason = e instanceof Error ? e.message : String(e);
  return new ModelsError(
    code,
    `'${id}': the checkpoint from ${from} downloaded and matched the hub's hashes, but converting it failed, so nothing was installed: ${reason}\n` +
      `The downloaded files are kept in ${staging} (\`npm run models -- remove ${id}\` deletes them); if the hub's files are damaged, a corrected catalog entry (another revision) is needed.`,
    { cause: e },
  );
}

/** `verifyPack` and the graph check on a finished pack folder; failures become model-errors naming the pack. */
async function verifyAndCheck(id: string, dir: string, o: InstallOptions, what: string): Promise<Manifest> {
  let manifest: Manifest;
  try {
    manifest = (await verifyPack(dir)).manifest;
  } catch (e) {
    if (e instanceof PackError) throw new ModelsError('model-error', `'${id}' ${what}, but does not load as a pack: ${e.message}`);
    throw e;
  }
  if (o.checkPack) {
    try {
      await o.checkPack(dir);
    } catch (e) {
      throw new ModelsError(
        'model-error',
        `'${id}' ${what}, but its graphs do not load in this Tessera, so it was not installed: ${(e as Error).message}\n` +
          'The downloaded files are kept; a newer Tessera or a corrected catalog entry may load them.',
      );
    }
  }
  return manifest;
}

/** Asks the hub what one file must be (trying its alternatives in order), and reconciles it with the catalog. */
async function describeFile(planned: PlannedFile, o: InstallOptions): Promise<FileState> {
  let f = planned;
  let info: RemoteFileInfo | undefined;
  const tried: string[] = [];
  for (const path of [planned.path, ...(planned.alternatives ?? [])]) {
    // The catalog's bytes and sha256 pin the main path; an alternative is another file, declared by the hub alone.
    f = path === planned.path ? planned : { repo: planned.repo, revision: planned.revision, path, name: path };
    try {
      info = await askHub(f, o);
      break;
    } catch (e) {
      if (!(e instanceof ModelsError) || e.code !== 'not-found' || planned.alternatives === undefined) throw e;
      tried.push(path);
      if (tried.length === 1 + planned.alternatives.length) {
        throw new ModelsError('not-found', `${planned.repo}@${planned.revision.slice(0, 12)} has none of ${tried.join(', ')} (the hub answered 404 for each; the last said: ${e.message}). Check the catalog entry's revision and file list (or the mirror in TESSERA_HUB_URL).`);
      }
    }
  }
  if (info === undefined) throw new ModelsError('internal', `${planned.repo}/${planned.path}: no answer from the hub was recorded.`);
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

/** Asks the hub about one path, retrying transient failures with back-off. */
async function askHub(f: PlannedFile, o: InstallOptions): Promise<RemoteFileInfo> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetchFileInfo(o.hubUrl, f.repo, f.revision, f.path, o);
    } catch (e) {
      if (!(e instanceof ModelsError) || !e.transient || attempt >= (o.retries ?? 5)) throw e;
      await backoff(attempt + 1, o.retryDelayMs, o.signal);
      if (o.signal?.aborted) throw new ModelsError('cancelled', `Install cancelled while asking the hub about ${f.repo}/${f.path}.`);
    }
  }
}

/**
 * The bytes still to download must fit; a convert entry also needs room for the pack it writes next to the
 * checkpoint (at most about the checkpoint's size: fp32 graphs of the same weights, less the VAE encoder).
 */
async function checkFreeSpace(files: FileState[], staging: string, o: InstallOptions, convert: boolean): Promise<void> {
  let need = 0;
  for (const f of files) {
    const have = await stat(join(staging, f.name)).then((s) => s.size, () => stat(join(staging, `${f.name}.part`)).then((s) => s.size, () => 0));
    need += Math.max(0, (f.expected.bytes ?? 0) - have);
  }
  const pack = convert ? files.reduce((n, f) => n + (f.expected.bytes ?? 0), 0) : 0;
  const free = await (o.freeSpace ?? statFreeSpace)(staging);
  if (free !== undefined && need + pack > free) {
    const what = convert ? `the download needs ${need} more bytes and the converted pack about ${pack}` : `the download needs ${need} more bytes`;
    throw new ModelsError('io-error', `Not enough disk space in ${o.modelsDir}: ${what}, ${free} are free. Free some space, or set TESSERA_MODELS_DIR to a folder on a larger disk.`);
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

/**
 * Removes staging entries that are not part of the download (stale files from an earlier catalog, the other format
 * of an alternative): `keep` holds relative paths, `skip` top-level names left alone. Folders that lead to a kept
 * file are walked, not removed.
 */
async function removeStrays(staging: string, keep: Set<string>, skip: ReadonlySet<string> = new Set(), prefix = ''): Promise<void> {
  for (const entry of await readdir(join(staging, prefix), { withFileTypes: true })) {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (keep.has(rel) || (prefix === '' && skip.has(entry.name))) continue;
    if (entry.isDirectory() && [...keep].some((k) => k.startsWith(`${rel}/`))) await removeStrays(staging, keep, skip, rel);
    else await rm(join(staging, rel), { recursive: true, force: true });
  }
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
