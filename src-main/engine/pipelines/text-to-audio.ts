/**
 * Text-to-audio for one native window, as a numbered sequence (diffusers pipeline habit):
 * 1 check inputs → 2 encode prompts → 3 prepare latents → 4 denoise → 5 decode → 6 vocode → 7 trim.
 */
import type { AudioLdmManifest } from '../../contract/manifest.ts';
import { CancelledError, InvalidRequestError, LongFormUnavailableError, throwIfAborted } from '../errors.ts';
import type { AudioLdmModel } from '../families/audioldm.ts';
import { createScheduler, SAMPLERS, type SamplerName } from '../schedulers/index.ts';
import { createRng, checkSeed } from '../tensor/rng.ts';
import { allFinite, f32, maxAbs, sliceBatch, type F32 } from '../tensor/tensor.ts';

/** What to generate. Seconds in documents; frames and samples only inside the engine. */
export interface TextToAudioRequest {
  prompt: string;
  /** Conditions the unconditional branch of guidance; default "" (research/audioldm.md §1 defaults). */
  negativePrompt?: string;
  seconds: number;
  seed: number;
  steps: number;
  guidance: number;
  sampler: SamplerName;
  /** DDIM η (0 = deterministic given the initial noise). Ignored by DPM-Solver++. */
  eta: number;
}

/** Progress of a generation, reported once per stage change and once per denoising step. */
export interface Progress {
  stage: 'encode' | 'denoise' | 'decode' | 'vocode';
  /** Steps done in the denoise stage (0 before the first). */
  step: number;
  steps: number;
  /** Seconds since the start. */
  elapsed: number;
  /** Estimated seconds left, from the mean step time so far (undefined before the first step). */
  eta?: number;
}

/** Options that are not part of the take's identity. */
export interface RunOptions {
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
  /** Clock in milliseconds (injected for tests; default performance.now). */
  now?: () => number;
}

/** The generated audio and how it was made. */
export interface TextToAudioResult {
  /** Mono audio, exactly round(seconds · sampleRate) samples. */
  audio: Float32Array;
  sampleRate: number;
  /** The final latent [1, C, T, Fq] before decoding (for tests and later editing). */
  latent: F32;
  /** Wall seconds per stage. */
  timings: { encode: number; denoise: number; decode: number; vocode: number; total: number };
  /** Seconds inside ONNX Runtime `run` during this generation. */
  runtimeSeconds: number;
  /** Prompt words the model's vocabulary does not know. */
  unknownWords: string[];
  /** True if the latent exceeded ±100 and was clamped to ±10 before decoding ([O-ldm] safety net). */
  clamped: boolean;
}

/** Steps accepted by every sampler (the training schedule has 1000 timesteps). */
export const MAX_STEPS = 1000;

/** 1. Checks a request against the model; throws InvalidRequestError naming the field. */
export function checkRequest(manifest: AudioLdmManifest, r: TextToAudioRequest): void {
  const windowSeconds = manifest.latent.nativeWindowFrames / manifest.latent.framesPerSecond;
  if (typeof r.prompt !== 'string') throw new InvalidRequestError('prompt', r.prompt, 'prompt must be a string');
  if (!Number.isFinite(r.seconds) || r.seconds <= 0) {
    throw new InvalidRequestError('seconds', r.seconds, `duration ${r.seconds} s is not a positive number of seconds; pass e.g. 8`);
  }
  if (r.seconds > windowSeconds + 1e-9) {
    throw new LongFormUnavailableError(
      'seconds',
      r.seconds,
      `duration ${r.seconds} s is longer than the model's native window of ${windowSeconds} s; long-form generation is not yet available in this version - use at most ${windowSeconds} s`,
    );
  }
  if (!Number.isInteger(r.steps) || r.steps < 1 || r.steps > MAX_STEPS) {
    throw new InvalidRequestError('steps', r.steps, `steps ${r.steps} must be a whole number from 1 to ${MAX_STEPS}; ${manifest.defaults.steps} is the model's default`);
  }
  if (!Number.isFinite(r.guidance) || r.guidance < 0) {
    throw new InvalidRequestError('guidance', r.guidance, `guidance ${r.guidance} must be a number ≥ 0 (≤ 1 turns guidance off; ${manifest.defaults.guidance} is the default)`);
  }
  if (!SAMPLERS.includes(r.sampler)) {
    throw new InvalidRequestError('sampler', r.sampler, `sampler '${String(r.sampler)}' is unknown; use one of: ${SAMPLERS.join(', ')}`);
  }
  if (!Number.isFinite(r.eta) || r.eta < 0) throw new InvalidRequestError('eta', r.eta, `eta ${r.eta} must be a number ≥ 0`);
  try {
    checkSeed(r.seed);
  } catch (e) {
    throw new InvalidRequestError('seed', r.seed, (e as Error).message);
  }
}

/** Generates one window of audio from text. */
export async function textToAudio(model: AudioLdmModel, request: TextToAudioRequest, options: RunOptions = {}): Promise<TextToAudioResult> {
  const now = options.now ?? (() => performance.now());
  const t0 = now();
  const elapsed = (): number => (now() - t0) / 1000;
  const report = (p: Omit<Progress, 'elapsed'>): void => options.onProgress?.({ ...p, elapsed: elapsed() });
  const runtimeBefore = model.runtimeSeconds();

  // 1. Check inputs before any heavy work.
  checkRequest(model.manifest, request);
  const { signal } = options;
  throwIfAborted(signal, 'encode');
  const scheduler = createScheduler(request.sampler, model.manifest.scheduler, request.steps, { eta: request.eta });
  const steps = scheduler.timesteps.length;

  // 2. Encode prompts once: row 0 unconditional (negative prompt or ""), row 1 conditional.
  report({ stage: 'encode', step: 0, steps });
  const encoded = await model.encodePrompts([request.negativePrompt ?? '', request.prompt]);
  const uncond = sliceBatch(encoded.embeds, 0, 1);
  const cond = sliceBatch(encoded.embeds, 1, 2);
  const tEncoded = now();

  // 3. Prepare latents: x_T ~ N(0, I)·init_noise_sigma from the request's seed (stream 0); per-step noise for
  //    stochastic samplers comes from stream 1 so changing η never changes x_T.
  const frames = model.latentFramesFor(request.seconds);
  const dims = model.latentDims(frames);
  const initial = createRng(request.seed, 0).normals(dims.reduce((a, b) => a * b, 1));
  if (scheduler.initNoiseSigma !== 1) for (let i = 0; i < initial.length; i++) initial[i] *= scheduler.initNoiseSigma;
  let sample = f32(initial, dims);
  const stepNoise = createRng(request.seed, 1);

  // 4. Denoise: one guided UNet call and one scheduler step per timestep; cancellation checked every step.
  let state = scheduler.initialState();
  for (let i = 0; i < steps; i++) {
    throwIfAborted(signal, 'denoise');
    const eps = await model.predictNoise(sample, scheduler.timesteps[i], cond, uncond, request.guidance);
    const noise = scheduler.needsNoise(i) ? stepNoise.normals(sample.data.length) : undefined;
    const next = scheduler.step(state, { stepIndex: i, sample: sample.data, modelOutput: eps.data, noise });
    state = next.state;
    sample = f32(next.sample, dims);
    const perStep = (now() - tEncoded) / 1000 / (i + 1);
    report({ stage: 'denoise', step: i + 1, steps, eta: perStep * (steps - i - 1) + perStep * 0.5 });
  }
  if (!allFinite(sample.data)) throw new Error('the denoised latent contains NaN or Infinity; try fewer guidance or another seed');
  const tDenoised = now();

  // 5. Decode. Safety net from the official code ([O-ldm] generate_sample): extreme latents → clamp to ±10.
  throwIfAborted(signal, 'decode');
  report({ stage: 'decode', step: steps, steps });
  const clamped = maxAbs(sample.data) > 100;
  const latent = clamped ? f32(sample.data.map((x) => Math.min(10, Math.max(-10, x))), dims) : sample;
  const mel = await model.decode(latent);
  const tDecoded = now();

  // 6. Vocode.
  throwIfAborted(signal, 'vocode');
  report({ stage: 'vocode', step: steps, steps });
  const wave = await model.vocode(mel);
  const tVocoded = now();

  // 7. Trim to exactly round(seconds · sampleRate) samples (research/audioldm.md §2).
  const samples = model.samplesFor(request.seconds);
  if (wave.data.length < samples) throw new Error(`vocoder returned ${wave.data.length} samples, fewer than the ${samples} requested`);
  const audio = wave.data.slice(0, samples);
  const s = (a: number, b: number): number => (b - a) / 1000;
  return {
    audio,
    sampleRate: model.manifest.audio.sampleRate,
    latent,
    timings: { encode: s(t0, tEncoded), denoise: s(tEncoded, tDenoised), decode: s(tDenoised, tDecoded), vocode: s(tDecoded, tVocoded), total: s(t0, tVocoded) },
    runtimeSeconds: model.runtimeSeconds() - runtimeBefore,
    unknownWords: encoded.unknownWords,
    clamped,
  };
}

export { CancelledError };
