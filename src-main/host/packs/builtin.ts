/**
 * Built-in packs (sketch, shape-s) are generated on demand by the project's own graph builder into a cache
 * folder, hashed, validated like any pack, and reused while their bytes stay the same.
 */
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { buildShapePack, shapePackVersion } from '../../packs/shape/index.ts';
import { buildSketchPack, sketchPackVersion } from '../../packs/sketch/index.ts';
import type { BuiltPack } from '../../packs/types.ts';
import { PackError, verifyPack, type VerifiedPack } from './load.ts';
import { writePack } from './write.ts';

/** A built-in pack: its version (known without building) and its recipe. */
export interface BuiltinPack {
  version: () => string;
  build: () => BuiltPack;
}

/** Built-in pack ids and their recipes. `sketch` is the default model. */
export const BUILTIN_PACKS: Record<string, BuiltinPack> = {
  sketch: { version: () => sketchPackVersion(), build: () => buildSketchPack() },
  'shape-s': { version: () => shapePackVersion(), build: () => buildShapePack() },
};

/** The default model id. */
export const DEFAULT_MODEL = 'sketch';

/** Where generated packs live: $TESSERA_CACHE_DIR, else $XDG_CACHE_HOME/tessera, else ~/.cache/tessera. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TESSERA_CACHE_DIR) return env.TESSERA_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tessera');
}

/**
 * Returns a built-in pack from the cache, verified. A cached copy of the current version is reused as it is (its
 * files are still hashed against its manifest); a missing, damaged or older copy is rebuilt and replaced.
 */
export async function ensureBuiltinPack(id: string, cacheDir = defaultCacheDir()): Promise<VerifiedPack> {
  const recipe = BUILTIN_PACKS[id];
  if (!recipe) throw new PackError(`'${id}' is not a built-in model; built-in models are: ${Object.keys(BUILTIN_PACKS).join(', ')}`);
  const dir = join(cacheDir, 'packs', id);
  const cached = await verifyPack(dir).catch(() => undefined);
  if (cached && cached.manifest.id === id && cached.manifest.version === recipe.version()) return cached;
  return writePack(recipe.build(), dir);
}

/** Resolves `--model`: a built-in id, or the path of a pack folder. */
export async function resolvePack(model: string, cacheDir = defaultCacheDir()): Promise<VerifiedPack> {
  if (model in BUILTIN_PACKS) return ensureBuiltinPack(model, cacheDir);
  const info = await stat(model).catch(() => undefined);
  if (!info) {
    throw new PackError(`unknown model '${model}': not a built-in model (${Object.keys(BUILTIN_PACKS).join(', ')}) and no pack folder exists at that path`);
  }
  if (!info.isDirectory()) throw new PackError(`model '${model}' is a file; pass a model pack folder (containing manifest.json) or a built-in id`);
  return verifyPack(model);
}
