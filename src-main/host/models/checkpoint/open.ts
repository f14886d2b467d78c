/**
 * Choosing a reader: by the file's first bytes (a zip or a pickle is PyTorch, a JSON header safetensors), the
 * extension breaking ties, and `*.index.json` for sharded checkpoints. Also the diffusers rule for which weights
 * file of a component folder to load.
 */
import { access } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { openFileSource, readAt } from './byte-source.ts';
import { SafetensorsReader } from './safetensors.ts';
import { ShardedCheckpoint } from './sharded.ts';
import { TorchBinReader } from './torch-bin.ts';
import { CheckpointError, type CheckpointReader } from './types.ts';

const TORCH_EXTENSIONS = new Set(['.bin', '.pt', '.pth', '.ckpt']);

/** Opens a safetensors file, a PyTorch .bin, or a shard index (`….index.json`) as one checkpoint. */
export async function openCheckpoint(path: string): Promise<CheckpointReader> {
  if (path.endsWith('.index.json')) return ShardedCheckpoint.open(path, openSingleFile);
  return openSingleFile(path);
}

async function openSingleFile(path: string): Promise<CheckpointReader> {
  const source = await openFileSource(path);
  let head: Uint8Array;
  try {
    head = await readAt(source, 0, Math.min(9, source.size));
  } catch (e) {
    await source.close();
    throw e;
  }
  const zip = head.length >= 2 && head[0] === 0x50 && head[1] === 0x4b;
  const pickle = head.length >= 2 && head[0] === 0x80 && head[1] <= 5;
  // A safetensors header is a JSON object: its first byte, after the 8-byte length, is '{'.
  const json = head.length === 9 && head[8] === 0x7b;
  if (zip || pickle || (!json && TORCH_EXTENSIONS.has(extname(path).toLowerCase()))) return TorchBinReader.fromSource(source);
  return SafetensorsReader.fromSource(source);
}

/**
 * The weights diffusers would load from a component folder (`unet/`, `text_encoder/`), in its order of preference:
 * safetensors before .bin, one file before a shard index. `names` are the file stems the component uses
 * (`diffusion_pytorch_model` for diffusers models, `model`/`pytorch_model` for transformers ones).
 */
export async function findComponentWeights(dir: string, names: readonly string[] = ['diffusion_pytorch_model', 'model', 'pytorch_model']): Promise<string> {
  const candidates = [
    ...names.map((n) => `${n}.safetensors`),
    ...names.map((n) => `${n}.safetensors.index.json`),
    ...names.map((n) => `${n}.bin`),
    ...names.map((n) => `${n}.bin.index.json`),
  ];
  for (const file of candidates) {
    const path = join(dir, file);
    try {
      await access(path);
      return path;
    } catch {
      // try the next name
    }
  }
  throw new CheckpointError('not-found', `'${dir}' has no weights file (looked for ${candidates.join(', ')}). Download the component again.`);
}
