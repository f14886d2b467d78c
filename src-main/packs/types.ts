/**
 * What a built-in pack recipe produces: the pack's files as bytes and its manifest before hashing.
 * The host writes the files, fills in every sha256 and validates the result like any other pack.
 */
import type { AudioLdmComponentName, ComponentSpec, Manifest } from '../contract/manifest.ts';

/** A manifest whose file hashes are not yet known. */
export type ManifestDraft = Omit<Manifest, 'components' | 'tokenizer'> & {
  components: Record<AudioLdmComponentName, Omit<ComponentSpec, 'sha256'>>;
  tokenizer: Omit<Manifest['tokenizer'], 'sha256'>;
};

/** A generated pack: file name → bytes (ONNX graphs, tokenizer.json, LICENCE.txt), plus the manifest draft. */
export interface BuiltPack {
  manifest: ManifestDraft;
  files: Record<string, Uint8Array>;
}

/** The AudioLDM scheduler constants (research/audioldm.md §1 "Scheduler", identical for S/M/L). */
export const AUDIOLDM_SCHEDULER: Manifest['scheduler'] = {
  trainTimesteps: 1000,
  betaStart: 0.0015,
  betaEnd: 0.0195,
  betaSchedule: 'scaled_linear',
  predictionType: 'epsilon',
  timestepSpacing: 'leading',
  stepsOffset: 1,
  setAlphaToOne: false,
};
