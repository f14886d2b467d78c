/**
 * `npm run bench:engine`: per-stage seconds, denoise seconds per step, the share of wall time spent outside
 * ONNX Runtime `run` calls (goal < 5 %), real-time factor and peak RSS, for each built-in pack at 10 s.
 * Each model runs in its own child process so peak RSS belongs to that model alone.
 */
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { textToAudio } from '../engine/pipelines/text-to-audio.ts';
import { parseChoice, parseLimited, parseNumber } from './args.ts';
import { LIMITS } from '../contract/generation-settings.ts';
import { runChildJson } from './child.ts';
import { resolvePack } from '../host/packs/builtin.ts';
import { openAudioLdmModel } from '../host/packs/load.ts';
import { DEVICES } from '../contract/generation-settings.ts';

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
}

/** Runs the bench command. */
export async function runBench(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      models: { type: 'string', default: 'sketch,shape-s' },
      seconds: { type: 'string', default: '10' },
      steps: { type: 'string', default: '10' },
      repeats: { type: 'string', default: '3' },
      device: { type: 'string', default: 'cpu' },
      single: { type: 'string' },
    },
  });
  const seconds = parseLimited('seconds', values.seconds, LIMITS.seconds) ?? 10;
  const steps = parseLimited('steps', values.steps, LIMITS.steps) ?? 10;
  const repeats = parseNumber('repeats', values.repeats, { check: (n) => Number.isInteger(n) && n >= 1, expected: 'a whole number of repeats ≥ 1', example: '3' }) ?? 3;
  const device = parseChoice('device', values.device, DEVICES) ?? 'cpu';
  if (values.single) {
    const row = await benchOne(values.single, seconds, steps, repeats, device);
    process.stdout.write(`${JSON.stringify(row)}\n`);
    return 0;
  }
  const rows: BenchRow[] = [];
  for (const model of values.models.split(',')) {
    rows.push(await runChildJson<BenchRow>(['bench', '--single', model, '--seconds', String(seconds), '--steps', String(steps), '--repeats', String(repeats), '--device', device]));
  }
  process.stdout.write(`Tessera engine benchmark - ${new Date().toISOString().slice(0, 10)}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}\n`);
  process.stdout.write(`${seconds} s of audio, ${steps} DDIM steps, guidance on (batch 2), median of ${repeats} runs after a warm-up\n\n`);
  const header = ['model', 'device', 'encode s', 'denoise s/step', 'decode s', 'vocode s', 'total s', 'outside ORT', 'x realtime', 'peak RSS MiB'];
  const lines = rows.map((r) => [r.model, r.device, r.encode.toFixed(4), r.denoisePerStep.toFixed(4), r.decode.toFixed(3), r.vocode.toFixed(3), r.total.toFixed(3), `${(r.outsideOrtShare * 100).toFixed(2)} %`, r.realtimeFactor.toFixed(1), r.peakRssMiB.toFixed(0)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  process.stdout.write(`${[fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...lines.map(fmt)].join('\n')}\n`);
  process.stdout.write(`\n${JSON.stringify(rows)}\n`);
  return 0;
}

async function benchOne(modelId: string, seconds: number, steps: number, repeats: number, device: (typeof DEVICES)[number]): Promise<BenchRow> {
  const pack = await resolvePack(modelId);
  // As the app opens models (host/generation/model-cache.ts): the default VAE decode mode is what is timed.
  const model = await openAudioLdmModel(pack, { device, sharedStatsDecoder: true });
  try {
    const request = { prompt: 'low drone', seconds, seed: 1, steps, guidance: 2.5, sampler: 'ddim' as const, eta: 0 };
    await textToAudio(model, { ...request, steps: 1 });
    const runs = [];
    for (let i = 0; i < repeats; i++) runs.push(await textToAudio(model, { ...request, seed: i + 1 }));
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const total = median(runs.map((r) => r.timings.total));
    return {
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
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    await model.dispose();
  }
}
