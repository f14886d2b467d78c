/**
 * The `sketch-gp` pack's recipe (resources/packs/sketch-gp/recipe.json): the Gaussian process its latents follow
 * along time and its native window. Vocabulary, latent means, decoder and vocoder are the sketch pack's
 * (resources/packs/sketch/recipe.json). See docs/GAUSS.md.
 */
import * as v from 'valibot';
import recipeJson from '../../../resources/packs/sketch-gp/recipe.json' with { type: 'json' };

const RecipeSchema = v.object({
  id: v.string(),
  version: v.string(),
  /** s: standard deviation of every latent element around its prompt's mean. */
  latentStd: v.pipe(v.number(), v.finite(), v.gtValue(0)),
  /** ℓ: correlation length in latent frames, ρ = exp(−1/ℓ). */
  correlationFrames: v.pipe(v.number(), v.finite(), v.gtValue(0)),
  /** W: native window, a multiple of the audioldm time multiple (8); the UNet accepts any multiple of 8 up to W. */
  nativeWindowFrames: v.pipe(
    v.number(),
    v.integer(),
    v.minValue(8),
    v.maxValue(512),
    v.check((n) => n % 8 === 0, 'must be a multiple of 8'),
  ),
});

/** A validated sketch-gp recipe. */
export type GaussRecipe = v.InferOutput<typeof RecipeSchema>;

/** The recipe shipped in resources/, validated. */
export function loadGaussRecipe(json: unknown = recipeJson): GaussRecipe {
  const parsed = v.safeParse(RecipeSchema, json);
  if (!parsed.success) {
    const first = parsed.issues[0];
    throw new Error(`sketch-gp recipe invalid at ${v.getDotPath(first) ?? '(root)'}: ${first.message}`);
  }
  return parsed.output;
}
