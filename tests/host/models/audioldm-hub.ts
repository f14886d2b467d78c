/**
 * The audioldm-tiny fixture's diffusers folder laid out as a hub repo for the fake hub, in the two formats the hub
 * serves checkpoints in: safetensors (the fixture's own files) or PyTorch `.bin` (the same tensors written by
 * tests/helpers/torch-writer.ts, named as diffusers and transformers save them), plus a `convert` catalog entry that
 * asks for each component's safetensors with its `.bin` as the alternative, as the bundled AudioLDM entries do.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AUDIOLDM_TINY } from '../../helpers/audioldm-fixture.ts';
import { torchSave, type StorageSpec, type TensorSpec, type WriterDtype } from '../../helpers/torch-writer.ts';
import type { FakeFile } from './fake-hub.ts';

/** Catalog id of the fake-hub AudioLDM. */
export const TINY_ID = 'audioldm-tiny-hub';
/** Its fake repo and pinned commit. */
export const TINY_REPO = 'tessera-test/audioldm-tiny';
export const TINY_REV = '13a0d1b2c3d4e5f60718293a4b5c6d7e8f901234';

const MODEL = join(AUDIOLDM_TINY, 'model');
/** safetensors name → the `.bin` name the same library saves (diffusers or transformers). */
const BIN_NAME: Readonly<Record<string, string>> = { 'diffusion_pytorch_model.safetensors': 'diffusion_pytorch_model.bin', 'model.safetensors': 'pytorch_model.bin' };

/** The `.bin` path a safetensors repo path becomes. */
export function binPath(path: string): string {
  const slash = path.lastIndexOf('/');
  const name = BIN_NAME[path.slice(slash + 1)];
  if (name === undefined) throw new Error(`${path} is not a weights file`);
  return `${path.slice(0, slash + 1)}${name}`;
}

/** Repo path → file of the fixture folder; weights as safetensors or as torch.save `.bin` files (served through LFS). */
export async function tinyRepoFiles(format: 'safetensors' | 'bin'): Promise<Record<string, FakeFile>> {
  const files: Record<string, FakeFile> = {};
  const walk = async (rel: string): Promise<void> => {
    for (const entry of (await readdir(join(MODEL, rel), { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) await walk(path);
      else if (path.endsWith('.safetensors')) {
        const content = await readFile(join(MODEL, path));
        if (format === 'safetensors') files[path] = { content, lfs: true };
        else files[binPath(path)] = { content: Buffer.from(safetensorsToBin(content)), lfs: true };
      } else files[path] = { content: await readFile(join(MODEL, path)), lfs: false };
    }
  };
  await walk('');
  return files;
}

/** The same tensors as a torch.save state dict: one storage per tensor, in the header's order. */
export function safetensorsToBin(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const start = 8 + headerLength;
  const storages: StorageSpec[] = [];
  const tensors: TensorSpec[] = [];
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const key = String(storages.length);
    storages.push({ key, dtype: t.dtype as WriterDtype, bytes: bytes.slice(start + t.data_offsets[0], start + t.data_offsets[1]) });
    tensors.push({ name, storage: key, shape: t.shape });
  }
  return torchSave({ storages, tensors });
}

/** A `convert` catalog entry (JSON) for the fake repo; `edit` may change it. */
export function tinyEntry(files: Record<string, FakeFile>, edit: (e: Record<string, unknown>) => void = () => undefined): Record<string, unknown> {
  // List every file by its safetensors path with the .bin as alternative, whichever format `files` holds.
  const list = Object.keys(files).map((path) => {
    if (path.endsWith('.safetensors')) return { path, alternatives: [binPath(path)] };
    if (path.endsWith('.bin')) return { path: path.replace(/(diffusion_pytorch_model|pytorch_model)\.bin$/, (m) => (m.startsWith('diffusion') ? 'diffusion_pytorch_model.safetensors' : 'model.safetensors')), alternatives: [path] };
    return { path };
  });
  const entry: Record<string, unknown> = {
    id: TINY_ID,
    name: 'AudioLDM tiny (fake hub)',
    family: 'audioldm',
    description: 'The audioldm-tiny fixture served by a fake hub in diffusers layout (tests).',
    size: { bytes: Object.values(files).reduce((s, f) => s + f.content.length, 0), estimate: true },
    licence: {
      name: 'CC BY-NC-SA 4.0',
      url: 'https://creativecommons.org/licenses/by-nc-sa/4.0/',
      text: 'Test weights under the licence of the checkpoints they stand in for.',
      commercialUse: 'no',
      conditions: ['Non-commercial use only.'],
    },
    // The fixture's config carries its per-level head counts, so it converts with diffusers' reading of them.
    source: { kind: 'convert', converter: 'diffusers-audioldm', heads: 'config', repos: [{ repo: TINY_REPO, revision: TINY_REV, files: list }] },
  };
  edit(entry);
  return entry;
}
