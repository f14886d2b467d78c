/**
 * Every project edit as a pure function `(doc, args) → Edit`: the next document (immer, structurally shared and
 * frozen) with patches both ways for the history. A result always passes `parseProject`; an edit that cannot be
 * made throws `EditError` and leaves nothing changed. An edit that changes nothing returns empty patches, which
 * `push` ignores. The implementations are split by subject; import them from here.
 */
export {
  EditError,
  MIN_REGION_SECONDS,
  TOUCH_EPSILON,
  projectEnd,
  regionsOfTrack,
  type Edit,
} from './edit-core.ts';
export { TRACK_PALETTE, addTrack, deleteTrack, moveTrack, renameTrack, setTrackMix, type TrackMixPatch } from './track-edits.ts';
export {
  FALLBACK_GUIDANCE,
  FALLBACK_STEPS,
  addRegion,
  deleteRegions,
  duplicateRegions,
  moveRegions,
  splitRegion,
  trimRegion,
  type ModelDefaults,
} from './region-edits.ts';
export {
  METHODS,
  SAMPLERS,
  applyTakes,
  deleteTake,
  setActiveTake,
  setRegionFields,
  type RegionFieldsPatch,
} from './region-fields.ts';
export {
  FAMILY_SAMPLERS,
  FALLBACK_SAMPLER,
  changeModel,
  defaultSamplerForFamily,
  defaultSamplerForModel,
  modelDefaults,
  samplerFits,
  samplerFitsModel,
  samplersForFamily,
  samplersForModel,
  type ModelChoice,
  type SamplerSource,
} from './model-switch.ts';
export { PROJECT_SAMPLE_RATES, setProjectFields, type ProjectFieldsPatch } from './project-edits.ts';
