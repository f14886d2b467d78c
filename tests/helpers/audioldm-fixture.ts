/**
 * The audioldm-tiny golden fixture (a verbatim copy of ../shared/fixtures/audioldm-tiny in tests/fixtures, so a fresh
 * clone and CI have it; tests/fixtures/audioldm-tiny.test.ts checks every file against the fixture's own sha256
 * manifest): its folder, and its golden arrays as typed arrays (golden/golden.json: raw little-endian float32/int32).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

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
