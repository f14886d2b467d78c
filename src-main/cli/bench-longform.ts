/**
 * `npm run bench:longform`: long-form cost and quality in one run. For each duration and tiling method:
 * evaluations per step, wall time (denoise and total), compute seconds per minute of audio, share outside ONNX
 * Runtime, peak RSS (each case in its own process) and seam metrics; then the goal ratios of the long-form issue.
 */
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { seamFluxZ, seamReport, seamStepZ } from '../engine/audio/seams.ts';
import { logMel } from '../engine/audio/spectral.ts';
import { planCanvas } from '../engine/longform/plan.ts';
import { planSpotDiffusion, spotOffsets } from '../engine/longform/windows.ts';
import { textToAudio, type TextToAudioRequest } from '../engine/pipelines/text-to-audio.ts';
import { resolvePack } from '../host/packs/builtin.ts';
import { openAudioLdmModel } from '../host/packs/load.ts';
import { parseLimited, parseNumberList } from './args.ts';
import { GENERATION_DEFAULTS, LIMITS } from '../contract/generation-settings.ts';
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
    },
  });
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
  const cases = values.cases ? CASES.filter((c) => values.cases?.split(',').includes(c.label)) : CASES;
  const rows: Row[] = [];
  for (const seconds of durations) {
    for (const c of cases) {
      process.stderr.write(`${values.model} ${seconds} s ${c.label}…\n`);
      rows.push(await runChildJson<Row>(['bench-longform', '--single', c.label, '--seconds', String(seconds), '--steps', String(steps), '--model', values.model]));
    }
  }
  printReport(values.model, steps, rows);
  return 0;
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
  const model = await openAudioLdmModel(await resolvePack(modelId), { device: 'cpu' });
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
