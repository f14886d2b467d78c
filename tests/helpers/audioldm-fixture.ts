/**
 * The audioldm-tiny golden fixture (a verbatim copy of ../shared/fixtures/audioldm-tiny in tests/fixtures, so a fresh
 * clone and CI have it; tests/fixtures/audioldm-tiny.test.ts checks every file against the fixture's own sha256
 * manifest): its folder, and its golden arrays as typed arrays (golden/golden.json: raw little-endian float32/int32).
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { openCheckpoint } from '../../src-main/host/models/checkpoint/index.ts';
import { FLOAT_DTYPES } from '../../src-main/host/models/checkpoint/types.ts';
import { ComponentWeights } from '../../src-main/host/models/convert/weights.ts';

/** The fixture's folder (README.md, manifest.json, model/, golden/). */
export const AUDIOLDM_TINY = join(import.meta.dirname, '..', 'fixtures', 'audioldm-tiny');

/** A golden array: its data and dims. */
export interface GoldenArray {
  dims: number[];
  data: Float32Array | Int32Array;
}

/** Golden array `name` (a key of golden/golden.json, e.g. `text_embeds`). */
export async function readGolden(name: string): Promise<GoldenArray> {
  const index = JSON.parse(await readFile(join(AUDIOLDM_TINY, 'golden', 'golden.json'), 'utf8')) as { arrays: Record<string, { file: string; dtype: string; dims: number[] }> };
  const entry = Object.hasOwn(index.arrays, name) ? index.arrays[name] : undefined;
  if (!entry?.file) throw new Error(`golden array '${name}' is not in golden/golden.json`);
  const bytes = await readFile(join(AUDIOLDM_TINY, 'golden', entry.file));
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return { dims: entry.dims, data: entry.dtype === 'int32' ? new Int32Array(buffer) : new Float32Array(buffer) };
}

/** A float tensor of a checkpoint, in memory. */
export interface StoredTensor {
  shape: number[];
  data: Float32Array;
}

/** Every float tensor of a checkpoint file, read with the converter's reader (host/models/checkpoint). */
export async function readCheckpointTensors(path: string): Promise<Map<string, StoredTensor>> {
  const reader = await openCheckpoint(path);
  try {
    const tensors = new Map<string, StoredTensor>();
    for (const t of reader.tensors()) if (FLOAT_DTYPES.includes(t.dtype)) tensors.set(t.name, { shape: t.shape, data: await reader.read(t.name) });
    return tensors;
  } finally {
    await reader.close();
  }
}

/**
 * The converter's WeightSource (host/models/convert/weights.ts) over tensors in memory: shapes checked size-1 axes
 * aside, Linear stored [out, in]; each call gives a fresh source, since a source hands every tensor over once.
 */
export function mapSource(tensors: ReadonlyMap<string, StoredTensor>, component: string, file = `${component}/model.safetensors`): ComponentWeights {
  return ComponentWeights.fromTensors(tensors, { component, file });
}

/** A component's config.json of the fixture's diffusers folder. */
export function fixtureConfig(component: string): unknown {
  return JSON.parse(readFileSync(join(AUDIOLDM_TINY, 'model', component, 'config.json'), 'utf8'));
}

/** Relative RMS error and max|Δ| relative to max|ref|. */
export function compare(actual: Float32Array, reference: Float32Array): { relRms: number; maxRel: number } {
  expect(actual.length).toBe(reference.length);
  let num = 0;
  let den = 0;
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < reference.length; i++) {
    const d = actual[i] - reference[i];
    num += d * d;
    den += reference[i] * reference[i];
    maxDiff = Math.max(maxDiff, Math.abs(d));
    maxRef = Math.max(maxRef, Math.abs(reference[i]));
  }
  return { relRms: Math.sqrt(num / den), maxRel: maxDiff / maxRef };
}

/** The fixture README §4 tolerance: relative RMS ≤ 1e-5 and max|Δ| ≤ 1e-4·max|ref| (logged). */
export function expectGolden(actual: Float32Array, reference: Float32Array, what: string): void {
  const { relRms, maxRel } = compare(actual, reference);
  console.info(`${what}: relative RMS ${relRms.toExponential(2)}, max|Δ|/max|ref| ${maxRel.toExponential(2)}`);
  expect(relRms, `${what}: relative RMS`).toBeLessThanOrEqual(1e-5);
  expect(maxRel, `${what}: max|Δ| / max|ref|`).toBeLessThanOrEqual(1e-4);
}
