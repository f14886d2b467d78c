/**
 * The recipe of the `stable-audio-3-standin` pack (docs/SA3-STANDIN.md): its vocabulary, the latent pattern each
 * word adds, and the voices its decoder turns latent channels into. Every number here shapes the sound and the pack
 * bytes; change them together with SA3_STANDIN_BUILDER_REVISION.
 *
 * Latent layout (256 channels, as SAME's latent): channel 128·b + 16·k + j (j < 16) drives voice k of bank b,
 * b = 0 left, 1 right. The decoder averages a voice's 16 channels, z̄, and plays the voice at amplitude
 * voiceRms·max(0, z̄). A prompt's clean latent is constant in time: μ = base + Σ_words offsets (see {@link wordLatent}).
 */

/** Sample rate and samples per latent frame of SAME (research/stableaudio.md §3). */
export const SAMPLE_RATE = 44100;
export const SAMPLES_PER_FRAME = 4096;
/** Latent channels and text geometry of SA3 small (research §3, §4.2). */
export const LATENT_CHANNELS = 256;
export const TEXT_TOKENS = 256;
export const HIDDEN = 768;
/** Channels per bank (left, right) and per voice. */
export const BANK_CHANNELS = 128;
export const VOICE_CHANNELS = 16;
/** Largest seconds_total of the number conditioner (the MLX port's max_val for small and medium, research §3). */
export const MAX_SECONDS = 384;
/** The hidden-state dimension that carries seconds_total / MAX_SECONDS in the duration token. */
export const DURATION_DIM = HIDDEN - 1;

/** z̄ of every voice for a prompt without known words: silent (the decoder plays max(0, z̄)). */
export const BASE_LEVEL = -0.5;
/** z̄ past the end of the requested seconds (the headroom): silent, like the real model's trailing silence. */
export const SILENT_LEVEL = -1.5;
/** Standard deviation of every latent element around its mean (the stand-in's "data distribution"). */
export const LATENT_STD = 0.25;
/** RMS of a voice played at z̄ = 1. */
export const VOICE_RMS = 0.1;

/**
 * A voice: a carrier that repeats every 4096 samples (frequencies on the grid m·44100/4096 ≈ m·10.77 Hz), so a
 * decoder chunk that starts on a latent frame plays it in phase without knowing its offset.
 */
export type Voice =
  | { name: string; kind: 'tone'; /** [grid multiple m, relative amplitude] */ partials: ReadonlyArray<readonly [number, number]> }
  | { name: string; kind: 'noise'; /** grid multiples [first, last] of a random-phase band */ band: readonly [number, number] };

/** The eight voices of each bank. */
export const VOICES: readonly Voice[] = [
  { name: 'drone', kind: 'tone', partials: [[10, 1], [20, 0.5], [30, 0.33]] }, // 107.7 Hz and harmonics
  { name: 'bass', kind: 'tone', partials: [[5, 1], [10, 0.25]] }, // 53.8 Hz
  { name: 'pad', kind: 'tone', partials: [[40, 1], [60, 0.6], [80, 0.4]] }, // 430.7 Hz
  { name: 'bell', kind: 'tone', partials: [[116, 1], [316, 0.5]] }, // 1249 Hz and 3402 Hz
  { name: 'whistle', kind: 'tone', partials: [[279, 1]] }, // 3004 Hz
  { name: 'rumble', kind: 'noise', band: [3, 18] }, // 32–194 Hz
  { name: 'rain', kind: 'noise', band: [46, 372] }, // 495–4005 Hz
  { name: 'hiss', kind: 'noise', band: [465, 1393] }, // 5006–14998 Hz
];

/** What a word adds to the clean latent: z̄ offsets per voice (both banks), and pan (silence the other bank). */
export interface WordSpec {
  voices?: Readonly<Record<string, number>>;
  /** `left` lowers every right-bank channel by 3 (and vice versa), which silences that side. */
  pan?: 'left' | 'right';
  /** Added to every voice of both banks (quieter/louder where a voice is already on). */
  all?: number;
}

const on = (voice: string, weight = 1.5): Record<string, number> => ({ [voice]: weight });

/** The vocabulary. Words not listed become `<unk>` (and are reported); filler words add nothing. */
export const WORDS: Readonly<Record<string, WordSpec>> = {
  drone: { voices: on('drone') },
  hum: { voices: { drone: 1, bass: 0.5 } },
  bass: { voices: on('bass') },
  sub: { voices: on('bass') },
  pad: { voices: on('pad') },
  organ: { voices: on('pad') },
  choir: { voices: on('pad') },
  warm: { voices: { pad: 0.6, drone: 0.3 } },
  bell: { voices: on('bell') },
  bells: { voices: on('bell') },
  chime: { voices: on('bell') },
  chimes: { voices: on('bell') },
  whistle: { voices: on('whistle') },
  rumble: { voices: on('rumble') },
  thunder: { voices: on('rumble') },
  rain: { voices: on('rain') },
  noise: { voices: on('rain') },
  static: { voices: on('rain') },
  surf: { voices: { rain: 1, rumble: 0.8 } },
  waves: { voices: { rain: 1, rumble: 0.8 } },
  ocean: { voices: { rain: 1, rumble: 0.8 } },
  hiss: { voices: on('hiss') },
  air: { voices: on('hiss') },
  wind: { voices: { hiss: 1, rain: 0.8 } },
  steam: { voices: on('hiss') },
  low: { voices: { drone: 0.6, bass: 0.6, rumble: 0.4 } },
  deep: { voices: { drone: 0.6, bass: 0.6, rumble: 0.4 } },
  dark: { voices: { drone: 0.4, bass: 0.4 } },
  bright: { voices: { whistle: 0.6, hiss: 0.6 } },
  high: { voices: { whistle: 0.6, hiss: 0.6 } },
  soft: { all: -0.3 },
  quiet: { all: -0.3 },
  gentle: { all: -0.3 },
  loud: { all: 0.5 },
  left: { pan: 'left' },
  right: { pan: 'right' },
  a: {},
  an: {},
  and: {},
  at: {},
  in: {},
  of: {},
  on: {},
  some: {},
  the: {},
  with: {},
};

/** The vocabulary in id order (sorted, so ids never depend on object key order). */
export function standinVocabulary(): string[] {
  return Object.keys(WORDS).sort();
}

/** Offset that silences the other bank for `left` / `right`. */
const PAN_OFFSET = -3;

/** The latent offsets of one word over the 256 channels (what the DiT adds to `BASE_LEVEL` per occurrence). */
export function wordLatent(word: string): Float64Array {
  const spec = WORDS[word];
  if (spec === undefined) throw new Error(`'${word}' is not in the stable-audio-3 stand-in vocabulary`);
  const out = new Float64Array(LATENT_CHANNELS);
  for (let b = 0; b < 2; b++) {
    VOICES.forEach((voice, k) => {
      let offset = (spec.voices?.[voice.name] ?? 0) + (spec.all ?? 0);
      if ((spec.pan === 'left' && b === 1) || (spec.pan === 'right' && b === 0)) offset += PAN_OFFSET;
      for (let j = 0; j < VOICE_CHANNELS; j++) out[b * BANK_CHANNELS + k * VOICE_CHANNELS + j] = offset;
    });
  }
  for (const name of Object.keys(spec.voices ?? {})) {
    if (!VOICES.some((v) => v.name === name)) throw new Error(`word '${word}' names an unknown voice '${name}'`);
  }
  return out;
}

/** z̄ of voice `name` in bank `bank` (0 left, 1 right) for a prompt's known words, before clamping at 0. */
export function voiceLevel(words: readonly string[], name: string, bank: 0 | 1): number {
  const k = VOICES.findIndex((v) => v.name === name);
  if (k < 0) throw new Error(`unknown voice '${name}'`);
  return words.filter((w) => w in WORDS).reduce((sum, w) => sum + wordLatent(w)[bank * BANK_CHANNELS + k * VOICE_CHANNELS], BASE_LEVEL);
}

/** Frequency in Hz of grid multiple m (m·44100/4096). */
export function gridHz(m: number): number {
  return (m * SAMPLE_RATE) / SAMPLES_PER_FRAME;
}
