/**
 * Built-in packs (sketch, shape-s, the stable-audio-3 stand-in, the sketch-gp test oracle) are generated on demand
 * by the project's own graph builder into a cache folder, hashed, validated like any pack, and reused while their
 * bytes stay the same.
 */
import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { buildGaussPack, gaussPackVersion, GAUSS_PACK_ID } from '../../packs/gauss/index.ts';
import { buildShapePack, shapePackVersion } from '../../packs/shape/index.ts';
import { buildSketchPack, sketchPackVersion } from '../../packs/sketch/index.ts';
import { buildSa3StandinPack, sa3StandinVersion, SA3_STANDIN_ID } from '../../packs/sa3/index.ts';
import type { BuiltPack } from '../../packs/types.ts';
import { PackError, verifyPack, type VerifiedPack } from './load.ts';
import { writePack } from './write.ts';

/** A built-in pack: its version (known without building) and its recipe. */
export interface BuiltinPack {
  version: () => string;
  build: () => BuiltPack;
  /**
   * Test oracles are left out of model lists (the studio's model menu, `listModels`): they exist for tests and
   * benchmarks and are reached by id (`--model sketch-gp`). Default: listed.
   */
  unlisted?: boolean;
}

/**
 * Built-in pack ids and their recipes. `sketch` is the default model; `stable-audio-3-standin` tests SA3's path;
 * `sketch-gp` is the test oracle whose exact answer is known (docs/GAUSS.md), unlisted.
 */
export const BUILTIN_PACKS: Record<string, BuiltinPack> = {
  sketch: { version: () => sketchPackVersion(), build: () => buildSketchPack() },
  'shape-s': { version: () => shapePackVersion(), build: () => buildShapePack() },
  [SA3_STANDIN_ID]: { version: () => sa3StandinVersion(), build: () => buildSa3StandinPack() },
  [GAUSS_PACK_ID]: { version: () => gaussPackVersion(), build: () => buildGaussPack(), unlisted: true },
};

/** The built-in ids that model lists and messages offer (test oracles are left out: {@link BuiltinPack.unlisted}). */
export function listedBuiltins(): string[] {
  return Object.keys(BUILTIN_PACKS).filter((id) => BUILTIN_PACKS[id].unlisted !== true);
}

/** The default model id. */
export const DEFAULT_MODEL = 'sketch';

/** Where generated packs live: $TESSERA_CACHE_DIR, else $XDG_CACHE_HOME/tessera, else ~/.cache/tessera. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TESSERA_CACHE_DIR) return env.TESSERA_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tessera');
}

/** Where installed packs (downloaded or imported: docs/MODELS.md) live: $TESSERA_MODELS_DIR, else `models/` beside the built-in packs. */
export function defaultModelsDir(env: NodeJS.ProcessEnv = process.env, cacheDir = defaultCacheDir(env)): string {
  return env.TESSERA_MODELS_DIR || join(cacheDir, 'models');
}

/** The pack installed as `id` in the models folder, verified; undefined when none is installed under that id. */
export async function findInstalledPack(id: string, modelsDir: string): Promise<VerifiedPack | undefined> {
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(id)) return undefined;
  const dir = join(modelsDir, id);
  if (!(await stat(join(dir, 'manifest.json')).catch(() => undefined))?.isFile()) return undefined;
  const pack = await verifyPack(dir);
  if (pack.manifest.id !== id) throw new PackError(`installed model folder ${dir} holds the pack '${pack.manifest.id}', not '${id}'; remove it (npm run models -- remove ${id}) and install again`);
  return pack;
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

/** Resolves `--model`: a built-in id, the id of a pack installed in the models folder, or the path of a pack folder. */
export async function resolvePack(model: string, cacheDir = defaultCacheDir(), modelsDir = defaultModelsDir(process.env, cacheDir)): Promise<VerifiedPack> {
  if (model in BUILTIN_PACKS) return ensureBuiltinPack(model, cacheDir);
  const installed = await findInstalledPack(model, modelsDir);
  if (installed) return installed;
  const info = await stat(model).catch(() => undefined);
  if (!info) {
    throw new PackError(
      `unknown model '${model}': not a built-in model (${listedBuiltins().join(', ')}), not installed in ${modelsDir}, and no pack folder exists at that path. ` +
        '`npm run models -- list` shows what can be installed',
    );
  }
  if (!info.isDirectory()) throw new PackError(`model '${model}' is a file; pass a model pack folder (containing manifest.json) or a built-in id`);
  return verifyPack(model);
}
