/** Shared test fixtures: built-in packs generated once per machine into a test cache, opened on CPU. */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StableAudio3Manifest } from '../../src-main/contract/manifest.ts';
import type { AudioLdmModel } from '../../src-main/engine/families/audioldm/model.ts';
import type { StableAudio3Model } from '../../src-main/engine/families/stable-audio-3/model.ts';
import { ensureBuiltinPack } from '../../src-main/host/packs/builtin.ts';
import { openAudioLdmModel, openStableAudio3Model, type VerifiedPack } from '../../src-main/host/packs/load.ts';

/** Cache folder for packs built by tests (kept between runs; writePack replaces stale copies). */
export const TEST_CACHE_DIR = join(tmpdir(), 'tessera-test-cache');

/** The built-in pack `id`, generated into the test cache. */
export function builtinPack(id: 'sketch' | 'shape-s' | 'stable-audio-3-standin'): Promise<VerifiedPack> {
  return ensureBuiltinPack(id, TEST_CACHE_DIR);
}

/** Opens a built-in pack on CPU with one intra-op thread per session (tests run two files in parallel). */
export async function openBuiltin(id: 'sketch' | 'shape-s'): Promise<AudioLdmModel> {
  return openAudioLdmModel(await builtinPack(id), { device: 'cpu', intraOpThreads: 1 });
}

/** The stable-audio-3 stand-in pack, generated into the test cache. */
export async function standinPack(): Promise<VerifiedPack<StableAudio3Manifest>> {
  const pack = await builtinPack('stable-audio-3-standin');
  if (pack.manifest.family !== 'stable-audio-3') throw new Error('the stand-in pack is not a stable-audio-3 pack');
  return { dir: pack.dir, manifest: pack.manifest };
}

/** Opens the stable-audio-3 stand-in on CPU with one intra-op thread per session. */
export async function openStandin(): Promise<StableAudio3Model> {
  return openStableAudio3Model(await standinPack(), { device: 'cpu', intraOpThreads: 1 });
}
