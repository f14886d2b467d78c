/**
 * Region edits in the inspector (prompt, seed, gain, fades, generation settings) and on its takes. The generation
 * settings' lists and ranges are the contract's table (generation-settings.ts); gain and fades are the mixer's.
 */
import { LIMITS, MAX_PROMPT_CHARS, SAMPLERS, TILING_METHODS } from '../../src-main/contract/generation-settings.ts';
import type { ProjectDocument, RegionGeneration, RegionId, TakeId, TakeRef } from '../../src-main/contract/project.ts';
import { applyTakes as addTakes, type NewTake } from '../../src-main/contract/takes.ts';
import {
  EditError,
  describeRegion,
  fitPair,
  makeEdit,
  patchEdit,
  requireBoolean,
  requireInRange,
  requireLimit,
  requireRegion,
  requireText,
  type Edit,
} from './edit-core.ts';

/** The sampler names a region may use (the contract's table). */
export { SAMPLERS };
/** The long-form methods a region may use (the contract's table). */
export const METHODS: readonly RegionGeneration['method'][] = TILING_METHODS;

const MODEL_ID = /^[a-z0-9][a-z0-9._-]*$/;

/** The region fields `setRegionFields` changes; `generation` may name any subset of its fields. */
export interface RegionFieldsPatch {
  prompt?: string;
  negativePrompt?: string;
  /** null: a fresh random seed per take (unlocks a locked seed). */
  seed?: number | null;
  /** Reuse `seed` for every new take; needs a seed. */
  lockedSeed?: boolean;
  gainDb?: number;
  /** Clamped to the region's length, the other fade giving way only when both are set. */
  fadeIn?: number;
  fadeOut?: number;
  generation?: Partial<RegionGeneration>;
}

const FIELD_LABELS: Record<string, string> = {
  prompt: 'Edit prompt',
  negativePrompt: 'Edit negative prompt',
  seed: 'Change seed',
  gainDb: 'Change gain',
  fadeIn: 'Change fade-in',
  fadeOut: 'Change fade-out',
  model: 'Change model',
  steps: 'Change steps',
  guidance: 'Change guidance',
  sampler: 'Change sampler',
  eta: 'Change eta',
  method: 'Change method',
  transition: 'Change transition',
};

/** Sets inspector fields after checking each against the document's limits; the label names a lone field. */
export function setRegionFields(doc: ProjectDocument, regionId: RegionId, patch: RegionFieldsPatch): Edit {
  const region = requireRegion(doc, regionId);
  const prompt = patch.prompt === undefined ? undefined : requireText(patch.prompt, 'Prompt', MAX_PROMPT_CHARS);
  const negativePrompt = patch.negativePrompt === undefined ? undefined : requireText(patch.negativePrompt, 'Negative prompt', MAX_PROMPT_CHARS);
  const seed = patch.seed === undefined || patch.seed === null ? patch.seed : requireLimit(patch.seed, 'Seed', LIMITS.seed);
  const locked = patch.lockedSeed === undefined ? undefined : requireBoolean(patch.lockedSeed, 'Locked seed');
  const gainDb = patch.gainDb === undefined ? undefined : requireInRange(patch.gainDb, 'Region gain (dB)', -120, 24);
  const fadeIn = patch.fadeIn === undefined ? undefined : requireFade(patch.fadeIn, 'Fade-in');
  const fadeOut = patch.fadeOut === undefined ? undefined : requireFade(patch.fadeOut, 'Fade-out');
  const generation = checkGeneration(patch.generation ?? {});

  const nextSeed = seed === undefined ? region.seed : seed;
  if (locked === true && nextSeed === null) {
    throw new EditError(`Cannot lock the seed of region ${describeRegion(region)}: it has none (random); set a seed first, or lock the seed of a take.`);
  }
  const length = region.end - region.start;
  let fades: [number, number] | undefined;
  if (fadeIn !== undefined && fadeOut !== undefined) fades = fitPair(fadeIn, fadeOut, length);
  else if (fadeIn !== undefined) {
    const [keptOut, fittedIn] = fitPair(region.fadeOut, fadeIn, length);
    fades = [fittedIn, keptOut];
  }
  else if (fadeOut !== undefined) fades = fitPair(region.fadeIn, fadeOut, length);

  return makeEdit(doc, fieldsLabel(patch), (draft) => {
    const r = draft.regions[regionId];
    if (prompt !== undefined) r.prompt = prompt;
    if (negativePrompt !== undefined) r.negativePrompt = negativePrompt;
    if (seed !== undefined) r.seed = seed;
    if (locked !== undefined) r.lockedSeed = locked;
    // A random seed cannot stay locked: dropping the lock is what the user meant by clearing the seed.
    else if (seed === null && r.lockedSeed === true) r.lockedSeed = false;
    if (gainDb !== undefined) r.gainDb = gainDb;
    if (fades !== undefined) [r.fadeIn, r.fadeOut] = fades;
    Object.assign(r.generation, generation);
  });
}

/** Makes `takeId` the take that plays and exports. */
export function setActiveTake(doc: ProjectDocument, regionId: RegionId, takeId: TakeId): Edit {
  const region = requireRegion(doc, regionId);
  requireTake(region.takes, takeId, describeRegion(region));
  return makeEdit(doc, 'Switch take', (draft) => {
    draft.regions[regionId].activeTakeId = takeId;
  });
}

/** Removes a take from the region (its file stays for Undo); if it was active, the newest remaining one plays. */
export function deleteTake(doc: ProjectDocument, regionId: RegionId, takeId: TakeId): Edit {
  const region = requireRegion(doc, regionId);
  requireTake(region.takes, takeId, describeRegion(region));
  return makeEdit(doc, 'Delete take', (draft) => {
    const r = draft.regions[regionId];
    r.takes.splice(
      r.takes.findIndex((t) => t.id === takeId),
      1,
    );
    if (r.activeTakeId === takeId) r.activeTakeId = r.takes.length > 0 ? r.takes[r.takes.length - 1].id : null;
  });
}

/**
 * Adds takes the host generated (`takesAdded`) as the contract's `applyTakes` does for the host: each becomes its
 * region's active take, playing from its start. Regions that no longer exist and takes already present are
 * skipped, so a repeated event changes nothing. Apply it with `applyExternal`, not `push`.
 */
export function applyTakes(doc: ProjectDocument, takes: readonly NewTake[]): Edit {
  return patchEdit(doc, 'Generated takes', addTakes(doc, takes));
}

function requireTake(takes: readonly TakeRef[], takeId: TakeId, regionName: string): void {
  if (!takes.some((t) => t.id === takeId)) {
    const known = takes.map((t) => t.id).join(', ') || 'none';
    throw new EditError(`Take '${String(takeId)}' is not one of the takes of region ${regionName} (${known}); pick one from its take list.`);
  }
}

function requireFade(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new EditError(`${what} must be a number of seconds ≥ 0, got ${String(value)}; drag the fade handle inside the region.`);
  }
  return value;
}

function checkGeneration(patch: Partial<RegionGeneration>): Partial<RegionGeneration> {
  const out: Partial<RegionGeneration> = {};
  if (patch.model !== undefined) {
    if (typeof patch.model !== 'string' || !MODEL_ID.test(patch.model)) {
      throw new EditError(`Model must be a model pack id (lowercase letters, digits, ".", "_", "-"), got ${String(patch.model)}; pick one from the model list.`);
    }
    out.model = patch.model;
  }
  if (patch.steps !== undefined) out.steps = requireLimit(patch.steps, 'Steps', LIMITS.steps);
  if (patch.guidance !== undefined) out.guidance = requireLimit(patch.guidance, 'Guidance', LIMITS.guidance);
  if (patch.eta !== undefined) out.eta = requireLimit(patch.eta, 'Eta', LIMITS.eta);
  if (patch.transition !== undefined) out.transition = requireLimit(patch.transition, 'Transition (s)', LIMITS.transition);
  if (patch.sampler !== undefined) out.sampler = requireChoice(patch.sampler, 'Sampler', SAMPLERS);
  if (patch.method !== undefined) out.method = requireChoice(patch.method, 'Method', METHODS);
  return out;
}

function requireChoice<T extends string>(value: unknown, what: string, allowed: readonly T[]): T {
  const found = allowed.find((a) => a === value);
  if (found === undefined) throw new EditError(`${what} must be one of ${allowed.join(', ')}, got ${String(value)}; pick one from the list.`);
  return found;
}

function fieldsLabel(patch: RegionFieldsPatch): string {
  const keys = Object.entries(patch)
    .filter(([key, value]) => value !== undefined && key !== 'generation')
    .map(([key]) => key);
  for (const [key, value] of Object.entries(patch.generation ?? {})) if (value !== undefined) keys.push(key);
  const set = new Set(keys);
  if (set.size === 1 && set.has('lockedSeed')) return patch.lockedSeed === true ? 'Lock seed' : 'Unlock seed';
  if (set.size === 2 && set.has('seed') && set.has('lockedSeed')) return patch.lockedSeed === true ? 'Lock seed' : 'Change seed';
  if (set.size === 2 && set.has('fadeIn') && set.has('fadeOut')) return 'Change fades';
  if (set.size === 1) return FIELD_LABELS[keys[0]] ?? 'Edit region';
  return 'Edit region';
}
