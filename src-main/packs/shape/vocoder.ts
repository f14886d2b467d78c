/**
 * The shape pack's vocoder: AudioLDM's HiFi-GAN (`HIFIGAN_16K_64`, research/audioldm.md §1, §3.4) with random weights,
 * built by the checkpoint converter's SpeechT5HifiGan builder (audioldm/vocoder.ts) with AudioLDM's config.
 *
 * mel[B,F,64] → transpose [B,64,F] → conv_pre k7 → five stages of LeakyReLU(0.1) → ConvTranspose1d(k, u,
 * padding ⌊(k−u)/2⌋) halving the channels → multi-receptive-field block (mean of ResBlock1s: per dilation d,
 * LeakyReLU → Conv(k, d) → LeakyReLU → Conv(k, 1), residual) → LeakyReLU(0.01) → conv_post k7 (init scaled down,
 * {@link OUTPUT_GAIN}) → tanh → [B, L].
 * Length: the stages give 5F+1, 20F+4, 40F+8, 80F+16 and L = 160F + 32 samples. No normalisation anywhere, so the
 * vocoder is exactly shift-equivariant (one mel frame ↔ 160 samples) and chunkable with a halo ≥ its receptive field.
 */
import type { Rng } from '../../engine/tensor/rng.ts';
import type { BuiltGraph } from '../graph/nn.ts';
import type { HifiGanConfig } from '../audioldm/config-text-vocoder.ts';
import { buildHifiGan, hifiGanHaloMelFrames } from '../audioldm/vocoder.ts';

/** Sizes of the vocoder (AudioLDM: upsample_initial_channel 1024, resblock kernels [3, 7, 11]). */
export interface VocoderSize {
  /** upsample_initial_channel; each stage halves it. */
  initialChannels: number;
  /** MRF kernel sizes (AudioLDM: [3, 7, 11]). */
  resblockKernels: readonly number[];
}

/** AudioLDM's HiFi-GAN upsampling: rates multiply to the 160-sample hop. */
export const UPSAMPLE_RATES = [5, 4, 2, 2, 2] as const;
/** Kernel of each ConvTranspose1d stage. */
export const UPSAMPLE_KERNELS = [16, 16, 8, 4, 4] as const;
/** Dilations of every ResBlock1 (kept at every width so the receptive field is AudioLDM's). */
export const RESBLOCK_DILATIONS = [1, 3, 5] as const;
const MEL_BINS = 64;
const SLOPE = 0.1;
/**
 * Init gain of conv_post (AudioLDM's layout is unchanged; only this layer's random weights are scaled). With 0.5 the
 * random stack's pre-tanh signal had RMS ≈ 0.85 and peaks ≈ 4.4 on a bounded latent's mel, so tanh saturated every
 * generation (peak 1.000, RMS 0.53, crest 1.9, whatever the latent); 0.15 keeps it near tanh's linear range (10 s,
 * default shape-s: peak 0.89, RMS 0.22, crest 4.0). Measured by the pack's generations, not derived.
 */
const OUTPUT_GAIN = 0.15;

/** The SpeechT5HifiGan config AudioLDM's vocoder has, at the width of `size`. */
export function shapeVocoderConfig(size: VocoderSize): HifiGanConfig {
  return {
    modelInDim: MEL_BINS,
    samplingRate: 16000,
    upsampleInitialChannel: size.initialChannels,
    upsampleRates: [...UPSAMPLE_RATES],
    upsampleKernelSizes: [...UPSAMPLE_KERNELS],
    resblockKernelSizes: [...size.resblockKernels],
    resblockDilationSizes: size.resblockKernels.map(() => [...RESBLOCK_DILATIONS]),
    leakyReluSlope: SLOPE,
    normalizeBefore: false,
  };
}

/** Builds `vocoder.onnx` for `size` with weights from `rng`. */
export function buildVocoder(size: VocoderSize, rng: Rng): BuiltGraph {
  const stages = UPSAMPLE_RATES.length;
  if (size.initialChannels % 2 ** stages !== 0) {
    throw new Error(`vocoder: initialChannels ${size.initialChannels} must be a multiple of ${2 ** stages} (halved ${stages} times)`);
  }
  return buildHifiGan(shapeVocoderConfig(size), rng, {
    outputGain: OUTPUT_GAIN,
    graphName: 'shape_vocoder',
    docString: `Tessera shape vocoder (AudioLDM HiFi-GAN layout, ${size.initialChannels} channels, random weights)`,
  });
}

/**
 * Mel frames of context each side that the waveform of a mel frame depends on: the halo for exact chunked vocoding.
 * For AudioLDM's kernels [3, 7, 11] this is the analytic bound 23 (research/longform.md §6; float64 experiments were
 * already exact from 22). See {@link hifiGanHaloMelFrames}.
 */
export function vocoderHaloMelFrames(size: VocoderSize): number {
  return hifiGanHaloMelFrames(shapeVocoderConfig(size));
}
