/**
 * `shape-s`: a built-in pack with AudioLDM-S's architectures and exact audioldm I/O contract, but random weights
 * (ARCHITECTURE.md §3 "shape-*"). It produces noise; it exists for chunked-decoding equivalence tests and benchmarks.
 * Its UNet carries a prior skip (unet.ts {@link SHAPE_PRIOR_GAMMA}) so that DDIM stays bounded (a bare random UNet
 * diverges to the pipeline's ±10 clamp), and its vocoder's output layer is scaled so that such a latent's audio is
 * not saturated by the final tanh (vocoder.ts).
 *
 * `width` is the UNet's model_channels C0 and scales every graph: 128 builds the full-size AudioLDM-S networks for GPU
 * measurements; the default 32 keeps a 10.24 s generation step fast on ORT CPU. Derived sizes ({@link shapeSizes}):
 * VAE ch = C0 (AudioLDM: 128), vocoder upsample_initial_channel = 1024·(C0/128)² (its 160×-longer sequences make its
 * cost grow fastest), res-blocks per level 2 from C0 = 128 (AudioLDM) and 1 below, text hidden 6·C0 (RoBERTa: 768).
 * Weights come from `createRng(seed, stream)` with one stream per graph, so the bytes are a pure function of the
 * options.
 */
import type { AudioLdmComponentName } from '../../contract/manifest.ts';
import { MANIFEST_SCHEMA_VERSION } from '../../contract/manifest.ts';
import { checkSeed, createRng } from '../../engine/tensor/rng.ts';
import { FIRST_WORD_ID, SPECIAL_IDS, buildWordTokenizer } from '../tokenizer.ts';
import { AUDIOLDM_SCHEDULER, type AudioLdmManifestDraft, type BuiltPack } from '../types.ts';
import { TEXT_EMBED_DIM, type TextEncoderSize, buildTextEncoder } from './text-encoder.ts';
import { SHAPE_PRIOR_GAMMA, type UnetSize, buildUnet } from './unet.ts';
import { VAE_SCALING_FACTOR, type VaeDecoderSize, buildVaeDecoder, vaeDecoderHaloLatentFrames } from './vae-decoder.ts';
import { type VocoderSize, buildVocoder, vocoderHaloMelFrames } from './vocoder.ts';

/** Options of {@link buildShapePack}. */
export interface ShapePackOptions {
  /** UNet model_channels C0 (multiple of 8; 128 = full-size AudioLDM-S). Default {@link DEFAULT_SHAPE_WIDTH}. */
  width?: number;
  /** Weight seed in [0, 2^32). Default 0. */
  seed?: number;
  /** Pack id. Default `shape-s`. */
  id?: string;
  /** UNet/VAE num_res_blocks override (default 2 at width ≥ 128, else 1). */
  resBlocks?: number;
  /** Build the VAE decoder's mid-block attention (default true); false gives a decoder exact under GN-synced tiling. */
  vaeAttention?: boolean;
  /** The UNet's prior skip γ (unet.ts UnetOptions); default {@link SHAPE_PRIOR_GAMMA}; false: the bare AudioLDM-S graph. */
  priorSkip?: number | false;
}

/** The reduced width used by default (CPU tests). */
export const DEFAULT_SHAPE_WIDTH = 32;
/** Width that reproduces AudioLDM-S's sizes. */
export const FULL_SHAPE_WIDTH = 128;

/** Every graph's size for one width. */
export interface ShapeSizes {
  textEncoder: TextEncoderSize;
  unet: UnetSize;
  vaeDecoder: VaeDecoderSize;
  vocoder: VocoderSize;
}

/** ~50 everyday sound words: enough for prompts in tests and demos. */
const VOCABULARY = [
  'a', 'an', 'the', 'and', 'with', 'of', 'in', 'on', 'by', 'from', 'while', 'then',
  'dog', 'barking', 'cat', 'meowing', 'bird', 'birds', 'chirping', 'singing', 'rain', 'falling', 'thunder', 'wind',
  'blowing', 'water', 'flowing', 'ocean', 'waves', 'fire', 'crackling', 'car', 'engine', 'horn', 'train', 'passing',
  'footsteps', 'door', 'knocking', 'bell', 'ringing', 'piano', 'guitar', 'drum', 'drums', 'music', 'people',
  'talking', 'crowd', 'cheering', 'baby', 'crying', 'clock', 'ticking', 'loud', 'soft', 'distant', 'heavy',
] as const;
const TOKENIZER_MAX_LENGTH = 512;

/** Sizes derived from `width` (see the file header). */
export function shapeSizes(width: number, resBlocks?: number): ShapeSizes {
  if (!Number.isInteger(width) || width < 8 || width % 8 !== 0) {
    throw new RangeError(`shape pack width ${width} is not a positive multiple of 8; use 32 (default, CPU) or 128 (AudioLDM-S)`);
  }
  const blocks = resBlocks ?? (width >= FULL_SHAPE_WIDTH ? 2 : 1);
  if (!Number.isInteger(blocks) || blocks < 1) throw new RangeError(`shape pack resBlocks ${blocks} must be a whole number ≥ 1`);
  const vocoderChannels = Math.max(32, Math.round((1024 * (width / FULL_SHAPE_WIDTH) ** 2) / 32) * 32);
  return {
    textEncoder: { vocabSize: FIRST_WORD_ID + VOCABULARY.length, hidden: 6 * width },
    unet: { modelChannels: width, resBlocks: blocks },
    vaeDecoder: { channels: width, resBlocks: blocks },
    vocoder: { initialChannels: vocoderChannels, resblockKernels: [3, 7, 11] },
  };
}

/** File name of each graph. */
const FILES: Record<AudioLdmComponentName, string> = {
  textEncoder: 'text_encoder.onnx',
  unet: 'unet.onnx',
  vaeDecoder: 'vae_decoder.onnx',
  vocoder: 'vocoder.onnx',
};

/** RNG stream per graph: changing one graph's size never changes another's weights. */
const STREAMS: Record<AudioLdmComponentName, number> = { textEncoder: 1, unet: 2, vaeDecoder: 3, vocoder: 4 };

const LICENCE_TEXT =
  'Tessera shape-s pack: random weights generated by Tessera; no training data, no third-party weights.\n' +
  'To the extent possible under law, the authors dedicate these files to the public domain (CC0 1.0):\n' +
  'https://creativecommons.org/publicdomain/zero/1.0/\n';

/** Builds the shape pack's graphs, tokenizer and manifest draft. */
export function buildShapePack(options: ShapePackOptions = {}): BuiltPack<AudioLdmManifestDraft> {
  const width = options.width ?? DEFAULT_SHAPE_WIDTH;
  const seed = checkSeed(options.seed ?? 0);
  const sizes = shapeSizes(width, options.resBlocks);
  const rng = (c: AudioLdmComponentName) => createRng(seed, STREAMS[c]);
  const tokenizer = buildWordTokenizer(VOCABULARY, TOKENIZER_MAX_LENGTH);
  const files: Record<string, Uint8Array> = {
    [FILES.textEncoder]: buildTextEncoder(sizes.textEncoder, rng('textEncoder')).bytes,
    [FILES.unet]: buildUnet(sizes.unet, rng('unet'), { priorSkip: options.priorSkip ?? SHAPE_PRIOR_GAMMA }).bytes,
    [FILES.vaeDecoder]: buildVaeDecoder(sizes.vaeDecoder, rng('vaeDecoder'), { attention: options.vaeAttention ?? true }).bytes,
    [FILES.vocoder]: buildVocoder(sizes.vocoder, rng('vocoder')).bytes,
    'tokenizer.json': new TextEncoder().encode(JSON.stringify(tokenizer)),
    'LICENCE.txt': new TextEncoder().encode(LICENCE_TEXT),
  };
  const manifest = shapeManifest(options.id ?? 'shape-s', width, seed, sizes);
  manifest.version = shapePackVersion(options);
  return { manifest, files };
}

/**
 * Bump when the builder's output bytes change (tests/packs/fingerprints.test.ts says when): caches reuse a built
 * pack whose version matches without rebuilding it.
 */
export const SHAPE_BUILDER_REVISION = 3;

/** The version string a shape pack built with `options` carries (no build needed). */
export function shapePackVersion(options: ShapePackOptions = {}): string {
  const width = options.width ?? DEFAULT_SHAPE_WIDTH;
  const sizes = shapeSizes(width, options.resBlocks);
  // A different VAE or UNet graph is a different pack build: say so in the version, so caches never mix the two.
  const gamma = options.priorSkip ?? SHAPE_PRIOR_GAMMA;
  const skip = gamma === SHAPE_PRIOR_GAMMA ? '' : gamma === false ? '.bare' : `.skip${gamma}`;
  return `1.0.0+w${width}.r${sizes.unet.resBlocks}.s${options.seed ?? 0}.b${SHAPE_BUILDER_REVISION}${options.vaeAttention === false ? '.noattn' : ''}${skip}`;
}

function shapeManifest(id: string, width: number, seed: number, sizes: ShapeSizes): AudioLdmManifestDraft {
  const f32 = 'float32' as const;
  const i64 = 'int64' as const;
  return {
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    id,
    name: 'Shape S (random weights, AudioLDM-S shapes)',
    version: `1.0.0+w${width}.r${sizes.unet.resBlocks}.s${seed}`,
    family: 'audioldm',
    description:
      `Random weights in AudioLDM-S's architectures (UNet C0=${width}, VAE ch=${sizes.vaeDecoder.channels}, ` +
      `vocoder ${sizes.vocoder.initialChannels} channels) with the exact audioldm I/O contract. It produces noise; ` +
      'it exists for chunked-decoding equivalence tests and benchmarks.',
    demo: true,
    licence: { name: 'CC0-1.0', url: 'https://creativecommons.org/publicdomain/zero/1.0/', text: LICENCE_TEXT },
    audio: { sampleRate: 16000, channels: 1 },
    latent: { channels: 8, frequencyBins: 16, framesPerSecond: 25, timeMultiple: 8, nativeWindowFrames: 256 },
    mel: { bins: 64, hop: 160, framesPerLatentFrame: 4, vocoderExtraSamples: 32 },
    textEmbedDim: TEXT_EMBED_DIM,
    vaeScalingFactor: VAE_SCALING_FACTOR,
    scheduler: AUDIOLDM_SCHEDULER,
    defaults: { steps: 10, guidance: 2.5, sampler: 'ddim', eta: 0 },
    tokenizer: { file: 'tokenizer.json', maxLength: TOKENIZER_MAX_LENGTH, padId: SPECIAL_IDS.pad, unkId: SPECIAL_IDS.unk },
    components: {
      textEncoder: {
        file: FILES.textEncoder,
        inputs: [
          { name: 'input_ids', type: i64, dims: ['B', 'S'] },
          { name: 'attention_mask', type: i64, dims: ['B', 'S'] },
        ],
        outputs: [{ name: 'text_embeds', type: f32, dims: ['B', TEXT_EMBED_DIM] }],
      },
      unet: {
        file: FILES.unet,
        inputs: [
          { name: 'sample', type: f32, dims: ['N', 8, 'T', 16] },
          { name: 'timestep', type: f32, dims: ['N'] },
          { name: 'class_labels', type: f32, dims: ['N', TEXT_EMBED_DIM] },
        ],
        outputs: [{ name: 'noise_pred', type: f32, dims: ['N', 8, 'T', 16] }],
      },
      vaeDecoder: {
        file: FILES.vaeDecoder,
        inputs: [{ name: 'latent', type: f32, dims: ['B', 8, 'T', 16] }],
        outputs: [{ name: 'mel', type: f32, dims: ['B', 1, 'F', 64] }],
      },
      vocoder: {
        file: FILES.vocoder,
        inputs: [{ name: 'mel', type: f32, dims: ['B', 'F', 64] }],
        outputs: [{ name: 'waveform', type: f32, dims: ['B', 'L'] }],
      },
    },
    // Conv-only receptive fields traced from the built layer lists (vae-decoder.ts, vocoder.ts): at the default width
    // the VAE decoder reads ±13 latent frames (±17 at full size), the vocoder ±23 mel frames at every width.
    decode: {
      vaeHaloLatentFrames: vaeDecoderHaloLatentFrames(sizes.vaeDecoder),
      vocoderHaloMelFrames: vocoderHaloMelFrames(sizes.vocoder),
    },
  };
}
