/**
 * Which samplers a region's model runs, and the edit that switches a region's model. The engine refuses a sampler
 * of another family (DDIM on a stable-audio-3 model, ping-pong on AudioLDM), so the inspector offers only the ones
 * that fit, and a model switch brings the new model's steps, guidance and sampler along in the same undo step.
 * Which sampler fits which family is the contract's table (generation-settings.ts); a model the host lists says
 * its own samplers (`ModelInfo.samplers`), which win.
 */
import { FAMILY_SETTINGS, LIMITS, SAMPLERS, familySamplers, withinLimit } from '../../src-main/contract/generation-settings.ts';
import type { ProjectDocument, RegionGeneration, RegionId, SamplerName } from '../../src-main/contract/project.ts';
import type { Edit } from './edit-core.ts';
import { setRegionFields } from './region-fields.ts';

/** The samplers each known family runs, the family's default first (a view of the contract's FAMILY_SETTINGS). */
export const FAMILY_SAMPLERS: Readonly<Record<string, readonly SamplerName[]>> = Object.fromEntries(
  Object.entries(FAMILY_SETTINGS).map(([family, settings]) => [family, settings.samplers]),
);

/** The sampler a region gets when its model's samplers are unknown (a model that is not installed). */
export const FALLBACK_SAMPLER: SamplerName = SAMPLERS[0];

/** The samplers that fit `family`; every sampler when the family is unknown (the engine will say which fits). */
export function samplersForFamily(family: string | undefined): readonly SamplerName[] {
  return (family === undefined ? undefined : familySamplers(family)) ?? SAMPLERS;
}

/** The sampler a region of `family` starts with. */
export function defaultSamplerForFamily(family: string | undefined): SamplerName {
  return (family === undefined ? undefined : familySamplers(family)?.[0]) ?? FALLBACK_SAMPLER;
}

/** True when `sampler` runs on a model of `family` (always true for an unknown family). */
export function samplerFits(family: string | undefined, sampler: SamplerName): boolean {
  return samplersForFamily(family).includes(sampler);
}

/** What the sampler choice needs to know of a model (a `ModelInfo` from `listModels` is one). */
export interface SamplerSource {
  family?: string;
  /** The samplers the model runs, its default first, as the host reports them; else its family's. */
  samplers?: readonly SamplerName[];
}

/**
 * The samplers `model` runs: the ones the host reports for it, else its family's, else every sampler (a model
 * that is not installed: the engine will say which fits).
 */
export function samplersForModel(model: SamplerSource | undefined): readonly SamplerName[] {
  const reported = model?.samplers;
  return reported !== undefined && reported.length > 0 ? reported : samplersForFamily(model?.family);
}

/** The sampler a region of `model` starts with: the first it runs (FALLBACK_SAMPLER when it is unknown). */
export function defaultSamplerForModel(model: SamplerSource | undefined): SamplerName {
  const reported = model?.samplers;
  return reported !== undefined && reported.length > 0 ? reported[0] : defaultSamplerForFamily(model?.family);
}

/** True when `sampler` runs on `model` (always true for a model whose samplers are unknown). */
export function samplerFitsModel(model: SamplerSource | undefined, sampler: SamplerName): boolean {
  return samplersForModel(model).includes(sampler);
}

/** What a model switch needs to know of a model (a `ModelInfo` from `listModels` is one). */
export interface ModelChoice extends SamplerSource {
  id: string;
  family: string;
  defaultSteps: number;
  defaultGuidance: number;
}

/**
 * The generation fields a region gets with model `modelId`: the model's default steps, guidance and default
 * sampler. For a model missing from `models` only the id changes. Defaults outside the document's limits
 * (LIMITS.steps, LIMITS.guidance) are left out rather than refused.
 */
export function modelDefaults(modelId: string, models: readonly ModelChoice[]): Partial<RegionGeneration> {
  const model = models.find((m) => m.id === modelId);
  const generation: Partial<RegionGeneration> = { model: modelId };
  if (model === undefined) return generation;
  if (withinLimit(LIMITS.steps, model.defaultSteps)) generation.steps = model.defaultSteps;
  if (withinLimit(LIMITS.guidance, model.defaultGuidance)) generation.guidance = model.defaultGuidance;
  generation.sampler = defaultSamplerForModel(model);
  return generation;
}

/** Switches region `regionId` to model `modelId` with that model's defaults: one undo step, "Change model". */
export function changeModel(doc: ProjectDocument, regionId: RegionId, modelId: string, models: readonly ModelChoice[]): Edit {
  const edit = setRegionFields(doc, regionId, { generation: modelDefaults(modelId, models) });
  return { ...edit, label: 'Change model' };
}
