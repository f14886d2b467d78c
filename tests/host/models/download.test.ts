/** One resumable, verified download against the fake hub: resume, restart, hash mismatch, cancel, disk errors. */
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { downloadFile, type ByteEvent, type DownloadTarget } from '../../../src-main/host/models/download.ts';
import { ModelsError } from '../../../src-main/host/models/errors.ts';
import { fetchFileInfo, resolveUrl } from '../../../src-main/host/models/hub.ts';
import { FakeHub, gitSha1, sha256 } from './fake-hub.ts';

const REPO = 'test/files';
const REV = 'c0ffee0000000000000000000000000000c0ffee';
const big = randomBytes(200_000);
const small = Buffer.from('{"hello":"hub"}\n');

const hub = new FakeHub();
let work: string;
let n = 0;
beforeAll(async () => {
  await hub.start();
  hub.publish(REPO, REV, { 'weights/big.bin': { content: big, lfs: true }, 'config.json': { content: small, lfs: false } });
  work = await mkdtemp(join(tmpdir(), 'tessera-download-'));
});
afterAll(async () => {
  await hub.close();
  await rm(work, { recursive: true, force: true });
});
beforeEach(() => hub.reset());

/** A fresh destination and the target for `path`, with what the hub declares. */
async function target(path: string): Promise<DownloadTarget> {
  const info = await fetchFileInfo(hub.url, REPO, REV, path);
  const dir = join(work, `t${n++}`);
  await mkdir(dir);
  return {
    url: info.url,
    dest: join(dir, path.split('/').pop() ?? 'x'),
    label: `${REPO}/${path}`,
    expected: { ...(info.size === undefined ? {} : { bytes: info.size }), ...(info.sha256 ? { sha256: info.sha256 } : {}), ...(info.gitSha1 ? { gitSha1: info.gitSha1 } : {}) },
  };
}
const exists = async (p: string): Promise<boolean> => (await stat(p).catch(() => undefined)) !== undefined;

describe('what the hub declares', () => {
  it('an LFS file: sha256 from X-Linked-Etag and size from X-Linked-Size, read from the redirect without following it', async () => {
    const info = await fetchFileInfo(hub.url, REPO, REV, 'weights/big.bin');
    expect(info).toEqual({ url: resolveUrl(hub.url, REPO, REV, 'weights/big.bin'), sha256: sha256(big), size: big.length, commit: REV });
    expect(hub.log.map((r) => r.method)).toEqual(['HEAD']);
  });

  it('a regular file: the git blob id from ETag and the size from Content-Length', async () => {
    expect(await fetchFileInfo(hub.url, REPO, REV, 'config.json')).toMatchObject({ gitSha1: gitSha1(small), size: small.length });
  });

  it('a missing file, revision or repo: not-found with the hub\'s error code', async () => {
    await expect(fetchFileInfo(hub.url, REPO, REV, 'nope.bin')).rejects.toThrow(/EntryNotFound.*does not exist there/);
    await expect(fetchFileInfo(hub.url, REPO, 'f'.repeat(40), 'config.json')).rejects.toMatchObject({ code: 'not-found', message: expect.stringMatching(/RevisionNotFound/) });
    await expect(fetchFileInfo(hub.url, 'no/repo', REV, 'config.json')).rejects.toThrow(/RepoNotFound/);
  });

  it('an unreachable hub: a transient io-error naming the host', async () => {
    const closed = new FakeHub();
    const url = await closed.start();
    await closed.close();
    const error = await fetchFileInfo(url, REPO, REV, 'config.json').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelsError);
    expect(error).toMatchObject({ code: 'io-error', transient: true, message: expect.stringContaining(`could not reach ${url} (ECONNREFUSED`) });
  });
});

describe('downloadFile', () => {
  it('downloads through the CDN redirect, verifies and renames; no part file remains', async () => {
    const t = await target('weights/big.bin');
    const events: ByteEvent[] = [];
    const r = await downloadFile(t, { onBytes: (e) => events.push(e) });
    expect((await readFile(t.dest)).equals(big)).toBe(true);
    expect(r).toMatchObject({ resumedFrom: 0, downloaded: big.length, restarts: 0, requests: 1 });
    expect(r.digest.sha256).toBe(sha256(big));
    expect(await exists(`${t.dest}.part`)).toBe(false);
    expect(await exists(`${t.dest}.part.json`)).toBe(false);
    expect(events.length).toBeGreaterThan(1);
    expect(events.at(-1)).toMatchObject({ fileDone: big.length, fileTotal: big.length, network: true });
    expect(events.reduce((s, e) => s + e.delta, 0)).toBe(big.length);
  });

  it('a regular file is verified by its git blob id', async () => {
    const t = await target('config.json');
    const r = await downloadFile(t);
    expect(r.digest.gitSha1).toBe(gitSha1(small));
    expect(await readFile(t.dest, 'utf8')).toBe(small.toString());
  });

  it('a dropped connection keeps the part; the next call resumes with Range + If-Range from where it stopped', async () => {
    const t = await target('weights/big.bin');
    hub.faults.drop.set('weights/big.bin', { after: 70_000, times: 1 });
    const error = await downloadFile(t, { retries: 0 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'io-error', message: expect.stringMatching(/test\/files\/weights\/big\.bin: the connection dropped after \d+ of 200000 bytes[\s\S]*kept in .*big\.bin\.part: run the same install again to resume/) });
    const kept = (await stat(`${t.dest}.part`)).size;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(70_000);
    expect(await exists(t.dest)).toBe(false);

    const r = await downloadFile(t);
    expect(r).toMatchObject({ resumedFrom: kept, downloaded: big.length - kept, restarts: 0 });
    expect((await readFile(t.dest)).equals(big)).toBe(true);
    const resumed = hub.gets('weights/big.bin').at(-1);
    expect(resumed).toMatchObject({ range: `bytes=${kept}-`, ifRange: `"${sha256(big)}"`, status: 206 });
  });

  it('retries a dropped connection by itself, resuming each time', async () => {
    const t = await target('weights/big.bin');
    hub.faults.drop.set('weights/big.bin', { after: 50_000, times: 3 });
    const r = await downloadFile(t, { retries: 3, retryDelayMs: 0 });
    expect((await readFile(t.dest)).equals(big)).toBe(true);
    expect(r.requests).toBe(4);
    expect(r.restarts).toBe(0);
    expect(hub.gets('weights/big.bin').slice(1).every((g) => g.status === 206 && g.range !== undefined)).toBe(true);
  });

  it('a server that ignores Range: the part is discarded and the file starts again from byte 0', async () => {
    const t = await target('weights/big.bin');
    hub.faults.drop.set('weights/big.bin', { after: 60_000, times: 1 });
    await downloadFile(t, { retries: 0 }).catch(() => undefined);
    expect((await stat(`${t.dest}.part`)).size).toBeGreaterThan(0);
    hub.faults.ignoreRange.add('weights/big.bin');
    const events: ByteEvent[] = [];
    const r = await downloadFile(t, { onBytes: (e) => events.push(e) });
    expect(r).toMatchObject({ restarts: 1, downloaded: big.length });
    expect((await readFile(t.dest)).equals(big)).toBe(true);
    expect(hub.gets('weights/big.bin').at(-1)).toMatchObject({ status: 200, range: expect.stringMatching(/^bytes=\d+-$/) });
    expect(events.some((e) => e.delta < 0)).toBe(true);
  });

  it('a file that changed on the hub (new declared hash): the old part is dropped before asking, no Range is sent', async () => {
    const t = await target('weights/big.bin');
    hub.faults.drop.set('weights/big.bin', { after: 40_000, times: 1 });
    await downloadFile(t, { retries: 0 }).catch(() => undefined);
    const changed = randomBytes(150_000);
    hub.change('weights/big.bin', changed);
    const info = await fetchFileInfo(hub.url, REPO, REV, 'weights/big.bin');
    const r = await downloadFile({ ...t, url: info.url, expected: { bytes: changed.length, sha256: info.sha256 ?? '' } });
    expect(r.restarts).toBe(1);
    expect((await readFile(t.dest)).equals(changed)).toBe(true);
    expect(hub.gets('weights/big.bin').at(-1)?.range).toBeUndefined();
    hub.change('weights/big.bin', big);
  });

  it('bytes that do not match the declared hash: corrupt error naming both hashes, nothing kept', async () => {
    const t = await target('weights/big.bin');
    const other = Buffer.from(big);
    other[1234] ^= 0xff;
    hub.faults.lie.set('weights/big.bin', other);
    const error = await downloadFile(t).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'corrupt',
      message: expect.stringMatching(new RegExp(`test/files/weights/big\\.bin: the downloaded file does not match what the hub declared \\(sha256 ${sha256(other)}, expected ${sha256(big)}\\)\\. The partial download was deleted`)),
    });
    expect(await exists(`${t.dest}.part`)).toBe(false);
    expect(await exists(`${t.dest}.part.json`)).toBe(false);
    expect(await exists(t.dest)).toBe(false);
  });

  describe('a server that sends more than the declared size', () => {
    /** 64 MiB past the end: far more than socket buffers hold, so a client that reads on would get it all. */
    const OVERRUN = 64 * 1024 * 1024;

    /** Downloads `t` recording the part file's size after every write; returns the error and the largest size seen. */
    async function overrun(t: DownloadTarget, retries = 0): Promise<{ error: unknown; largest: number; events: ByteEvent[] }> {
      let largest = 0;
      const events: ByteEvent[] = [];
      const error = await downloadFile(t, {
        retries,
        retryDelayMs: 0,
        onBytes: (e) => {
          events.push(e);
          largest = Math.max(largest, statSync(`${t.dest}.part`, { throwIfNoEntry: false })?.size ?? 0);
        },
      }).catch((e: unknown) => e);
      return { error, largest, events };
    }

    it('stops reading at the declared size: the part never grows past it, the response is cut, corrupt error, the part deleted', async () => {
      const t = await target('weights/big.bin');
      hub.faults.overrun = new Map([['weights/big.bin', OVERRUN]]);
      const { error, largest, events } = await overrun(t);
      expect(error).toBeInstanceOf(ModelsError);
      expect(error).toMatchObject({
        code: 'corrupt',
        transient: false,
        message: `test/files/weights/big.bin: the server sent more than the ${big.length} bytes declared for this file, so the download was stopped there and the partial file was deleted; nothing was installed. The server (or the mirror in TESSERA_HUB_URL) serves another file than it declares: run the install again, and report it if it happens again.`,
      });
      expect(largest).toBeLessThanOrEqual(big.length);
      expect(events.every((e) => e.fileDone <= big.length)).toBe(true);
      expect(await exists(`${t.dest}.part`)).toBe(false);
      expect(await exists(`${t.dest}.part.json`)).toBe(false);
      expect(await exists(t.dest)).toBe(false);
      // The client hung up: the server could not hand over what it meant to send.
      const served = hub.gets('weights/big.bin');
      expect(served).toHaveLength(1);
      expect(served[0].sentBytes).toBeLessThan(big.length + OVERRUN);
    });

    it('the same when resuming: the cap is the whole file\'s declared size, not the rest', async () => {
      const t = await target('weights/big.bin');
      hub.faults.drop.set('weights/big.bin', { after: 70_000, times: 1 });
      await downloadFile(t, { retries: 0 }).catch(() => undefined);
      expect((await stat(`${t.dest}.part`)).size).toBeGreaterThan(0);
      hub.faults.overrun = new Map([['weights/big.bin', OVERRUN]]);
      const { error, largest } = await overrun(t, 3);
      expect(error).toMatchObject({ code: 'corrupt', message: expect.stringContaining(`sent more than the ${big.length} bytes declared`) });
      expect(largest).toBeLessThanOrEqual(big.length);
      expect(await exists(`${t.dest}.part`)).toBe(false);
      const resumed = hub.gets('weights/big.bin').at(-1);
      expect(resumed).toMatchObject({ status: 206, range: expect.stringMatching(/^bytes=\d+-$/) });
      expect(resumed?.sentBytes).toBeLessThan(big.length + OVERRUN);
    });

    it('a file the server sends exactly at its declared size still downloads (chunked, no Content-Length)', async () => {
      const t = await target('weights/big.bin');
      hub.faults.overrun = new Map([['weights/big.bin', 0]]);
      const r = await downloadFile(t);
      expect((await readFile(t.dest)).equals(big)).toBe(true);
      expect(r.downloaded).toBe(big.length);
    });
  });

  it('no size from the hub nor from the response: refused before any byte is written', async () => {
    const t = await target('weights/big.bin');
    hub.faults.overrun = new Map([['weights/big.bin', 0]]);
    const { bytes: _bytes, ...unsized } = t.expected;
    const error = await downloadFile({ ...t, expected: unsized }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'corrupt', message: expect.stringMatching(/^test\/files\/weights\/big\.bin: neither the hub nor the server declares the file's size/) });
    expect(await exists(`${t.dest}.part`)).toBe(false);
  });

  it('cancel (AbortSignal) mid-file: cancelled, the part is kept for the next attempt', async () => {
    const t = await target('weights/big.bin');
    const abort = new AbortController();
    const error = await downloadFile(t, { signal: abort.signal, onBytes: (e) => e.network && abort.abort() }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'cancelled', message: expect.stringMatching(/cancelled after \d+ bytes; they are kept/) });
    expect(await exists(t.dest)).toBe(false);
    const r = await downloadFile(t);
    expect(r.resumedFrom).toBe((await stat(t.dest)).size - r.downloaded);
    expect((await readFile(t.dest)).equals(big)).toBe(true);
  });

  it('a disk error (the part file cannot be created): io-error naming the path, no retry', async () => {
    const t = await target('weights/big.bin');
    await mkdir(`${t.dest}.part`);
    await writeFile(join(`${t.dest}.part`, 'x'), 'in the way');
    const error = await downloadFile(t, { retryDelayMs: 0 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'io-error', message: expect.stringMatching(/Could not create the partial download '.*big\.bin\.part'/) });
    expect(hub.gets('weights/big.bin')).toHaveLength(1);
  });

  it('a 404 on download: not-found, no retries', async () => {
    const t = await target('weights/big.bin');
    const r = downloadFile({ ...t, url: resolveUrl(hub.url, REPO, REV, 'gone.bin') }, { retryDelayMs: 0 });
    await expect(r).rejects.toMatchObject({ code: 'not-found' });
    expect(hub.log.filter((q) => q.path.endsWith('gone.bin'))).toHaveLength(1);
  });
});
