/**
 * `npm run bench:longform`: long-form cost and quality in one run. For each duration and tiling method:
 * evaluations per step, wall time (denoise and total), compute seconds per minute of audio, share outside ONNX
 * Runtime, peak RSS (each case in its own process) and seam metrics; then the goal ratios of the long-form issue.
 * `--oracle` (also run after the default table): on the sketch-gp test oracle, how far tiled sampling, region joins
 * and in-context regeneration are from the exact answer (packs/gauss/exact.ts), near seams versus away from them.
 * `--vae-decode`: VAE decode time and seams of each decode mode (bench-vae-decode.ts), for `--durations`.
 */
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { seamFluxZ, seamReport, seamStepZ } from '../engine/audio/seams.ts';
import { logMel } from '../engine/audio/spectral.ts';
import type { AudioLdmModel } from '../engine/families/audioldm/model.ts';
import type { LatentDiffusionModel } from '../engine/families/model.ts';
import { assembleContext } from '../engine/longform/context.ts';
import { frameNoise, NOISE_KIND } from '../engine/longform/noise.ts';
import { canvasWeights, planCanvas } from '../engine/longform/plan.ts';
import { conditionsOf, conditionWeights } from '../engine/longform/regions.ts';
import { planMultiDiffusion, planSpotDiffusion, spotOffsets } from '../engine/longform/windows.ts';
import { requestRegions, textToAudio, type TextToAudioRequest } from '../engine/pipelines/text-to-audio.ts';
import { ensureBuiltinPack, resolvePack } from '../host/packs/builtin.ts';
import { openAudioLdmModel } from '../host/packs/load.ts';
import { exactDdim, guidedMean, type GaussLayout, type GaussPrior } from '../packs/gauss/exact.ts';
import { GAUSS_PACK_ID, gaussLatentMean, gaussPrior } from '../packs/gauss/index.ts';
import { parseLimited, parseNumberList } from './args.ts';
import { GENERATION_DEFAULTS, LIMITS } from '../contract/generation-settings.ts';
import { vaeDecodeStudy } from './bench-vae-decode.ts';
import { runChildJson } from './child.ts';

interface Case {
  label: string;
  method: 'multidiffusion' | 'spotdiffusion' | 'auto';
  strideRatio: number;
  finalMultiSteps: number;
}

const CASES: Case[] = [
  { label: 'MD S=W/2', method: 'multidiffusion', strideRatio: 0.5, finalMultiSteps: 0 },
  { label: 'MD S=W/4', method: 'multidiffusion', strideRatio: 0.25, finalMultiSteps: 0 },
  { label: 'Spot', method: 'spotdiffusion', strideRatio: 0.5, finalMultiSteps: 0 },
  { label: 'Spot+1 MD', method: 'auto', strideRatio: 0.5, finalMultiSteps: 1 },
];

interface Row {
  model: string;
  seconds: number;
  label: string;
  evaluationsPerStep: number;
  unetRows: number;
  denoise: number;
  total: number;
  computePerMinute: number;
  outsideOrtShare: number;
  peakRssMiB: number;
  seams: { windows: Metrics; decode: Metrics };
}

interface Metrics {
  ssz: number | null;
  sfz: number | null;
  hfrDb: number | null;
}

/** Runs the long-form benchmark. */
export async function runBenchLongform(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string', default: 'shape-s' },
      durations: { type: 'string', default: '30,60,180,600' },
      steps: { type: 'string', default: '4' },
      cases: { type: 'string' },
      single: { type: 'string' },
      seconds: { type: 'string' },
      'batch-sweep': { type: 'boolean', default: false },
      'auto-study': { type: 'boolean', default: false },
      oracle: { type: 'boolean', default: false },
      'vae-decode': { type: 'boolean', default: false },
      'oracle-durations': { type: 'string', default: '60,180' },
      'oracle-steps': { type: 'string', default: '25' },
    },
  });
  const oracleSteps = parseLimited('oracle-steps', values['oracle-steps'], LIMITS.steps) ?? 25;
  const oracleDurations = parseNumberList('oracle-durations', values['oracle-durations'], { check: (n) => n > 0, expected: 'numbers of seconds > 0', example: '60,180' }) ?? [];
  if (values.oracle) return oracleBench(oracleDurations, oracleSteps);
  const steps = parseLimited('steps', values.steps, LIMITS.steps) ?? 4;
  if (values['batch-sweep']) return batchSweep(values.model);
  if (values['auto-study']) return autoStudy(values.model);
  if (values.single !== undefined) {
    const c = CASES.find((x) => x.label === values.single);
    const seconds = parseLimited('seconds', values.seconds, LIMITS.seconds) ?? 60;
    if (!c) throw new Error(`unknown case ${values.single}`);
    process.stdout.write(`${JSON.stringify(await runCase(values.model, seconds, steps, c))}\n`);
    return 0;
  }
  const durations = parseNumberList('durations', values.durations, { check: (n) => n > 0, expected: 'numbers of seconds > 0', example: '30,60' }) ?? [];
  if (values['vae-decode']) return vaeDecodeStudy(values.model, durations);
  const cases = values.cases ? CASES.filter((c) => values.cases?.split(',').includes(c.label)) : CASES;
  const rows: Row[] = [];
  for (const seconds of durations) {
    for (const c of cases) {
      process.stderr.write(`${values.model} ${seconds} s ${c.label}…\n`);
      rows.push(await runChildJson<Row>(['bench-longform', '--single', c.label, '--seconds', String(seconds), '--steps', String(steps), '--model', values.model]));
    }
  }
  printReport(values.model, steps, rows);
  // The oracle's figures are cheap (its UNet is two small matrix products): they follow every default run.
  process.stdout.write('\n');
  return oracleBench(oracleDurations, oracleSteps);
}

/** Denoise time per evaluation for window batches of 1, 2, 4, 8 (MultiDiffusion S = W/2, 60 s, 3 steps; 2 rounds). */
async function batchSweep(modelId: string): Promise<number> {
  const model = await openAudioLdmModel(await resolvePack(modelId), { device: 'cpu' });
  try {
    const request: TextToAudioRequest = { prompt: 'rain', seconds: 60, seed: 1, steps: 3, guidance: 2.5, sampler: 'ddim', eta: 0, method: 'multidiffusion' };
    await textToAudio(model, { ...request, seconds: 10, steps: 1 });
    process.stdout.write(`window batch sweep - ${modelId}, MultiDiffusion S=W/2, 60 s, 3 steps, CPU\n`);
    for (const round of [1, 2]) {
      for (const windowBatch of [1, 2, 4, 8]) {
        const r = await textToAudio(model, { ...request, tiling: { windowBatch } });
        const evaluations = r.evaluationsPerStep.reduce((a, b) => a + b, 0);
        process.stdout.write(`round ${round} batch ${windowBatch}: denoise ${r.timings.denoise.toFixed(2)} s, ${((r.timings.denoise / evaluations) * 1000).toFixed(1)} ms per evaluation\n`);
      }
    }
  } finally {
    await model.dispose();
  }
  return 0;
}

/**
 * Does MultiDiffusion for the final k steps (`auto`) lower seam scores after SpotDiffusion? For k = 0, 1, 2 and
 * seeds 1–4 (60 s, 8 steps): SSZ and SFZ at the seams of each variant's last SpotDiffusion step (the seams no later
 * Spot step repairs), averaged over seeds.
 */
async function autoStudy(modelId: string): Promise<number> {
  const model = await openAudioLdmModel(await resolvePack(modelId), { device: 'cpu' });
  try {
    const steps = 8;
    const seconds = 60;
    const W = model.manifest.latent.nativeWindowFrames;
    const T = model.latentFramesFor(seconds);
    const melPerLatent = model.manifest.mel.framesPerLatentFrame;
    process.stdout.write(`auto study - ${modelId}, ${seconds} s, ${steps} DDIM steps, seeds 1-4\n`);
    for (const k of [0, 1, 2]) {
      let ssz = 0;
      let sfz = 0;
      for (const seed of [1, 2, 3, 4]) {
        const offset = spotOffsets(seed, steps, W)[steps - 1 - k];
        // SpotDiffusion tiles the canvas padded beyond both ends (longform/plan.ts): its edges, in the piece's frames.
        const { pad, frames } = planCanvas({ frames: T, window: W, steps, method: k === 0 ? 'spotdiffusion' : 'auto', tiling: { ...GENERATION_DEFAULTS.tiling, finalMultiSteps: k }, padEnds: true });
        const seams = [...new Set(planSpotDiffusion(frames, W, offset).flatMap((a) => [a - pad, a + W - pad]).filter((e) => e > 0 && e < T))].map((e) => e * melPerLatent);
        const r = await textToAudio(model, { prompt: 'rain', seconds, seed, steps, guidance: 2.5, sampler: 'ddim', eta: 0, method: k === 0 ? 'spotdiffusion' : 'auto', tiling: { finalMultiSteps: k } });
        const S = logMel(r.audio, r.sampleRate);
        ssz += (seamStepZ(S, seams) ?? 0) / 4;
        sfz += (seamFluxZ(S, seams) ?? 0) / 4;
      }
      process.stdout.write(`Spot + ${k} final MD steps: mean SSZ ${ssz.toFixed(2)}, mean SFZ ${sfz.toFixed(2)} at the last Spot step's seams\n`);
    }
  } finally {
    await model.dispose();
  }
  return 0;
}

async function runCase(modelId: string, seconds: number, steps: number, c: Case): Promise<Row> {
  // Opened as the app opens models (host/generation/model-cache.ts): with the shared-statistics decoder, so the VAE
  // decodes in the default mode (`estimated` where the decoder has GroupNorm).
  const model = await openAudioLdmModel(await resolvePack(modelId), { device: 'cpu', sharedStatsDecoder: true });
  try {
    const request: TextToAudioRequest = {
      prompt: 'rain',
      seconds,
      seed: 7,
      steps,
      guidance: 2.5,
      sampler: 'ddim',
      eta: 0,
      method: c.method,
      tiling: { strideRatio: c.strideRatio, finalMultiSteps: c.finalMultiSteps },
    };
    await textToAudio(model, { ...request, seconds: 10, steps: 1 });
    const r = await textToAudio(model, request);
    const metrics = (seams: number[]): Metrics => seamReport(r.audio, r.sampleRate, seams);
    return {
      model: modelId,
      seconds,
      label: c.label,
      evaluationsPerStep: r.evaluationsPerStep.reduce((a, b) => a + b, 0) / r.evaluationsPerStep.length,
      unetRows: r.unetRows,
      denoise: r.timings.denoise,
      total: r.timings.total,
      computePerMinute: r.timings.total / (seconds / 60),
      outsideOrtShare: (r.timings.total - r.runtimeSeconds) / r.timings.total,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      seams: { windows: metrics(r.seams.windows), decode: metrics(r.seams.decode) },
    };
  } finally {
    await model.dispose();
  }
}

function printReport(model: string, steps: number, rows: Row[]): void {
  const out = (s: string): boolean => process.stdout.write(`${s}\n`);
  out(`Tessera long-form benchmark - ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`);
  out(`model ${model}, ${steps} DDIM steps, guidance 2.5 (CFG batch), prompt "rain", CPU; each case in its own process after a warm-up\n`);
  const f = (x: number | null, d = 2): string => (x === null ? '-' : x.toFixed(d));
  const header = ['audio s', 'case', 'evals/step', 'denoise s', 'total s', 's per audio min', 'outside ORT', 'peak RSS MiB', 'SSZ/SFZ/HFR windows', 'SSZ/SFZ/HFR decode joins'];
  const lines = rows.map((r) => [
    String(r.seconds),
    r.label,
    r.evaluationsPerStep.toFixed(1),
    r.denoise.toFixed(2),
    r.total.toFixed(2),
    r.computePerMinute.toFixed(2),
    `${(r.outsideOrtShare * 100).toFixed(2)} %`,
    r.peakRssMiB.toFixed(0),
    `${f(r.seams.windows.ssz)}/${f(r.seams.windows.sfz)}/${f(r.seams.windows.hfrDb)}`,
    `${f(r.seams.decode.ssz)}/${f(r.seams.decode.sfz)}/${f(r.seams.decode.hfrDb)}`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  out([fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n'));

  out('\nGoals (ratios measured in this run):');
  const find = (seconds: number, label: string): Row | undefined => rows.find((r) => r.seconds === seconds && r.label === label);
  const longest = Math.max(...rows.map((r) => r.seconds));
  for (const seconds of [...new Set(rows.map((r) => r.seconds))]) {
    const md = find(seconds, 'MD S=W/2');
    const spot = find(seconds, 'Spot');
    if (!md || !spot) continue;
    const evalRatio = spot.evaluationsPerStep / md.evaluationsPerStep;
    const timeRatio = spot.denoise / md.denoise;
    out(`- ${seconds} s: Spot/MD(W/2) evaluations ${evalRatio.toFixed(3)} (S/W = 0.5), denoise wall time ${timeRatio.toFixed(3)} → tracks within ${(Math.abs(timeRatio / evalRatio - 1) * 100).toFixed(1)} % (goal ≤ 15 %)`);
  }
  for (const label of ['MD S=W/2', 'Spot']) {
    const one = find(60, label);
    const ten = find(600, label);
    if (one && ten) {
      out(`- ${label}: 10 min ÷ 1 min total time ${(ten.total / one.total).toFixed(2)}× (goal ≤ 10.5×); denoise ${(ten.denoise / one.denoise).toFixed(2)}×`);
      const buffersMiB = ((600 - 60) * 16000 * 4 * 2) / 2 ** 20; // waveform + trimmed copy, float32
      out(`- ${label}: peak RSS 10 min ${ten.peakRssMiB.toFixed(0)} MiB vs 1.5 × 1 min + output buffers = ${(1.5 * one.peakRssMiB + buffersMiB).toFixed(0)} MiB (goal: below)`);
    }
  }
  const worst = Math.max(...rows.map((r) => r.outsideOrtShare));
  out(`- outside ONNX Runtime: at most ${(worst * 100).toFixed(2)} % (goal < 5 %)`);
  const at = rows.filter((r) => r.seconds === longest);
  out(`- seams at ${longest} s (windows SSZ): ${at.map((r) => `${r.label} ${f(r.seams.windows.ssz)}`).join(', ')}`);
  out(`\n${JSON.stringify(rows)}`);
}

// ─── The oracle (issue 12 §4): tiled sampling, joins and in-context regeneration against the exact answer ───────────

/**
 * The model with a silent decoder: oracle comparisons read the latent only, and decoding a minute of sketch audio
 * costs more than denoising it. Everything else is the model's own.
 */
export function latentOnly(model: LatentDiffusionModel): LatentDiffusionModel {
  const silent: Pick<LatentDiffusionModel, 'decodeAudio'> = {
    decodeAudio: async (_latent, options) => ({ channels: [new Float32Array(options.samples ?? 0)], seams: { decode: [], vocode: [] } }),
  };
  return Object.assign(Object.create(model) as LatentDiffusionModel, silent);
}

/** The engine's latent and the exact one for one request, over the piece's frames. */
export interface OracleRun {
  layout: GaussLayout;
  /** W: the window the engine tiled with. */
  window: number;
  /** The engine's final latent [C, T, Fq]. */
  engine: Float32Array;
  /**
   * The exact answer on the same noise: DDIM η = 0 with the exact denoiser over the whole canvas the engine denoised
   * (the piece, or for SpotDiffusion the piece padded by W each side, whose padding draws noise of its own), cropped
   * to the piece; with a context, the exact conditional given the held frames (hold = 1).
   */
  exact: Float64Array;
  /** x₀'s mean per frame (region-weighted, guidance-mixed) over the piece. */
  mean: Float64Array;
  /** With a context: per frame 1 where the exact sampler held the frame. */
  held?: Uint8Array;
}

/**
 * Runs `request` through the engine (textToAudio, decoder silenced) on the sketch-gp `model` and computes the exact
 * answer for the same seed, start, steps, regions, guidance and context (packs/gauss/exact.ts). DDIM η = 0 only.
 */
export async function oracleRun(model: AudioLdmModel, request: TextToAudioRequest, prior: GaussPrior = gaussPrior()): Promise<OracleRun> {
  if (request.sampler !== 'ddim' || request.eta !== 0) throw new Error(`the oracle's exact sampler is DDIM with η = 0; got ${request.sampler} η = ${request.eta}`);
  const { channels: C, bins: Fq, framesPerSecond: fps, nativeWindowFrames } = model.geometry;
  const frames = model.latentFramesFor(request.seconds);
  const window = Math.min(nativeWindowFrames, frames);
  const result = await textToAudio(latentOnly(model), request);
  const tiling = { ...GENERATION_DEFAULTS.tiling, ...request.tiling };
  const method = request.method ?? GENERATION_DEFAULTS.method;
  const canvas = planCanvas({ frames, window, steps: request.steps, method, tiling, padEnds: true });
  const layout = { channels: C, frames: canvas.frames, bins: Fq };
  const origin = Math.round((request.start ?? 0) * fps) - canvas.pad;
  const initial = frameNoise(request.seed, NOISE_KIND.initial, 0, layout, origin);
  const regions = requestRegions(request);
  const conditions = conditionsOf(regions, request.guidance);
  const transition = request.transition ?? GENERATION_DEFAULTS.transition;
  const regionCondition = (r: number): number => conditions.findIndex((c) => c.regions.includes(r));
  const weights = canvasWeights(conditionWeights(regions, conditions, frames, fps, transition), canvas, regionCondition(0), regionCondition(regions.length - 1));
  const texts = [...new Set(conditions.flatMap((c) => [c.prompt, c.negativePrompt]))];
  const { rows } = await model.encodeConditions(texts);
  const meanOf = (text: string): Float64Array => {
    const i = texts.indexOf(text);
    return gaussLatentMean(rows.data.subarray(i * rows.dims[1], (i + 1) * rows.dims[1]));
  };
  const mean = guidedMean(layout, conditions.map((c, k) => ({ weights: weights[k], cond: meanOf(c.prompt), uncond: meanOf(c.negativePrompt), guidance: c.guidance })));
  let held: { mask: Uint8Array; known: Float32Array } | undefined;
  if (request.context) {
    if (canvas.pad !== 0) throw new Error('the oracle compares in-context generations on an unpadded canvas only; use multidiffusion');
    const context = assembleContext(request.context, { channels: C, frames, bins: Fq }, fps);
    held = { mask: Uint8Array.from(context.hold, (h) => (h === 1 ? 1 : 0)), known: context.known };
  }
  const exactCanvas = exactDdim({ prior, layout, schedule: model.manifest.scheduler, steps: request.steps, initial, mean, ...(held ? { held } : {}) });
  const crop = <A extends Float64Array>(x: A): A => {
    if (canvas.pad === 0) return x;
    const out = new Float64Array(C * frames * Fq) as A;
    for (let c = 0; c < C; c++) out.set(x.subarray((c * canvas.frames + canvas.pad) * Fq, (c * canvas.frames + canvas.pad + frames) * Fq), c * frames * Fq);
    return out;
  };
  return { layout: { channels: C, frames, bins: Fq }, window, engine: result.latent.data, exact: crop(exactCanvas), mean: crop(mean), ...(held ? { held: held.mask } : {}) };
}

/** Per frame, the RMS over channels and bins of a − b (flat [C, T, Fq]). */
export function frameRms(a: ArrayLike<number>, b: ArrayLike<number>, layout: GaussLayout): Float64Array {
  const { channels: C, frames: T, bins: Fq } = layout;
  const out = new Float64Array(T);
  for (let c = 0; c < C; c++) for (let t = 0; t < T; t++) for (let q = 0; q < Fq; q++) out[t] += (a[(c * T + t) * Fq + q] - b[(c * T + t) * Fq + q]) ** 2;
  return out.map((x) => Math.sqrt(x / (C * Fq)));
}

/** RMS of per-frame values over the frames `which` selects (all frames when absent). */
export function rmsOver(perFrame: Float64Array, which?: (t: number) => boolean): number {
  let sum = 0;
  let n = 0;
  perFrame.forEach((e, t) => {
    if (which && !which(t)) return;
    sum += e * e;
    n++;
  });
  return n === 0 ? Number.NaN : Math.sqrt(sum / n);
}

/** The error of a run: per-frame RMS of engine − exact, divided by the exact latent's spread around its mean. */
export function relativeErrors(run: OracleRun): { perFrame: Float64Array; spread: number } {
  const spread = rmsOver(frameRms(run.exact, run.mean, run.layout));
  return { perFrame: frameRms(run.engine, run.exact, run.layout).map((e) => e / spread), spread };
}

/** MultiDiffusion's window edges strictly inside the piece (frame indices e: the seam between frames e − 1 and e). */
export function multiDiffusionEdges(frames: number, window: number, strideRatio: number): number[] {
  const starts = planMultiDiffusion(frames, window, Math.max(1, Math.round(window * strideRatio)));
  return [...new Set(starts.flatMap((a) => [a, a + window]))].filter((e) => e > 0 && e < frames).sort((a, b) => a - b);
}

/**
 * Frames within `half` of a seam (|t + ½ − e| ≤ half) and frames within `half` of the midpoint between two
 * neighbouring seams (mid-window): membership tests for {@link rmsOver}.
 */
export function seamBands(edges: readonly number[], half: number): { near: (t: number) => boolean; mid: (t: number) => boolean } {
  const mids = edges.slice(1).map((e, i) => (e + edges[i]) / 2);
  const within = (points: readonly number[]) => (t: number): boolean => points.some((p) => Math.abs(t + 0.5 - p) <= half);
  return { near: within(edges), mid: within(mids) };
}

function median(xs: Float64Array): number {
  const sorted = Float64Array.from(xs).sort();
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

/** `npm run bench:longform -- --oracle`: the figures of docs/BENCHMARKS.md "Against the exact answer". */
async function oracleBench(durations: number[], steps: number): Promise<number> {
  const model = await openAudioLdmModel(await ensureBuiltinPack(GAUSS_PACK_ID), { device: 'cpu' });
  const out = (line: string): boolean => process.stdout.write(`${line}\n`);
  const pct = (x: number): string => `${(100 * x).toFixed(2)} %`;
  try {
    const prior = gaussPrior();
    const W = model.geometry.nativeWindowFrames;
    out(`oracle - ${GAUSS_PACK_ID} (s = ${prior.std}, ρ = ${prior.rho.toFixed(4)}, W = ${W} frames), ${steps} DDIM steps η = 0, seed 7, prompt "rain"; error = RMS(engine − exact) ÷ RMS(exact − mean)`);
    out('\ntiling: near = frames within ±4 of a window edge (MD), mid = ±4 around the midpoint between edges; Spot: max/median of the per-frame error');
    out('| audio s | guidance | case | all | near edges | mid-window | near/mid | max/median | s |');
    out('|---|---|---|---|---|---|---|---|---|');
    const base = { prompt: 'rain', seed: 7, steps, sampler: 'ddim', eta: 0 } as const;
    for (const seconds of durations) {
      for (const guidance of [1, 2.5]) {
        // SpotDiffusion with its last 1 or 3 steps as MultiDiffusion (`auto`, finalMultiSteps): whether a few
        // overlapping steps heal what non-overlapping tiles leave.
        const oracleCases: Case[] = [...CASES.filter((x) => x.label !== 'Spot+1 MD'), { label: 'Spot+1 MD', method: 'auto', strideRatio: 0.5, finalMultiSteps: 1 }, { label: 'Spot+2 MD', method: 'auto', strideRatio: 0.5, finalMultiSteps: 2 }, { label: 'Spot+3 MD', method: 'auto', strideRatio: 0.5, finalMultiSteps: 3 }];
        for (const c of oracleCases) {
          const t0 = performance.now();
          const run = await oracleRun(model, { ...base, seconds, guidance, method: c.method, tiling: { strideRatio: c.strideRatio, finalMultiSteps: c.finalMultiSteps } }, prior);
          const { perFrame } = relativeErrors(run);
          const secs = ((performance.now() - t0) / 1000).toFixed(1);
          const ratio = (perFrame.reduce((a, b) => Math.max(a, b), 0) / median(perFrame)).toFixed(2);
          if (c.method === 'multidiffusion') {
            const bands = seamBands(multiDiffusionEdges(run.layout.frames, run.window, c.strideRatio), 4);
            const near = rmsOver(perFrame, bands.near);
            const mid = rmsOver(perFrame, bands.mid);
            out(`| ${seconds} | ${guidance} | ${c.label} | ${pct(rmsOver(perFrame))} | ${pct(near)} | ${pct(mid)} | ${(near / mid).toFixed(2)} | ${ratio} | ${secs} |`);
          } else {
            out(`| ${seconds} | ${guidance} | ${c.label} | ${pct(rmsOver(perFrame))} | - | - | - | ${ratio} | ${secs} |`);
          }
        }
      }
    }
    await oracleJoins(model, steps, prior, out, pct);
    await oracleContext(model, steps, prior, out, pct);
  } finally {
    await model.dispose();
  }
  return 0;
}

/** Three regions over 60 s (joins at 20 and 40 s, transition 2 s), MultiDiffusion S = W/2: error near joins vs away. */
async function oracleJoins(model: AudioLdmModel, steps: number, prior: GaussPrior, out: (s: string) => boolean, pct: (x: number) => string): Promise<void> {
  const fps = model.geometry.framesPerSecond;
  out('\nregion joins: 60 s, "low deep drone" | "rain noise" | "bright bell tone", joins 20 s and 40 s, transition 2 s, MD S=W/2; exact = the GP whose mean is the region-weighted blend');
  out('| guidance | level-matched joins | all | within ±1 s of a join | 1–3 s from a join | > 3 s from a join | one prompt ("rain"), all |');
  out('|---|---|---|---|---|---|---|');
  for (const guidance of [1, 2.5]) {
    const common = { seconds: 60, seed: 7, steps, guidance, sampler: 'ddim', eta: 0, method: 'multidiffusion' } as const;
    const single = await oracleRun(model, { ...common, prompt: 'rain', tiling: { strideRatio: 0.5 } }, prior);
    // With and without the engine's level match (which keeps loudness, and so departs from this oracle's linear blend).
    for (const levelMatchJoins of [true, false]) {
      const run = await oracleRun(model, { ...common, tiling: { strideRatio: 0.5, levelMatchJoins }, transition: 2, regions: [{ start: 0, end: 20, prompt: 'low deep drone' }, { start: 20, end: 40, prompt: 'rain noise' }, { start: 40, end: 60, prompt: 'bright bell tone' }] }, prior);
      const { perFrame } = relativeErrors(run);
      const distance = (t: number): number => Math.min(...[20, 40].map((j) => Math.abs((t + 0.5) / fps - j)));
      out(`| ${guidance} | ${levelMatchJoins ? 'yes' : 'no'} | ${pct(rmsOver(perFrame))} | ${pct(rmsOver(perFrame, (t) => distance(t) <= 1))} | ${pct(rmsOver(perFrame, (t) => distance(t) > 1 && distance(t) <= 3))} | ${pct(rmsOver(perFrame, (t) => distance(t) > 3))} | ${pct(rmsOver(relativeErrors(single).perFrame))} |`);
    }
  }
}

/**
 * In context: one window (5.12 s, no tiling error), the exact answer of seed s kept, 1.6–3.52 s regenerated with seed
 * s + 100 (ramp 0 and 0.4 s); the new frames against the exact conditional on the same noise, and the increment
 * variance across the held/free edges against the prior's 2s²(1 − ρ). Seeds 1–8 pooled.
 */
async function oracleContext(model: AudioLdmModel, steps: number, prior: GaussPrior, out: (s: string) => boolean, pct: (x: number) => string): Promise<void> {
  const seconds = (model.geometry.nativeWindowFrames / model.geometry.framesPerSecond);
  const free = { from: 1.6, to: 3.52 };
  const expected = 2 * prior.std ** 2 * (1 - prior.rho);
  out(`\nin context: ${seconds} s (one window), exact answer kept, ${free.from}–${free.to} s regenerated with another seed; 8 seeds pooled; prior increment variance 2s²(1−ρ) = ${expected.toFixed(4)}`);
  out('| ramp s | RePaint rounds | new frames vs exact conditional: all | within 4 frames of an edge | mid-span | increment var. at the edges (engine) | (exact conditional) | inside the span (engine) |');
  out('|---|---|---|---|---|---|---|---|');
  for (const [ramp, rounds] of [[0, 1], [0, 3], [0.4, 1], [0.4, 3]]) {
    const err = { all: [] as number[], edge: [] as number[], mid: [] as number[] };
    const inc = { edge: [] as number[], exactEdge: [] as number[], inside: [] as number[] };
    for (let seed = 1; seed <= 8; seed++) {
      const base = { prompt: 'rain', seconds, seed, steps, guidance: 1, sampler: 'ddim', eta: 0, method: 'multidiffusion' } as const;
      const kept = await oracleRun(model, base, prior);
      const { frames: T } = kept.layout;
      const context = { kept: [{ data: Float32Array.from(kept.exact), frames: T, offset: 0, from: 0, to: seconds }], free, ramp, rounds };
      const run = await oracleRun(model, { ...base, seed: seed + 100, context }, prior);
      const { perFrame } = relativeErrors(run);
      const held = run.held as Uint8Array;
      const first = held.indexOf(0);
      const last = held.lastIndexOf(0);
      perFrame.forEach((e, t) => {
        if (held[t]) return;
        err.all.push(e);
        (t - first < 4 || last - t < 4 ? err.edge : t - first >= 12 && last - t >= 12 ? err.mid : []).push(e);
      });
      const { channels: C, bins: Fq } = run.layout;
      const increments = (x: ArrayLike<number>, t: number, into: number[]): void => {
        for (let c = 0; c < C; c++) for (let q = 0; q < Fq; q++) into.push(x[(c * T + t + 1) * Fq + q] - x[(c * T + t) * Fq + q]);
      };
      for (const t of [first - 1, last]) {
        increments(run.engine, t, inc.edge);
        increments(run.exact, t, inc.exactEdge);
      }
      for (let t = first + 4; t < last - 4; t++) increments(run.engine, t, inc.inside);
    }
    const rms = (xs: number[]): number => Math.sqrt(xs.reduce((a, b) => a + b * b, 0) / xs.length);
    const variance = (xs: number[]): number => xs.reduce((a, b) => a + b * b, 0) / xs.length;
    out(`| ${ramp} | ${rounds} | ${pct(rms(err.all))} | ${pct(rms(err.edge))} | ${pct(rms(err.mid))} | ${variance(inc.edge).toFixed(4)} | ${variance(inc.exactEdge).toFixed(4)} | ${variance(inc.inside).toFixed(4)} |`);
  }
}
