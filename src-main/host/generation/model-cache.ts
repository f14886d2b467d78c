/**
 * Open models, one per (model, device, threads, decoder, precision) for as long as the cache lives: the engine worker keeps
 * one for its lifetime (a settings change opens fresh sessions), `npm run render` one per run, the CLI's
 * `generate` one per call. Packs are found by id among the built-in packs and the models folder, or as a folder.
 * Audioldm models open with the shared-statistics VAE decoder unless asked not to, so they decode in `estimated`
 * mode by default (GENERATION_DEFAULTS.vaeDecode); the rewrite replaces the original session rather than adding one.
 * The device probe (host/runtime-probe.ts: a WebGPU child process for devices other than `cpu`) runs while the pack
 * is found and verified, so it costs no time of its own there.
 */
import type { LatentDiffusionModel } from '../../engine/families/model.ts';
import { defaultCacheDir, resolvePack } from '../packs/builtin.ts';
import { openModel, type OpenModelOptions, type VerifiedPack } from '../packs/load.ts';
import { probeRuntime } from '../runtime-probe.ts';

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
   * options (`remeasure` aside: it re-measures WebGPU when the model is opened). A failed open is not kept.
   */
  open(modelId: string, options: OpenModelOptions): Promise<LatentDiffusionModel> {
    const sharedStatsDecoder = options.sharedStatsDecoder ?? true;
    const precision = Object.entries(options.precision ?? {})
      .filter(([, p]) => p !== 'auto')
      .map(([provider, p]) => `${provider}=${p}`)
      .sort()
      .join(',');
    const key = `${modelId}|${options.device}|${options.intraOpThreads ?? 'auto'}|${sharedStatsDecoder ? 'shared' : 'window'}|${precision}`;
    let model = this.models.get(key);
    if (!model) {
      const runtime = options.runtime ? Promise.resolve(options.runtime) : probeRuntime(options.device, { remeasure: options.remeasure === true });
      // Both settle before the open, so a failed probe never leaves an unhandled rejection behind a failed resolve.
      model = Promise.all([this.resolve(modelId), runtime]).then(([pack, probed]) => openModel(pack, { ...options, sharedStatsDecoder, runtime: probed }));
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
