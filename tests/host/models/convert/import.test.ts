/**
 * Importing a diffusers AudioLDM folder (host/models/import.ts → convert/audioldm.ts): the fixture is converted,
 * verified, opened and installed like an imported pack; a .bin copy of it converts to the same graphs; another
 * pipeline, a head split the widths do not allow and malformed checkpoints (missing tensor, wrong shape, truncated
 * safetensors, a .bin with a forbidden pickle opcode) fail with errors that name the problem, and nothing is
 * installed.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, truncate, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelsError } from '../../../../src-main/host/models/errors.ts';
import { importPack, packIdForFolder } from '../../../../src-main/host/models/import.ts';
import { readInstallRecord } from '../../../../src-main/host/models/store.ts';
import { checkPackLoads } from '../../../../src-main/host/packs/check.ts';
import { verifyPack } from '../../../../src-main/host/packs/load.ts';
import { PickleWriter, torchSave } from '../../../helpers/torch-writer.ts';
import { convertTiny, copyTiny, readTensors, tempDir, toTorchBin, writeTensors } from './golden.ts';

let work: string;
beforeAll(async () => {
  work = await tempDir('tessera-convert-import-');
});
afterAll(async () => rm(work, { recursive: true, force: true }));

/** What is in a models folder besides its dot-folders, and whether staging is empty. */
async function installed(modelsDir: string): Promise<{ packs: string[]; staging: string[] }> {
  const packs = (await readdir(modelsDir).catch(() => [])).filter((n) => !n.startsWith('.'));
  const staging = await readdir(join(modelsDir, '.staging')).catch(() => []);
  return { packs, staging };
}

/** The import's error, which must be a ModelsError; nothing may be installed. */
async function importFails(dir: string, modelsDir: string): Promise<ModelsError> {
  const error = await importPack(dir, { modelsDir, heads: 'config', checkPack: checkPackLoads }).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ModelsError);
  expect(await installed(modelsDir)).toEqual({ packs: [], staging: [] });
  return error as ModelsError;
}

const sha = async (path: string): Promise<string> => createHash('sha256').update(await readFile(path)).digest('hex');

describe('importing a diffusers AudioLDM folder', () => {
  it('converts, opens and installs it under the folder\'s name, with an import record', async () => {
    const dir = await copyTiny(work, 'AudioLDM Tiny');
    const modelsDir = join(work, 'models-ok');
    const r = await importPack(dir, { modelsDir, heads: 'config', checkPack: checkPackLoads });
    expect(r.id).toBe('audioldm-tiny');
    expect(r.dir).toBe(join(modelsDir, 'audioldm-tiny'));
    expect(r.manifest.family).toBe('audioldm');
    expect((await verifyPack(r.dir)).manifest.id).toBe('audioldm-tiny');
    expect((await readInstallRecord(r.dir))?.source).toEqual({ kind: 'import', from: dir });
    expect(await installed(modelsDir)).toEqual({ packs: ['audioldm-tiny'], staging: [] });
  }, 60_000);

  it('names the pack after the repo of a hub cache snapshot', () => {
    expect(packIdForFolder('/home/u/.cache/huggingface/hub/models--cvssp--audioldm-m-full/snapshots/0123abc')).toBe('audioldm-m-full');
    expect(packIdForFolder('/data/My AudioLDM_S!')).toBe('my-audioldm_s-');
  });

  it('converts a .bin copy (PyTorch zip + pickle) to the same graphs and tokenizer as the safetensors folder', async () => {
    const dir = await copyTiny(work, 'bin');
    await toTorchBin(dir);
    const fromBin = (await convertTiny(work, 'pack-bin', {}, dir)).pack.dir;
    const fromSafetensors = (await convertTiny(work, 'pack-st')).pack.dir;
    for (const file of ['text_encoder.onnx', 'unet.onnx', 'vae_decoder.onnx', 'vocoder.onnx', 'tokenizer.json']) {
      expect(await sha(join(fromBin, file)), file).toBe(await sha(join(fromSafetensors, file)));
    }
  }, 60_000);

  it('refuses another pipeline, naming it', async () => {
    const dir = await copyTiny(work, 'ldm2');
    const index = JSON.parse(await readFile(join(dir, 'model_index.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(dir, 'model_index.json'), JSON.stringify({ ...index, _class_name: 'AudioLDM2Pipeline' }));
    const error = await importFails(dir, join(work, 'models-ldm2'));
    expect(error.code).toBe('model-error');
    expect(error.message).toMatch(/holds a AudioLDM2Pipeline, not an AudioLDMPipeline: Tessera converts AudioLDM v1 checkpoints/);
  });

  it("refuses the original head split where the UNet's width is not S, M or L, saying what to give", async () => {
    const modelsDir = join(work, 'models-heads');
    const error = await importPack(await copyTiny(work, 'heads'), { modelsDir }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ModelsError);
    expect((error as Error).message).toMatch(/block_out_channels\[0\] is 8, not the 128\/192\/256 of AudioLDM S, M or L.*--heads config/);
    expect(await installed(modelsDir)).toEqual({ packs: [], staging: [] });
  });
});

describe('malformed checkpoints fail with clear errors and install nothing', () => {
  it('a missing tensor: names the file, the tensor, its expected shape and what to do', async () => {
    const dir = await copyTiny(work, 'missing');
    const file = 'diffusion_pytorch_model.safetensors';
    const tensors = await readTensors(join(dir, 'unet', file));
    await writeTensors(dir, 'unet', file, tensors.filter((t) => t.name !== 'mid_block.attentions.0.proj_out.weight'));
    const error = await importFails(dir, join(work, 'models-missing'));
    expect(error.code).toBe('model-error');
    expect(error.message).toContain(
      "checkpoint unet/diffusion_pytorch_model.safetensors has no tensor 'mid_block.attentions.0.proj_out.weight' that unet needs (expected [40, 40, 1, 1]); " +
        'the folder is not an AudioLDM checkpoint of this layout, or it is incomplete: download it again',
    );
  });

  it('a tensor of the wrong shape: names it with the expected and the actual shape', async () => {
    const dir = await copyTiny(work, 'shape');
    const file = 'diffusion_pytorch_model.safetensors';
    const tensors = await readTensors(join(dir, 'unet', file));
    // Same bytes, transposed shape: only the header says it is wrong.
    await writeTensors(dir, 'unet', file, tensors.map((t) => (t.name === 'class_embedding.weight' ? { ...t, shape: [512, 32] } : t)));
    const error = await importFails(dir, join(work, 'models-shape'));
    expect(error.code).toBe('model-error');
    expect(error.message).toContain("checkpoint unet/diffusion_pytorch_model.safetensors: tensor 'class_embedding.weight' has shape [512, 32] but unet needs [32, 512]");
  });

  it('a truncated safetensors file: says it is truncated, names the file', async () => {
    const dir = await copyTiny(work, 'truncated');
    const path = join(dir, 'vae', 'diffusion_pytorch_model.safetensors');
    await truncate(path, (await stat(path)).size - 1000);
    const error = await importFails(dir, join(work, 'models-truncated'));
    expect(error.code).toBe('corrupt');
    expect(error.message).toContain(path);
    expect(error.message).toMatch(/truncat|shorter|ends/i);
  });

  it('a .bin whose pickle holds a forbidden opcode: refused before anything runs', async () => {
    const dir = await copyTiny(work, 'pickle');
    await rm(join(dir, 'vocoder', 'model.safetensors'));
    const evil = new PickleWriter().proto().global('os', 'system').str('touch /tmp/tessera-pwned').raw(0x85, 0x52, 0x2e).bytes();
    await writeFile(join(dir, 'vocoder', 'pytorch_model.bin'), torchSave({ storages: [], tensors: [], pickle: evil, prefix: 'pytorch_model' }));
    const error = await importFails(dir, join(work, 'models-pickle'));
    expect(error.code).toBe('model-error');
    expect(error.message).toMatch(/forbidden pickle opcode GLOBAL \(os\.system .*the file may run code; it was not loaded/);
    expect(error.message).toContain(join(dir, 'vocoder', 'pytorch_model.bin'));
  });

  it('a component without weights: names the folder and the files looked for', async () => {
    const dir = await copyTiny(work, 'noweights');
    await rm(join(dir, 'vocoder', 'model.safetensors'));
    const error = await importFails(dir, join(work, 'models-noweights'));
    expect(error.code).toBe('not-found');
    expect(error.message).toMatch(/vocoder' has no weights file \(looked for .*model\.safetensors.*\)\. .*download it again/);
  });
});
