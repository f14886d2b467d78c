/**
 * Open models, one per (model, device, threads, decoder) for as long as the cache lives: the engine worker keeps
 * one for its lifetime (a settings change opens fresh sessions), `npm run render` one per run, the CLI's
 * `generate` one per call. Packs are found by id among the built-in packs and the models folder, or as a folder.
 * Audioldm models open with the shared-statistics VAE decoder unless asked not to, so they decode in `estimated`
 * mode by default (GENERATION_DEFAULTS.vaeDecode); the rewrite replaces the original session rather than adding one.
 */
import type { LatentDiffusionModel } from '../../engine/families/model.ts';
import { defaultCacheDir, resolvePack } from '../packs/builtin.ts';
import { openModel, type OpenModelOptions, type VerifiedPack } from '../packs/load.ts';

/** Where packs are found. */
export interface PackSource {
  /** The built-in pack cache (default: the user's cache folder). */
  cacheDir?: string;
  /** The models folder where installed packs are found by id (default: TESSERA_MODELS_DIR or beside the cache). */
  modelsDir?: string;
}

/** The cache. */
export class ModelCache {
  private readonly models = new Map<string, Promise<LatentDiffusionModel>>();

  constructor(private readonly source: PackSource = {}) {}

  /** The verified pack of `modelId` (a built-in id, an installed id or a pack folder). */
  resolve(modelId: string): Promise<VerifiedPack> {
    const { cacheDir, modelsDir } = this.source;
    return modelsDir === undefined ? resolvePack(modelId, cacheDir) : resolvePack(modelId, cacheDir ?? defaultCacheDir(), modelsDir);
  }

  /**
   * Model `modelId` opened with `options` (`sharedStatsDecoder` defaults to true here), opened once per distinct
   * options. A failed open is not kept.
   */
  open(modelId: string, options: OpenModelOptions): Promise<LatentDiffusionModel> {
    const sharedStatsDecoder = options.sharedStatsDecoder ?? true;
    const key = `${modelId}|${options.device}|${options.intraOpThreads ?? 'auto'}|${sharedStatsDecoder ? 'shared' : 'window'}`;
    let model = this.models.get(key);
    if (!model) {
      model = this.resolve(modelId).then((pack) => openModel(pack, { ...options, sharedStatsDecoder }));
      this.models.set(key, model);
      model.catch(() => this.models.delete(key));
    }
    return model;
  }

  /** Releases every session. */
  async dispose(): Promise<void> {
    const open = [...this.models.values()];
    this.models.clear();
    await Promise.all(open.map((m) => m.then((model) => model.dispose(), () => undefined)));
  }
}
