/**
 * Stable Audio 3 from the catalog with no --revision: the bundled catalog's pinned music entry, against a fake hub
 * serving the lsb repo's real file names (graphs with their weights in external-data shards, tokenizer/, licence
 * files) holding the stable-audio-3 stand-in. Install completes the draft manifest (externalData included), opens
 * every graph before listing the pack, and the pack generates stereo 44.1 kHz audio that follows its prompt. Packs
 * whose graphs do not load are never listed, from a download or an import; an unpinned repo's entered commit is
 * remembered for Resume.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { textToAudio } from '../../../src-main/engine/pipelines/text-to-audio.ts';
import { ModelManager } from '../../../src-main/host/models/manager.ts';
import { listInstalled } from '../../../src-main/host/models/store.ts';
import { openModel, verifyPack } from '../../../src-main/host/packs/load.ts';
import { LSB_REPO, lsbRevision, lsbStandinCatalog, lsbStandinFiles, SA3_MUSIC_ID } from '../../helpers/sa3-lsb.ts';
import { builtinPack } from '../../helpers/packs.ts';
import { FakeHub, sha256 } from './fake-hub.ts';
import { catalogOf, MIRROR_ID, MIRROR_REPO, MIRROR_REV, mirrorEntry, sketchMirrorFiles } from './mirror.ts';

const hub = new FakeHub();
let work: string;
let dirs = 0;
const files = lsbStandinFiles();
beforeAll(async () => {
  await hub.start();
  hub.publish(LSB_REPO, lsbRevision(), files);
  work = await mkdtemp(join(tmpdir(), 'tessera-sa3-install-'));
});
afterAll(async () => {
  await hub.close();
  await rm(work, { recursive: true, force: true });
});
beforeEach(() => hub.reset());

const rms = (a: Float32Array): number => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);

describe('Stable Audio 3 music from the catalog', () => {
  it('installs from the pinned commit without --revision, verifies every shard, and generates with the pack', async () => {
    const m = new ModelManager({ modelsDir: join(work, `models-${dirs++}`), hubUrl: hub.url, catalog: lsbStandinCatalog(files), retryDelayMs: 0 });
    const r = await m.install(SA3_MUSIC_ID, { acceptLicence: true });
    const asked = hub.log.filter((req) => req.path.includes('/resolve/'));
    expect(asked.length).toBeGreaterThan(0);
    expect(asked.every((req) => req.path.includes(`/${LSB_REPO}/resolve/${lsbRevision()}/`))).toBe(true);
    const pack = await verifyPack(r.dir);
    if (pack.manifest.family !== 'stable-audio-3') throw new Error('not a stable-audio-3 pack');
    expect(pack.manifest.components.dit.externalData?.map((f) => [f.file, f.sha256])).toEqual(
      [0, 1, 2, 3].map((i) => [`dit_q4_chunk_${i}.data`, sha256(files[`onnx/dit_q4_chunk_${i}.data`].content)]),
    );
    expect(pack.manifest.latent.nativeWindowFrames).toBe(1292);
    // A changed shard is caught like any other file.
    await writeFile(join(r.dir, 'dit_q4_chunk_0.data'), Buffer.alloc(files['onnx/dit_q4_chunk_0.data'].content.length));
    await expect(verifyPack(r.dir)).rejects.toThrow(/dit_q4_chunk_0\.data: sha256 [0-9a-f]{64} does not match/);
    await writeFile(join(r.dir, 'dit_q4_chunk_0.data'), files['onnx/dit_q4_chunk_0.data'].content);

    const model = await openModel(await verifyPack(r.dir), { device: 'cpu', intraOpThreads: 1 });
    try {
      const out = await textToAudio(model, { seconds: 10, seed: 4, steps: 8, guidance: 1, sampler: 'pingpong', eta: 0, prompt: 'low drone on the left' });
      expect(out.sampleRate).toBe(44100);
      expect(out.channels.map((c) => c.length)).toEqual([441000, 441000]);
      expect(out.latent.dims).toEqual([1, 256, 174, 1]);
      expect(rms(out.channels[0].subarray(44100, 396900))).toBeGreaterThan(0.1);
      expect(rms(out.channels[1])).toBe(0);
    } finally {
      await model.dispose();
    }
  });

  it('a download whose graph does not load is not installed: the error names the graph and the runtime reason', async () => {
    const broken = { ...files, 'onnx/decoder_q4.onnx': { content: Buffer.from('not an onnx graph at all'), lfs: true } };
    const rev = 'a'.repeat(40);
    hub.publish(LSB_REPO, rev, broken);
    const catalog = lsbStandinCatalog(broken);
    const entry = catalog.entries[0];
    if (entry.source.kind === 'hub') entry.source.repos[0].revision = rev;
    const m = new ModelManager({ modelsDir: join(work, `models-${dirs++}`), hubUrl: hub.url, catalog, retryDelayMs: 0 });
    await expect(m.install(SA3_MUSIC_ID, { acceptLicence: true })).rejects.toMatchObject({ code: 'model-error', message: expect.stringMatching(/downloaded and verified, but .*decoder_q4\.onnx/s) });
    expect(await listInstalled(m.modelsDir)).toEqual([]);
  });
});

describe('import opens every graph first', () => {
  it('a pack folder whose hashes match but whose graph ONNX Runtime refuses is not listed as installed', async () => {
    const m = new ModelManager({ modelsDir: join(work, `models-${dirs++}`), hubUrl: hub.url, catalog: catalogOf(), retryDelayMs: 0 });
    const dir = join(work, 'import-src');
    await rm(dir, { recursive: true, force: true });
    await cp((await builtinPack('sketch')).dir, dir, { recursive: true });
    // A well-formed ONNX graph whose operator does not exist: the hashes are updated, so only loading fails.
    const manifestPath = join(dir, 'manifest.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { id: string; components: { vocoder: { file: string; sha256: string } } };
    manifest.id = 'sketch-graphs';
    const model = onnxProto.onnx.ModelProto.decode(await readFile(join(dir, manifest.components.vocoder.file)));
    const node = model.graph?.node?.[0];
    if (!node) throw new Error('the vocoder graph has no node');
    node.opType = 'NoSuchOperator';
    const bad = Buffer.from(onnxProto.onnx.ModelProto.encode(model).finish());
    await writeFile(join(dir, manifest.components.vocoder.file), bad);
    manifest.components.vocoder.sha256 = sha256(bad);
    await writeFile(manifestPath, JSON.stringify(manifest));
    await expect(m.import(dir)).rejects.toMatchObject({ code: 'model-error', message: expect.stringMatching(/its files verify, but its graphs do not load, so it was not installed: .*vocoder\.onnx/s) });
    expect(await listInstalled(m.modelsDir)).toEqual([]);
  });
});

describe('a repo the catalog does not pin', () => {
  it('asks for its commit, remembers the entered one for Resume, and forgets it once installed', async () => {
    const mirror = await sketchMirrorFiles();
    hub.publish(MIRROR_REPO, MIRROR_REV, mirror);
    const entry = mirrorEntry(mirror, (e) => {
      const source = e.source as { repos: Array<{ revision: string; candidate?: string }> };
      source.repos[0].revision = 'UNPINNED';
      source.repos[0].candidate = MIRROR_REV;
    });
    const m = new ModelManager({ modelsDir: join(work, `models-${dirs++}`), hubUrl: hub.url, catalog: catalogOf(entry), retryDelayMs: 0, retries: 0 });
    expect(await m.unpinnedRepos(MIRROR_ID)).toEqual([{ repo: MIRROR_REPO, candidate: MIRROR_REV }]);
    await expect(m.install(MIRROR_ID, { acceptLicence: true })).rejects.toMatchObject({ code: 'invalid-argument', message: expect.stringMatching(/pins no commit for tessera-test\/sketch-mirror/) });
    hub.faults.drop.set('onnx/unet.onnx', { after: 50_000, times: 1 });
    await expect(m.install(MIRROR_ID, { acceptLicence: true, revisions: { [MIRROR_REPO]: MIRROR_REV } })).rejects.toMatchObject({ code: 'io-error' });
    expect(await m.unpinnedRepos(MIRROR_ID)).toEqual([{ repo: MIRROR_REPO, candidate: MIRROR_REV, entered: MIRROR_REV }]);
    hub.reset();
    const r = await m.install(MIRROR_ID, { acceptLicence: true });
    expect(r.resumedBytes).toBeGreaterThan(0);
    expect(await m.unpinnedRepos(MIRROR_ID)).toEqual([{ repo: MIRROR_REPO, candidate: MIRROR_REV }]);
  });
});
