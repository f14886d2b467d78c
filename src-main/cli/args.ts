/** Argument parsing helpers shared by the CLI commands (node:util parseArgs underneath). */

/** A usage error: bad flag or bad value. Exits with status 2. */
export class CliError extends Error {
  override name = 'CliError';
}

/** Parses a finite number flag; names the flag and the bad value on failure. */
export function parseNumber(flag: string, raw: string | undefined, check: (n: number) => boolean, expected: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(n) || !check(n)) throw new CliError(`--${flag} ${JSON.stringify(raw)} is not valid: expected ${expected}`);
  return n;
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
