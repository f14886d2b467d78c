/** `npm run generate -- --prompt "…" --duration 8 --out take.wav [options]` */
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { SAMPLERS } from '../engine/schedulers/index.ts';
import { MAX_STEPS, type Progress } from '../engine/pipelines/text-to-audio.ts';
import { DEVICES } from '../engine/runtime/session.ts';
import { generateToFile, OUTPUT_FORMATS } from '../host/generate.ts';
import { DEFAULT_MODEL } from '../host/packs/builtin.ts';
import { SEED_LIMIT } from '../engine/tensor/rng.ts';
import { CliError, joinNegativeValues, parseChoice, parseNumber } from './args.ts';

export const GENERATE_HELP = `usage: npm run generate -- --prompt TEXT --duration SECONDS --out FILE.wav [options]

  --prompt TEXT            what to hear (required)
  --negative-prompt TEXT   what to steer away from (default: empty)
  --duration SECONDS       length in seconds, > 0 and at most the model's window (sketch: 10.24) (required)
  --out FILE.wav           output WAV file; written atomically, nothing is left there on failure (required)
  --model ID|DIR           built-in model (sketch, shape-s) or a model pack folder (default: ${DEFAULT_MODEL})
  --seed N                 integer 0..${SEED_LIMIT - 1}; same seed, same settings → identical file (default: random)
  --steps N                denoising steps 1..${MAX_STEPS} (default: the model's, sketch: 10)
  --guidance G             classifier-free guidance ≥ 0; ≤ 1 disables it (default: the model's, sketch: 2.5)
  --sampler NAME           ${SAMPLERS.join(' | ')} (default: the model's, sketch: ddim)
  --eta E                  DDIM η ≥ 0; 0 is deterministic given the seed's noise (default: 0)
  --device NAME            ${DEVICES.join(' | ')} (default: auto; falls back to cpu with the reason)
  --format NAME            ${OUTPUT_FORMATS.join(' | ')} WAV samples (default: float32)
  --quiet                  no progress bar
  --help                   this text

Prints one JSON line on success: the seed used, duration, per-stage seconds and the device.
`;

/** Runs the generate command; returns the exit status. */
export async function runGenerate(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(argv),
      strict: true,
      allowPositionals: false,
      options: {
        prompt: { type: 'string' },
        'negative-prompt': { type: 'string' },
        duration: { type: 'string' },
        out: { type: 'string' },
        model: { type: 'string', default: DEFAULT_MODEL },
        seed: { type: 'string' },
        steps: { type: 'string' },
        guidance: { type: 'string' },
        sampler: { type: 'string' },
        eta: { type: 'string' },
        device: { type: 'string', default: 'auto' },
        format: { type: 'string', default: 'float32' },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    throw new CliError(`${(e as Error).message}\n\n${GENERATE_HELP}`);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(GENERATE_HELP);
    return 0;
  }
  if (v.prompt === undefined) throw new CliError(`--prompt is required\n\n${GENERATE_HELP}`);
  if (v.duration === undefined) throw new CliError('--duration is required (seconds, e.g. --duration 8)');
  if (v.out === undefined) throw new CliError('--out is required (a .wav file path, e.g. --out take.wav)');
  const seconds = parseNumber('duration', v.duration, (n) => n > 0, 'a number of seconds greater than 0, e.g. 8') ?? 0;
  const seed = parseNumber('seed', v.seed, (n) => Number.isInteger(n) && n >= 0 && n < SEED_LIMIT, `an integer from 0 to ${SEED_LIMIT - 1}`) ?? randomInt(0, 2 ** 32 - 1);
  const steps = parseNumber('steps', v.steps, (n) => Number.isInteger(n) && n >= 1 && n <= MAX_STEPS, `a whole number from 1 to ${MAX_STEPS}`);
  const guidance = parseNumber('guidance', v.guidance, (n) => n >= 0, 'a number ≥ 0 (e.g. 2.5; ≤ 1 disables guidance)');
  const eta = parseNumber('eta', v.eta, (n) => n >= 0, 'a number ≥ 0 (0 = deterministic DDIM)');
  const sampler = parseChoice('sampler', v.sampler, SAMPLERS);
  const device = parseChoice('device', v.device, DEVICES) ?? 'auto';
  const format = parseChoice('format', v.format, OUTPUT_FORMATS) ?? 'float32';

  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  process.once('SIGINT', onSigint);
  const bar = !v.quiet && process.stderr.isTTY ? progressBar() : undefined;
  try {
    const summary = await generateToFile({
      prompt: v.prompt,
      negativePrompt: v['negative-prompt'],
      seconds,
      out: v.out,
      model: v.model,
      seed,
      steps,
      guidance,
      sampler,
      eta,
      device,
      format,
      signal: abort.signal,
      onModelReady: (m) => {
        if (m.fallbackReason && device !== 'auto') process.stderr.write(`warning: running on ${m.provider}: ${m.fallbackReason}\n`);
      },
      onProgress: (p) => bar?.update(p),
    });
    bar?.stop();
    if (summary.unknownWords.length > 0) {
      process.stderr.write(`warning: model '${summary.model}' does not know: ${summary.unknownWords.join(', ')} (they were ignored)\n`);
    }
    process.stdout.write(`${JSON.stringify({ ok: true, ...summary })}\n`);
    return 0;
  } finally {
    bar?.stop();
    process.off('SIGINT', onSigint);
  }
}

/** A terminal progress bar over the denoising steps with ETA (stderr, only on a TTY). */
function progressBar(): { update(p: Progress): void; stop(): void } {
  const bar = new cliProgress.SingleBar(
    { format: ' {stage} |{bar}| {value}/{total} steps | {elapsed}s elapsed | ETA {eta_s}s', stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let stopped = false;
  return {
    update(p) {
      const payload = { stage: p.stage.padEnd(7), elapsed: p.elapsed.toFixed(1), eta_s: p.eta === undefined ? '?' : p.eta.toFixed(1) };
      if (!started) {
        bar.start(p.steps, p.step, payload);
        started = true;
      } else bar.update(p.step, payload);
    },
    stop() {
      if (started && !stopped) bar.stop();
      stopped = true;
    },
  };
}
