/**
 * Shared by the converter tests: the fixture's golden arrays as float32, README §4's tolerance check, a converted
 * copy of the fixture in a temporary folder, and writable copies of the fixture to break or to re-save as .bin.
 */
import { chmod, cp, mkdtemp, readdir, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCheckpoint } from '../../../../src-main/host/models/checkpoint/index.ts';
import { convertDiffusersAudioLdm, type ConvertOptions, type ConvertResult } from '../../../../src-main/host/models/convert/audioldm.ts';
import { AUDIOLDM_TINY, readGolden } from '../../../helpers/audioldm-fixture.ts';
import { torchSave, type WriterDtype } from '../../../helpers/torch-writer.ts';
import { safetensorsBytes, type SafetensorSpec } from '../checkpoint/safetensors-writer.ts';

/** The fixture's diffusers folder. */
export const TINY_MODEL = join(AUDIOLDM_TINY, 'model');

/** A golden float32 array. */
export async function goldenF32(name: string): Promise<Float32Array> {
  const g = await readGolden(name);
  if (!(g.data instanceof Float32Array)) throw new Error(`golden array '${name}' is not float32`);
  return g.data;
}

export { compare, expectGolden } from '../../../helpers/audioldm-fixture.ts';

/** A fresh temporary folder (resolved, so paths compare equal to what the code under test resolves). */
export async function tempDir(prefix: string): Promise<string> {
  return realpath(await mkdtemp(join(tmpdir(), prefix)));
}

/** Converts `source` (default: the fixture) into `<work>/<name>` with the fixture's head split. */
export function convertTiny(work: string, name: string, options: Partial<ConvertOptions> = {}, source = TINY_MODEL): Promise<ConvertResult> {
  return convertDiffusersAudioLdm(source, join(work, name), { id: 'audioldm-tiny', name: 'AudioLDM tiny (test)', heads: 'config', ...options });
}

/** A writable copy of the fixture's diffusers folder at `<work>/<name>`. */
export async function copyTiny(work: string, name: string): Promise<string> {
  const dir = join(work, name);
  await cp(TINY_MODEL, dir, { recursive: true });
  // The fixture is read-only; its copy must be editable.
  const walk = async (d: string): Promise<void> => {
    await chmod(d, 0o755);
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(join(d, e.name));
      else await chmod(join(d, e.name), 0o644);
    }
  };
  await walk(dir);
  return dir;
}

/** Every tensor of a checkpoint file with its raw bytes (for rewriting it). */
export async function readTensors(path: string): Promise<SafetensorSpec[]> {
  const reader = await openCheckpoint(path);
  try {
    const out: SafetensorSpec[] = [];
    for (const t of reader.tensors()) out.push({ name: t.name, dtype: t.dtype, shape: t.shape, bytes: await reader.readBytes(t.name) });
    return out;
  } finally {
    await reader.close();
  }
}

/** Rewrites `<dir>/<component>/<file>` as safetensors from `tensors` (edited by the caller; `header` may break it). */
export async function writeTensors(dir: string, component: string, file: string, tensors: readonly SafetensorSpec[], header?: (h: Record<string, unknown>) => void): Promise<void> {
  await writeFile(join(dir, component, file), safetensorsBytes(tensors, header));
}

/** Replaces every component's safetensors by a torch.save .bin of the same tensors (as older hub repos ship). */
export async function toTorchBin(dir: string): Promise<void> {
  const files = [
    ['text_encoder', 'model', 'pytorch_model'],
    ['unet', 'diffusion_pytorch_model', 'diffusion_pytorch_model'],
    ['vae', 'diffusion_pytorch_model', 'diffusion_pytorch_model'],
    ['vocoder', 'model', 'pytorch_model'],
  ] as const;
  for (const [component, stem, binStem] of files) {
    const path = join(dir, component, `${stem}.safetensors`);
    const tensors = await readTensors(path);
    const storages = tensors.map((t, i) => {
      if (t.dtype !== 'F32' && t.dtype !== 'I64') throw new Error(`the test's .bin writer does not handle ${t.dtype}`);
      return { key: String(i), dtype: t.dtype as WriterDtype, bytes: t.bytes };
    });
    await writeFile(join(dir, component, `${binStem}.bin`), torchSave({ storages, tensors: tensors.map((t, i) => ({ name: t.name, storage: String(i), shape: t.shape })), prefix: binStem }));
    await rm(path);
  }
}
