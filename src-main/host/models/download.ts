/**
 * One file, downloaded resumably and verified before it gets its final name.
 *
 * - Bytes go to `<dest>.part`; `<dest>.part.json` records what they must become (the hub's declared hash and size)
 *   and the server's validator (strong ETag or Last-Modified).
 * - A later attempt sends `Range: bytes=<part size>-` with `If-Range: <validator>`. A 206 whose Content-Range starts
 *   at the part's end is appended; a 200 (the server ignored Range, or the validator no longer matches) restarts
 *   the file from byte 0; a 416 or a 206 at another offset restarts too. When the declared hash changed since the
 *   part was written, the part is dropped before asking.
 * - A dropped connection keeps the part and retries (exponential back-off) up to `retries` times; the next run
 *   resumes from it too. A cancel (AbortSignal) keeps it.
 * - Nothing is written past the declared size: a body that goes on beyond it (the hub's size, or the response's
 *   Content-Length / Content-Range total, which must agree) is cut off at once, the part deleted and the error says
 *   so; a file whose size nobody declares is not downloaded at all.
 * - The finished part is fsynced, hashed (sha256, and the git blob id for regular files) and compared with what the
 *   hub declared; on a mismatch the part is deleted and a `corrupt` error names the file, both hashes and the fix.
 *   Only then is it renamed to `dest`.
 *
 * Node 20's global fetch (undici) is enough here: it streams the body, sends Range/If-Range, follows the hub's
 * redirect to its CDN, and rejects the body stream ("terminated") when the connection drops mid-file.
 */
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';
import { diskError, isAbort, ModelsError } from './errors.ts';
import { httpError, networkError, type NetOptions } from './hub.ts';
import { digestFile, digestMismatch, expectedKey, type Expected, type FileDigest } from './verify.ts';
import { errorMessage } from '../../contract/errors.ts';

/** One file to fetch. */
export interface DownloadTarget {
  url: string;
  /** Final path; the part file and its record sit next to it. */
  dest: string;
  /** How messages name the file (`repo/path`). */
  label: string;
  expected: Expected;
}

/** Options of {@link downloadFile}. */
export interface DownloadOptions extends NetOptions {
  /** Attempts after a dropped connection or a 5xx, per file (default 5). */
  retries?: number;
  /** First back-off delay in ms, doubled per retry up to 30 s (default 1000). */
  retryDelayMs?: number;
  /** Called as the part file grows (`network`), when a kept part is found, or when a restart discards bytes (delta < 0). */
  onBytes?: (event: ByteEvent) => void;
  /** Called when the finished file is being hashed. */
  onVerify?: (delta: number) => void;
}

/** What one download did. */
export interface DownloadResult {
  digest: FileDigest;
  /** Bytes already in the part file when this call started and kept. */
  resumedFrom: number;
  /** Bytes that came over the network in this call. */
  downloaded: number;
  /** Times the part was discarded and the file started from byte 0. */
  restarts: number;
  /** Requests made. */
  requests: number;
}

/** A change in the bytes of the part file. */
export interface ByteEvent {
  delta: number;
  fileDone: number;
  fileTotal: number | undefined;
  /** True when the bytes just came over the network (they count towards the speed). */
  network: boolean;
}

interface PartRecord {
  expected: string;
  url: string;
  validator?: string;
}

/** Downloads `t.url` into `t.dest` with resume and verification; see the file comment. */
export async function downloadFile(t: DownloadTarget, o: DownloadOptions = {}): Promise<DownloadResult> {
  const part = `${t.dest}.part`;
  const recordPath = `${t.dest}.part.json`;
  const key = expectedKey(t.expected);
  const retries = o.retries ?? 5;
  const result: DownloadResult = { digest: { bytes: 0, sha256: '', gitSha1: '' }, resumedFrom: 0, downloaded: 0, restarts: 0, requests: 0 };

  let have = await partSize(part);
  let record = await readRecord(recordPath);
  if (have > 0 && (record?.expected !== key || record.url !== t.url)) {
    await discard(part, recordPath);
    have = 0;
    record = undefined;
    result.restarts++;
  }
  if (t.expected.bytes !== undefined && have > t.expected.bytes) {
    await discard(part, recordPath);
    have = 0;
    result.restarts++;
  }
  result.resumedFrom = have;
  if (have > 0) o.onBytes?.({ delta: have, fileDone: have, fileTotal: t.expected.bytes, network: false });

  let failures = 0;
  for (;;) {
    if (o.signal?.aborted) throw cancelled(t, have);
    const complete = t.expected.bytes !== undefined && have === t.expected.bytes && have > 0;
    if (complete) break;
    try {
      const outcome = await attempt(t, o, part, recordPath, key, have, record, result);
      have = outcome.have;
      record = outcome.record;
      if (outcome.done) break;
    } catch (e) {
      have = await partSize(part);
      record = await readRecord(recordPath);
      if (isAbort(e, o.signal)) throw cancelled(t, have);
      if (!(e instanceof ModelsError) || !e.transient || failures >= retries) {
        if (e instanceof ModelsError && e.transient) {
          throw new ModelsError('io-error', `${e.message}\n${have} bytes of ${t.label} are kept in ${part}: run the same install again to resume.`, { cause: e });
        }
        throw e;
      }
      failures++;
      await backoff(failures, o.retryDelayMs, o.signal);
    }
  }

  let digest: FileDigest;
  try {
    digest = await digestFile(part, o.onVerify, o.signal);
  } catch (e) {
    if (isAbort(e, o.signal)) throw cancelled(t, have);
    throw diskError(e, 'read the downloaded file', part);
  }
  const problems = digestMismatch(digest, t.expected);
  if (problems.length > 0) {
    await discard(part, recordPath);
    throw new ModelsError(
      'corrupt',
      `${t.label}: the downloaded file does not match what the hub declared (${problems.join('; ')}). ` +
        'The partial download was deleted and nothing was installed. Run the install again; if it fails the same way, the server (or the mirror in TESSERA_HUB_URL) serves a different file than it declares: report it.',
    );
  }
  try {
    await rename(part, t.dest);
    await rm(recordPath, { force: true });
  } catch (e) {
    throw diskError(e, 'move the verified download into place at', t.dest);
  }
  result.digest = digest;
  return result;
}

/** One request: appends to (or restarts) the part file. `done` when the body ended at the expected size. */
async function attempt(
  t: DownloadTarget,
  o: DownloadOptions,
  part: string,
  recordPath: string,
  key: string,
  haveIn: number,
  recordIn: PartRecord | undefined,
  result: DownloadResult,
): Promise<{ have: number; record: PartRecord; done: boolean }> {
  let have = haveIn;
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (have > 0) {
    headers.range = `bytes=${have}-`;
    if (recordIn?.validator) headers['if-range'] = recordIn.validator;
  }
  let res: Response;
  try {
    result.requests++;
    res = await (o.fetch ?? fetch)(t.url, { headers, redirect: 'follow', ...(o.signal ? { signal: o.signal } : {}) });
  } catch (e) {
    if (isAbort(e, o.signal)) throw e;
    throw networkError(e, t.label, t.url);
  }
  let total: number | undefined;
  if (res.status === 206) {
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
    if (!range || Number(range[1]) !== have) {
      // A range we did not ask for: start the file again rather than guess.
      await res.body?.cancel();
      await discard(part, recordPath);
      o.onBytes?.({ delta: -have, fileDone: 0, fileTotal: t.expected.bytes, network: false });
      result.restarts++;
      return { have: 0, record: { expected: key, url: t.url }, done: false };
    }
    if (range[3] !== '*') total = Number(range[3]);
  } else if (res.status === 200) {
    if (have > 0) {
      // The server ignored Range, or If-Range found the file changed: the whole file follows, from byte 0.
      o.onBytes?.({ delta: -have, fileDone: 0, fileTotal: t.expected.bytes, network: false });
      have = 0;
      result.restarts++;
    }
    const length = res.headers.get('content-length');
    if (length !== null && /^\d+$/.test(length)) total = Number(length);
  } else if (res.status === 416) {
    await res.body?.cancel();
    await discard(part, recordPath);
    o.onBytes?.({ delta: -have, fileDone: 0, fileTotal: t.expected.bytes, network: false });
    result.restarts++;
    return { have: 0, record: { expected: key, url: t.url }, done: false };
  } else {
    await res.body?.cancel();
    throw httpError(res, t.label, t.url);
  }
  if (total !== undefined && t.expected.bytes !== undefined && total !== t.expected.bytes) {
    await res.body?.cancel();
    throw new ModelsError('corrupt', `${t.label}: the server sends ${total} bytes but the hub declared ${t.expected.bytes}. Nothing was installed; check the catalog entry's revision or the mirror in TESSERA_HUB_URL.`);
  }
  const expectedTotal = total ?? t.expected.bytes;
  if (expectedTotal === undefined) {
    await res.body?.cancel();
    throw new ModelsError('corrupt', `${t.label}: neither the hub nor the server declares the file's size, so its download could not be bounded; nothing was written. Use a hub or mirror (TESSERA_HUB_URL) that declares sizes, or pin the file's bytes in the catalog.`);
  }
  const etag = res.headers.get('etag');
  const validator = etag !== null && !etag.startsWith('W/') ? etag : (res.headers.get('last-modified') ?? undefined);
  const record: PartRecord = { expected: key, url: t.url, ...(validator ? { validator } : {}) };
  try {
    await writeFileAtomic(recordPath, JSON.stringify(record));
  } catch (e) {
    await res.body?.cancel();
    throw diskError(e, 'write the download record', recordPath);
  }

  let handle;
  try {
    handle = await open(part, have > 0 ? 'a' : 'w');
  } catch (e) {
    await res.body?.cancel();
    throw diskError(e, 'create the partial download', part);
  }
  let overran = false;
  try {
    if (res.body) {
      const reader = res.body.getReader();
      for (;;) {
        let chunk: Awaited<ReturnType<typeof reader.read>>;
        try {
          chunk = await reader.read();
        } catch (e) {
          if (isAbort(e, o.signal)) throw e;
          throw new ModelsError('io-error', `${t.label}: the connection dropped after ${have} of ${expectedTotal} bytes (${describe(e)}).`, { cause: e, transient: true });
        }
        if (chunk.done) break;
        if (have + chunk.value.length > expectedTotal) {
          // More than declared: hang up before writing a byte past the declared size (a server must not fill the disk).
          overran = true;
          await reader.cancel().catch(() => undefined);
          break;
        }
        try {
          await handle.write(chunk.value);
        } catch (e) {
          await reader.cancel().catch(() => undefined);
          throw diskError(e, 'write', part);
        }
        have += chunk.value.length;
        result.downloaded += chunk.value.length;
        o.onBytes?.({ delta: chunk.value.length, fileDone: have, fileTotal: expectedTotal, network: true });
      }
    }
    await handle.sync();
  } finally {
    await handle.close().catch(() => undefined);
  }
  if (overran) {
    await discard(part, recordPath);
    throw new ModelsError(
      'corrupt',
      `${t.label}: the server sent more than the ${expectedTotal} bytes declared for this file, so the download was stopped there and the partial file was deleted; nothing was installed. ` +
        'The server (or the mirror in TESSERA_HUB_URL) serves another file than it declares: run the install again, and report it if it happens again.',
    );
  }
  if (have < expectedTotal) {
    throw new ModelsError('io-error', `${t.label}: the server closed the connection after ${have} of ${expectedTotal} bytes.`, { transient: true });
  }
  return { have, record, done: true };
}

function cancelled(t: DownloadTarget, have: number): ModelsError {
  return new ModelsError('cancelled', `Download of ${t.label} cancelled after ${have} bytes; they are kept, so the next install resumes from there.`);
}

function describe(e: unknown): string {
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause : e;
  return errorMessage(cause);
}

async function partSize(path: string): Promise<number> {
  const info = await stat(path).catch(() => undefined);
  return info?.isFile() ? info.size : 0;
}

async function readRecord(path: string): Promise<PartRecord | undefined> {
  try {
    const json = JSON.parse(await readFile(path, 'utf8')) as Partial<PartRecord>;
    if (typeof json.expected !== 'string' || typeof json.url !== 'string') return undefined;
    return { expected: json.expected, url: json.url, ...(typeof json.validator === 'string' ? { validator: json.validator } : {}) };
  } catch {
    return undefined;
  }
}

async function discard(part: string, recordPath: string): Promise<void> {
  try {
    await rm(part, { force: true });
    await rm(recordPath, { force: true });
  } catch (e) {
    throw diskError(e, 'remove the partial download', part);
  }
}

/** Waits before retry number `failures` (1, 2, …): `firstMs`·2^(failures−1), at most 30 s; returns early on abort. */
export function backoff(failures: number, firstMs = 1000, signal?: AbortSignal): Promise<void> {
  return sleep(Math.min(30_000, firstMs * 2 ** (failures - 1)), signal).catch(() => undefined);
}

/** Waits `ms`, or rejects when `signal` fires. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
