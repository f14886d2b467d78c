/** `npm run render -- <project dir> --out <dir> [--format …] [--loudness LUFS]`: missing takes, then export. */
import { parseArgs } from 'node:util';
import { DEVICES, LIMITS, PRECISIONS } from '../contract/generation-settings.ts';
import { EXPORT_FORMATS } from '../host/export/types.ts';
import { isId, type RegionId } from '../contract/project.ts';
import { renderProject } from '../host/render.ts';
import { CliError, joinNegativeValues, parseChoice, parseLimited, parseNumber, withSigintAbort } from './args.ts';
import { deviceFlagsHelp, precisionFor, providersHelp } from './devices.ts';

const HELP = `usage: npm run render -- PROJECT_DIR --out DIR [options]

Generates every region that has no take yet (saving the project), then exports the mixdown and one stem per
track into DIR: Mix.<ext> and NN_TrackName.<ext>, all starting at 0 with the same length.

  --out DIR            folder for the exported files (created if missing; required)
  --format NAME        ${EXPORT_FORMATS.join(' | ')} (default: wav24)
  --loudness LUFS      normalise the mix to this integrated loudness, e.g. -14, -16 or -23 (one gain for all files,
                       held under a -1 dBTP true-peak ceiling)
  --true-peak DBTP     the true-peak ceiling for --loudness (default: -1)
  --regenerate IDS     regenerate these regions (comma-separated ids, e.g. rgn_drone_2) in the context of their
                       neighbours: each gets a new active take, every other region keeps its take; a region whose
                       neighbours have no kept latent (older takes) regenerates its whole run as before
  --strength S         with --regenerate: a variation of each region's take, in (0, 1] (0.3 stays close, 1 is a
                       fresh take; default 1)
  --resample-rounds N  with --regenerate and for missing regions generated next to kept ones: take each step N times
                       (RePaint resampling, 1 to 10; default 1), so the new content agrees better with the kept
                       neighbours at its edges; costs N× the denoising time
${deviceFlagsHelp(23)}
  --quiet              no progress lines
`;

/** `--regenerate rgn_a,rgn_b`: region ids, each checked for shape here and for existence by the render. */
function parseRegionIds(raw: string): RegionId[] {
  const ids = raw.split(',').map((id) => id.trim());
  const bad = ids.find((id) => !isId('rgn', id));
  if (bad !== undefined) throw new CliError(`--regenerate ${JSON.stringify(raw)} is not valid: ${JSON.stringify(bad)} is not a region id (rgn_…); list ids separated by commas, e.g. --regenerate rgn_drone_2`);
  return ids as RegionId[];
}

/** Runs the render command. */
export async function runRender(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: joinNegativeValues(argv),
      allowPositionals: true,
      options: {
        out: { type: 'string' },
        format: { type: 'string', default: 'wav24' },
        loudness: { type: 'string' },
        'true-peak': { type: 'string' },
        regenerate: { type: 'string' },
        strength: { type: 'string' },
        'resample-rounds': { type: 'string' },
        device: { type: 'string', default: 'auto' },
        precision: { type: 'string' },
        remeasure: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    throw new CliError(`${(e as Error).message}\n\n${HELP}`);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(`${HELP}\n${await providersHelp()}`);
    return 0;
  }
  const [projectDir, ...extra] = parsed.positionals;
  if (!projectDir || extra.length > 0) throw new CliError(`give exactly one project folder\n\n${HELP}`);
  if (!v.out) throw new CliError('--out is required (a folder for the exported files)');
  const format = parseChoice('format', v.format, EXPORT_FORMATS) ?? 'wav24';
  const target = parseNumber('loudness', v.loudness, { check: (n) => n < 0 && n > -70, expected: 'a loudness in LUFS between -70 and 0', example: '-14' });
  const ceiling = parseNumber('true-peak', v['true-peak'], { check: (n) => n <= 0, expected: 'a ceiling in dBTP ≤ 0', example: '-1' });
  if (ceiling !== undefined && target === undefined) throw new CliError('--true-peak applies with --loudness only');
  const device = parseChoice('device', v.device, DEVICES) ?? 'auto';
  const precision = precisionFor(device, parseChoice('precision', v.precision, PRECISIONS));
  const strength = parseLimited('strength', v.strength, LIMITS.strength);
  if (strength !== undefined && v.regenerate === undefined) throw new CliError('--strength applies with --regenerate only (it varies the regions named there)');
  const rounds = parseLimited('resample-rounds', v['resample-rounds'], LIMITS.resampleRounds);
  const outDir = v.out;
  let lastLine = '';
  const say = (line: string): void => {
    if (v.quiet || line === lastLine) return;
    lastLine = line;
    process.stderr.write(`${line}\n`);
  };
  const summary = await withSigintAbort((signal) =>
    renderProject({
      projectDir,
      outDir,
      format,
      loudness: target === undefined ? undefined : { targetLufs: target, truePeakDbtp: ceiling },
      device,
      ...(precision ? { precision } : {}),
      ...(v.remeasure ? { remeasure: true } : {}),
      ...(v.regenerate === undefined ? {} : { regenerate: parseRegionIds(v.regenerate) }),
      ...(strength === undefined ? {} : { strength }),
      ...(rounds === undefined ? {} : { resampleRounds: rounds }),
      signal,
      onGenerate: ({ piece, pieces, track, seconds, progress }) => {
        if (progress.window === undefined && progress.chunk === undefined) say(`generate ${piece}/${pieces} (${track}, ${seconds} s): ${progress.stage} ${progress.step}/${progress.steps}`);
      },
      onExport: (fraction, stage) => say(`export: ${stage} ${Math.round(fraction * 10) * 10} %`),
    }),
  );
  process.stdout.write(`${JSON.stringify({ ok: true, generatedPieces: summary.generatedPieces, newTakes: summary.newTakes, export: summary.export })}\n`);
  return 0;
}
