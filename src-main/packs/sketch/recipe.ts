/**
 * The sketch pack's recipe (resources/packs/sketch/recipe.json): a vocabulary whose words are spectral templates,
 * and the constants of its analytic "data distribution", decoder and vocoder. See docs/SKETCH.md.
 *
 * The 64 "mel" bins of the sketch are a synthesis spectrogram, not a mel spectrogram: bins 0–39 are sinusoidal
 * partials at `tonalHz`, bins 40–63 are band-limited noise bands spaced on the mel scale. Each word maps to a
 * template s ∈ R^64 of log-amplitude offsets:
 *   s_k = gains.tilt·tilt·(2·pos_k − 1) + gains.tonal·tonal·(±1 for tonal/noise bins) + gains.bump·g·N(log2(f_k/c)/w)
 * where pos_k ∈ [0, 1] is the bin's log-frequency position and N(u) = exp(−u²/2). A prompt's embedding is the
 * L2-normalised word count vector, so templates add up and classifier-free guidance scales their contrast.
 */
import * as v from 'valibot';
import recipeJson from '../../../resources/packs/sketch/recipe.json' with { type: 'json' };

const num = v.pipe(v.number(), v.finite());
const WordSchema = v.strictObject({
  tilt: v.optional(num),
  tonal: v.optional(num),
  /** [centre Hz, width in octaves, gain] */
  bump: v.optional(v.tuple([v.pipe(num, v.gtValue(0)), v.pipe(num, v.gtValue(0)), num])),
});

const RecipeSchema = v.object({
  id: v.string(),
  version: v.string(),
  seed: v.pipe(v.number(), v.integer(), v.minValue(0)),
  tonalHz: v.pipe(v.array(v.pipe(v.number(), v.integer(), v.minValue(25), v.maxValue(7975))), v.length(40)),
  noiseBands: v.strictObject({
    count: v.literal(24),
    lowHz: v.pipe(num, v.gtValue(0)),
    highHz: v.pipe(num, v.maxValue(8000)),
    firTaps: v.pipe(v.number(), v.integer(), v.check((n) => n % 2 === 1, 'must be odd')),
    referenceBandwidthHz: v.pipe(num, v.gtValue(0)),
  }),
  latentStd: v.pipe(num, v.gtValue(0)),
  melPerLatent: v.pipe(num, v.gtValue(0)),
  melBias: num,
  outputRms: v.pipe(num, v.gtValue(0), v.maxValue(0.5)),
  gains: v.strictObject({ tilt: num, tonal: num, bump: num }),
  words: v.record(v.pipe(v.string(), v.regex(/^[a-z0-9]+$/)), WordSchema),
});

/** A validated sketch recipe. */
export type SketchRecipe = v.InferOutput<typeof RecipeSchema>;

/** The recipe shipped in resources/, validated. */
export function loadSketchRecipe(json: unknown = recipeJson): SketchRecipe {
  const parsed = v.safeParse(RecipeSchema, json);
  if (!parsed.success) {
    const first = parsed.issues[0];
    throw new Error(`sketch recipe invalid at ${v.getDotPath(first) ?? '(root)'}: ${first.message}`);
  }
  for (let i = 1; i < parsed.output.tonalHz.length; i++) {
    // Partials on a 25 Hz grid repeat every 640 samples = 4 mel frames = 1 latent frame at 16 kHz, so the
    // vocoder's output does not depend on where a chunk starts as long as chunks start on latent frames.
    if (parsed.output.tonalHz[i] % 25 !== 0 || parsed.output.tonalHz[i] <= parsed.output.tonalHz[i - 1]) {
      throw new Error(`sketch recipe: tonalHz must increase on a 25 Hz grid (entry ${i} is ${parsed.output.tonalHz[i]})`);
    }
  }
  return parsed.output;
}

/** Number of tonal bins (bins 0..39); noise bands follow. */
export const TONAL_BINS = 40;
/** Total synthesis bins = AudioLDM's 64 mel bins. */
export const SKETCH_BINS = 64;

const mel = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
const hzFromMel = (m: number): number => 700 * (10 ** (m / 2595) - 1);

/** Noise band edges [lo, hi] in Hz, equally spaced on the mel scale. */
export function noiseBandEdges(recipe: SketchRecipe): Array<[number, number]> {
  const { count, lowHz, highHz } = recipe.noiseBands;
  const m0 = mel(lowHz);
  const m1 = mel(highHz);
  return Array.from({ length: count }, (_, i) => [hzFromMel(m0 + ((m1 - m0) * i) / count), hzFromMel(m0 + ((m1 - m0) * (i + 1)) / count)]);
}

/** Centre frequency of every synthesis bin (tonal partials, then noise band centres). */
export function binCentresHz(recipe: SketchRecipe): number[] {
  return [...recipe.tonalHz, ...noiseBandEdges(recipe).map(([lo, hi]) => Math.sqrt(lo * hi))];
}

/** Power weight of each bin for a unit amplitude: ½ for a sinusoid, bandwidth/reference for a noise band. */
export function binPowerWeights(recipe: SketchRecipe): number[] {
  return [...recipe.tonalHz.map(() => 0.5), ...noiseBandEdges(recipe).map(([lo, hi]) => (hi - lo) / recipe.noiseBands.referenceBandwidthHz)];
}

/** The vocabulary in id order (sorted, so ids do not depend on JSON key order). */
export function sketchVocabulary(recipe: SketchRecipe): string[] {
  return Object.keys(recipe.words).sort();
}

/** The log-amplitude template s ∈ R^64 of one word (formula in the file comment). */
export function wordTemplate(recipe: SketchRecipe, word: string): Float64Array {
  const spec = recipe.words[word];
  if (spec === undefined) throw new Error(`'${word}' is not in the sketch vocabulary`);
  const centres = binCentresHz(recipe);
  const fMin = recipe.tonalHz[0];
  const fMax = recipe.tonalHz[TONAL_BINS - 1];
  const out = new Float64Array(SKETCH_BINS);
  for (let k = 0; k < SKETCH_BINS; k++) {
    const pos = Math.min(1, Math.max(0, Math.log(centres[k] / fMin) / Math.log(fMax / fMin)));
    let s = recipe.gains.tilt * (spec.tilt ?? 0) * (2 * pos - 1);
    s += recipe.gains.tonal * (spec.tonal ?? 0) * (k < TONAL_BINS ? 1 : -1);
    if (spec.bump) {
      const [centre, width, gain] = spec.bump;
      const u = Math.log2(centres[k] / centre) / width;
      s += recipe.gains.bump * gain * Math.exp(-0.5 * u * u);
    }
    out[k] = s;
  }
  return out;
}
