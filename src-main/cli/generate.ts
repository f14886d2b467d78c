/** `npm run generate -- --prompt "…" --duration 8 --out take.wav [options]` */
import { randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { GENERATION_DEFAULTS, LIMITS, SAMPLERS, TILING_METHODS, VAE_DECODE_MODES, type TilingOptions } from '../contract/generation-settings.ts';
import type { Progress } from '../engine/pipelines/text-to-audio.ts';
import { parseGenerationRequest, type GenerationRequestFile } from '../contract/generation.ts';
import { DEVICES, PRECISIONS } from '../contract/generation-settings.ts';
import { generateToFile, OUTPUT_FORMATS } from '../host/generate.ts';
import { BUILTIN_PACKS, DEFAULT_MODEL } from '../host/packs/builtin.ts';
import { checkRegionOrder, CliError, joinNegativeValues, parseChoice, parseLimited, parseRegion, withSigintAbort } from './args.ts';
import { deviceFlagsHelp, precisionFor, providersHelp } from './devices.ts';

export const GENERATE_HELP = `usage: npm run generate -- --prompt TEXT --duration SECONDS --out FILE.wav [options]
       npm run generate -- --region START:END:PROMPT [--region …] --out FILE.wav [options]
       npm run generate -- --request REQUEST.json --out FILE.wav [options]

  --prompt TEXT            what to hear, for the whole piece
  --negative-prompt TEXT   what to steer away from (default: empty)
  --region START:END:TEXT  a time region in seconds with its own prompt; repeat to cover the piece in order,
                           e.g. --region "0:60:low drone" --region "60:180:noise"
  --request FILE.json      a request file (duration, prompt or regions, settings); flags override its fields
  --duration SECONDS       length in seconds, > 0 (default with regions: the last region's end)
  --out FILE.wav           output WAV file; written atomically, nothing is left there on failure (required)
  --model ID|DIR           built-in model (${Object.keys(BUILTIN_PACKS).join(', ')}) or a model pack folder
                           (default: ${DEFAULT_MODEL})
  --seed N                 integer ${LIMITS.seed.min}..${LIMITS.seed.max}; same seed, same settings → identical file (default: random)
  --steps N                denoising steps ${LIMITS.steps.min}..${LIMITS.steps.max} (default: the model's; sketch 10, stable-audio-3 8)
  --guidance G             classifier-free guidance ${LIMITS.guidance.min}..${LIMITS.guidance.max}; ≤ 1 disables it (default: the model's;
                           sketch 2.5, stable-audio-3 1 = off)
  --sampler NAME           ${SAMPLERS.join(' | ')} (default: the model's; audioldm models take ddim or dpmpp-2m,
                           stable-audio-3 models pingpong)
  --eta E                  DDIM η ${LIMITS.eta.min}..${LIMITS.eta.max}; 0 is deterministic given the seed's noise (default: ${GENERATION_DEFAULTS.eta})
  --method NAME            tiling beyond the model's window: ${TILING_METHODS.join(' | ')} (default: ${GENERATION_DEFAULTS.method})
  --transition SECONDS     crossfade between regions, centred on each boundary, ${LIMITS.transition.min}..${LIMITS.transition.max} (default: ${GENERATION_DEFAULTS.transition})
  --stride RATIO           MultiDiffusion stride as a fraction of the window, (0, 1] (default: ${GENERATION_DEFAULTS.tiling.strideRatio})
  --window-batch N         window evaluations per UNet call, ${LIMITS.windowBatch.min}..${LIMITS.windowBatch.max} (default: ${GENERATION_DEFAULTS.tiling.windowBatch})
  --vae-decode MODE        long latents: estimated (default where the VAE has GroupNorm: window chunks sharing
                           GroupNorm statistics estimated in one pass; seamless, 2 passes) | window (chunks with
                           their own statistics + log-mel crossfade; the default otherwise) | shared (the whole
                           piece's exact statistics: exact without global attention, one pass per GroupNorm)
  --max-duration SECONDS   refuse longer pieces (default: ${GENERATION_DEFAULTS.maxSeconds})
${deviceFlagsHelp(27)}
  --format NAME            ${OUTPUT_FORMATS.join(' | ')} WAV samples (default: float32)
  --quiet                  no progress bar
  --help                   this text

Prints one JSON line on success: the seed used, duration, per-stage seconds, the device and its precision.
`;

async function readRequestFile(path: string): Promise<GenerationRequestFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new CliError(`--request ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return parseGenerationRequest(JSON.parse(text), `--request ${path}`);
  } catch (e) {
    throw new CliError(e instanceof SyntaxError ? `--request ${path} is not valid JSON: ${e.message}` : (e as Error).message);
  }
}

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
        region: { type: 'string', multiple: true },
        request: { type: 'string' },
        duration: { type: 'string' },
        out: { type: 'string' },
        model: { type: 'string' },
        seed: { type: 'string' },
        steps: { type: 'string' },
        guidance: { type: 'string' },
        sampler: { type: 'string' },
        eta: { type: 'string' },
        method: { type: 'string' },
        transition: { type: 'string' },
        stride: { type: 'string' },
        'window-batch': { type: 'string' },
        'vae-decode': { type: 'string' },
        'max-duration': { type: 'string' },
        device: { type: 'string', default: 'auto' },
        precision: { type: 'string' },
        remeasure: { type: 'boolean', default: false },
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
    process.stdout.write(`${GENERATE_HELP}\n${await providersHelp()}`);
    return 0;
  }
  const file: GenerationRequestFile = v.request !== undefined ? await readRequestFile(v.request) : {};
  const flagRegions = v.region?.map(parseRegion);
  const prompt = v.prompt ?? (flagRegions ? undefined : file.prompt);
  const regions = flagRegions ?? (v.prompt !== undefined ? undefined : file.regions);
  if (prompt !== undefined && regions !== undefined) throw new CliError('give either --prompt or --region (or a request file with one of them), not both');
  if (prompt === undefined && regions === undefined) throw new CliError(`--prompt or --region is required\n\n${GENERATE_HELP}`);
  // Before the duration is taken from the last region's end, so a reversed region is reported as such.
  if (regions !== undefined && regions === file.regions) checkRegionOrder(regions, `--request ${v.request ?? ''}`);
  if (v.out === undefined) throw new CliError('--out is required (a .wav file path, e.g. --out take.wav)');
  const lastEnd = regions && regions.length > 0 ? regions[regions.length - 1].end : undefined;
  const maxSeconds = parseLimited('max-duration', v['max-duration'], LIMITS.seconds) ?? GENERATION_DEFAULTS.maxSeconds;
  const seconds = parseLimited('duration', v.duration, LIMITS.seconds) ?? file.duration ?? lastEnd;
  if (seconds === undefined) throw new CliError('--duration is required (seconds, e.g. --duration 8)');
  const seed = parseLimited('seed', v.seed, LIMITS.seed) ?? file.seed ?? randomInt(0, LIMITS.seed.max);
  const steps = parseLimited('steps', v.steps, LIMITS.steps) ?? file.steps;
  const guidance = parseLimited('guidance', v.guidance, LIMITS.guidance) ?? file.guidance;
  const eta = parseLimited('eta', v.eta, LIMITS.eta) ?? file.eta;
  const transition = parseLimited('transition', v.transition, LIMITS.transition) ?? file.transition;
  const strideRatio = parseLimited('stride', v.stride, LIMITS.strideRatio) ?? file.tiling?.strideRatio;
  const windowBatch = parseLimited('window-batch', v['window-batch'], LIMITS.windowBatch) ?? file.tiling?.windowBatch;
  const sampler = parseChoice('sampler', v.sampler, SAMPLERS) ?? file.sampler;
  const method = parseChoice('method', v.method, TILING_METHODS) ?? file.method ?? GENERATION_DEFAULTS.method;
  const vaeDecode = parseChoice('vae-decode', v['vae-decode'], VAE_DECODE_MODES) ?? file.vaeDecode;
  const device = parseChoice('device', v.device, DEVICES) ?? 'auto';
  const precision = precisionFor(device, parseChoice('precision', v.precision, PRECISIONS));
  const format = parseChoice('format', v.format, OUTPUT_FORMATS) ?? 'float32';
  const tiling: TilingOptions = { ...file.tiling, ...(strideRatio !== undefined ? { strideRatio } : {}), ...(windowBatch !== undefined ? { windowBatch } : {}) };

  const out = v.out;
  const bar = !v.quiet && process.stderr.isTTY ? progressBar() : undefined;
  try {
    const summary = await withSigintAbort((signal) => generateToFile({
      prompt,
      negativePrompt: v['negative-prompt'] ?? file.negativePrompt,
      regions,
      transition,
      method,
      tiling,
      vaeDecode,
      maxSeconds,
      seconds,
      ...(file.start === undefined ? {} : { start: file.start }),
      out,
      model: v.model ?? file.model ?? DEFAULT_MODEL,
      seed,
      steps,
      guidance,
      sampler,
      eta,
      device,
      ...(precision ? { precision } : {}),
      ...(v.remeasure ? { remeasure: true } : {}),
      format,
      signal,
      onModelReady: (m) => {
        if (m.fallbackReason && device !== 'auto') process.stderr.write(`warning: running on ${m.provider}: ${m.fallbackReason}\n`);
      },
      onProgress: (p) => bar?.update(p),
    }));
    bar?.stop();
    if (summary.vaeDecode.fallbackReason !== undefined) process.stderr.write(`warning: --vae-decode ${summary.vaeDecode.requested}: ${summary.vaeDecode.fallbackReason}\n`);
    if (summary.unknownWords.length > 0) {
      process.stderr.write(`warning: model '${summary.model}' does not know: ${summary.unknownWords.join(', ')} (they were ignored)\n`);
    }
    for (const t of summary.truncatedPrompts) {
      process.stderr.write(`warning: model '${summary.model}' reads at most ${t.maxTokens} tokens; the last ${t.droppedTokens} tokens of "${t.prompt.slice(0, 60)}…" were ignored\n`);
    }
    process.stdout.write(`${JSON.stringify({ ok: true, ...summary })}\n`);
    return 0;
  } finally {
    bar?.stop();
  }
}

/** A terminal progress bar over the denoising steps (with window and chunk detail) and ETA; stderr, TTY only. */
function progressBar(): { update(p: Progress): void; stop(): void } {
  const bar = new cliProgress.SingleBar(
    { format: ' {stage} |{bar}| {value}/{total} steps{detail} | {elapsed}s elapsed | ETA {eta_s}s', stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let stopped = false;
  return {
    update(p) {
      const detail = p.windows !== undefined ? ` · window ${p.window ?? 0}/${p.windows}` : p.chunks !== undefined ? ` · chunk ${p.chunk ?? 0}/${p.chunks}` : '';
      const payload = { stage: p.stage.padEnd(7), detail, elapsed: p.elapsed.toFixed(1), eta_s: p.eta === undefined ? '?' : p.eta.toFixed(1) };
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
