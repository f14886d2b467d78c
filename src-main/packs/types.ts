/**
 * What a built-in pack recipe produces: the pack's files as bytes and its manifest before hashing.
 * The host writes the files, fills in every sha256 and validates the result like any other pack.
 */
import type { AudioLdmComponentName, ComponentSpec, Manifest } from '../contract/manifest.ts';

export { AUDIOLDM_SCHEDULER } from '../engine/schedulers/presets.ts';

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
