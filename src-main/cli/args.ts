/** Argument parsing helpers shared by the CLI commands (node:util parseArgs underneath). */
import type { Region } from '../engine/pipelines/text-to-audio.ts';
import { withinLimit, type NumberLimit } from '../contract/generation-settings.ts';
import { CodedError } from '../contract/errors.ts';

/** A usage error: bad flag or bad value. Exits with status 2. */
export class CliError extends CodedError<'invalid-argument'> {
  override name = 'CliError';
  constructor(message: string) {
    super('invalid-argument', message);
  }
}

/** What a numeric option accepts. */
export interface NumberRule {
  /** The range (and integrality) check, run on the parsed value. */
  check: (n: number) => boolean;
  /** What is expected, in words: `a number of seconds greater than 0`. */
  expected: string;
  /** A valid value, shown as `e.g. --<flag> <example>`. */
  example: string;
}

/**
 * Plain decimal: digits with an optional leading `-` and at most one `.`. `Number()` alone would also take hex
 * (`0x10`), exponents (`1e3`), `Infinity`, surrounding spaces and the empty string, none of which a user means.
 */
const PLAIN_DECIMAL = /^-?(?:\d+(?:\.\d*)?|\.\d+)$/;

/** The value of `raw` when it is a plain decimal number (see PLAIN_DECIMAL), else undefined. */
export function plainDecimal(raw: string): number | undefined {
  if (!PLAIN_DECIMAL.test(raw)) return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Parses a numeric option: the one parser for every numeric CLI flag. The error names the flag, the value as
 * given, what is expected and an example.
 */
export function parseNumber(flag: string, raw: string | undefined, rule: NumberRule): number | undefined {
  if (raw === undefined) return undefined;
  return numberOption(flag, raw, rule);
}

/** Parses a generation setting's flag by its limit in the settings table (`max` overrides the upper end). */
export function parseLimited(flag: string, raw: string | undefined, limit: NumberLimit, max?: number): number | undefined {
  return parseNumber(flag, raw, { check: (n) => withinLimit(limit, n, max), expected: limit.expected, example: limit.example });
}

/** Parses a comma-separated list of numbers (`30,60,180`), each by {@link parseNumber}'s rules. */
export function parseNumberList(flag: string, raw: string | undefined, rule: NumberRule): number[] | undefined {
  return raw?.split(',').map((item) => numberOption(flag, item, { ...rule, expected: `a comma-separated list of ${rule.expected}` }));
}

function numberOption(flag: string, raw: string, rule: Omit<NumberRule, 'example'> & { example?: string }): number {
  const n = plainDecimal(raw);
  const example = rule.example === undefined ? '' : `, e.g. --${flag} ${rule.example}`;
  if (n === undefined) {
    throw new CliError(`--${flag} ${JSON.stringify(raw)} is not valid: expected ${rule.expected}, written in plain decimal (digits with an optional "-" and "."; no spaces, units, exponents, hex or Infinity)${example}`);
  }
  if (!rule.check(n)) throw new CliError(`--${flag} ${JSON.stringify(raw)} is not valid: expected ${rule.expected}${example}`);
  return n;
}

const REGION_EXAMPLE = 'write START:END:PROMPT in seconds with END after START, e.g. --region "0:60:low drone" --region "60:180:noise"';

/** Parses `START:END:PROMPT` (seconds in plain decimal, END after START; the prompt may itself contain colons). */
export function parseRegion(raw: string, index: number): Region {
  const name = `--region #${index + 1} ${JSON.stringify(raw)}`;
  const match = /^\s*([^:]+):([^:]+):(.*)$/s.exec(raw);
  if (!match) throw new CliError(`${name} is not START:END:PROMPT (seconds); ${REGION_EXAMPLE}`);
  const start = plainDecimal(match[1]);
  const end = plainDecimal(match[2]);
  if (start === undefined || end === undefined) {
    throw new CliError(`${name}: START and END must be numbers of seconds, got "${match[1]}" and "${match[2]}" (plain decimal: digits with an optional "."); ${REGION_EXAMPLE}`);
  }
  if (end <= start) throw new CliError(`${name}: its end (${end} s) is not after its start (${start} s); ${REGION_EXAMPLE}`);
  return { start, end, prompt: match[3].trim() };
}

/** Refuses a region (from a request file) whose end is not after its start, naming it and how to write one. */
export function checkRegionOrder(regions: readonly Region[], where: string): void {
  regions.forEach((r, i) => {
    if (!(r.end > r.start)) throw new CliError(`${where}: regions[${i}] ends (${r.end} s) not after its start (${r.start} s); give each region an end after its start, e.g. {"start": 0, "end": 60, "prompt": "low drone"}`);
  });
}

/** Parses a flag whose value must be one of `allowed`. */
export function parseChoice<T extends string>(flag: string, raw: string | undefined, allowed: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(raw)) throw new CliError(`--${flag} '${raw}' is not one of: ${allowed.join(', ')}`);
  return raw as T;
}

/**
 * node:util parseArgs reads `--guidance -1` as a flag without a value; rewrite `--flag -<number>` to
 * `--flag=-<number>` so the value reaches our own validation and its clear message.
 */
export function joinNegativeValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (argv[i].startsWith('--') && !argv[i].includes('=') && next !== undefined && /^-(\d|\.\d|Infinity|NaN)/.test(next)) {
      out.push(`${argv[i]}=${next}`);
      i++;
    } else out.push(argv[i]);
  }
  return out;
}

/** An AbortSignal that fires on Ctrl-C while `run` is in progress (long work stops between steps). */
export async function withSigintAbort<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  process.once('SIGINT', onSigint);
  try {
    return await run(abort.signal);
  } finally {
    process.off('SIGINT', onSigint);
  }
}
