/**
 * What a built-in pack recipe produces: the pack's files as bytes and its manifest before hashing.
 * The host writes the files, fills in every sha256 and validates the result like any other pack.
 */
import type { AudioLdmManifest, Manifest, StableAudio3Manifest } from '../contract/manifest.ts';

export { AUDIOLDM_SCHEDULER } from '../engine/schedulers/presets.ts';

/** `T` without any `sha256` field, at any depth (manifests hash only objects that name a `file`). */
type Unhashed<T> = T extends readonly (infer U)[] ? Array<Unhashed<U>> : T extends object ? { [K in keyof T as K extends 'sha256' ? never : K]: Unhashed<T[K]> } : T;

/** The manifest `M` before its files' hashes are known. */
export type DraftOf<M extends Manifest> = Unhashed<M>;
/** An audioldm-family manifest draft. */
export type AudioLdmManifestDraft = DraftOf<AudioLdmManifest>;
/** A stable-audio-3-family manifest draft. */
export type StableAudio3ManifestDraft = DraftOf<StableAudio3Manifest>;
/** A manifest whose file hashes are not yet known. */
export type ManifestDraft = AudioLdmManifestDraft | StableAudio3ManifestDraft;
/** The finished manifest type of a draft type. */
export type ManifestOf<D extends ManifestDraft> = D extends AudioLdmManifestDraft ? AudioLdmManifest : StableAudio3Manifest;

/** A generated pack: file name → bytes (ONNX graphs, tokenizer.json, LICENCE.txt), plus the manifest draft. */
export interface BuiltPack<D extends ManifestDraft = ManifestDraft> {
  manifest: D;
  files: Record<string, Uint8Array>;
}
