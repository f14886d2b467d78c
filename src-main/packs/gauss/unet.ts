/**
 * The sketch-gp UNet: the exact ε-predictor of data that are a stationary Gaussian process along time, over the
 * window it is given. Per latent element, x₀ = μ(text) + z with Cov(z) = Σ_T = s²·K_T, K_T[t, u] = ρ^|t−u|; with
 * K_T = U_T·diag(λ)·U_Tᵀ and r = x − √ᾱ·μ,
 *   ε̂ = E[ε | x] = √(1−ᾱ)·(ᾱΣ_T + (1−ᾱ)I)⁻¹·r = U_T·diag(√(1−ᾱ)/(ᾱs²λ + 1 − ᾱ))·U_Tᵀ·r   (along time).
 * The eigendecomposition of every allowed T (multiples of 8 up to the native window W) is computed here at build
 * time (ml-matrix, float64) and stored padded to W×W; the graph gathers entry T/8 − 1 and slices its T×T block.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { GraphBuilder } from '../graph/builder.ts';
import { unetPrologue } from '../sketch/graphs.ts';
import type { SketchRecipe } from '../sketch/recipe.ts';
import { correlationOf } from './exact.ts';
import type { GaussRecipe } from './recipe.ts';

const LATENT_C = 8;
const LATENT_F = 16;
/** The audioldm time multiple: windows are multiples of 8 frames. */
const STEP = 8;

/** Eigenvalues λ (ascending) and eigenvectors (columns of U, row-major T×T) of K_T[t, u] = ρ^|t−u|. */
export function toeplitzEigen(frames: number, rho: number): { values: Float64Array; vectors: Float64Array } {
  const k = Matrix.from1DArray(frames, frames, Array.from({ length: frames * frames }, (_, i) => rho ** Math.abs(Math.floor(i / frames) - (i % frames))));
  const evd = new EigenvalueDecomposition(k, { assumeSymmetric: true });
  const u = evd.eigenvectorMatrix;
  const vectors = new Float64Array(frames * frames);
  for (let t = 0; t < frames; t++) for (let j = 0; j < frames; j++) vectors[t * frames + j] = u.get(t, j);
  return { values: Float64Array.from(evd.realEigenvalues), vectors };
}

/**
 * Every allowed window's U_T and λ_T, zero-padded: bases [W/8, W, W] (U_T in the top-left T×T block of entry
 * T/8 − 1) and eigenvalues [W/8, W].
 */
export function windowBases(recipe: GaussRecipe): { bases: Float32Array; values: Float32Array } {
  const W = recipe.nativeWindowFrames;
  const rho = correlationOf(recipe.correlationFrames);
  const count = W / STEP;
  const bases = new Float32Array(count * W * W);
  const values = new Float32Array(count * W);
  for (let i = 0; i < count; i++) {
    const T = (i + 1) * STEP;
    const e = toeplitzEigen(T, rho);
    for (let t = 0; t < T; t++) for (let j = 0; j < T; j++) bases[(i * W + t) * W + j] = e.vectors[t * T + j];
    values.set(e.values, i * W);
  }
  return { bases, values };
}

/** Builds `unet.onnx`: sample [N, 8, T, 16], timestep [N], class_labels [N, 512] → noise_pred (formula above). */
export function buildGaussUnet(recipe: GaussRecipe, sketch: SketchRecipe, alphasCumprod: Float64Array): Uint8Array {
  const W = recipe.nativeWindowFrames;
  const { bases, values } = windowBases(recipe);
  const g = new GraphBuilder('sketch_gp_unet');
  const { x, abar, mu } = unetPrologue(g, sketch, alphasCumprod);
  const residual = g.op('Sub', [x, g.op('Mul', [g.op('Sqrt', [abar]), mu])]);

  // The window's basis: entry T/8 − 1 of the padded table, its top-left T×T block.
  const frames = g.op('Gather', [g.op('Shape', [x]), g.i64('index', [2])], { axis: 0 });
  const entry = g.op('Sub', [g.op('Div', [frames, g.i64('step', [STEP])]), g.i64('one', [1])]);
  const ends = g.op('Concat', [frames, frames], { axis: 0 });
  const basisPadded = g.op('Gather', [g.f32('bases', bases, [W / STEP, W, W]), entry], { axis: 0 });
  const basis = g.op('Reshape', [g.op('Slice', [basisPadded, g.i64('starts', [0, 0]), ends, g.i64('axes', [1, 2])]), g.op('Concat', [frames, frames], { axis: 0 })]);
  const lambdaPadded = g.op('Gather', [g.f32('eigenvalues', values, [W / STEP, W]), entry], { axis: 0 });
  const lambda = g.op('Reshape', [g.op('Slice', [lambdaPadded, g.i64('starts', [0]), frames, g.i64('axes', [1])]), g.i64('shape', [1, 1, -1, 1])]);

  // gain_j = √(1−ᾱ)/(ᾱs²λ_j + 1 − ᾱ), [N, 1, T, 1].
  const oneMinus = g.op('Sub', [g.scalar(1), abar]);
  const gain = g.op('Div', [g.op('Sqrt', [oneMinus]), g.op('Add', [g.op('Mul', [g.op('Mul', [abar, g.scalar(recipe.latentStd ** 2)]), lambda]), oneMinus])]);
  // Along time (axis 2): Uᵀ·r, scale, U·(…); MatMul broadcasts the T×T basis over [N, 8].
  const coefficients = g.op('MatMul', [g.op('Transpose', [basis], { perm: [1, 0] }), residual]);
  const eps = g.op('MatMul', [basis, g.op('Mul', [coefficients, gain])]);
  g.output(eps, 'noise_pred', 'float32', ['N', LATENT_C, 'T', LATENT_F]);
  return g.toBytes('Tessera sketch-gp pack: exact ε-predictor of a Gaussian process along time (test oracle, not trained)');
}
