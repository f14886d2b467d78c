/** Model pack loading: built-in generation, hashing, and every kind of damaged pack giving a precise error. */
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManifestError } from '../../src-main/contract/manifest.ts';
import { GraphMismatchError } from '../../src-main/engine/runtime/session.ts';
import { resolvePack } from '../../src-main/host/packs/builtin.ts';
import { finalizeManifest } from '../../src-main/host/packs/write.ts';
import { openAudioLdmModel, PackError, verifyPack } from '../../src-main/host/packs/load.ts';
import { buildSketchPack } from '../../src-main/packs/sketch/index.ts';
import { builtinPack, TEST_CACHE_DIR } from '../helpers/packs.ts';

let work: string;
let sketchDir: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-packs-'));
  sketchDir = (await builtinPack('sketch')).dir;
});
afterAll(async () => rm(work, { recursive: true, force: true }));

/** A fresh copy of the sketch pack that a test may damage. */
async function copyOfSketch(name: string): Promise<string> {
  const dir = join(work, name);
  await cp(sketchDir, dir, { recursive: true });
  return dir;
}

async function editManifest(dir: string, edit: (m: Record<string, unknown>) => void): Promise<void> {
  const path = join(dir, 'manifest.json');
  const m = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  edit(m);
  await writeFile(path, JSON.stringify(m));
}

describe('built-in packs', () => {
  it('are generated deterministically: same bytes, same sha256s', () => {
    const a = finalizeManifest(buildSketchPack());
    const b = finalizeManifest(buildSketchPack());
    expect(a).toEqual(b);
    expect(a.components.unet.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('the cached copy verifies and its files hash to the manifest values', async () => {
    const pack = await verifyPack(sketchDir);
    if (pack.manifest.family !== 'audioldm') throw new Error('sketch is an audioldm pack');
    const unet = await readFile(join(sketchDir, pack.manifest.components.unet.file));
    expect(createHash('sha256').update(unet).digest('hex')).toBe(pack.manifest.components.unet.sha256);
    expect(pack.manifest.demo).toBe(true);
  });

  it('resolvePack accepts a built-in id or a folder and rejects anything else', async () => {
    expect((await resolvePack('sketch', TEST_CACHE_DIR)).manifest.id).toBe('sketch');
    expect((await resolvePack(sketchDir)).manifest.id).toBe('sketch');
    await expect(resolvePack('audioldm-xl', TEST_CACHE_DIR)).rejects.toThrow(/unknown model 'audioldm-xl': not a built-in model \(sketch, shape-s, stable-audio-3-standin\)/);
    await expect(resolvePack(join(sketchDir, 'manifest.json'))).rejects.toThrow(/is a file; pass a model pack folder/);
  });
});

describe('damaged packs are refused with the file and reason named', () => {
  it('missing file', async () => {
    const dir = await copyOfSketch('missing');
    await unlink(join(dir, 'vocoder.onnx'));
    await expect(verifyPack(dir)).rejects.toThrow(/vocoder\.onnx: missing/);
  });

  it('truncated file', async () => {
    const dir = await copyOfSketch('truncated');
    await truncate(join(dir, 'unet.onnx'), 100);
    await expect(verifyPack(dir)).rejects.toBeInstanceOf(PackError);
    await expect(verifyPack(dir)).rejects.toThrow(/unet\.onnx: sha256 [0-9a-f]{64} does not match the manifest's [0-9a-f]{64} \(100 bytes; truncated or modified\?\)/);
  });

  it('wrong hash', async () => {
    const dir = await copyOfSketch('wronghash');
    await editManifest(dir, (m) => {
      (m.tokenizer as Record<string, unknown>).sha256 = '0'.repeat(64);
    });
    await expect(verifyPack(dir)).rejects.toThrow(/tokenizer\.json: sha256 .* does not match the manifest's 0{64}/);
  });

  it('manifest missing fields or with bad values lists every problem by path', async () => {
    const dir = await copyOfSketch('badmanifest');
    await editManifest(dir, (m) => {
      delete m.audio;
      (m.latent as Record<string, unknown>).timeMultiple = 0;
      (m.components as Record<string, Record<string, unknown>>).unet.file = '../escape.onnx';
    });
    const run = verifyPack(dir);
    await expect(run).rejects.toBeInstanceOf(ManifestError);
    await expect(verifyPack(dir)).rejects.toThrow(/- audio: .*\(missing\)/);
    await expect(verifyPack(dir)).rejects.toThrow(/- latent\.timeMultiple: /);
    await expect(verifyPack(dir)).rejects.toThrow(/- components\.unet\.file: must be a plain file name/);
  });

  it('not JSON, or no manifest at all', async () => {
    const dir = await copyOfSketch('notjson');
    await writeFile(join(dir, 'manifest.json'), '{ nope');
    await expect(verifyPack(dir)).rejects.toThrow(/manifest\.json is not valid JSON/);
    await expect(verifyPack(work)).rejects.toThrow(/cannot read manifest\.json \(ENOENT\); is this a Tessera model pack folder\?/);
  });

  it('a graph whose tensors do not match the manifest names each difference', async () => {
    const dir = await copyOfSketch('mismatch');
    await editManifest(dir, (m) => {
      const unet = (m.components as Record<string, Record<string, Array<Record<string, unknown>>>>).unet;
      unet.inputs[0].name = 'latents';
      unet.inputs[1].type = 'int64';
      unet.outputs[0].dims = ['N', 8, 'T'];
    });
    const pack = await verifyPack(dir); // files and hashes are fine; the graph contract is not
    const open = openAudioLdmModel(pack, { device: 'cpu', intraOpThreads: 1 });
    await expect(open).rejects.toBeInstanceOf(GraphMismatchError);
    const message = await open.catch((e: Error) => e.message);
    expect(message).toContain("input 'latents' is missing (graph has: sample, timestep, class_labels)");
    expect(message).toContain("input 'timestep': expected int64, graph has float32");
    expect(message).toContain("output 'noise_pred': expected rank 3 [N, 8, T], graph has rank 4");
    expect(message).toContain("input 'sample' is in the graph but not in the manifest");
  });
});
