/**
 * Text-to-audio of any length and any model family, as a numbered sequence (diffusers pipeline habit):
 * 1 check inputs → 2 encode prompts → 3 prepare latents (on the tiling plan's canvas) → 4 denoise (tiled along
 * time) → 5 crop the piece out of the canvas and decode it to audio (the family's chunked decoder, and vocoder for
 * audioldm) → 6 trim. A piece no longer than the model's native window is one window: plain sampling. Families
 * plug in through {@link LatentDiffusionModel} (families/model.ts).
 */
import { familySamplers, GENERATION_DEFAULTS, LIMITS, SAMPLERS, TILING_METHODS, VAE_DECODE_MODES, WINDOW_WEIGHTS, withinLimit, type SamplerName, type TilingMethod, type TilingOptions, type VaeDecodeMode } from '../../contract/generation-settings.ts';
import type { Manifest } from '../../contract/manifest.ts';
import { CancelledError, checkLimit, InvalidRequestError, throwIfAborted } from '../errors.ts';
import type { EncodedConditions, LatentDiffusionModel, TruncatedPrompt } from '../families/model.ts';
import { outputSpaceGuidance, type ConditionContext } from '../longform/guidance.ts';
import { canvasWeights, planCanvas, planTiling, type TilingCanvas } from '../longform/plan.ts';
import { checkPromptLength, checkRegions, conditionsOf, conditionWeights, type Region } from '../longform/regions.ts';
import { predictTiled, type TiledCondition } from '../longform/tiled-denoise.ts';
import { contextRunner, type ContextSpec } from '../longform/context.ts';
import { frameNoise, NOISE_KIND, roundIndex } from '../longform/noise.ts';
import { allFinite, f32, maxAbs, sliceBatch, type F32 } from '../tensor/tensor.ts';

export type { Region } from '../longform/regions.ts';

/*
 * Tiling defaults (GENERATION_DEFAULTS.tiling in contract/generation-settings.ts); docs/BENCHMARKS.md (2026-11-22,
 * long-form) records the measurements behind them:
 * - windowBatch 4: on CPU the per-evaluation time is flat within noise from 1 to 8 jobs per call (4 was fastest,
 *   108 ms per evaluation on shape-s); batching matters on GPUs, where larger calls fill the device.
 * - finalMultiSteps 0: MultiDiffusion for the final 1–2 steps after SpotDiffusion did not lower seam scores at the
 *   unhealed SpotDiffusion seams (SSZ 2.11 → 2.21 / 2.47, mean of 4 seeds on the then unbounded shape-s). On the
 *   sketch-gp oracle (exact answer known, 2026-12-04) 2–3 final MD steps of 25 halve SpotDiffusion's worst-frame
 *   error but leave it 3× further from the exact sample than MultiDiffusion overall; `auto` stays plain
 *   SpotDiffusion until a trained model shows which matters to the ear; the option stays for such models.
 */

/** What to generate. Seconds in documents; frames and samples only inside the engine. */
export interface TextToAudioRequest {
  /** One prompt for the whole piece (shorthand for a single region); give this or `regions`. */
  prompt?: string;
  /** Conditions the unconditional branch of guidance; default "" (research/audioldm.md §1 defaults). */
  negativePrompt?: string;
  /** Time regions with their own prompts, covering [0, seconds] in order without gaps or overlaps. */
  regions?: Region[];
  /** Seconds of raised-cosine crossfade centred on each region boundary (default 2). */
  transition?: number;
  seconds: number;
  /**
   * Where the piece starts on the project's timeline, seconds (default 0). Noise is drawn per absolute latent frame
   * (longform/noise.ts), so a piece extended or regenerated in part keeps the noise of the frames it keeps.
   */
  start?: number;
  seed: number;
  /**
   * Generate in context: frames outside `context.free` are held to kept latents (neighbours' takes) at every step,
   * the free span grows out of them (longform/context.ts). Seconds are relative to the piece's start.
   */
  context?: ContextSpec;
  /**
   * A variation (SDEdit, Meng et al. 2022): with `context`, start the free span from its kept latent noised to this
   * strength in (0, 1] instead of from pure noise, running only the last ⌈strength · steps⌉ steps; 1 is a fresh take.
   */
  strength?: number;
  steps: number;
  guidance: number;
  sampler: SamplerName;
  /** DDIM η (0 = deterministic given the initial noise). Ignored by DPM-Solver++ and ping-pong. */
  eta: number;
  /** Tiling along time for pieces longer than the native window (default `auto`). */
  method?: TilingMethod;
  /** How windows tile the piece; defaults in GENERATION_DEFAULTS.tiling. */
  tiling?: TilingOptions;
  /**
   * VAE decoding of long latents: `window` decodes chunks with their own GroupNorm statistics and crossfades the
   * log-mel at joins; `estimated` does the same with statistics estimated in one pass and shared by every chunk
   * (seamless, 2 chunked decodes); `shared` gives every chunk the whole piece's exact statistics (exact for decoders
   * without global attention, costs one chunked decode per GroupNorm layer). `estimated` and `shared` need the model
   * opened for them (audioldm only). Default: the model's (`defaultVaeDecode`: `estimated` for an audioldm model
   * whose decoder has GroupNorm and was opened with its rewrite, else `window`).
   */
  vaeDecode?: VaeDecodeMode;
}

/** Progress of a generation. */
export interface Progress {
  stage: 'encode' | 'denoise' | 'decode' | 'vocode';
  /** Steps done in the denoise stage (0 before the first). */
  step: number;
  steps: number;
  /** Window × condition evaluations done within the current step, and their number. */
  window?: number;
  windows?: number;
  /** Chunks done in the decode or vocode stage, and their number. */
  chunk?: number;
  chunks?: number;
  /** Seconds since the start. */
  elapsed: number;
  /** Estimated seconds left for denoising, from the mean evaluation time so far. */
  eta?: number;
}

/** Options that are not part of the take's identity. */
export interface RunOptions {
  onProgress?: (p: Progress) => void;
  /** Finished audio while decoding, chunk by chunk (first sample, one view per channel); for previews. */
  onAudio?: (start: number, channels: Float32Array[]) => void;
  signal?: AbortSignal;
  /** Clock in milliseconds (injected for tests; default performance.now). */
  now?: () => number;
  /** Longest accepted piece in seconds (default GENERATION_DEFAULTS.maxSeconds, 20 min). */
  maxSeconds?: number;
  /**
   * The injected random source of x_T: a standard-normal latent [1, C, T, Fq] over the tiling canvas (the piece's T
   * frames, or T + 2W when SpotDiffusion pads it) used instead of the seed's draw and scaled by init_noise_sigma like
   * it, as diffusers treats `latents=`. For matching reference pipelines given their latents; dims must match.
   */
  initialLatent?: F32;
}

/** The generated audio and how it was made. */
export interface TextToAudioResult {
  /** One array per audio channel (1 mono, 2 stereo: left, right), each exactly round(seconds · sampleRate) samples. */
  channels: Float32Array[];
  /** The first channel: the whole piece for mono models, the left channel for stereo ones. */
  audio: Float32Array;
  sampleRate: number;
  /** The final latent [1, C, T, Fq] before decoding (for tests and later editing). */
  latent: F32;
  /** Wall seconds per stage (vocode is 0 for families whose decoder returns audio). */
  timings: { encode: number; denoise: number; decode: number; vocode: number; total: number };
  /** Seconds inside ONNX Runtime `run` during this generation. */
  runtimeSeconds: number;
  /** Denoiser (UNet or DiT) rows evaluated (windows × conditions × CFG rows, summed over steps). */
  unetRows: number;
  /** Window × condition evaluations per step (× the resampling rounds of a step in context). */
  evaluationsPerStep: number[];
  /** Prompt words the model's vocabulary does not know. */
  unknownWords: string[];
  /** Prompts longer than the model reads, cut to its token limit (as the reference pipelines do). */
  truncatedPrompts: TruncatedPrompt[];
  /** True if the latent exceeded ±100 and was clamped to ±10 before decoding ([O-ldm] safety net). */
  clamped: boolean;
  /** Where seams could be, in seconds: window edges at the last step, VAE and vocoder chunk joins. */
  seams: { windows: number[]; decode: number[]; vocode: number[] };
  /** How the latent was decoded: the mode asked for (else the model's default), the one used and why they differ (families with one mode: window). */
  vaeDecode: { requested: VaeDecodeMode; used: VaeDecodeMode; fallbackReason?: string };
}

/** The regions a request describes (its `regions`, or one region from `prompt`). */
export function requestRegions(r: TextToAudioRequest): Region[] {
  if (r.regions !== undefined && r.prompt !== undefined) {
    throw new InvalidRequestError('prompt', r.prompt, 'give either prompt or regions, not both');
  }
  if (r.regions !== undefined) return r.regions;
  if (typeof r.prompt !== 'string') throw new InvalidRequestError('prompt', r.prompt, 'prompt must be a string (or give regions)');
  return [{ start: 0, end: r.seconds, prompt: r.prompt, negativePrompt: r.negativePrompt }];
}

/**
 * 1. Checks a request against the model and the ranges of contract/generation-settings.ts; throws
 * InvalidRequestError (code `invalid-argument`) naming the field.
 */
export function checkRequest(manifest: Manifest, r: TextToAudioRequest, maxSeconds: number = GENERATION_DEFAULTS.maxSeconds): void {
  if (!withinLimit(LIMITS.seconds, r.seconds)) {
    throw new InvalidRequestError('seconds', r.seconds, `duration ${r.seconds} s is not a positive number of seconds; pass e.g. ${LIMITS.seconds.example}`);
  }
  if (r.seconds > maxSeconds + 1e-9) {
    throw new InvalidRequestError('seconds', r.seconds, `duration ${r.seconds} s is longer than the maximum of ${maxSeconds} s; shorten the piece or raise the maximum`);
  }
  checkLimit('steps', r.steps, LIMITS.steps, { hint: `${manifest.defaults.steps} is the model's default` });
  checkLimit('guidance', r.guidance, LIMITS.guidance, { hint: `${manifest.defaults.guidance} is the model's default` });
  if (!(SAMPLERS as readonly unknown[]).includes(r.sampler)) {
    throw new InvalidRequestError('sampler', r.sampler, `sampler '${String(r.sampler)}' is unknown; use one of: ${SAMPLERS.join(', ')}`);
  }
  const fitting = familySamplers(manifest.family) ?? [];
  if (!fitting.includes(r.sampler)) {
    throw new InvalidRequestError('sampler', r.sampler, `sampler '${r.sampler}' does not fit model '${manifest.id}' (${manifest.family}); use ${fitting.join(' or ')} (default ${manifest.defaults.sampler})`);
  }
  checkLimit('eta', r.eta, LIMITS.eta);
  if (r.start !== undefined) checkLimit('start', r.start, LIMITS.start, { unit: ' s' });
  if (r.strength !== undefined && r.context === undefined) {
    throw new InvalidRequestError('strength', r.strength, 'a variation (strength) starts from a kept latent: give the context it varies');
  }
  if (r.context !== undefined) {
    const { free, ramp, kept } = r.context;
    if (!(free.from >= 0 && free.from < free.to && free.to <= r.seconds + 1e-9)) {
      throw new InvalidRequestError('context.free', free, `the free span ${free.from}–${free.to} s must lie within the piece's ${r.seconds} s`);
    }
    if (!(ramp >= 0 && Number.isFinite(ramp))) throw new InvalidRequestError('context.ramp', ramp, `the context ramp ${ramp} s must be a number ≥ 0`);
    if (r.strength !== undefined) checkLimit('strength', r.strength, LIMITS.strength);
    if (r.context.rounds !== undefined) checkLimit('context.rounds', r.context.rounds, LIMITS.resampleRounds);
    if (kept.some((k) => !(k.from < k.to && Number.isFinite(k.offset) && Number.isInteger(k.frames) && k.frames > 0))) {
      throw new InvalidRequestError('context.kept', kept.length, 'every kept latent needs a span (from < to), an offset and its frame count');
    }
  }
  if (!withinLimit(LIMITS.seed, r.seed)) {
    throw new InvalidRequestError('seed', r.seed, `seed ${r.seed} is not ${LIMITS.seed.expected}; pass a whole number such as ${LIMITS.seed.example}`);
  }
  if (r.method !== undefined && !(TILING_METHODS as readonly unknown[]).includes(r.method)) {
    throw new InvalidRequestError('method', r.method, `method '${String(r.method)}' is unknown; use one of: ${TILING_METHODS.join(', ')}`);
  }
  const t = { ...GENERATION_DEFAULTS.tiling, ...r.tiling };
  checkLimit('tiling.strideRatio', t.strideRatio, LIMITS.strideRatio, { label: 'stride ratio', hint: '0.5 means 50 % overlap' });
  if (!(WINDOW_WEIGHTS as readonly unknown[]).includes(t.weights)) {
    throw new InvalidRequestError('tiling.weights', t.weights, `window weights '${String(t.weights)}' must be one of: ${WINDOW_WEIGHTS.join(', ')}`);
  }
  checkLimit('tiling.windowBatch', t.windowBatch, LIMITS.windowBatch, { label: 'window batch' });
  checkLimit('tiling.finalMultiSteps', t.finalMultiSteps, LIMITS.finalMultiSteps, { label: 'final MultiDiffusion steps' });
  if (t.levelMatchJoins !== undefined && typeof t.levelMatchJoins !== 'boolean') {
    throw new InvalidRequestError('tiling.levelMatchJoins', t.levelMatchJoins, `tiling.levelMatchJoins must be true or false, got ${JSON.stringify(t.levelMatchJoins)}`);
  }
  if (r.vaeDecode !== undefined && !(VAE_DECODE_MODES as readonly unknown[]).includes(r.vaeDecode)) {
    throw new InvalidRequestError('vaeDecode', r.vaeDecode, `VAE decode mode '${String(r.vaeDecode)}' is unknown; use one of: ${VAE_DECODE_MODES.join(', ')}`);
  }
  if ((r.vaeDecode === 'shared' || r.vaeDecode === 'estimated') && manifest.family !== 'audioldm') {
    throw new InvalidRequestError('vaeDecode', r.vaeDecode, `VAE decode mode '${r.vaeDecode}' needs GroupNorm statistics that ${manifest.family} decoders do not expose; use 'window'`);
  }
  if (typeof r.prompt === 'string') checkPromptLength('prompt', r.prompt);
  if (typeof r.negativePrompt === 'string') checkPromptLength('negativePrompt', r.negativePrompt);
  checkRegions(requestRegions(r), r.seconds, r.transition ?? GENERATION_DEFAULTS.transition);
}

/** Generates a piece of audio from text. */
export async function textToAudio(model: LatentDiffusionModel, request: TextToAudioRequest, options: RunOptions = {}): Promise<TextToAudioResult> {
  const now = options.now ?? (() => performance.now());
  const t0 = now();
  const elapsed = (): number => (now() - t0) / 1000;
  const report = (p: Omit<Progress, 'elapsed'>): void => options.onProgress?.({ ...p, elapsed: elapsed() });
  const runtimeBefore = model.runtimeSeconds();
  const { manifest, geometry } = model;
  const { signal } = options;

  // 1. Check inputs before any heavy work.
  checkRequest(manifest, request, options.maxSeconds);
  throwIfAborted(signal, 'encode');
  const scheduler = model.createScheduler(request.sampler, request.steps, { eta: request.eta });
  const steps = scheduler.timesteps.length;
  const tiling = { ...GENERATION_DEFAULTS.tiling, ...request.tiling };
  const regions = requestRegions(request);
  const transition = request.transition ?? GENERATION_DEFAULTS.transition;
  const frames = model.latentFramesFor(request.seconds);
  const window = Math.min(geometry.nativeWindowFrames, frames);

  // 2. Encode every distinct prompt and negative prompt once.
  report({ stage: 'encode', step: 0, steps });
  const conditions = conditionsOf(regions, request.guidance);
  const piece = { seconds: request.seconds, frames, window };
  // Regions blend into each other when there are several conditions and a transition to blend over.
  // Where they blend, the prediction is level-matched unless the request turns that off (tiling.levelMatchJoins).
  const blends = conditions.length > 1 && transition > 0 && tiling.levelMatchJoins;
  const { cond: row, uncond: negativeRow, encoded } = await encodeAll(model, conditions, piece, blends);
  const tEncoded = now();

  // 3. Prepare latents on the plan's canvas (longform/plan.ts: the piece, or the piece padded by W beyond both ends
  //    when SpotDiffusion tiles it, so its end tiles move too): x_T ~ N(0, I)·init_noise_sigma, and the per-step
  //    noise of stochastic samplers, drawn per absolute latent frame from the request's seed (longform/noise.ts), so
  //    the piece's frames draw what they draw unpadded and the padding draws its own; SpotDiffusion offsets from
  //    stream 2.
  const dims = [1, geometry.channels, frames, geometry.bins];
  const [, C, , Fq] = dims;
  const method = request.method ?? GENERATION_DEFAULTS.method;
  const canvas = planCanvas({ frames, window, steps, method, tiling, padEnds: true });
  const noiseLayout = { channels: C, frames: canvas.frames, bins: Fq };
  const origin = Math.round((request.start ?? 0) * geometry.framesPerSecond) - canvas.pad;
  let sample = options.initialLatent
    ? injectedLatent(options.initialLatent, [1, C, canvas.frames, Fq], scheduler.initNoiseSigma)
    : frameNoise(request.seed, NOISE_KIND.initial, 0, noiseLayout, origin, scheduler.initNoiseSigma);
  // In context (longform/context.ts): held frames start, and after every step stay, at the kept latent's level.
  const held =
    request.context === undefined
      ? undefined
      : contextRunner(request.context, { channels: C, frames, bins: Fq }, { frames: canvas.frames, offset: canvas.pad }, geometry.framesPerSecond, { steps, levelAt: (k) => scheduler.levelAt(k) }, (level) =>
          frameNoise(request.seed, NOISE_KIND.context, level, noiseLayout, origin),
        );
  // A variation starts at a later level from the kept latent (free frames included), then runs the remaining steps.
  const firstStep = held && request.strength !== undefined ? steps - Math.max(1, Math.ceil(request.strength * steps)) : 0;
  if (held) sample = firstStep > 0 ? held.vary(firstStep, frameNoise(request.seed, NOISE_KIND.initial, 0, noiseLayout, origin)) : held.start(sample);

  // 4. Denoise: per step, one fused prediction over all windows × conditions, then ONE global scheduler step.
  const pieceWeights = conditionWeights(regions, conditions, frames, geometry.framesPerSecond, transition);
  const regionCondition = (r: number): number => conditions.findIndex((c) => c.regions.includes(r));
  const weights = canvasWeights(pieceWeights, canvas, regionCondition(0), regionCondition(regions.length - 1));
  // The unconditional row is read for guided conditions. Where regions blend, an unguided condition carries the
  // ordinary row of its negative prompt instead: the reference its output is measured from when joins are
  // level-matched (regions.ts#JoinLevelMatch, on the canvas weights); one array per text, so conditions that share
  // it share a window's baseline job. The plan counts those jobs, so evaluations, rows and the ETA include them. In
  // context, held frames are replaced after each step (below); the match only changes the prediction.
  const unguided = new Float32Array(0);
  const references = new Map<string, Float32Array>();
  const referenceOf = (text: string): Float32Array => references.get(text) ?? references.set(text, row(text)).get(text) ?? unguided;
  const tiled: TiledCondition[] = conditions.map((c, k) => ({ cond: row(c.prompt), uncond: c.guidance > 1 ? negativeRow(c.negativePrompt) : blends ? referenceOf(c.negativePrompt) : unguided, guidance: c.guidance, weights: weights[k] }));
  const plan = planTiling({ frames, window, steps, method, tiling, seed: request.seed, conditions: tiled, padEnds: true, levelMatchJoins: blends });
  const { evaluationsPerStep } = plan;
  // RePaint rounds (in context): every step but the last is taken `rounds` times.
  const rounds = held?.rounds ?? 1;
  const roundsOf = (k: number): number => (k < steps - 1 ? rounds : 1);
  const totalJobs = evaluationsPerStep.reduce((sum, e, k) => (k < firstStep ? sum : sum + e * roundsOf(k)), 0);
  const layout = { channels: C, frames: canvas.frames, bins: Fq, window, windowBatch: tiling.windowBatch, pad: canvas.pad };
  let unetRows = 0;
  const denoise = async (batch: F32, timestep: number, labels: F32, rowStarts: readonly number[]): Promise<F32> => {
    unetRows += batch.dims[0];
    return model.predict(batch, timestep, labels, { piece, starts: rowStarts });
  };
  const guidance = { rule: model.guidance ?? outputSpaceGuidance, piece };
  let state = scheduler.initialState();
  let jobsDone = 0;
  for (let k = firstStep; k < steps; k++) {
    const { starts, profile } = plan.steps[k];
    for (let round = 0; round < roundsOf(k); round++) {
      const jobsBefore = jobsDone;
      const prediction = await predictTiled(denoise, layout, tiled, sample, scheduler.timesteps[k], starts, profile, {
        signal,
        guidance,
        levelMatchJoins: blends,
        onBatch: (done, total) => {
          jobsDone = jobsBefore + done;
          const perJob = (now() - tEncoded) / 1000 / jobsDone;
          report({ stage: 'denoise', step: k, steps, window: done, windows: total, eta: perJob * (totalJobs - jobsDone) });
        },
      });
      const stepNoise = !scheduler.needsNoise(k) ? undefined : round === 0 ? NOISE_KIND.step : NOISE_KIND.resampleStep;
      const noise = stepNoise === undefined ? undefined : frameNoise(request.seed, stepNoise, round === 0 ? k : roundIndex(k, round), noiseLayout, origin);
      // Every round starts from the state before step k; the last round's state goes on.
      const next = scheduler.step(state, { stepIndex: k, sample, modelOutput: prediction, noise });
      sample = held ? held.afterStep(k, next.sample) : next.sample;
      if (held && round < roundsOf(k) - 1) {
        sample = held.resample(k, sample, frameNoise(request.seed, NOISE_KIND.resample, roundIndex(k, round + 1), noiseLayout, origin));
      } else {
        state = next.state;
      }
    }
    const perJob = (now() - tEncoded) / 1000 / Math.max(1, jobsDone);
    report({ stage: 'denoise', step: k + 1, steps, eta: perJob * (totalJobs - jobsDone) });
  }
  if (!allFinite(sample)) throw new Error('the denoised latent contains NaN or Infinity; try less guidance or another seed');
  const tDenoised = now();

  // 5. Crop the piece out of the canvas, then decode to audio in chunks (audioldm: VAE, then vocoder). Safety net
  //    from the official AudioLDM code ([O-ldm] generate_sample): extreme latents → ±10.
  throwIfAborted(signal, 'decode');
  report({ stage: 'decode', step: steps, steps });
  const denoised = cropCanvas(sample, canvas, C, Fq);
  const clamped = maxAbs(denoised) > 100;
  const latent = f32(clamped ? denoised.map((x) => Math.min(10, Math.max(-10, x))) : denoised, dims);
  let tDecoded: number | undefined;
  const samples = model.samplesFor(request.seconds);
  const vaeDecode = request.vaeDecode ?? model.defaultVaeDecode ?? 'window';
  const decoded = await model.decodeAudio(latent, {
    signal,
    vaeDecode,
    samples,
    onProgress: ({ stage, chunk, chunks }) => {
      if (stage === 'vocode' && tDecoded === undefined) tDecoded = now();
      report({ stage, step: steps, steps, chunk, chunks });
    },
    ...(options.onAudio ? { onAudio: options.onAudio } : {}),
  });
  const tDone = now();

  // 6. Trim every channel to exactly round(seconds · sampleRate) samples (research/audioldm.md §2; SA3: the
  //    headroom past the request, research/stableaudio.md §3 "Variable length").
  const length = decoded.channels[0]?.length ?? 0;
  if (decoded.channels.length !== manifest.audio.channels || decoded.channels.some((c) => c.length !== length)) {
    throw new Error(`the decoder returned ${decoded.channels.length} channel(s) of lengths ${decoded.channels.map((c) => c.length).join(', ')}; model '${manifest.id}' declares ${manifest.audio.channels} of one length`);
  }
  if (length < samples) throw new Error(`the decoder returned ${length} samples per channel, fewer than the ${samples} requested`);
  const channels = decoded.channels.map((c) => (c.length === samples ? c : c.slice(0, samples)));
  const s = (a: number, b: number): number => (b - a) / 1000;
  const lastStarts = plan.steps[steps - 1].starts;
  return {
    channels,
    audio: channels[0],
    sampleRate: manifest.audio.sampleRate,
    latent,
    timings: { encode: s(t0, tEncoded), denoise: s(tEncoded, tDenoised), decode: s(tDenoised, tDecoded ?? tDone), vocode: s(tDecoded ?? tDone, tDone), total: s(t0, tDone) },
    runtimeSeconds: model.runtimeSeconds() - runtimeBefore,
    unetRows,
    // In context with resampling rounds, a step is evaluated once per round.
    evaluationsPerStep: evaluationsPerStep.map((e, k) => e * roundsOf(k)),
    unknownWords: encoded.unknownWords,
    truncatedPrompts: encoded.truncated,
    clamped,
    seams: { windows: windowEdgeSeconds(lastStarts, canvas.pad, window, frames, geometry.framesPerSecond), decode: decoded.seams.decode, vocode: decoded.seams.vocode },
    vaeDecode: { requested: vaeDecode, used: decoded.vaeDecode?.used ?? 'window', ...(decoded.vaeDecode?.fallbackReason === undefined ? {} : { fallbackReason: decoded.vaeDecode.fallbackReason }) },
  };
}

/**
 * Conditioning rows of every distinct prompt and negative prompt, encoded once. A family with its own unconditional
 * input (stable-audio-3) encodes only the negative prompts of guided conditions, apart; the others encode all texts
 * in one batch, as before. `uncond` may be asked only for a guided condition's negative prompt; with `blends`, an
 * unguided condition's negative prompt is encoded with the prompts (`cond` gives its row: the join reference).
 */
async function encodeAll(
  model: LatentDiffusionModel,
  conditions: ReadonlyArray<{ prompt: string; negativePrompt: string; guidance: number }>,
  piece: ConditionContext,
  blends = false,
): Promise<{ cond: (text: string) => Float32Array; uncond: (text: string) => Float32Array; encoded: EncodedConditions }> {
  const rowOf = (rows: F32, texts: readonly string[]) => (text: string): Float32Array => {
    const i = texts.indexOf(text);
    if (i < 0) throw new Error(`no conditioning row was encoded for '${text.slice(0, 80)}'; this is a bug in the pipeline`);
    return sliceBatch(rows, i, i + 1).data;
  };
  if (!model.encodeNegatives) {
    const texts = [...new Set(conditions.flatMap((c) => [c.negativePrompt, c.prompt]))];
    const encoded = await model.encodeConditions(texts, piece);
    return { cond: rowOf(encoded.rows, texts), uncond: rowOf(encoded.rows, texts), encoded };
  }
  // At level-matched joins an unguided condition is measured from the model's ordinary prediction for its negative
  // prompt (default ""), which every pack can give (an official SA3 export has no unconditional input).
  const references = blends ? conditions.filter((c) => c.guidance <= 1).map((c) => c.negativePrompt) : [];
  const prompts = [...new Set([...conditions.map((c) => c.prompt), ...references])];
  const negatives = [...new Set(conditions.filter((c) => c.guidance > 1).map((c) => c.negativePrompt))];
  const encoded = await model.encodeConditions(prompts, piece);
  if (negatives.length === 0) return { cond: rowOf(encoded.rows, prompts), uncond: rowOf(encoded.rows, []), encoded };
  const negative = await model.encodeNegatives(negatives, piece);
  return {
    cond: rowOf(encoded.rows, prompts),
    uncond: rowOf(negative.rows, negatives),
    encoded: { ...encoded, unknownWords: [...new Set([...encoded.unknownWords, ...negative.unknownWords])], truncated: [...encoded.truncated, ...negative.truncated] },
  };
}

/** A copy of the injected x_T scaled by `sigma`, after checking its dims against the canvas's. */
function injectedLatent(latent: F32, dims: readonly number[], sigma: number): Float32Array {
  if (latent.dims.length !== dims.length || latent.dims.some((d, i) => d !== dims[i]) || latent.data.length !== dims.reduce((a, b) => a * b, 1)) {
    throw new InvalidRequestError('initialLatent', latent.dims, `the initial latent has dims [${latent.dims.join(', ')}] but this generation starts from [${dims.join(', ')}] (1, channels, canvas frames, bins); give one of those dims`);
  }
  return latent.data.map((x) => x * sigma);
}

/** Window edges inside the piece, in seconds, of a set of window starts on a canvas padded by `pad` frames. */
function windowEdgeSeconds(starts: readonly number[], pad: number, window: number, frames: number, fps: number): number[] {
  const edges = new Set<number>();
  for (const a of starts) {
    for (const edge of [a - pad, a - pad + window]) if (edge > 0 && edge < frames) edges.add(edge);
  }
  return [...edges].sort((x, y) => x - y).map((e) => e / fps);
}

/** The piece's frames [pad, pad + T) of a canvas latent [1, C, T + 2·pad, Fq]; the latent itself when unpadded. */
function cropCanvas(sample: Float32Array, canvas: TilingCanvas, C: number, Fq: number): Float32Array {
  const { pad, frames: total } = canvas;
  if (pad === 0) return sample;
  const T = total - 2 * pad;
  const out = new Float32Array(C * T * Fq);
  for (let c = 0; c < C; c++) out.set(sample.subarray((c * total + pad) * Fq, (c * total + pad + T) * Fq), c * T * Fq);
  return out;
}

export { CancelledError };
