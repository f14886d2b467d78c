/**
 * The CLI's `generate`: one piece with one slice written to a WAV file, through the same path as the studio and
 * `npm run render` (generation/run-piece.ts, the same take tags). Nothing is ever left at the output path on failure.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, extname, resolve } from 'node:path';
import { GENERATION_DEFAULTS, type TilingMethod, type TilingOptions, type VaeDecodeMode } from '../contract/generation-settings.ts';
import { InvalidRequestError } from '../engine/errors.ts';
import type { TruncatedPrompt } from '../engine/families/model.ts';
import { checkRequest, requestRegions, type Progress, type Region, type TextToAudioRequest } from '../engine/pipelines/text-to-audio.ts';
import type { DevicePreference, ExecutionProvider, PrecisionPreference } from '../contract/generation-settings.ts';
import { ModelCache } from './generation/model-cache.ts';
import type { PieceJob } from './generation/plan.ts';
import { fileTakeWriter, runPiece } from './generation/run-piece.ts';
import type { WavFormat } from './wav.ts';

/** Output sample formats for takes. */
export const OUTPUT_FORMATS: readonly WavFormat[] = ['float32', 'pcm16', 'pcm24'];

/** Everything a generation to file needs; unset generation settings take the model's defaults. */
export interface GenerateOptions {
  /** One prompt for the whole piece, or `regions`. */
  prompt?: string;
  negativePrompt?: string;
  regions?: Region[];
  transition?: number;
  method?: TilingMethod;
  tiling?: TilingOptions;
  vaeDecode?: VaeDecodeMode;
  maxSeconds?: number;
  seconds: number;
  /** Where the piece starts on a timeline, seconds (default 0): the same seed draws the same noise there. */
  start?: number;
  out: string;
  model: string;
  seed: number;
  steps?: number;
  guidance?: number;
  sampler?: TextToAudioRequest['sampler'];
  eta?: number;
  device: DevicePreference;
  /** The denoiser's precision per provider (host/packs/precision.ts; `auto` when absent). */
  precision?: Partial<Record<ExecutionProvider, PrecisionPreference>>;
  /** Measure WebGPU against the CPU again before `auto` chooses. */
  remeasure?: boolean;
  format: WavFormat;
  cacheDir?: string;
  onProgress?: (p: Progress) => void;
  /** Called once the model is open, with the provider it runs on. */
  onModelReady?: (info: { id: string; version: string; provider: string; fallbackReason?: string }) => void;
  signal?: AbortSignal;
}

/** What a finished generation reports (the CLI prints it as one JSON line). */
export interface GenerateSummary {
  out: string;
  model: string;
  modelVersion: string;
  prompt?: string;
  regions?: Region[];
  method: TilingMethod;
  seed: number;
  seconds: number;
  /** Samples per channel. */
  samples: number;
  sampleRate: number;
  /** Audio channels of the file (1 mono, 2 stereo). */
  channels: number;
  steps: number;
  guidance: number;
  sampler: string;
  eta: number;
  device: string;
  /** The denoiser's precision there (`fp16` when converted for a WebGPU adapter with shader-f16). */
  precision?: string;
  fallbackReason?: string;
  unknownWords: string[];
  /** The VAE decode mode used, and why not the one asked for. */
  vaeDecode: { requested: string; used: string; fallbackReason?: string };
  /** Prompts longer than the model reads, cut to its token limit (the model ignored the rest). */
  truncatedPrompts: TruncatedPrompt[];
  /** Window × condition evaluations summed over steps, and UNet rows (× CFG). */
  evaluations: number;
  unetRows: number;
  stages: { load: number; encode: number; denoise: number; decode: number; vocode: number; write: number };
}

/** Checks that `out` can be written before any heavy work: parent folder exists and is writable, not a folder. */
export async function checkOutputPath(out: string): Promise<string> {
  const path = resolve(out);
  if (extname(path).toLowerCase() !== '.wav') {
    throw new InvalidRequestError('out', out, `output '${out}' must end in .wav (Tessera writes WAV files)`);
  }
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory()) throw new InvalidRequestError('out', out, `output '${out}' is a folder; give a file name such as ${out}/take.wav`);
  const parent = dirname(path);
  const dirInfo = await stat(parent).catch(() => undefined);
  if (!dirInfo?.isDirectory()) throw new InvalidRequestError('out', out, `cannot write '${out}': folder ${parent} does not exist; create it first`);
  try {
    await access(parent, constants.W_OK);
    if (existing) await access(path, constants.W_OK);
  } catch {
    throw new InvalidRequestError('out', out, `cannot write '${out}': permission denied; choose another location`);
  }
  return path;
}

/** Runs one generation and writes the WAV; returns the summary. */
export async function generateToFile(o: GenerateOptions): Promise<GenerateSummary> {
  const out = await checkOutputPath(o.out);
  const t0 = performance.now();
  const models = new ModelCache(o.cacheDir === undefined ? {} : { cacheDir: o.cacheDir });
  try {
    const pack = await models.resolve(o.model);
    const d = pack.manifest.defaults;
    const request: TextToAudioRequest = {
      ...(o.regions ? { regions: o.regions } : { prompt: o.prompt, negativePrompt: o.negativePrompt }),
      transition: o.transition,
      method: o.method ?? GENERATION_DEFAULTS.method,
      tiling: o.tiling,
      vaeDecode: o.vaeDecode,
      seconds: o.seconds,
      ...(o.start === undefined ? {} : { start: o.start }),
      seed: o.seed,
      steps: o.steps ?? d.steps,
      guidance: o.guidance ?? d.guidance,
      sampler: o.sampler ?? d.sampler,
      eta: o.eta ?? ('eta' in d ? d.eta : GENERATION_DEFAULTS.eta),
    };
    // Rejects a bad request before any session loads (the pipeline would, but only after the model is open).
    checkRequest(pack.manifest, request, o.maxSeconds);
    const title = requestRegions(request).map((r) => r.prompt).join(' → ');
    const job: PieceJob = { modelId: o.model, request, slices: [{ start: 0, end: request.seconds, title }], origin: 0, label: o.model };
    // Window decoding needs only the original VAE; every other mode (and the default) the shared-statistics rewrite.
    const model = await models.open(o.model, { device: o.device, sharedStatsDecoder: request.vaeDecode !== 'window', ...(o.precision ? { precision: o.precision } : {}), ...(o.remeasure ? { remeasure: true } : {}) });
    const { provider, precision, fallbackReason } = model.device;
    o.onModelReady?.({ id: pack.manifest.id, version: pack.manifest.version, provider, fallbackReason });
    const load = (performance.now() - t0) / 1000;
    const { result, writeSeconds } = await runPiece(model, job, fileTakeWriter(out, o.format), { onProgress: o.onProgress, signal: o.signal, maxSeconds: o.maxSeconds });
    const t = result.timings;
    return {
      out,
      model: pack.manifest.id,
      modelVersion: pack.manifest.version,
      ...(request.regions ? { regions: request.regions } : { prompt: request.prompt }),
      method: request.method ?? GENERATION_DEFAULTS.method,
      seed: request.seed,
      seconds: request.seconds,
      samples: result.audio.length,
      sampleRate: result.sampleRate,
      channels: result.channels.length,
      steps: request.steps,
      guidance: request.guidance,
      sampler: request.sampler,
      eta: request.eta,
      device: provider,
      ...(precision === undefined ? {} : { precision }),
      ...(fallbackReason ? { fallbackReason } : {}),
      unknownWords: result.unknownWords,
      vaeDecode: result.vaeDecode,
      truncatedPrompts: result.truncatedPrompts,
      evaluations: result.evaluationsPerStep.reduce((a, b) => a + b, 0),
      unetRows: result.unetRows,
      stages: { load, encode: t.encode, denoise: t.denoise, decode: t.decode, vocode: t.vocode, write: writeSeconds },
    };
  } finally {
    await models.dispose();
  }
}
