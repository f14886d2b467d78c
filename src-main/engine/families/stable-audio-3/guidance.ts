/**
 * Stable Audio 3's classifier-free guidance (SA3 dit.py `forward`): adaptive projected guidance (APG) in the
 * denoised space of the rectified flow, with optional CFG rescale, applied per window by the long-form tiler.
 */
import type { GuidanceInput } from '../../longform/guidance.ts';

/** APG and CFG-rescale settings of SA3's guidance (dit.py `forward`); `generate` uses apgScale 1, scalePhi 0. */
export interface ApgSettings {
  /** 1: keep only the part of the guidance orthogonal to the conditional estimate; 0: plain CFG; between: a blend. */
  apgScale: number;
  /** CFG rescale φ (Lin et al. 2024); 0 = off. The reference's `rescale_cfg` flag is accepted and not used. */
  scalePhi: number;
}

/** The reference's defaults: DiTWrapper forwards apg_scale 1 and scale_phi 0 (rescale off), no norm threshold. */
export const SA3_GUIDANCE: ApgSettings = { apgScale: 1, scalePhi: 0 };

/**
 * Guidance as SA3's DiT combines a conditional and an unconditional velocity (dit.py `forward` and `apg_project`;
 * cfg interval (0, 1), so every step), per window of C channels × W frames:
 *   x̂_c = x − t·v_c, x̂_u = x − t·v_u, d = x̂_c − x̂_u             (denoised estimates of the rectified flow)
 *   u = m·x̂_c / max(‖m·x̂_c‖, 1e-8), d⊥ = m·(d − ⟨d, u⟩·u)        (APG, Sadat et al. 2024: the part of d
 *   d' = d⊥ (apg 1) | d (apg 0) | apg·d⊥ + (1 − apg)·d            orthogonal to x̂_c)
 *   x̂ = x̂_c + (g − 1)·d',  v = (x − x̂) / t
 *   φ ≠ 0: v ← φ·v·std_c(v_c)/std_c(v) + (1 − φ)·v                  (per frame, unbiased std over channels)
 * m is the padding mask of the window's frames; norms and products run over all of the window's channels × frames
 * (the reference's whole sequence is one window; tiled windows are normalised each on their own). Checked against
 * the reference's own outputs in tests/fixtures/sa3-guidance.
 */
export function apgGuidance(input: GuidanceInput, validFrames: number, settings: ApgSettings = SA3_GUIDANCE): Float64Array {
  const { x, cond, uncond, timestep: t, scale: g, start, window: W } = input;
  if (cond.length % W !== 0) throw new RangeError(`apgGuidance: ${cond.length} values are not whole frames of a ${W}-frame window`);
  const C = cond.length / W;
  const { apgScale: apg, scalePhi: phi } = settings;
  const valid = (i: number): boolean => start + (i % W) < validFrames;
  let norm = 0;
  for (let i = 0; i < cond.length; i++) {
    if (!valid(i)) continue;
    const xc = x[i] - t * cond[i];
    norm += xc * xc;
  }
  const inv = 1 / Math.max(Math.sqrt(norm), 1e-8);
  let dot = 0;
  for (let i = 0; i < cond.length; i++) if (valid(i)) dot += t * (uncond[i] - cond[i]) * (x[i] - t * cond[i]) * inv;
  const out = new Float64Array(cond.length);
  for (let i = 0; i < cond.length; i++) {
    const xc = x[i] - t * cond[i];
    const d = t * (uncond[i] - cond[i]);
    const orthogonal = valid(i) ? d - dot * xc * inv : 0;
    const diff = apg === 1 ? orthogonal : apg === 0 ? d : apg * orthogonal + (1 - apg) * d;
    out[i] = (x[i] - (xc + (g - 1) * diff)) / t;
  }
  if (phi !== 0) {
    for (let n = 0; n < W; n++) {
      const ratio = stdOverChannels(cond, n, W, C) / stdOverChannels(out, n, W, C);
      for (let c = 0; c < C; c++) out[c * W + n] = phi * out[c * W + n] * ratio + (1 - phi) * out[c * W + n];
    }
  }
  return out;
}

/** Unbiased standard deviation over the C channels of frame n (torch.std(dim=1)). */
function stdOverChannels(values: ArrayLike<number>, n: number, W: number, C: number): number {
  let mean = 0;
  for (let c = 0; c < C; c++) mean += values[c * W + n];
  mean /= C;
  let sum = 0;
  for (let c = 0; c < C; c++) sum += (values[c * W + n] - mean) ** 2;
  return Math.sqrt(sum / (C - 1));
}
