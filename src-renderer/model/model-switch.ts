/**
 * Which samplers fit which model family, and the edit that switches a region's model. The engine refuses a sampler
 * of another family (DDIM on a stable-audio-3 model, ping-pong on AudioLDM), so the inspector offers only the ones
 * that fit, and a model switch brings the new model's steps, guidance and sampler along in the same undo step.
 */
import type { ProjectDocument, RegionGeneration, RegionId, SamplerName } from '../../src-main/contract/project.ts';
import type { Edit } from './edit-core.ts';
import { SAMPLERS, setRegionFields } from './region-fields.ts';

/** The samplers each known family runs, the family's default first. */
export const FAMILY_SAMPLERS: Readonly<Record<string, readonly SamplerName[]>> = {
  audioldm: ['ddim', 'dpmpp-2m'],
  'stable-audio-3': ['pingpong'],
};

/** The sampler a region gets when the family is unknown (a model that is not installed). */
export const FALLBACK_SAMPLER: SamplerName = 'ddim';

/** The samplers that fit `family`; every sampler when the family is unknown (the engine will say which fits). */
export function samplersForFamily(family: string | undefined): readonly SamplerName[] {
  if (family !== undefined && Object.hasOwn(FAMILY_SAMPLERS, family)) return FAMILY_SAMPLERS[family];
  return SAMPLERS;
}

/** The sampler a region of `family` starts with. */
export function defaultSamplerForFamily(family: string | undefined): SamplerName {
  if (family !== undefined && Object.hasOwn(FAMILY_SAMPLERS, family)) return FAMILY_SAMPLERS[family][0] ?? FALLBACK_SAMPLER;
  return FALLBACK_SAMPLER;
}

/** True when `sampler` runs on a model of `family` (always true for an unknown family). */
export function samplerFits(family: string | undefined, sampler: SamplerName): boolean {
  return samplersForFamily(family).includes(sampler);
}

/** What a model switch needs to know of a model (a `ModelInfo` from `listModels` is one). */
export interface ModelChoice {
  id: string;
  family: string;
  defaultSteps: number;
  defaultGuidance: number;
}

/**
 * The generation fields a region gets with model `modelId`: the model's default steps, guidance and its family's
 * default sampler. For a model missing from `models` only the id changes. Defaults outside the document's limits
 * (steps 1…1000, guidance 0…100) are left out rather than refused.
 */
export function modelDefaults(modelId: string, models: readonly ModelChoice[]): Partial<RegionGeneration> {
  const model = models.find((m) => m.id === modelId);
  const generation: Partial<RegionGeneration> = { model: modelId };
  if (model === undefined) return generation;
  if (Number.isInteger(model.defaultSteps) && model.defaultSteps >= 1 && model.defaultSteps <= 1000) generation.steps = model.defaultSteps;
  if (Number.isFinite(model.defaultGuidance) && model.defaultGuidance >= 0 && model.defaultGuidance <= 100) generation.guidance = model.defaultGuidance;
  generation.sampler = defaultSamplerForFamily(model.family);
  return generation;
}

/** Switches region `regionId` to model `modelId` with that model's defaults: one undo step, "Change model". */
export function changeModel(doc: ProjectDocument, regionId: RegionId, modelId: string, models: readonly ModelChoice[]): Edit {
  const edit = setRegionFields(doc, regionId, { generation: modelDefaults(modelId, models) });
  return { ...edit, label: 'Change model' };
}
