/** Shared test fixtures: built-in packs generated once per machine into a test cache, opened on CPU. */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AudioLdmModel } from '../../src-main/engine/families/audioldm.ts';
import { ensureBuiltinPack } from '../../src-main/host/packs/builtin.ts';
import { openAudioLdmModel, type VerifiedPack } from '../../src-main/host/packs/load.ts';

/** Cache folder for packs built by tests (kept between runs; writePack replaces stale copies). */
export const TEST_CACHE_DIR = join(tmpdir(), 'tessera-test-cache');

/** The built-in pack `id`, generated into the test cache. */
export function builtinPack(id: 'sketch' | 'shape-s'): Promise<VerifiedPack> {
  return ensureBuiltinPack(id, TEST_CACHE_DIR);
}

/** Opens a built-in pack on CPU with one intra-op thread per session (tests run two files in parallel). */
export async function openBuiltin(id: 'sketch' | 'shape-s'): Promise<AudioLdmModel> {
  return openAudioLdmModel(await builtinPack(id), { device: 'cpu', intraOpThreads: 1 });
}
