/**
 * `npm run bench:engine`: per-stage seconds, denoise seconds per step, the share of wall time spent outside
 * ONNX Runtime `run` calls (goal < 5 %), real-time factor and peak RSS, for each model at 10 s; and per stage the
 * FLOPs done (counted from the graphs for the shapes each run was fed: packs/graph/flops.ts), the achieved GFLOP/s and
 * its share of the CPU's float32 peak (cli/cpu-peak.ts prints how the peak is computed).
 * Each model runs in its own child process so peak RSS belongs to that model alone.
 *
 * Models: built-in ids (`sketch`, `shape-s`), `shape-s@W` for the shape pack at UNet width W (`shape-s@128` is the
 * full-size AudioLDM-S network; built once into the pack cache, `packs/shape-s@W`), an installed model id
 * (`audioldm-s-rand` with TESSERA_MODELS_DIR) or a pack folder.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { AudioLdmModel } from '../engine/families/audioldm/model.ts';
import type { ModelSession } from '../engine/runtime/session.ts';
import type { Tensor } from '../engine/tensor/tensor.ts';
import { textToAudio } from '../engine/pipelines/text-to-audio.ts';
import { CliError, parseChoice, parseLimited, parseNumber } from './args.ts';
import { DEVICES, LIMITS } from '../contract/generation-settings.ts';
import { runChildJson } from './child.ts';
import { defaultCacheDir, resolvePack } from '../host/packs/builtin.ts';
import { openAudioLdmModel, verifyPack, type VerifiedPack } from '../host/packs/load.ts';
import { writePack } from '../host/packs/write.ts';
import { countFlops } from '../packs/graph/flops.ts';
import { buildShapePack, shapePackVersion } from '../packs/shape/index.ts';
import { fmaWidth, fp32Peak, measureClockGhz, parseCpuInfo, type CpuInfo, type CpuPeak } from './cpu-peak.ts';

/** The four stages and the session each one runs. */
const STAGES = ['encode', 'denoise', 'decode', 'vocode'] as const;
type Stage = (typeof STAGES)[number];
const STAGE_SESSION: Record<Stage, keyof AudioLdmModel['sessions']> = { encode: 'textEncoder', denoise: 'unet', decode: 'vaeDecoder', vocode: 'vocoder' };

/** FLOPs of one stage of one generation. */
export interface StageFlops {
  /** FLOPs of every run of the stage's graph in one generation. */
  flops: number;
  /** Runs of the stage's graph in one generation. */
  runs: number;
  /** Seconds inside ONNX Runtime for those runs. */
  ortSeconds: number;
  /** Counted-type nodes whose shapes the counter could not infer (their FLOPs are missing). */
  unresolved: number;
}

interface BenchRow {
  model: string;
  device: string;
  seconds: number;
  steps: number;
  encode: number;
  denoisePerStep: number;
  decode: number;
  vocode: number;
  total: number;
  outsideOrtShare: number;
  realtimeFactor: number;
  peakRssMiB: number;
  /** Per stage, one generation's FLOPs (median generation's ORT seconds). */
  flops: Record<Stage, StageFlops>;
  /** Median seconds inside ONNX Runtime of one UNet call, and its FLOPs. */
  unetCall: { seconds: number; flops: number; batch: number };
}

const HELP = `usage: npm run bench:engine -- [options]
  --models LIST      comma-separated: built-in ids, shape-s@WIDTH (shape-s@128 = full-size AudioLDM-S, built once
                     into the pack cache), installed model ids (TESSERA_MODELS_DIR) or pack folders (default sketch,shape-s)
  --width N          shape-s entries of --models mean shape-s@N
  --seconds S        audio length (default 10)
  --steps N          DDIM steps (default 10)
  --repeats N        timed runs per model, median reported (default 3)
  --device D         ${DEVICES.join(', ')} (default cpu)
  --threads N        ONNX Runtime intra-op threads (default: one per physical core)
  --peak-gflops G    the CPU's fp32 peak instead of the formula (env TESSERA_PEAK_GFLOPS)
  --cpu-ghz G        the clock in the formula instead of the measured one (env TESSERA_CPU_GHZ)`;

/** Runs the bench command. */
export async function runBench(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      models: { type: 'string', default: 'sketch,shape-s' },
      width: { type: 'string' },
      seconds: { type: 'string', default: '10' },
      steps: { type: 'string', default: '10' },
      repeats: { type: 'string', default: '3' },
      device: { type: 'string', default: 'cpu' },
      threads: { type: 'string' },
      'peak-gflops': { type: 'string' },
      'cpu-ghz': { type: 'string' },
      single: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const seconds = parseLimited('seconds', values.seconds, LIMITS.seconds) ?? 10;
  const steps = parseLimited('steps', values.steps, LIMITS.steps) ?? 10;
  const repeats = parseNumber('repeats', values.repeats, { check: (n) => Number.isInteger(n) && n >= 1, expected: 'a whole number of repeats ≥ 1', example: '3' }) ?? 3;
  const device = parseChoice('device', values.device, DEVICES) ?? 'cpu';
  const threads = parseNumber('threads', values.threads, { check: (n) => Number.isInteger(n) && n >= 1, expected: 'a whole number of threads ≥ 1', example: '2' });
  const width = parseNumber('width', values.width, { check: (n) => Number.isInteger(n) && n >= 8 && n % 8 === 0, expected: 'a whole multiple of 8', example: '128' });
  const positive = { check: (n: number) => n > 0, expected: 'a positive number', example: '3.7' };
  const peakGflops = parseNumber('peak-gflops', values['peak-gflops'] ?? process.env.TESSERA_PEAK_GFLOPS, positive);
  const ghz = parseNumber('cpu-ghz', values['cpu-ghz'] ?? process.env.TESSERA_CPU_GHZ, positive);
  if (values.single) {
    const row = await benchOne(values.single, seconds, steps, repeats, device, threads);
    process.stdout.write(`${JSON.stringify(row)}\n`);
    return 0;
  }
  const models = values.models.split(',').map((m) => (width !== undefined && m === 'shape-s' ? `shape-s@${width}` : m));
  // Measured before the children start, while this process has the cores to itself.
  const peak = cpuPeak({ peakGflops, ghz, threads });
  const rows: BenchRow[] = [];
  for (const model of models) {
    const args = ['bench', '--single', model, '--seconds', String(seconds), '--steps', String(steps), '--repeats', String(repeats), '--device', device];
    rows.push(await runChildJson<BenchRow>(threads === undefined ? args : [...args, '--threads', String(threads)]));
  }
  process.stdout.write(`Tessera engine benchmark - ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}\n`);
  process.stdout.write(`${seconds} s of audio, ${steps} DDIM steps, guidance on (batch 2), median of ${repeats} runs after a warm-up\n\n`);
  const header = ['model', 'device', 'encode s', 'denoise s/step', 'decode s', 'vocode s', 'total s', 'outside ORT', 'x realtime', 'peak RSS MiB'];
  const lines = rows.map((r) => [r.model, r.device, r.encode.toFixed(4), r.denoisePerStep.toFixed(4), r.decode.toFixed(3), r.vocode.toFixed(3), r.total.toFixed(3), `${(r.outsideOrtShare * 100).toFixed(2)} %`, r.realtimeFactor.toFixed(1), r.peakRssMiB.toFixed(0)]);
  process.stdout.write(`${table(header, lines)}\n\n`);
  process.stdout.write(`Arithmetic per stage: FLOPs counted from each graph for the shapes it was fed (2 per multiply-add; Conv, ConvTranspose, MatMul, Gemm, attention), over the stage's wall seconds; UNet call: one call's FLOPs over its seconds inside ONNX Runtime.\n`);
  process.stdout.write(`CPU fp32 peak: ${peak.formula}\n\n`);
  process.stdout.write(`${table(['model', 'stage', 'GFLOP', 'seconds', 'GFLOP/s', 'of peak'], rows.flatMap((r) => flopLines(r, peak.gflops)))}\n`);
  const unresolved = rows.flatMap((r) => STAGES.filter((s) => r.flops[s].unresolved > 0).map((s) => `${r.model} ${s}: ${r.flops[s].unresolved}`));
  if (unresolved.length > 0) process.stdout.write(`\nNodes whose FLOPs could not be counted (shapes unknown; those stages are undercounted): ${unresolved.join(', ')}\n`);
  process.stdout.write(`\n${JSON.stringify({ peak, rows })}\n`);
  return 0;
}

function table(header: string[], lines: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n');
}

/** The arithmetic table's lines of one model: each stage over its wall seconds, then one UNet call over its ORT seconds. */
export function flopLines(r: Pick<BenchRow, 'model' | 'steps' | 'flops' | 'unetCall' | 'encode' | 'denoisePerStep' | 'decode' | 'vocode'>, peakGflops: number): string[][] {
  const wall: Record<Stage, number> = { encode: r.encode, denoise: r.denoisePerStep * r.steps, decode: r.decode, vocode: r.vocode };
  const line = (stage: string, flops: number, seconds: number): string[] => {
    const rate = flops / seconds / 1e9;
    return [r.model, stage, (flops / 1e9).toFixed(2), seconds.toFixed(4), rate.toFixed(1), Number.isFinite(peakGflops) ? `${((100 * rate) / peakGflops).toFixed(1)} %` : '-'];
  };
  return [
    ...STAGES.map((s) => line(s, r.flops[s].flops, wall[s])),
    line(`UNet call (batch ${r.unetCall.batch})`, r.unetCall.flops, r.unetCall.seconds),
  ];
}

/** The CPU's fp32 peak from /proc/cpuinfo and a measured clock, unless given. */
function cpuPeak(options: { peakGflops?: number; ghz?: number; threads?: number }): CpuPeak {
  let cpu: CpuInfo | undefined;
  try {
    cpu = parseCpuInfo(readFileSync('/proc/cpuinfo', 'utf8'));
  } catch {
    cpu = undefined;
  }
  const latency = cpu ? fmaWidth(cpu).mulLatency : undefined;
  const measuredGhz = options.peakGflops === undefined && options.ghz === undefined && latency !== undefined ? measureClockGhz(latency) : undefined;
  return fp32Peak(cpu, {
    ...(options.peakGflops !== undefined ? { peakGflops: options.peakGflops } : {}),
    ...(options.ghz !== undefined ? { ghz: options.ghz } : {}),
    ...(measuredGhz !== undefined ? { measuredGhz } : {}),
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
  });
}

/** `shape-s@W`: the shape pack at UNet width W, built into the pack cache once per version. */
async function resolveBenchPack(spec: string): Promise<VerifiedPack> {
  const m = /^shape-s@(\d+)$/.exec(spec);
  if (!m) return resolvePack(spec);
  const width = Number(m[1]);
  if (width < 8 || width % 8 !== 0) throw new CliError(`model '${spec}': the shape pack's width must be a whole multiple of 8 (32 is the reduced pack, 128 full-size AudioLDM-S)`);
  const dir = join(defaultCacheDir(), 'packs', spec);
  const cached = await verifyPack(dir).catch(() => undefined);
  if (cached && cached.manifest.version === shapePackVersion({ width })) return cached;
  process.stderr.write(`building ${spec} into ${dir} (once per pack version)\n`);
  return writePack(buildShapePack({ width }), dir);
}

/** One session run as the bench records it: the feeds' shapes and the seconds inside ONNX Runtime. */
export interface RunRecord {
  session: keyof AudioLdmModel['sessions'];
  shapes: Record<string, number[]>;
  seconds: number;
}

/** Makes every run of the model's four sessions append to `recorder.log` (the sessions stay the same objects). */
function recordRuns(model: AudioLdmModel, recorder: { log: RunRecord[] }): void {
  const seen = new Set<ModelSession>();
  for (const name of Object.keys(model.sessions) as (keyof AudioLdmModel['sessions'])[]) {
    const session = model.sessions[name];
    // The decoder's shared-statistics session can serve as vaeDecoder too: wrap each session object once.
    if (seen.has(session)) continue;
    seen.add(session);
    const run = session.run.bind(session);
    session.run = async (feeds: Record<string, Tensor>) => {
      const before = session.runSeconds();
      const out = await run(feeds);
      recorder.log.push({ session: name, shapes: Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, [...t.dims]])), seconds: session.runSeconds() - before });
      return out;
    };
  }
}

/** FLOPs of `log`'s runs per stage, counting each distinct (graph, shapes) once: `graphBytes` reads a graph. */
export async function stageFlops(log: readonly RunRecord[], graphBytes: (session: RunRecord['session']) => Promise<Uint8Array>): Promise<Record<Stage, StageFlops>> {
  const result = Object.fromEntries(STAGES.map((s) => [s, { flops: 0, runs: 0, ortSeconds: 0, unresolved: 0 }])) as Record<Stage, StageFlops>;
  for (const stage of STAGES) {
    const runs = log.filter((r) => r.session === STAGE_SESSION[stage]);
    if (runs.length === 0) continue;
    const bytes = await graphBytes(STAGE_SESSION[stage]);
    const byShape = new Map<string, { flops: number; unresolved: number }>();
    for (const run of runs) {
      const key = JSON.stringify(run.shapes);
      let counted = byShape.get(key);
      if (counted === undefined) {
        const c = countFlops(bytes, run.shapes);
        counted = { flops: c.total, unresolved: c.unresolved.length };
        byShape.set(key, counted);
      }
      const s = result[stage];
      s.flops += counted.flops;
      s.runs += 1;
      s.ortSeconds += run.seconds;
      s.unresolved = Math.max(s.unresolved, counted.unresolved);
    }
  }
  return result;
}

async function benchOne(modelId: string, seconds: number, steps: number, repeats: number, device: (typeof DEVICES)[number], threads: number | undefined): Promise<BenchRow> {
  const pack = await resolveBenchPack(modelId);
  // As the app opens models (host/generation/model-cache.ts): the default VAE decode mode is what is timed.
  const model = await openAudioLdmModel(pack, { device, sharedStatsDecoder: true, ...(threads !== undefined ? { intraOpThreads: threads } : {}) });
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  let row: Omit<BenchRow, 'flops' | 'unetCall'>;
  const logs: RunRecord[][] = [];
  try {
    const request = { prompt: 'low drone', seconds, seed: 1, steps, guidance: 2.5, sampler: 'ddim' as const, eta: 0 };
    await textToAudio(model, { ...request, steps: 1 });
    const runs = [];
    const recorder: { log: RunRecord[] } = { log: [] };
    recordRuns(model, recorder);
    for (let i = 0; i < repeats; i++) {
      recorder.log = [];
      logs.push(recorder.log);
      runs.push(await textToAudio(model, { ...request, seed: i + 1 }));
    }
    const total = median(runs.map((r) => r.timings.total));
    row = {
      model: modelId,
      device: model.sessions.unet.provider,
      seconds,
      steps,
      encode: median(runs.map((r) => r.timings.encode)),
      denoisePerStep: median(runs.map((r) => r.timings.denoise / steps)),
      decode: median(runs.map((r) => r.timings.decode)),
      vocode: median(runs.map((r) => r.timings.vocode)),
      total,
      outsideOrtShare: median(runs.map((r) => (r.timings.total - r.runtimeSeconds) / r.timings.total)),
      realtimeFactor: seconds / total,
      // Read before the FLOP count below loads the graphs.
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    await model.dispose();
  }
  // Every generation runs the same shapes: count one, time the UNet calls of all.
  const { manifest } = pack;
  if (manifest.family !== 'audioldm') throw new CliError(`model '${modelId}' is a ${manifest.family} model; bench:engine times audioldm-family models`);
  const files = manifest.components;
  const flops = await stageFlops(logs[logs.length - 1], async (session) => new Uint8Array(await readFile(join(pack.dir, files[session].file))));
  const unetRuns = logs.flat().filter((r) => r.session === 'unet');
  const callFlops = flops.denoise.runs > 0 ? flops.denoise.flops / flops.denoise.runs : 0;
  const batch = unetRuns[0]?.shapes.sample?.[0] ?? 0;
  return { ...row, flops, unetCall: { seconds: median(unetRuns.map((r) => r.seconds)), flops: callFlops, batch } };
}
