/**
 * Classifier-free guidance as the tiler applies it to each guided window evaluation, and the piece a window belongs
 * to. The rule is pluggable: a model family may combine a conditional and an unconditional output its own way
 * (stable-audio-3: APG in denoised space); the default is plain CFG on the model output. Families import these
 * types from here, so the long-form code never depends on a family.
 */

/** What conditioning may depend on besides the text: the piece and the window the denoiser will see. */
export interface ConditionContext {
  /** Requested seconds of the piece. */
  seconds: number;
  /** Latent frames of the piece. */
  frames: number;
  /** Frames of each window (= `frames` when the piece is a single window). */
  window: number;
}

/** One guided window evaluation: the window's sample and the conditional and unconditional outputs for it. */
export interface GuidanceInput {
  /** The window's noisy latent [C, W, Fq] (flat). */
  x: Float32Array;
  /** Model outputs for the conditional and the unconditional row, [C, W, Fq] each. */
  cond: Float32Array;
  uncond: Float32Array;
  /** The model-facing timestep of this step. */
  timestep: number;
  /** Guidance scale (> 1). */
  scale: number;
  /** The window's first frame in the piece, its length and the piece. */
  start: number;
  window: number;
  piece: ConditionContext;
}

/** Combines a guided evaluation into one model output [C, W, Fq] (in double precision, for accumulation). */
export type GuidanceRule = (input: GuidanceInput) => Float64Array;

/** Classifier-free guidance on the model output: u + g·(c − u) (Ho & Salimans 2022; diffusers' AudioLDM). */
export const outputSpaceGuidance: GuidanceRule = ({ cond, uncond, scale }) => {
  const out = new Float64Array(cond.length);
  for (let i = 0; i < cond.length; i++) out[i] = uncond[i] + scale * (cond[i] - uncond[i]);
  return out;
};
