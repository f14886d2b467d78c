/**
 * Installing a real pack (the sketch files as `sketch-mirror`) from the fake hub through the ModelManager: verified
 * atomic install, resume after a dropped connection, nothing half-installed ever listed, bad hashes, disk errors,
 * locks, cancel, draft manifests, reuse between packs, import and remove.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Catalog } from '../../../src-main/contract/catalog.ts';
import { ModelManager } from '../../../src-main/host/models/manager.ts';
import type { InstallProgress } from '../../../src-main/host/models/progress.ts';
import { INSTALL_RECORD, listInstalled, withIdLock } from '../../../src-main/host/models/store.ts';
import { resolvePack } from '../../../src-main/host/packs/builtin.ts';
import { verifyPack } from '../../../src-main/host/packs/load.ts';
import { FakeHub, sha256, type FakeFile } from './fake-hub.ts';
import { catalogOf, MIRROR_ID, MIRROR_REPO, MIRROR_REV, mirrorEntry, sketchMirrorFiles } from './mirror.ts';

const hub = new FakeHub();
let files: Record<string, FakeFile>;
let work: string;
let dirs = 0;
beforeAll(async () => {
  await hub.start();
  files = await sketchMirrorFiles();
  hub.publish(MIRROR_REPO, MIRROR_REV, files);
  work = await mkdtemp(join(tmpdir(), 'tessera-install-'));
});
afterAll(async () => {
  await hub.close();
  await rm(work, { recursive: true, force: true });
});
beforeEach(() => hub.reset());

/** A manager on a fresh models folder, the fake hub and `catalog`, with a fixed clock. */
function manager(catalog: Catalog = catalogOf(mirrorEntry(files)), modelsDir = join(work, `models-${dirs++}`)): ModelManager {
  let t = 0;
  return new ModelManager({ modelsDir, cacheDir: join(work, 'cache'), hubUrl: hub.url, catalog, retryDelayMs: 0, now: () => (t += 10) });
}
const exists = async (p: string): Promise<boolean> => (await stat(p).catch(() => undefined)) !== undefined;
const UNET = 'onnx/unet.onnx';

describe('install', () => {
  it('downloads, verifies and installs the pack in one rename; it resolves by id and lists as installed', async () => {
    const m = manager();
    const progress: InstallProgress[] = [];
    const r = await m.install(MIRROR_ID, { acceptLicence: true, onProgress: (p) => progress.push(p) });
    const total = Object.values(files).reduce((s, f) => s + f.content.length, 0);
    expect(r).toMatchObject({ id: MIRROR_ID, dir: join(m.modelsDir, MIRROR_ID), bytes: expect.any(Number), downloadedBytes: total, resumedBytes: 0, restarts: 0, reusedFiles: [] });
    const pack = await verifyPack(r.dir);
    expect(pack.manifest.id).toBe(MIRROR_ID);
    expect((await readdir(r.dir)).sort()).toEqual([...Object.keys(files).map((p) => p.split('/').pop()), INSTALL_RECORD].sort());
    const record = JSON.parse(await readFile(join(r.dir, INSTALL_RECORD), 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ id: MIRROR_ID, source: { kind: 'hub', hub: hub.url, repos: [{ repo: MIRROR_REPO, revision: MIRROR_REV, commit: MIRROR_REV }] }, licence: { name: 'CC0-1.0' } });
    expect((record.files as Record<string, { sha256: string }>)['unet.onnx'].sha256).toBe(sha256(files[UNET].content));
    expect((await resolvePack(MIRROR_ID, join(work, 'cache'), m.modelsDir)).dir).toBe(r.dir);
    const { models } = await m.list();
    expect(models.find((x) => x.id === MIRROR_ID)).toMatchObject({ status: 'installed', origin: 'catalog', diskBytes: expect.any(Number) });
    expect(await exists(join(m.modelsDir, '.staging', MIRROR_ID))).toBe(false);
    // Progress: bytes never exceed the total, the last download event has them all, and phases end with install.
    expect(progress.every((p) => p.bytesTotal === total && p.bytesDone <= total)).toBe(true);
    expect(progress.filter((p) => p.phase === 'download').at(-1)?.bytesDone).toBe(total);
    expect(progress.at(-1)?.phase).toBe('install');
    expect(progress.some((p) => p.bytesPerSecond > 0 && p.etaSeconds !== null)).toBe(true);
  });

  it('a dropped connection: nothing is installed or listed, the .part stays; the next install resumes from it', async () => {
    const m = new ModelManager({ modelsDir: join(work, `models-${dirs++}`), hubUrl: hub.url, catalog: catalogOf(mirrorEntry(files)), retries: 0 });
    hub.faults.drop.set(UNET, { after: 100_000, times: 1 });
    await expect(m.install(MIRROR_ID, { acceptLicence: true })).rejects.toMatchObject({ code: 'io-error', message: expect.stringMatching(/sketch-mirror\/onnx\/unet\.onnx: the connection dropped after/) });
    expect(await listInstalled(m.modelsDir)).toEqual([]);
    expect(await exists(join(m.modelsDir, MIRROR_ID))).toBe(false);
    await expect(resolvePack(MIRROR_ID, join(work, 'cache'), m.modelsDir)).rejects.toThrow(/unknown model 'sketch-mirror'/);
    const kept = (await stat(join(m.modelsDir, '.staging', MIRROR_ID, 'unet.onnx.part'))).size;
    expect(kept).toBeGreaterThan(0);
    expect((await m.list()).models.find((x) => x.id === MIRROR_ID)).toMatchObject({ status: 'partial' });

    hub.reset();
    const r = await m.install(MIRROR_ID, { acceptLicence: true });
    expect(r.resumedBytes).toBeGreaterThanOrEqual(kept);
    expect(hub.gets(UNET)).toEqual([expect.objectContaining({ range: `bytes=${kept}-`, status: 206 })]);
    await verifyPack(r.dir);
  });

  it('a file whose bytes do not match the hub\'s hash: corrupt, its .part removed, nothing installed, verified files kept', async () => {
    const m = manager();
    const bad = Buffer.from(files[UNET].content);
    bad[bad.length - 10] ^= 1;
    hub.faults.lie.set(UNET, bad);
    const error = await m.install(MIRROR_ID, { acceptLicence: true }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'corrupt', message: expect.stringMatching(/tessera-test\/sketch-mirror\/onnx\/unet\.onnx: the downloaded file does not match what the hub declared \(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\)\. The partial download was deleted and nothing was installed/) });
    const staging = join(m.modelsDir, '.staging', MIRROR_ID);
    expect(await exists(join(staging, 'unet.onnx.part'))).toBe(false);
    expect(await exists(join(staging, 'unet.onnx'))).toBe(false);
    expect(await exists(join(staging, 'manifest.json'))).toBe(true);
    expect(await listInstalled(m.modelsDir)).toEqual([]);
  });

  it('a mirror that declares no hash: refused before downloading anything', async () => {
    const m = manager();
    hub.faults.noHash.add(UNET);
    await expect(m.install(MIRROR_ID, { acceptLicence: true })).rejects.toMatchObject({ code: 'corrupt', message: expect.stringMatching(/onnx\/unet\.onnx.*declares no sha256 \(X-Linked-Etag\) or git blob id \(ETag\)/) });
    expect(hub.log.filter((q) => q.method === 'GET')).toEqual([]);
  });

  it('the hub serving another commit than the pinned one, or another size than the catalog: refused before downloading', async () => {
    const m = manager();
    hub.faults.commit = 'f'.repeat(40);
    await expect(m.install(MIRROR_ID, { acceptLicence: true })).rejects.toThrow(/served commit f{40}, not the pinned 5e1f2d3c/);
    hub.reset();
    const wrongSize = catalogOf(mirrorEntry(files, (e) => {
      const src = e.source as { repos: Array<{ files: Array<{ path: string; bytes: number }> }> };
      for (const f of src.repos[0].files) if (f.path === UNET) f.bytes += 1;
      e.size = { bytes: 1, estimate: true };
    }));
    await expect(manager(wrongSize).install(MIRROR_ID, { acceptLicence: true })).rejects.toMatchObject({ code: 'corrupt', message: expect.stringMatching(/unet\.onnx.*the hub declares \d+ bytes, the catalog \d+/) });
    expect(hub.log.filter((q) => q.method === 'GET')).toEqual([]);
  });

  it('not enough free space: io-error before downloading', async () => {
    const m = new ModelManager({ modelsDir: join(work, `models-${dirs++}`), hubUrl: hub.url, catalog: catalogOf(mirrorEntry(files)) });
    const { installPack } = await import('../../../src-main/host/models/install.ts');
    const entry = (await m.getCatalog()).entries[0];
    await expect(installPack(entry, { modelsDir: m.modelsDir, hubUrl: hub.url, acceptLicence: true, freeSpace: async () => 1000 })).rejects.toMatchObject({
      code: 'io-error',
      message: expect.stringMatching(/Not enough disk space in .*: the download needs \d+ more bytes, 1000 are free/),
    });
    expect(hub.log.filter((q) => q.method === 'GET')).toEqual([]);
  });

  it('free space is checked per install against the bytes still missing, before any byte is written', async () => {
    const modelsDir = join(work, `models-${dirs++}`);
    const m = new ModelManager({ modelsDir, hubUrl: hub.url, catalog: catalogOf(mirrorEntry(files)), retries: 0 });
    const { installPack } = await import('../../../src-main/host/models/install.ts');
    const entry = (await m.getCatalog()).entries[0];
    const total = Object.values(files).reduce((s, f) => s + f.content.length, 0);
    const probed: string[] = [];
    const install = (free: number) => installPack(entry, { modelsDir, hubUrl: hub.url, acceptLicence: true, retries: 0, freeSpace: async (dir) => (probed.push(dir), free) });
    const staging = join(modelsDir, '.staging', MIRROR_ID);
    const parts = async (): Promise<string[]> => (await readdir(staging).catch(() => [] as string[])).filter((n) => n.endsWith('.part'));

    // One file larger than the free space: refused before any GET, nothing written.
    await expect(install(files[UNET].content.length - 1)).rejects.toMatchObject({ code: 'io-error', message: expect.stringMatching(new RegExp(`the download needs ${total} more bytes, ${files[UNET].content.length - 1} are free`)) });
    expect(hub.log.filter((q) => q.method === 'GET')).toEqual([]);
    expect(await parts()).toEqual([]);
    expect(probed.every((d) => d.startsWith(modelsDir))).toBe(true);

    // An interrupted install: every small file done, part of the largest kept. Only what is missing counts.
    hub.faults.drop.set(UNET, { after: 100_000, times: 1 });
    await expect(install(total)).rejects.toMatchObject({ code: 'io-error' });
    const kept = (await stat(join(staging, 'unet.onnx.part'))).size;
    const missing = files[UNET].content.length - kept;
    hub.reset();
    await expect(install(missing - 1)).rejects.toMatchObject({ message: expect.stringContaining(`the download needs ${missing} more bytes, ${missing - 1} are free`) });
    expect(hub.log.filter((q) => q.method === 'GET')).toEqual([]);
    expect((await stat(join(staging, 'unet.onnx.part'))).size).toBe(kept);
    const r = await install(missing);
    expect(r).toMatchObject({ downloadedBytes: missing });
    await verifyPack(r.dir);
  });

  it('a file whose size neither the hub nor the catalog declares: refused before downloading anything', async () => {
    const unsized = catalogOf(mirrorEntry(files, (e) => {
      const src = e.source as { repos: Array<{ files: Array<{ path: string; bytes?: number }> }> };
      for (const f of src.repos[0].files) if (f.path === UNET) delete f.bytes;
      e.size = { bytes: 1, estimate: true };
    }));
    hub.faults.noSize = new Set([UNET]);
    await expect(manager(unsized).install(MIRROR_ID, { acceptLicence: true })).rejects.toMatchObject({
      code: 'corrupt',
      message: expect.stringMatching(/onnx\/unet\.onnx@5e1f2d3c4b5a: the hub declares no size for this file \(X-Linked-Size or Content-Length\) and the catalog pins none/),
    });
    expect(hub.log.filter((q) => q.method === 'GET')).toEqual([]);
  });

  it('a models folder that cannot be created: io-error naming it', async () => {
    const blocker = join(work, 'a-file');
    await writeFile(blocker, 'not a folder');
    const m = manager(undefined, join(blocker, 'models'));
    await expect(m.install(MIRROR_ID, { acceptLicence: true })).rejects.toMatchObject({ code: 'io-error', message: expect.stringMatching(/Could not create the models folder '.*a-file\/models'.*ENOTDIR/) });
    expect(hub.log).toEqual([]);
  });

  it('the licence must be accepted first; nothing is fetched otherwise', async () => {
    await expect(manager().install(MIRROR_ID, { acceptLicence: false })).rejects.toMatchObject({ code: 'invalid-argument', message: expect.stringMatching(/licence of 'sketch-mirror' \(CC0-1\.0, .*\) has not been accepted/) });
    expect(hub.log).toEqual([]);
  });

  it('another install of the same id holds the lock: busy', async () => {
    const m = manager();
    await withIdLock(m.modelsDir, MIRROR_ID, async () => {
      await expect(m.install(MIRROR_ID, { acceptLicence: true })).rejects.toMatchObject({ code: 'busy', message: expect.stringMatching(/Another Tessera process is installing/) });
    });
  });

  it('cancel(id) stops a running install; partial files are kept and the next install finishes', async () => {
    const m = manager();
    let cancelled = false;
    // unet.onnx is the largest file, so it comes last: cancel as it starts (mid-file cancel: download.test.ts).
    m.on('progress', (p) => {
      if (!cancelled && p.file === 'unet.onnx') cancelled = m.cancel(MIRROR_ID);
    });
    const failed: string[] = [];
    m.on('failed', (f) => failed.push(f.code));
    await expect(m.install(MIRROR_ID, { acceptLicence: true })).rejects.toMatchObject({ code: 'cancelled' });
    expect(cancelled).toBe(true);
    expect(failed).toEqual(['cancelled']);
    expect(await listInstalled(m.modelsDir)).toEqual([]);
    expect(m.cancel(MIRROR_ID)).toBe(false);
    const r = await m.install(MIRROR_ID, { acceptLicence: true });
    expect(r.resumedBytes).toBeGreaterThan(0);
  });

  it('reinstalling replaces the installed pack atomically; remove deletes it', async () => {
    const m = manager();
    await m.install(MIRROR_ID, { acceptLicence: true });
    const r = await m.install(MIRROR_ID, { acceptLicence: true });
    await verifyPack(r.dir);
    expect(await readdir(m.modelsDir)).toEqual(expect.not.arrayContaining([expect.stringMatching(/tmp|old/)]));
    const removed = await m.remove(MIRROR_ID);
    expect(removed).toMatchObject({ id: MIRROR_ID, removedPack: true, freedBytes: expect.any(Number) });
    expect(await exists(r.dir)).toBe(false);
    await expect(m.remove(MIRROR_ID)).rejects.toMatchObject({ code: 'not-found' });
    await expect(m.remove('sketch')).rejects.toThrow(/built-in model/);
  });
});

describe('draft manifests and reuse', () => {
  /** The mirror's files without manifest.json, and a draft built from it (hashes removed). */
  function draftEntry(id: string): Record<string, unknown> {
    const { 'manifest.json': manifestFile, ...rest } = files;
    const draft = JSON.parse(manifestFile.content.toString('utf8')) as Record<string, unknown>;
    draft.id = id;
    const strip = (x: unknown): void => {
      if (!x || typeof x !== 'object') return;
      for (const [k, v] of Object.entries(x)) {
        if (k === 'sha256') delete (x as Record<string, unknown>)[k];
        else strip(v);
      }
    };
    strip(draft);
    return mirrorEntry(rest, (e) => (e.manifest = draft), id);
  }

  it('a draft manifest gets the verified sha256 of each file and the pack verifies', async () => {
    const m = manager(catalogOf(draftEntry('sketch-draft')));
    const r = await m.install('sketch-draft', { acceptLicence: true });
    const pack = await verifyPack(r.dir);
    expect(pack.manifest.tokenizer.sha256).toBe(sha256(files['tokenizer.json'].content));
  });

  it('a draft this Tessera cannot load is refused before any request', async () => {
    const entry = draftEntry('sketch-bad');
    (entry.manifest as Record<string, unknown>).family = 'stable-audio-3';
    await expect(manager(catalogOf(entry)).install('sketch-bad', { acceptLicence: true })).rejects.toMatchObject({ code: 'model-error', message: expect.stringMatching(/cannot load the 'stable-audio-3' pack that 'sketch-bad' describes; nothing was installed/) });
    expect(hub.log).toEqual([]);
  });

  it('files identical to an installed pack\'s are copied, not downloaded', async () => {
    const m = manager(catalogOf(mirrorEntry(files), draftEntry('sketch-draft')));
    await m.install(MIRROR_ID, { acceptLicence: true });
    hub.reset();
    const r = await m.install('sketch-draft', { acceptLicence: true });
    // LFS files are known by sha256 and reused; regular files (declared by git blob id) are small and downloaded.
    expect(r.reusedFiles.sort()).toEqual(['text_encoder.onnx', 'unet.onnx', 'vae_decoder.onnx', 'vocoder.onnx']);
    const regular = Object.entries(files).filter(([p, f]) => !f.lfs && p !== 'manifest.json');
    expect(r.downloadedBytes).toBe(regular.reduce((s, [, f]) => s + f.content.length, 0));
    expect(hub.log.filter((q) => q.method === 'GET' && q.path.startsWith('/cdn/'))).toEqual([]);
    await verifyPack(r.dir);
  });
});

describe('import', () => {
  it('imports a pack folder validated like any pack; refuses a second copy unless replacing', async () => {
    const source = await manager().install(MIRROR_ID, { acceptLicence: true });
    const m = manager();
    const r = await m.import(source.dir);
    expect(r).toMatchObject({ id: MIRROR_ID, replaced: false });
    await verifyPack(r.dir);
    const record = JSON.parse(await readFile(join(r.dir, INSTALL_RECORD), 'utf8')) as { source: unknown };
    expect(record.source).toEqual({ kind: 'import', from: source.dir });
    await expect(m.import(source.dir)).rejects.toThrow(/'sketch-mirror' is already installed .*--replace/);
    expect(await m.import(source.dir, { replace: true })).toMatchObject({ replaced: true });
  });

  it('a damaged folder, a built-in id or a missing folder is refused with the reason', async () => {
    const source = await manager().install(MIRROR_ID, { acceptLicence: true });
    await writeFile(join(source.dir, 'vocoder.onnx'), 'truncated');
    const m = manager();
    await expect(m.import(source.dir)).rejects.toMatchObject({ code: 'model-error', message: expect.stringMatching(/vocoder\.onnx: sha256 .* does not match/) });
    expect(await listInstalled(m.modelsDir)).toEqual([]);
    const builtin = join(work, 'cache', 'packs', 'sketch');
    await resolvePack('sketch', join(work, 'cache'));
    await expect(m.import(builtin)).rejects.toThrow(/its id 'sketch' is a built-in model's/);
    await expect(m.import(join(work, 'nowhere'))).rejects.toMatchObject({ code: 'not-found' });
  });
});
