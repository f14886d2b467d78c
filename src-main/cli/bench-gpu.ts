/**
 * `npm run bench:gpu`: the GPU measurement of issue 14, per device (`--devices webgpu,cpu`) on full-size packs that it
 * builds itself with the project's builders: seconds per UNet call at window batches 1–8, end-to-end seconds per
 * stage for 10 s and 3 min (SpotDiffusion and MultiDiffusion, 50 DDIM steps, guidance 2.5), real-time factor, the
 * share of time outside ONNX Runtime, peak GPU memory (nvidia-smi) and the machine, next to the issue's anchors.
 * Each device has a time budget: a case whose predicted time (per-call seconds × the plan's calls) does not fit is
 * extrapolated and labelled so. Writes report.json and report.md to `--out`. tools/gpu-bench/ packs it for a GPU
 * machine without Node; `--tiny` runs reduced packs on a software adapter in minutes.
 *
 * Batches: a window batch of b windows is one UNet call of N = 2b rows, since guidance (CFG) evaluates every window
 * unconditioned and conditioned in the same call (engine/longform/tiled-denoise.ts).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { GENERATION_DEFAULTS, PRECISIONS, PROVIDERS, type ExecutionProvider, type PrecisionPreference } from '../contract/generation-settings.ts';
import type { AudioLdmModel } from '../engine/families/audioldm/model.ts';
import { planCanvas, planTiling } from '../engine/longform/plan.ts';
import { textToAudio, type TextToAudioResult } from '../engine/pipelines/text-to-audio.ts';
import { createRng } from '../engine/tensor/rng.ts';
import { f32 } from '../engine/tensor/tensor.ts';
import { openAudioLdmModel, verifyPack, type VerifiedPack } from '../host/packs/load.ts';
import { writePack } from '../host/packs/write.ts';
import { ortBinaryDir } from '../host/runtime-probe.ts';
import { buildShapePack, shapePackVersion } from '../packs/shape/index.ts';
import { buildUnet, SHAPE_PRIOR_GAMMA } from '../packs/shape/unet.ts';
import type { AudioLdmManifestDraft, BuiltPack } from '../packs/types.ts';
import { parseChoice, parseNumber, parseNumberList } from './args.ts';
import { errorMessage } from '../contract/errors.ts';

/** The issue's anchors, printed next to the result. */
export const ANCHORS = {
  notebook: { audioSeconds: 30, steps: 200, wallSeconds: 42.8, what: 'seed notebook, PyTorch on a GPU' },
  stableAudio: { audioSeconds: 95, wallSeconds: 8, what: 'Stable Audio on an A100' },
  goal: { audioSeconds: 180, wallSeconds: 5, what: 'goal: 3 min in under 5 s on one H100-class GPU' },
} as const;

/** Pack geometry of a run: full size (AudioLDM-S and -M UNets) or the reduced `--tiny` packs. */
interface Sizes {
  /** Shape pack width of both packs (VAE, vocoder, text encoder; the S UNet). */
  width: number;
  /** UNet model_channels of the M-size pack. */
  mWidth: number;
  /** Latent window override (frames); undefined keeps the pack's 256 (10.24 s). */
  window?: number;
}

const FULL: Sizes = { width: 128, mWidth: 192 };
// Software adapters (SwiftShader) take seconds per call even for a width-8 UNet: 4 s at window 32 against 25 s at
// 256 on the build machine (2 cores), so --tiny shrinks the window too.
const TINY: Sizes = { width: 8, mWidth: 16, window: 32 };

/** One measured model: a built pack and how it relates to AudioLDM. */
interface BenchModel {
  id: 'audioldm-s' | 'audioldm-m';
  pack: VerifiedPack;
  /** How the pack was built, in words. */
  built: string;
  unetMiB: number;
  unetParameters: number | null;
}

/** Seconds per UNet call at one window batch. */
interface CallTiming {
  windows: number;
  /** ONNX batch N = 2 × windows (CFG rows). */
  rows: number;
  median: number;
  min: number;
  perWindow: number;
  runs: number;
}

/** Seconds per stage of one generation; null where an extrapolation has nothing to go on. */
interface Stages {
  encode: number | null;
  denoise: number;
  decode: number | null;
  vocode: number | null;
  total: number;
}

/** One end-to-end case. */
interface EndToEnd {
  seconds: number;
  method: 'spotdiffusion' | 'multidiffusion';
  /** measured; extrapolated (did not fit the budget); measured once for both methods (one window); failed (stages: the prediction). */
  how: 'measured' | 'extrapolated' | 'one window' | 'failed';
  /** Why the run failed. */
  error?: string;
  stages: Stages;
  realtimeFactor: number;
  outsideOrtShare: number | null;
  windowBatch: number;
  unetCalls: number;
  unetRows: number;
  /** The prediction the budget used (measured cases: how good the extrapolation is). */
  predictedTotal: number;
}

/** Peak GPU memory while a model was open, or why it is not known. */
type GpuMemory = { baselineMiB: number; peakMiB: number } | { unreadable: string };

/** What one model measured on one device. */
interface ModelReport {
  model: BenchModel['id'];
  built: string;
  unetMiB: number;
  unetParameters: number | null;
  unetPrecision: string;
  /** The provider each graph runs on (a graph the device could not run falls back to the CPU). */
  providers: Record<string, string>;
  /** Why graphs fell back, one line per graph that did. */
  fallbacks: string[];
  calls: CallTiming[];
  skippedBatches: number[];
  endToEnd: EndToEnd[];
  gpuMemory: GpuMemory | null;
  openSeconds: number;
}

/** One device's measurements and what they cost. */
interface DeviceReport {
  device: ExecutionProvider;
  budgetSeconds: number;
  /** Set when the device did not run (its sessions fell back): why. */
  unavailable?: string;
  models: ModelReport[];
  /** What failed (a model that did not open, a batch or case that did not run), one line each. */
  errors: string[];
  spentSeconds: number;
  peakRssMiB: number;
}

/** The JSON report (report.json). */
export interface GpuBenchReport {
  schema: 'tessera-bench-gpu/1';
  machine: Record<string, string>;
  settings: { tiny: boolean; precision: PrecisionPreference; steps: number; guidance: number; durations: number[]; batches: number[]; repeats: number; seed: number; prompt: string };
  devices: DeviceReport[];
  anchors: typeof ANCHORS;
}

const HELP = `usage: npm run bench:gpu -- [--devices webgpu,cpu] [--out DIR] [options]

  --devices LIST     providers to measure, in order (default webgpu,cpu; one of ${PROVIDERS.join(', ')})
  --out DIR          where report.json and report.md go (default ./bench-gpu-report)
  --cache DIR        where the built packs are kept and reused (default $TMPDIR/tessera-bench-gpu)
  --models LIST      audioldm-s (shape-s at width 128), audioldm-m (its UNet at width 192) (default both)
  --durations LIST   seconds of audio end to end (default 10,180)
  --steps N          DDIM steps (default 50)
  --batches LIST     window batches per UNet call (default 1,2,3,4,5,6,7,8; each window is 2 rows for CFG)
  --repeats N        timed calls per batch after one warm-up; the median is reported (default 5)
  --window-batch N   window batch of the end-to-end runs (default: the sweep's fastest per window)
  --precision P      the UNet's precision on webgpu: auto (float16 where the adapter has shader-f16) or fp32
  --budget-s S       seconds the cpu device may spend (default 90; --tiny 30); what does not fit is extrapolated
  --gpu-budget-s S   the same for every other device (default 270; --tiny 60)
  --tiny             reduced packs (width 8, 1.28 s window), 1.28 and 3.84 s, 2 steps, batches 1,2,4,8, 1 repeat
`;

/** Runs the bench-gpu command. */
export async function runBenchGpu(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      devices: { type: 'string', default: 'webgpu,cpu' },
      out: { type: 'string', default: 'bench-gpu-report' },
      cache: { type: 'string', default: join(tmpdir(), 'tessera-bench-gpu') },
      models: { type: 'string', default: 'audioldm-s,audioldm-m' },
      durations: { type: 'string' },
      steps: { type: 'string' },
      batches: { type: 'string' },
      repeats: { type: 'string' },
      'window-batch': { type: 'string' },
      precision: { type: 'string', default: 'auto' },
      'budget-s': { type: 'string' },
      'gpu-budget-s': { type: 'string' },
      tiny: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const tiny = values.tiny;
  const whole = (what: string, min: number) => ({ check: (n: number) => Number.isInteger(n) && n >= min, expected: `${what} (a whole number ≥ ${min})`, example: String(Math.max(min, 2)) });
  const positive = { check: (n: number) => n > 0, expected: 'seconds > 0', example: '120' };
  const devices = values.devices.split(',').map((d) => parseChoice('devices', d, PROVIDERS) as ExecutionProvider);
  const models = values.models.split(',').map((m) => parseChoice('models', m, ['audioldm-s', 'audioldm-m'] as const) as BenchModel['id']);
  const settings: GpuBenchReport['settings'] = {
    tiny,
    precision: parseChoice('precision', values.precision, PRECISIONS) ?? 'auto',
    steps: parseNumber('steps', values.steps, whole('DDIM steps', 1)) ?? (tiny ? 2 : 50),
    guidance: 2.5,
    durations: parseNumberList('durations', values.durations, { check: (n) => n > 0 && n <= GENERATION_DEFAULTS.maxSeconds, expected: `seconds in (0, ${GENERATION_DEFAULTS.maxSeconds}]`, example: '10,180' }) ?? (tiny ? [1.28, 3.84] : [10, 180]),
    batches: parseNumberList('batches', values.batches, whole('windows per call', 1)) ?? (tiny ? [1, 2, 4, 8] : [1, 2, 3, 4, 5, 6, 7, 8]),
    repeats: parseNumber('repeats', values.repeats, whole('timed calls per batch', 1)) ?? (tiny ? 1 : 5),
    seed: 1,
    prompt: 'rain',
  };
  const windowBatch = parseNumber('window-batch', values['window-batch'], whole('windows per call', 1));
  // Full size: packs (~1 min), webgpu and cpu fit the ~8 minutes of a device run (tools/gpu-bench/pack.sh). --tiny
  // on a software adapter takes seconds per UNet call: its budgets keep the whole run near two minutes.
  const budgets = { cpu: parseNumber('budget-s', values['budget-s'], positive) ?? (tiny ? 30 : 90), gpu: parseNumber('gpu-budget-s', values['gpu-budget-s'], positive) ?? (tiny ? 60 : 270) };
  const out = resolve(values.out);
  await mkdir(out, { recursive: true });

  const log = (line: string): void => void process.stderr.write(`bench-gpu: ${line}\n`);
  const memory = new GpuMemoryPoller();
  try {
    const packs = await buildBenchPacks(resolve(values.cache), tiny ? TINY : FULL, models, log);
    const report: GpuBenchReport = { schema: 'tessera-bench-gpu/1', machine: machineInfo(), settings, devices: [], anchors: ANCHORS };
    const write = async (): Promise<string> => {
      const markdown = renderMarkdown(report);
      await writeFile(join(out, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
      await writeFile(join(out, 'report.md'), markdown);
      return markdown;
    };
    for (const device of devices) {
      const budget = device === 'cpu' ? budgets.cpu : budgets.gpu;
      report.devices.push(await benchDevice(device, packs, settings, { budget, windowBatch, precision: settings.precision, memory: device === 'cpu' ? undefined : memory, log }));
      // Written after every device: a run stopped by the machine's time limit still leaves what it measured.
      await write();
    }
    process.stdout.write(`${await write()}\nwrote ${join(out, 'report.json')} and report.md\n`);
  } finally {
    memory.stop();
  }
  return 0;
}

// ─── Packs ──────────────────────────────────────────────────────────────────────────────────────────────────────

/** AudioLDM-S's UNet parameters, which shape-s at width 128 reproduces exactly (packs/shape/unet.ts). */
const AUDIOLDM_S_UNET_PARAMETERS = 185_036_552;

/**
 * Builds (or reuses from `cacheDir`) the shape pack at `sizes.width` (audioldm-s: at 128 AudioLDM-S's four networks)
 * and the same pack with its UNet at `sizes.mWidth` (audioldm-m: at 192 AudioLDM-M's UNet, block_out_channels
 * [192,384,576,960] and heads of 32 channels, research/audioldm.md §1; M keeps S's VAE, vocoder and text side, as
 * AudioLDM-M does).
 */
async function buildBenchPacks(cacheDir: string, sizes: Sizes, wanted: readonly BenchModel['id'][], log: (s: string) => void): Promise<BenchModel[]> {
  const sVersion = `${shapePackVersion({ width: sizes.width })}${sizes.window ? `.win${sizes.window}` : ''}`;
  const versions: Record<BenchModel['id'], string> = { 'audioldm-s': sVersion, 'audioldm-m': `${sVersion}.unet${sizes.mWidth}` };
  const dirOf = (id: BenchModel['id']): string => join(cacheDir, `${id}-${versions[id]}`);
  // The M UNet's parameter count comes from its builder; a reused pack finds it in this note beside the pack.
  const noteOf = (id: BenchModel['id']): string => `${dirOf(id)}.parameters.json`;
  let base: BuiltPack<AudioLdmManifestDraft> | undefined;
  const result: BenchModel[] = [];
  for (const id of wanted) {
    let pack = await verifyPack(dirOf(id)).catch(() => undefined);
    if (pack?.manifest.version !== versions[id]) {
      const t0 = performance.now();
      if (!base) {
        base = buildShapePack({ width: sizes.width });
        base.manifest.version = sVersion;
        if (sizes.window) base.manifest.latent.nativeWindowFrames = sizes.window;
      }
      let built = base;
      if (id === 'audioldm-m') {
        // The shape pack's own UNet builder, RNG stream (2) and prior skip at M's width.
        const unet = buildUnet({ modelChannels: sizes.mWidth, resBlocks: sizes.width >= FULL.width ? 2 : 1 }, createRng(0, 2), { priorSkip: SHAPE_PRIOR_GAMMA });
        await mkdir(cacheDir, { recursive: true });
        await writeFile(noteOf(id), JSON.stringify({ parameters: unet.parameters }));
        const description = `${base.manifest.description} Its UNet is built at C0=${sizes.mWidth} (AudioLDM-M: 192).`;
        built = { manifest: { ...base.manifest, id: 'shape-m', version: versions[id], name: 'Shape M (random weights, AudioLDM-M UNet)', description }, files: { ...base.files, 'unet.onnx': unet.bytes } };
      }
      pack = await writePack(built, dirOf(id));
      log(`built ${id} in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${pack.dir}`);
    } else log(`reusing ${id}: ${pack.dir}`);
    const unetMiB = (await stat(join(pack.dir, 'unet.onnx'))).size / 2 ** 20;
    const full = sizes === FULL;
    const what = !full ? 'reduced for --tiny' : id === 'audioldm-s' ? "AudioLDM-S's UNet" : "AudioLDM-M's UNet";
    const unetWidth = id === 'audioldm-m' ? ` with its UNet at width ${sizes.mWidth}` : '';
    const built = `shape-s builder at width ${sizes.width}${unetWidth} (${what}; random weights, prior skip γ ${SHAPE_PRIOR_GAMMA})${sizes.window ? `, window ${sizes.window} frames` : ''}`;
    const note = id === 'audioldm-m' ? await readFile(noteOf(id), 'utf8').then((t) => (JSON.parse(t) as { parameters: number }).parameters).catch(() => null) : null;
    result.push({ id, pack, built, unetMiB, unetParameters: id === 'audioldm-s' ? (full ? AUDIOLDM_S_UNET_PARAMETERS : null) : note });
  }
  return result;
}

// ─── One device ─────────────────────────────────────────────────────────────────────────────────────────────────

interface DeviceOptions {
  budget: number;
  windowBatch: number | undefined;
  precision: PrecisionPreference;
  memory: GpuMemoryPoller | undefined;
  log: (line: string) => void;
}

/**
 * Measures every model on `device` within `options.budget` seconds. Each model gets a share of what is left in
 * proportion to its UNet's size (its cost per call); inside it, the per-call sweep takes at most 40 % and the
 * end-to-end cases run shortest first while their prediction fits.
 */
async function benchDevice(device: ExecutionProvider, models: readonly BenchModel[], settings: GpuBenchReport['settings'], options: DeviceOptions): Promise<DeviceReport> {
  const start = performance.now();
  const deadline = start + options.budget * 1000;
  const report: DeviceReport = { device, budgetSeconds: options.budget, models: [], errors: [], spentSeconds: 0, peakRssMiB: 0 };
  for (const [i, m] of models.entries()) {
    const weightLeft = models.slice(i).reduce((s, x) => s + x.unetMiB, 0);
    const until = performance.now() + Math.max(0, deadline - performance.now()) * (m.unetMiB / weightLeft);
    options.memory?.mark();
    const t0 = performance.now();
    let model: AudioLdmModel;
    try {
      model = await openAudioLdmModel(m.pack, { device, sharedStatsDecoder: true, precision: { [device]: options.precision } });
    } catch (e) {
      // One model that does not open (out of memory, say) leaves the others to measure.
      report.errors.push(`${m.id} could not be opened: ${errorMessage(e).split('\n')[0]}`);
      options.log(report.errors.at(-1) ?? '');
      continue;
    }
    const openSeconds = (performance.now() - t0) / 1000;
    try {
      const provider = model.sessions.unet.provider;
      if (provider !== device) {
        const hint = device === 'webgpu' ? '; point VK_DRIVER_FILES at the GPU\'s Vulkan driver (tools/gpu-bench/run.sh does), or measure --devices cpu alone' : '';
        report.unavailable = `the ${device} UNet fell back to ${provider}: ${model.sessions.unet.fallbackReason ?? 'no reason given'}${hint}`;
        options.log(report.unavailable);
        break;
      }
      options.log(`${device} ${m.id}: opened in ${openSeconds.toFixed(1)} s`);
      const sweepUntil = performance.now() + (until - performance.now()) * 0.4;
      const { calls, skipped, failed } = await timeUnetCalls(model, settings, sweepUntil, (s) => options.log(`${device} ${m.id}: ${s}`));
      if (failed) report.errors.push(`${m.id}: ${failed}`);
      if (calls.length === 0) continue;
      const batch = options.windowBatch ?? fastestBatch(calls);
      const endToEnd = await runEndToEnd(model, settings, calls, batch, until, (s) => options.log(`${device} ${m.id}: ${s}`));
      const session = model.sessions.unet;
      const sessions = Object.entries(model.sessions);
      report.models.push({
        model: m.id,
        built: m.built,
        unetMiB: m.unetMiB,
        unetParameters: m.unetParameters,
        unetPrecision: 'precision' in session ? String(session.precision) : 'fp32',
        providers: Object.fromEntries(sessions.map(([name, s]) => [name, s.provider])),
        fallbacks: sessions.filter(([, s]) => s.fallbackReason !== undefined).map(([name, s]) => `${name}: ${s.fallbackReason ?? ''}`),
        calls,
        skippedBatches: skipped,
        endToEnd,
        gpuMemory: options.memory ? options.memory.peak() : null,
        openSeconds,
      });
    } finally {
      await model.dispose();
    }
  }
  report.spentSeconds = (performance.now() - start) / 1000;
  report.peakRssMiB = process.resourceUsage().maxRSS / 1024;
  return report;
}

/** Random UNet feeds for `rows` rows of the model's window (the cost does not depend on the values). */
function unetFeeds(model: AudioLdmModel, rows: number, seed: number) {
  const { channels, bins, nativeWindowFrames: W } = model.geometry;
  const rng = createRng(seed, 7);
  const labels = rng.normals(rows * 512).map((x) => x / Math.sqrt(512));
  return { sample: f32(rng.normals(rows * channels * W * bins), [rows, channels, W, bins]), timestep: f32(new Float32Array(rows).fill(500), [rows]), class_labels: f32(labels, [rows, 512]) };
}

/** Median and minimum seconds per UNet call at each window batch; batches predicted past `until` are skipped. */
async function timeUnetCalls(model: AudioLdmModel, settings: GpuBenchReport['settings'], until: number, log: (s: string) => void): Promise<{ calls: CallTiming[]; skipped: number[]; failed?: string }> {
  const calls: CallTiming[] = [];
  const skipped: number[] = [];
  for (const [index, windows] of settings.batches.entries()) {
    const rows = 2 * windows;
    const last = calls.at(-1);
    // Every batch after the first must fit: a warm-up and the timed calls, predicted from the last batch per row.
    if (last && performance.now() + (last.median / last.rows) * rows * (settings.repeats + 1) * 1000 > until) {
      skipped.push(windows);
      continue;
    }
    const feeds = unetFeeds(model, rows, settings.seed);
    const times: number[] = [];
    try {
      await model.sessions.unet.run(feeds);
      for (let r = 0; r < settings.repeats; r++) {
        const t0 = performance.now();
        await model.sessions.unet.run(feeds);
        times.push((performance.now() - t0) / 1000);
      }
    } catch (e) {
      // A device that cannot run a batch (a buffer over its limits, say) will not run larger ones.
      const failed = `UNet call of ${windows} windows (N=${rows}) failed: ${errorMessage(e).split('\n')[0]}`;
      log(failed);
      return { calls, skipped: [...skipped, ...settings.batches.slice(index)], failed };
    }
    const median = medianOf(times);
    calls.push({ windows, rows, median, min: Math.min(...times), perWindow: median / windows, runs: times.length });
    log(`UNet ${windows} windows (N=${rows}): ${median.toFixed(4)} s per call`);
  }
  return { calls, skipped };
}

/** The measured batch with the lowest seconds per window (ties: the larger batch). */
function fastestBatch(calls: readonly CallTiming[]): number {
  return calls.reduce((best, c) => (c.perWindow <= best.perWindow ? c : best), calls[0]).windows;
}

/** Seconds of one call of `windows` windows: measured, else the best measured seconds per window times `windows`. */
function callSeconds(calls: readonly CallTiming[], windows: number): number {
  const hit = calls.find((c) => c.windows === windows);
  if (hit) return hit.median;
  return windows * Math.min(...calls.map((c) => c.perWindow));
}

/** UNet calls and rows of one generation, from the same plan the pipeline follows (one prompt, CFG). */
function planCalls(model: AudioLdmModel, seconds: number, steps: number, method: EndToEnd['method'], windowBatch: number, seed: number): { calls: number[]; rows: number } {
  const frames = model.latentFramesFor(seconds);
  const window = Math.min(frames, model.geometry.nativeWindowFrames);
  const { strideRatio, weights, finalMultiSteps } = GENERATION_DEFAULTS.tiling;
  const input = { frames, window, steps, method, tiling: { strideRatio, weights, finalMultiSteps }, seed, padEnds: true };
  const plan = planTiling({ ...input, conditions: [{ weights: new Float32Array(planCanvas(input).frames).fill(1) }] });
  const calls: number[] = [];
  for (const evaluations of plan.evaluationsPerStep) {
    for (let left = evaluations; left > 0; left -= windowBatch) calls.push(Math.min(windowBatch, left));
  }
  return { calls, rows: 2 * plan.totalEvaluations };
}

/**
 * The end-to-end cases, shortest first, Spot before MultiDiffusion (fewer windows): each runs when its prediction
 * fits before `until`, else it is extrapolated: denoise from the per-call times and the plan's calls, encode from
 * the last measured run, decode and vocode from it per latent frame. A piece of one window is the same plain
 * sampling for both methods, so it runs once.
 */
async function runEndToEnd(model: AudioLdmModel, settings: GpuBenchReport['settings'], calls: readonly CallTiming[], windowBatch: number, until: number, log: (s: string) => void): Promise<EndToEnd[]> {
  const results: EndToEnd[] = [];
  let reference: { stages: Stages; frames: number } | undefined;
  let warmed = false;
  for (const seconds of [...settings.durations].sort((a, b) => a - b)) {
    const frames = model.latentFramesFor(seconds);
    const oneWindow = frames <= model.geometry.nativeWindowFrames;
    for (const method of oneWindow ? (['multidiffusion'] as const) : (['spotdiffusion', 'multidiffusion'] as const)) {
      const planned = planCalls(model, seconds, settings.steps, method, windowBatch, settings.seed);
      const denoise = planned.calls.reduce((s, b) => s + callSeconds(calls, b), 0);
      const perFrame = (x: number | null | undefined): number | null => (reference && x != null ? (x / reference.frames) * frames : null);
      const predicted: Stages = { encode: reference?.stages.encode ?? null, denoise, decode: perFrame(reference?.stages.decode), vocode: perFrame(reference?.stages.vocode), total: 0 };
      predicted.total = predicted.denoise + (predicted.encode ?? 0) + (predicted.decode ?? 0) + (predicted.vocode ?? 0);
      const warmUp = warmed ? 0 : predicted.total / settings.steps + (predicted.decode ?? 0) + (predicted.vocode ?? 0);
      const common = { seconds, method, windowBatch, unetCalls: planned.calls.length, unetRows: planned.rows, predictedTotal: predicted.total };
      let row: EndToEnd;
      if (performance.now() + (predicted.total + warmUp) * 1000 <= until) {
        const request = { prompt: settings.prompt, seconds, seed: settings.seed, steps: settings.steps, guidance: settings.guidance, sampler: 'ddim', eta: 0, method, tiling: { windowBatch } } as const;
        try {
          if (!warmed) {
            // Compiles what the sweep did not (text encoder, decoders) before anything is timed.
            await textToAudio(model, { ...request, steps: 1 });
            warmed = true;
          }
          const r: TextToAudioResult = await textToAudio(model, request);
          const stages: Stages = { ...r.timings };
          reference = { stages, frames };
          row = { ...common, how: oneWindow ? 'one window' : 'measured', stages, realtimeFactor: seconds / r.timings.total, outsideOrtShare: (r.timings.total - r.runtimeSeconds) / r.timings.total, unetRows: r.unetRows };
        } catch (e) {
          row = { ...common, how: 'failed', error: errorMessage(e).split('\n')[0], stages: predicted, realtimeFactor: seconds / predicted.total, outsideOrtShare: null };
        }
      } else {
        row = { ...common, how: 'extrapolated', stages: predicted, realtimeFactor: seconds / predicted.total, outsideOrtShare: null };
      }
      log(`${seconds} s ${method}: ${howText(row)} ${row.stages.total.toFixed(2)} s (${row.realtimeFactor.toFixed(2)}× realtime)`);
      results.push(row);
      if (oneWindow) results.push({ ...row, method: 'spotdiffusion' });
    }
  }
  return results;
}

function medianOf(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
}

// ─── Machine and GPU memory ─────────────────────────────────────────────────────────────────────────────────────

/** `nvidia-smi --query-gpu=FIELDS` of GPU 0, or undefined where there is no nvidia-smi. */
function nvidiaSmi(fields: string): string | undefined {
  try {
    return execFileSync('nvidia-smi', [`--query-gpu=${fields}`, '--format=csv,noheader', '-i', '0'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

/** The machine line: CPU, memory, GPU, ONNX Runtime, Node, date. */
function machineInfo(): Record<string, string> {
  let ort = 'unknown';
  try {
    // onnxruntime-node's package.json, four folders above its native binaries (bin/napi-v6/<platform>/<arch>).
    ort = (JSON.parse(readFileSync(join(ortBinaryDir(), '..', '..', '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    // The report says unknown.
  }
  return {
    date: new Date().toISOString(),
    cpu: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}`,
    memory: `${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    gpu: nvidiaSmi('name,driver_version,memory.total') ?? 'no nvidia-smi',
    onnxruntime: `onnxruntime-node ${ort}`,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    vulkanDrivers: process.env.VK_DRIVER_FILES ?? process.env.VK_ICD_FILENAMES ?? 'the loader default',
  };
}

/**
 * Polls GPU 0's used memory with `nvidia-smi -lms 200` in the background; {@link peak} is the highest reading since
 * {@link mark}. Without nvidia-smi every reading is "not readable", with the reason.
 */
class GpuMemoryPoller {
  private child: ChildProcess | undefined;
  private unreadable: string | undefined;
  private current = Number.NaN;
  private baseline = Number.NaN;
  private max = Number.NaN;

  constructor() {
    try {
      const child = spawn('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits', '-i', '0', '-lms', '200'], { stdio: ['ignore', 'pipe', 'ignore'] });
      child.on('error', (e) => (this.unreadable = `not readable: nvidia-smi could not run (${e.message})`));
      child.on('exit', () => (this.unreadable ??= Number.isNaN(this.current) ? 'not readable: nvidia-smi printed no reading' : undefined));
      child.stdout?.setEncoding('utf8').on('data', (text: string) => {
        for (const line of text.split('\n')) {
          const mib = Number(line.trim());
          if (line.trim() === '' || !Number.isFinite(mib)) continue;
          this.current = mib;
          if (Number.isNaN(this.baseline)) this.baseline = mib;
          this.max = Number.isNaN(this.max) ? mib : Math.max(this.max, mib);
        }
      });
      child.unref();
      this.child = child;
    } catch (e) {
      this.unreadable = `not readable: ${(e as Error).message}`;
    }
  }

  /** Starts a new peak from the current reading. */
  mark(): void {
    this.baseline = this.current;
    this.max = this.current;
  }

  /** The baseline at the last mark and the peak since, in MiB. */
  peak(): GpuMemory {
    if (Number.isNaN(this.max)) return { unreadable: this.unreadable ?? 'not readable: no nvidia-smi reading yet' };
    return { baselineMiB: this.baseline, peakMiB: this.max };
  }

  stop(): void {
    this.child?.kill();
  }
}

// ─── Report ─────────────────────────────────────────────────────────────────────────────────────────────────────

/** The Markdown report (report.md, also printed). */
export function renderMarkdown(report: GpuBenchReport): string {
  const { machine: m, settings: s } = report;
  const lines: string[] = [];
  const out = (line = ''): number => lines.push(line);
  const f = (x: number | null | undefined, digits = 3): string => (x == null ? '-' : x.toFixed(digits));
  const table = (header: string[], rows: string[][]): void => {
    out(`| ${header.join(' | ')} |`);
    out(`|${header.map(() => '---').join('|')}|`);
    for (const r of rows) out(`| ${r.join(' | ')} |`);
  };
  out(`# Tessera GPU benchmark${s.tiny ? ' (--tiny: reduced packs, not a measurement of the full models)' : ''}`);
  out();
  out(`${m.date.slice(0, 10)}; ${m.cpu}, ${m.memory}; GPU: ${m.gpu}; ${m.onnxruntime}; node ${m.node}; ${m.platform}; Vulkan drivers: ${m.vulkanDrivers}`);
  out();
  out(`${s.steps} DDIM steps, guidance ${s.guidance}, prompt "${s.prompt}", seed ${s.seed}, UNet precision ${s.precision} (the table says what each device ran). A window batch of b windows is one UNet call of N = 2b rows (CFG: unconditional and conditional rows of every window in one call). Per-call times: median of ${s.repeats} after a warm-up.`);
  out();
  const models = new Map(report.devices.flatMap((d) => d.models.map((x) => [x.model, x] as const)));
  for (const [id, x] of models) out(`- ${id}: ${x.built}; unet.onnx ${x.unetMiB.toFixed(0)} MiB${x.unetParameters ? `, ${x.unetParameters.toLocaleString('en')} parameters` : ''}`);
  for (const d of report.devices) {
    out(`- ${d.device}: budget ${d.budgetSeconds} s, spent ${d.spentSeconds.toFixed(1)} s, process peak RSS ${d.peakRssMiB.toFixed(0)} MiB${d.unavailable ? `; NOT MEASURED: ${d.unavailable}` : ''}`);
    for (const x of d.models) for (const line of x.fallbacks) out(`  - ${x.model} on ${d.device}, fell back: ${line}`);
    for (const line of d.errors) out(`  - error: ${line}`);
  }
  out();
  out('## UNet seconds per call');
  out();
  const callRows = report.devices.flatMap((d) =>
    d.models.flatMap((x) => [
      ...x.calls.map((c) => [d.device, x.model, x.unetPrecision, String(c.windows), String(c.rows), f(c.median, 4), f(c.min, 4), f(c.perWindow, 4)]),
      ...(x.skippedBatches.length > 0 ? [[d.device, x.model, x.unetPrecision, x.skippedBatches.join(','), '-', 'skipped (budget, or an error below)', '-', '-']] : []),
    ]),
  );
  table(['device', 'model', 'precision', 'windows', 'N', 'median s', 'min s', 's per window'], callRows);
  out();
  out('## End to end');
  out();
  out('how: measured; one window (the piece fits one window, so both methods are the same plain sampling, run once); extrapolated (did not fit the budget: per-call times × the plan\'s calls, decode and vocode scaled per latent frame from the last measured run; "denoise only" where no run was measured).');
  out();
  const e2eRows = report.devices.flatMap((d) =>
    d.models.flatMap((x) =>
      x.endToEnd.map((e) => {
        const st = e.stages;
        return [d.device, x.model, String(e.seconds), e.method, howText(e), f(st.encode), f(st.denoise), f(st.decode), f(st.vocode), f(st.total), f(e.realtimeFactor, 2), e.outsideOrtShare == null ? '-' : `${(e.outsideOrtShare * 100).toFixed(2)} %`, String(e.windowBatch), String(e.unetCalls)];
      }),
    ),
  );
  table(['device', 'model', 'audio s', 'method', 'how', 'encode s', 'denoise s', 'decode s', 'vocode s', 'total s', '× realtime', 'outside ORT', 'window batch', 'UNet calls'], e2eRows);
  out();
  out('## Peak GPU memory (nvidia-smi, GPU 0, polled every 200 ms while the model was open)');
  out();
  const memRows = report.devices.flatMap((d) => d.models.filter((x) => x.gpuMemory).map((x) => {
    const g = x.gpuMemory as GpuMemory;
    return 'unreadable' in g ? [d.device, x.model, g.unreadable, '-', '-'] : [d.device, x.model, String(g.baselineMiB), String(g.peakMiB), String(g.peakMiB - g.baselineMiB)];
  }));
  if (memRows.length > 0) table(['device', 'model', 'before open MiB', 'peak MiB', 'peak − before MiB'], memRows);
  else out('No GPU device was measured.');
  out();
  ratioSection(report, out, table, f);
  anchorSection(report, out);
  return `${lines.join('\n')}\n`;
}

/** How a case's figures came about; an extrapolation without a measured decode times the denoiser alone. */
function howText(e: EndToEnd): string {
  if (e.how === 'failed') return `failed (${e.error ?? 'no message'}; figures predicted)`;
  return e.how === 'extrapolated' && e.stages.decode === null ? 'extrapolated, denoise only' : e.how;
}

/** CPU seconds ÷ each other device's, for the per-call batches and end-to-end cases both have. */
function ratioSection(report: GpuBenchReport, out: (line?: string) => number, table: (h: string[], r: string[][]) => void, f: (x: number | null | undefined, d?: number) => string): void {
  const cpu = report.devices.find((d) => d.device === 'cpu');
  const others = report.devices.filter((d) => d.device !== 'cpu' && d.models.length > 0);
  if (!cpu || others.length === 0) return;
  out('## CPU ÷ device (same machine; > 1: the device is faster)');
  out();
  const rows: string[][] = [];
  for (const d of others) {
    for (const x of d.models) {
      const c = cpu.models.find((y) => y.model === x.model);
      if (!c) continue;
      for (const call of x.calls) {
        const cc = c.calls.find((y) => y.windows === call.windows);
        if (cc) rows.push([d.device, x.model, `UNet call of ${call.windows} window${call.windows === 1 ? '' : 's'}`, f(cc.median, 4), f(call.median, 4), f(cc.median / call.median, 2)]);
      }
      for (const e of x.endToEnd) {
        const ce = c.endToEnd.find((y) => y.seconds === e.seconds && y.method === e.method);
        if (!ce) continue;
        const label = `${e.seconds} s ${e.method}${ce.how === 'extrapolated' || e.how === 'extrapolated' ? ` (cpu ${howText(ce)}, ${d.device} ${howText(e)})` : ''}`;
        rows.push([d.device, x.model, label, f(ce.stages.total, 2), f(e.stages.total, 2), f(ce.stages.total / e.stages.total, 2)]);
      }
    }
  }
  table(['device', 'model', 'what', 'cpu s', 'device s', 'cpu ÷ device'], rows);
  out();
}

/** The issue's anchors next to the longest case of every device and model. */
function anchorSection(report: GpuBenchReport, out: (line?: string) => number): void {
  const { notebook, stableAudio, goal } = report.anchors;
  const throughput = (seconds: number, steps: number, wall: number): string => ((seconds * steps) / wall).toPrecision(3);
  out('## Anchors');
  out();
  out(`- ${notebook.what}: ${notebook.audioSeconds} s with ${notebook.steps} DDIM steps in ${notebook.wallSeconds} s = ${throughput(notebook.audioSeconds, notebook.steps, notebook.wallSeconds)} audio-seconds × steps per second (${(notebook.audioSeconds / notebook.wallSeconds).toFixed(2)}× realtime)`);
  out(`- ${stableAudio.what}: ${stableAudio.audioSeconds} s in ${stableAudio.wallSeconds} s (${(stableAudio.audioSeconds / stableAudio.wallSeconds).toFixed(1)}× realtime)`);
  out(`- ${goal.what}`);
  for (const d of report.devices) {
    for (const x of d.models) {
      const longest = Math.max(...x.endToEnd.map((e) => e.seconds));
      for (const e of x.endToEnd.filter((y) => y.seconds === longest)) {
        const t = e.stages.total;
        const verdict = longest === goal.audioSeconds ? `; goal ${t < goal.wallSeconds ? 'met' : `not met (${(t / goal.wallSeconds).toFixed(1)}× over)`}` : '';
        out(`- ${d.device} ${x.model}, ${e.seconds} s ${e.method} (${howText(e)}): ${t.toFixed(2)} s, ${e.realtimeFactor.toFixed(2)}× realtime, ${throughput(e.seconds, report.settings.steps, t)} audio-seconds × steps per second${verdict}`);
      }
    }
  }
  out();
}
