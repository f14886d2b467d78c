/**
 * Installing AudioLDM from the hub (issue 13): a `convert` catalog entry downloads the diffusers checkpoint from a
 * fake hub on 127.0.0.1 (the audioldm-tiny fixture, as safetensors or as PyTorch .bin), converts it in TypeScript,
 * verifies and opens the pack, and renames it into place; the installed pack generates. Malformed checkpoints (a
 * truncated file, a pickle with a forbidden opcode) and a cancel during the conversion install nothing, leave no
 * half-written pack and name the problem; the verified download is kept, so the next attempt only converts.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseCatalog, type Catalog } from '../../../src-main/contract/catalog.ts';
import { textToAudio } from '../../../src-main/engine/pipelines/text-to-audio.ts';
import { bundledCatalog, findEntry } from '../../../src-main/host/models/catalog.ts';
import { ModelManager } from '../../../src-main/host/models/manager.ts';
import { planInstall } from '../../../src-main/host/models/plan.ts';
import type { InstallProgress } from '../../../src-main/host/models/progress.ts';
import { INSTALL_RECORD, listInstalled } from '../../../src-main/host/models/store.ts';
import { resolvePack } from '../../../src-main/host/packs/builtin.ts';
import { openModel, verifyPack } from '../../../src-main/host/packs/load.ts';
import { PickleWriter, torchSave } from '../../helpers/torch-writer.ts';
import { binPath, TINY_ID, TINY_REPO, TINY_REV, tinyEntry, tinyRepoFiles } from './audioldm-hub.ts';
import { FakeHub, type FakeFile } from './fake-hub.ts';
import { tempDir } from './convert/golden.ts';

const hub = new FakeHub();
let work: string;
let dirs = 0;
let safetensors: Record<string, FakeFile>;
let bins: Record<string, FakeFile>;
const BIN_REV = 'b'.repeat(40);
const UNET = 'unet/diffusion_pytorch_model.safetensors';

beforeAll(async () => {
  await hub.start();
  safetensors = await tinyRepoFiles('safetensors');
  bins = await tinyRepoFiles('bin');
  hub.publish(TINY_REPO, TINY_REV, safetensors);
  hub.publish(TINY_REPO, BIN_REV, bins);
  work = await tempDir('tessera-audioldm-install-');
});
afterAll(async () => {
  await hub.close();
  await rm(work, { recursive: true, force: true });
});
beforeEach(() => hub.reset());

const catalogOf = (...entries: Array<Record<string, unknown>>): Catalog => parseCatalog({ schemaVersion: 1, entries }, 'test catalog');
const atRevision = (revision: string) => (e: Record<string, unknown>): void => {
  (e.source as { repos: Array<{ revision: string }> }).repos[0].revision = revision;
};
function manager(catalog: Catalog): ModelManager {
  return new ModelManager({ modelsDir: join(work, `models-${dirs++}`), cacheDir: join(work, 'cache'), hubUrl: hub.url, catalog, retryDelayMs: 0, retries: 0 });
}
const exists = async (p: string): Promise<boolean> => (await stat(p).catch(() => undefined)) !== undefined;
const rms = (a: Float32Array): number => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
const fileGets = (): number => hub.log.filter((r) => r.method === 'GET' && r.status !== 302).length;

describe('AudioLDM from the hub: download, convert, verify, install', () => {
  it('safetensors: progress moves through the download and then the conversion; the pack is listed, resolves and generates', async () => {
    const m = manager(catalogOf(tinyEntry(safetensors)));
    const progress: InstallProgress[] = [];
    const r = await m.install(TINY_ID, { acceptLicence: true, onProgress: (p) => progress.push(p) });
    expect(r).toMatchObject({ id: TINY_ID, dir: join(m.modelsDir, TINY_ID), resumedBytes: 0, convertSeconds: expect.any(Number) });
    expect(r.downloadedBytes).toBe(Object.values(safetensors).reduce((s, f) => s + f.content.length, 0));

    // Phases in order: download (and verify) → convert → install; conversion progress only grows and ends full.
    const phases = progress.map((p) => p.phase).filter((p) => p !== 'verify').filter((p, i, all) => p !== all[i - 1]);
    expect(phases).toEqual(['download', 'convert', 'install']);
    const converting = progress.filter((p) => p.phase === 'convert' && p.bytesTotal !== null);
    expect(converting.length).toBeGreaterThan(1);
    expect(converting.every((p, i) => i === 0 || p.bytesDone >= converting[i - 1].bytesDone)).toBe(true);
    expect(converting.at(-1)?.bytesDone).toBe(converting.at(-1)?.bytesTotal);
    expect(new Set(converting.map((p) => p.file))).toEqual(new Set(['textEncoder', 'unet', 'vaeDecoder', 'vocoder', 'write']));

    // The pack: verified, its install record names the repo and commit, nothing of the checkpoint is left over.
    const pack = await verifyPack(r.dir);
    expect(pack.manifest).toMatchObject({ id: TINY_ID, name: 'AudioLDM tiny (fake hub)', family: 'audioldm' });
    const record = JSON.parse(await readFile(join(r.dir, INSTALL_RECORD), 'utf8')) as Record<string, unknown>;
    expect(record).toMatchObject({ id: TINY_ID, source: { kind: 'hub', repos: [{ repo: TINY_REPO, revision: TINY_REV, commit: TINY_REV }] }, licence: { name: 'CC BY-NC-SA 4.0' } });
    expect(Object.keys(record.files as object).sort()).toEqual((await readdir(r.dir)).filter((n) => n !== INSTALL_RECORD).sort());
    expect(await readdir(r.dir)).not.toContain('unet');
    expect(await exists(join(m.modelsDir, '.staging', TINY_ID))).toBe(false);
    expect((await m.list()).models.find((x) => x.id === TINY_ID)).toMatchObject({ status: 'installed', origin: 'catalog' });

    const model = await openModel(await resolvePack(TINY_ID, join(work, 'cache'), m.modelsDir), { device: 'cpu', intraOpThreads: 1 });
    try {
      const out = await textToAudio(model, { seconds: 1, seed: 3, steps: 2, guidance: 2.5, sampler: 'ddim', eta: 0, prompt: 'a dog barks in the rain' });
      expect(out.sampleRate).toBe(16000);
      expect(out.channels).toHaveLength(1);
      expect(out.channels[0].length).toBe(16000);
      expect(out.channels[0].every(Number.isFinite)).toBe(true);
      expect(rms(out.channels[0])).toBeGreaterThan(0);
    } finally {
      await model.dispose();
    }
  });

  it('.bin: where the hub has no safetensors the .bin alternative is fetched, and the pack equals the safetensors one', async () => {
    const m = manager(catalogOf(tinyEntry(bins, atRevision(BIN_REV))));
    const r = await m.install(TINY_ID, { acceptLicence: true });
    const heads = hub.log.filter((q) => q.method === 'HEAD');
    expect(heads.find((q) => q.path.endsWith(`/${UNET}`))).toMatchObject({ status: 404 });
    expect(heads.find((q) => q.path.endsWith(`/${binPath(UNET)}`))).toMatchObject({ status: 302 });
    const fromBin = await verifyPack(r.dir);
    // Same tensors, same converter: byte-identical graphs (compared through the manifests' sha256s).
    const other = manager(catalogOf(tinyEntry(safetensors)));
    const fromSafetensors = await verifyPack((await other.install(TINY_ID, { acceptLicence: true })).dir);
    if (fromBin.manifest.family !== 'audioldm' || fromSafetensors.manifest.family !== 'audioldm') throw new Error('expected audioldm packs');
    for (const name of ['textEncoder', 'unet', 'vaeDecoder', 'vocoder'] as const) {
      expect(fromBin.manifest.components[name].sha256, name).toBe(fromSafetensors.manifest.components[name].sha256);
    }
  });
});

describe('malformed checkpoints install nothing and say why', () => {
  it('a truncated weights file (as the hub declares it): the error names the file; no pack, no half-written folder; the download is kept', async () => {
    const rev = 'c'.repeat(40);
    const content = safetensors[UNET].content;
    hub.publish(TINY_REPO, rev, { ...safetensors, [UNET]: { content: content.subarray(0, content.length - 1000), lfs: true } });
    const m = manager(catalogOf(tinyEntry(safetensors, atRevision(rev))));
    const error = await m.install(TINY_ID, { acceptLicence: true }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 'corrupt',
      message: expect.stringMatching(/'audioldm-tiny-hub': the checkpoint from tessera-test\/audioldm-tiny@cccccccccccc downloaded and matched the hub's hashes, but converting it failed, so nothing was installed: .*unet\/diffusion_pytorch_model\.safetensors' is not a valid safetensors file: .*the file is truncated/s),
    });
    expect((error as Error).message).toMatch(/The downloaded files are kept in .*npm run models -- remove audioldm-tiny-hub/s);
    expect(await listInstalled(m.modelsDir)).toEqual([]);
    expect(await exists(join(m.modelsDir, TINY_ID))).toBe(false);
    const staging = join(m.modelsDir, '.staging', TINY_ID);
    expect(await exists(join(staging, '.convert'))).toBe(false);
    expect(await exists(join(staging, UNET))).toBe(true);
  });

  it('a .bin whose pickle calls os.system: refused as a forbidden opcode before anything runs; nothing installed', async () => {
    const rev = 'd'.repeat(40);
    const evil = new PickleWriter().proto().global('os', 'system').str('touch /tmp/pwned-by-tessera-test').raw(0x85, 0x52, 0x2e).bytes();
    const vocoder = 'vocoder/pytorch_model.bin';
    hub.publish(TINY_REPO, rev, { ...bins, [vocoder]: { content: Buffer.from(torchSave({ storages: [], tensors: [], pickle: evil })), lfs: true } });
    const m = manager(catalogOf(tinyEntry(bins, atRevision(rev))));
    await expect(m.install(TINY_ID, { acceptLicence: true })).rejects.toMatchObject({
      code: 'model-error',
      message: expect.stringMatching(/converting it failed, so nothing was installed: .*forbidden pickle opcode GLOBAL \(os\.system/s),
    });
    expect(await exists('/tmp/pwned-by-tessera-test')).toBe(false);
    expect(await listInstalled(m.modelsDir)).toEqual([]);
    expect(await exists(join(m.modelsDir, '.staging', TINY_ID, '.convert'))).toBe(false);
  });

  it('a file missing on the hub in both formats: not-found before any download, naming both paths', async () => {
    const rev = 'e'.repeat(40);
    const { [UNET]: _dropped, ...rest } = safetensors;
    hub.publish(TINY_REPO, rev, rest);
    const m = manager(catalogOf(tinyEntry(safetensors, atRevision(rev))));
    await expect(m.install(TINY_ID, { acceptLicence: true })).rejects.toMatchObject({
      code: 'not-found',
      message: expect.stringMatching(/tessera-test\/audioldm-tiny@eeeeeeeeeeee has none of unet\/diffusion_pytorch_model\.safetensors, unet\/diffusion_pytorch_model\.bin/),
    });
    expect(fileGets()).toBe(0);
  });
});

describe('cancel', () => {
  it('during the conversion: cancelled, nothing installed or half-written; the next install converts without downloading again', async () => {
    const m = manager(catalogOf(tinyEntry(safetensors)));
    const error = await m
      .install(TINY_ID, {
        acceptLicence: true,
        onProgress: (p) => {
          if (p.phase === 'convert') m.cancel(TINY_ID);
        },
      })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'cancelled', message: expect.stringMatching(/cancelled while converting; nothing was installed\. The downloaded checkpoint is kept/) });
    expect(await listInstalled(m.modelsDir)).toEqual([]);
    expect(await exists(join(m.modelsDir, '.staging', TINY_ID, '.convert'))).toBe(false);
    expect((await m.list()).models.find((x) => x.id === TINY_ID)).toMatchObject({ status: 'partial' });

    hub.reset();
    const r = await m.install(TINY_ID, { acceptLicence: true });
    expect(fileGets()).toBe(0);
    expect(r.downloadedBytes).toBe(0);
    await verifyPack(r.dir);
  });

  it('during the download: cancelled, the partial download kept', async () => {
    const m = manager(catalogOf(tinyEntry(safetensors)));
    hub.faults.drop.set(UNET, { after: 50_000, times: 1 });
    await expect(m.install(TINY_ID, { acceptLicence: true })).rejects.toMatchObject({ code: 'io-error' });
    expect(await exists(join(m.modelsDir, '.staging', TINY_ID, `${UNET}.part`))).toBe(true);
    const abort = new AbortController();
    abort.abort();
    await expect(m.install(TINY_ID, { acceptLicence: true, signal: abort.signal })).rejects.toMatchObject({ code: 'cancelled' });
    expect(await exists(join(m.modelsDir, '.staging', TINY_ID, `${UNET}.part`))).toBe(true);
    expect(await listInstalled(m.modelsDir)).toEqual([]);
  });
});

describe('the bundled AudioLDM entries', () => {
  it('download the cvssp diffusers folders (files keep their repo paths) and ask for the commits that are not pinned', () => {
    const catalog = bundledCatalog();
    const m = planInstall(findEntry(catalog, 'audioldm-m-full'), { acceptLicence: true });
    expect(m.manifest).toBe('converted');
    expect(m.convert).toEqual({ converter: 'diffusers-audioldm' });
    expect(new Set(m.files.map((f) => f.revision))).toEqual(new Set(['77869a717f69d82279a4e27e8fdb889f1f36fe49']));
    expect(m.files.map((f) => f.name)).toEqual(expect.arrayContaining(['model_index.json', 'unet/config.json', 'vae/config.json', 'tokenizer/vocab.json', 'tokenizer/merges.txt', 'scheduler/scheduler_config.json']));
    expect(m.files.find((f) => f.name === UNET)?.alternatives).toEqual(['unet/diffusion_pytorch_model.bin']);
    expect(m.files.find((f) => f.name === 'text_encoder/model.safetensors')?.alternatives).toEqual(['text_encoder/pytorch_model.bin']);
    for (const id of ['audioldm-s-full-v2', 'audioldm-l-full']) {
      expect(() => planInstall(findEntry(catalog, id), { acceptLicence: true })).toThrow(new RegExp(`pins no commit for cvssp/${id} \\(UNPINNED\\)`));
      expect(planInstall(findEntry(catalog, id), { acceptLicence: true, revisions: { [`cvssp/${id}`]: 'f'.repeat(40) } }).files).toHaveLength(13);
    }
    expect(() => planInstall(findEntry(catalog, 'audioldm-s-full-v2'), { acceptLicence: false })).toThrow(/licence of 'audioldm-s-full-v2' \(CC BY-NC-SA 4\.0, .*\) has not been accepted/);
  });

  it('the manager asks for the unpinned commit of a convert entry', async () => {
    const m = new ModelManager({ modelsDir: join(work, `models-${dirs++}`), cacheDir: join(work, 'cache'), hubUrl: hub.url, catalog: bundledCatalog() });
    expect(await m.unpinnedRepos('audioldm-s-full-v2')).toEqual([{ repo: 'cvssp/audioldm-s-full-v2' }]);
    expect(await m.unpinnedRepos('audioldm-m-full')).toEqual([]);
  });
});

describe('convert entries in the catalog schema', () => {
  const parse = (edit: (e: Record<string, unknown>) => void): Catalog => catalogOf(tinyEntry(safetensors, edit));
  const repoOf = (e: Record<string, unknown>): { files: Array<Record<string, unknown>> } => (e.source as { repos: Array<{ files: Array<Record<string, unknown>> }> }).repos[0];

  it('accepts the fake-hub entry', () => {
    expect(parse(() => undefined).entries[0].source).toMatchObject({ kind: 'convert', converter: 'diffusers-audioldm', heads: 'config' });
  });

  it.each([
    ['a manifest (the converter writes it)', (e: Record<string, unknown>) => (e.manifest = 'included'), /a convert entry has no manifest: the converter writes it/],
    ['no model_index.json', (e: Record<string, unknown>) => (repoOf(e).files = repoOf(e).files.filter((f) => f.path !== 'model_index.json')), /must download model_index\.json/],
    ['two repos', (e: Record<string, unknown>) => (e.source as { repos: unknown[] }).repos.push((e.source as { repos: unknown[] }).repos[0]), /a convert source reads one checkpoint folder: give exactly one repo/],
    ['an unknown converter', (e: Record<string, unknown>) => ((e.source as Record<string, unknown>).converter = 'musicgen'), /converter/],
    ['an alternative that collides with a file', (e: Record<string, unknown>) => repoOf(e).files.push({ path: 'x/a.bin', alternatives: ['model_index.json'] }), /would both be saved as 'model_index\.json'/],
  ])('refuses %s', (_name, edit, message) => {
    expect(() => parse(edit)).toThrow(message);
  });

  it('refuses alternatives in a hub entry (a pack file has one name)', () => {
    const hubEntry = { ...tinyEntry(safetensors), manifest: 'included', source: { kind: 'hub', repos: [{ repo: TINY_REPO, revision: TINY_REV, files: [{ path: 'manifest.json' }, { path: 'a.onnx', alternatives: ['b.onnx'] }] }] } };
    expect(() => catalogOf(hubEntry)).toThrow(/"alternatives" are only for convert sources/);
  });
});
