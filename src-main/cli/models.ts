/** `npm run models -- list | install <id> | import <dir> | remove <id>`: the model manager from the command line. */
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { findEntry, formatLicence } from '../host/models/catalog.ts';
import { ModelsError } from '../host/models/errors.ts';
import { isDiffusersImport, ModelManager, type ModelListEntry } from '../host/models/manager.ts';
import type { ImportResult } from '../host/models/import.ts';
import type { InstallProgress } from '../host/models/progress.ts';
import type { DiskUsage } from '../host/models/store.ts';
import { CliError, parseNumber, withSigintAbort } from './args.ts';

export const MODELS_HELP = `usage: npm run models -- list [--json]
       npm run models -- install ID --accept-licence [--revision REPO=COMMIT]… [--retries N] [--quiet]
       npm run models -- import DIR [--replace] [--id ID] [--heads original|config] [--fp16] [--quiet]
       npm run models -- remove ID

  list                 built-in models, the catalog (size, licence, installed / partial / available / export)
                       and installed packs, with the disk use of the models folder
  install ID           download a catalog model: resumes partial downloads, verifies every file's sha256 (or git
                       blob id) against the hub, validates the pack, then installs it in one step. Without
                       --accept-licence it prints the licence and installs nothing.
  import DIR           install a pack folder (e.g. from tools/export-audioldm), validated like any pack; or convert
                       a diffusers AudioLDM folder (one with model_index.json, e.g. a hub download of
                       cvssp/audioldm-s-full-v2) into a pack and install that
  remove ID            delete an installed pack and any partial download of it

  --accept-licence     accept the model's licence (shown by install without this flag)
  --revision REPO=SHA  the 40-hex commit to download from REPO when the catalog has none pinned (or to override it);
                       a bare SHA applies when the model comes from one repo
  --retries N          retries per file after a dropped connection (default 5)
  --replace            import over an installed pack with the same id
  --id ID              the id of a pack converted from a diffusers folder (default: from the folder's name)
  --heads MODE         a diffusers folder's UNet attention heads: original (default, as the original AudioLDM)
                       or config (as diffusers reads attention_head_dim)
  --fp16               a diffusers folder's UNet in float16 (GroupNorm, LayerNorm, Softmax and the timestep embedding
                       stay float32, as tools/export-audioldm --fp16): about half the UNet's size
  --catalog FILE       use this catalog instead of resources/models/catalog.json (also: TESSERA_CATALOG)
  --json               list as JSON
  --quiet              no progress bar
  --help               this text

Environment: TESSERA_MODELS_DIR (models folder; default <cache>/models, beside the built-in packs),
TESSERA_HUB_URL (hub or mirror; default https://huggingface.co), TESSERA_CATALOG. Installed models are used with
\`npm run generate -- --model ID\`. See docs/MODELS.md.
`;

/** Runs the models command; returns the exit status. */
export async function runModels(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: true,
      options: {
        'accept-licence': { type: 'boolean', default: false },
        revision: { type: 'string', multiple: true },
        retries: { type: 'string' },
        replace: { type: 'boolean', default: false },
        id: { type: 'string' },
        heads: { type: 'string' },
        fp16: { type: 'boolean', default: false },
        catalog: { type: 'string' },
        json: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    throw new CliError(`${(e as Error).message}\n\n${MODELS_HELP}`);
  }
  const { values: v, positionals } = parsed;
  const [sub, arg, ...extra] = positionals;
  if (v.help || sub === undefined) {
    process.stdout.write(MODELS_HELP);
    return sub === undefined && !v.help ? 2 : 0;
  }
  if (extra.length > 0) throw new CliError(`unexpected arguments: ${extra.join(' ')}\n\n${MODELS_HELP}`);
  const retries = parseNumber('retries', v.retries, { check: (n) => Number.isInteger(n) && n >= 0 && n <= 100, expected: 'a whole number from 0 to 100', example: '5' });
  const manager = new ModelManager({ ...(v.catalog ? { catalogPath: v.catalog } : {}), ...(retries === undefined ? {} : { retries }) });
  try {
    switch (sub) {
      case 'list':
        if (arg !== undefined) throw new CliError(`list takes no argument (got '${arg}')`);
        return await list(manager, v.json);
      case 'install':
        if (arg === undefined) throw new CliError('install needs a model id: npm run models -- install ID (ids: npm run models -- list)');
        return await install(manager, arg, { accept: v['accept-licence'], revisions: v.revision ?? [], quiet: v.quiet });
      case 'import': {
        if (arg === undefined) throw new CliError('import needs a pack folder: npm run models -- import DIR');
        if (v.heads !== undefined && v.heads !== 'original' && v.heads !== 'config') throw new CliError(`--heads ${v.heads}: use original or config`);
        const diffusers = await isDiffusersImport(arg);
        if (!diffusers && (v.fp16 || v.id !== undefined || v.heads !== undefined)) {
          throw new CliError(`--fp16, --id and --heads apply to a diffusers folder (one with model_index.json); ${arg} is a pack folder, imported as it is`);
        }
        const r = diffusers
          ? await importDiffusers(manager, arg, { replace: v.replace, quiet: v.quiet, unetFp16: v.fp16, ...(v.id === undefined ? {} : { id: v.id }), ...(v.heads === undefined ? {} : { heads: v.heads }) })
          : await manager.import(arg, { replace: v.replace });
        process.stdout.write(`${JSON.stringify({ ok: true, id: r.id, dir: r.dir, bytes: r.bytes, replaced: r.replaced })}\n`);
        return 0;
      }
      case 'remove': {
        if (arg === undefined) throw new CliError('remove needs a model id: npm run models -- remove ID');
        const r = await manager.remove(arg);
        process.stdout.write(`${JSON.stringify({ ok: true, ...r })}\n`);
        return 0;
      }
      default:
        throw new CliError(`unknown models command '${sub}'\n\n${MODELS_HELP}`);
    }
  } catch (e) {
    if (e instanceof ModelsError && e.code === 'cancelled') {
      process.stderr.write(`\n${e.message}\n`);
      return 130;
    }
    throw e;
  }
}

async function install(manager: ModelManager, id: string, o: { accept: boolean; revisions: string[]; quiet: boolean }): Promise<number> {
  const entry = findEntry(await manager.getCatalog(), id);
  const revisions: Record<string, string> = {};
  for (const raw of o.revisions) {
    const eq = raw.indexOf('=');
    if (eq >= 0) revisions[raw.slice(0, eq)] = raw.slice(eq + 1);
    else if (entry.source.kind !== 'export' && entry.source.repos.length === 1) revisions[entry.source.repos[0].repo] = raw;
    else throw new CliError(`--revision ${raw}: '${id}' comes from several repos; write --revision REPO=COMMIT`);
  }
  if (entry.source.kind !== 'export' && !o.accept) {
    process.stdout.write(formatLicence(entry));
    throw new ModelsError('invalid-argument', `licence not accepted: '${id}' is installed only after you accept the ${entry.licence.name}. Read it above (and at ${entry.licence.url}), then run again with --accept-licence:\n  npm run models -- install ${id} --accept-licence`);
  }
  const bar = !o.quiet && process.stderr.isTTY ? progressBar() : undefined;
  let announced = false;
  const onProgress = (p: InstallProgress): void => {
    if (!announced) process.stderr.write(`Licence accepted: ${entry.licence.name} (${entry.licence.url})\n`);
    announced = true;
    bar?.update(p);
  };
  try {
    const r = await withSigintAbort((signal) => manager.install(id, { acceptLicence: o.accept, revisions, signal, onProgress }));
    bar?.stop();
    process.stdout.write(`${JSON.stringify({ ok: true, id: r.id, dir: r.dir, bytes: r.bytes, downloadedBytes: r.downloadedBytes, resumedBytes: r.resumedBytes, reusedFiles: r.reusedFiles, restarts: r.restarts })}\n`);
    return 0;
  } finally {
    bar?.stop();
  }
}

/** Converts and installs a diffusers folder with a progress bar over the weights read; Ctrl-C cancels. */
async function importDiffusers(manager: ModelManager, dir: string, o: { replace: boolean; quiet: boolean; id?: string; heads?: 'original' | 'config'; unetFp16: boolean }): Promise<ImportResult> {
  const bar = !o.quiet && process.stderr.isTTY ? progressBar() : undefined;
  try {
    return await withSigintAbort((signal) =>
      manager.import(dir, {
        replace: o.replace,
        signal,
        ...(o.id === undefined ? {} : { id: o.id }),
        ...(o.heads === undefined ? {} : { heads: o.heads }),
        ...(o.unetFp16 ? { unetFp16: true } : {}),
        onProgress: (p) => bar?.update(p),
      }),
    );
  } finally {
    bar?.stop();
  }
}

async function list(manager: ModelManager, json: boolean): Promise<number> {
  const { models, disk } = await manager.list();
  if (json) {
    process.stdout.write(`${JSON.stringify({ models, disk })}\n`);
    return 0;
  }
  process.stdout.write(formatList(models, disk));
  return 0;
}

/** The model list as an aligned table plus a disk-use line. */
export function formatList(models: ModelListEntry[], disk: DiskUsage): string {
  const rows = models.map((m) => [
    m.id,
    m.status,
    m.family,
    m.sizeBytes === null ? '-' : `${m.sizeIsEstimate ? '~' : ''}${formatBytes(m.sizeBytes)}`,
    m.status === 'partial' ? `${formatBytes(m.diskBytes)} downloaded` : m.diskBytes > 0 ? formatBytes(m.diskBytes) : '-',
    `${m.licence.name}${m.licence.commercialUse === 'no' ? ' (non-commercial)' : m.licence.commercialUse === 'limited' ? ' (commercial use limited)' : ''}`,
  ]);
  const head = ['ID', 'STATUS', 'FAMILY', 'SIZE', 'ON DISK', 'LICENCE'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ');
  const problems = models.filter((m) => m.problem).map((m) => `  ${m.id}: ${m.problem ?? ''}\n`);
  const partial = disk.partial.reduce((s, p) => s + p.bytes, 0);
  const summary =
    `\nModels folder ${disk.modelsDir}: ${formatBytes(disk.totalBytes - partial)} installed, ${formatBytes(partial)} in partial downloads` +
    `${disk.freeBytes === undefined ? '' : `, ${formatBytes(disk.freeBytes)} free`}.\n`;
  return `${[line(head), ...rows.map(line)].join('\n')}\n${problems.length ? `\nProblems:\n${problems.join('')}` : ''}${summary}`;
}

/** 1536 → "1.5 KB" (powers of 1000, as download sizes are quoted). */
export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(value >= 100 ? 0 : 1)} ${units[unit]}`;
}

/** A terminal progress bar over the pack's bytes, with the current file, speed and ETA; stderr, TTY only. */
function progressBar(): { update(p: InstallProgress): void; stop(): void } {
  const bar = new cliProgress.SingleBar(
    { format: ' {phase} {file} |{bar}| {done} / {size} | {speed}/s | ETA {eta_s}', stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let stopped = false;
  return {
    update(p) {
      const total = p.bytesTotal ?? Math.max(p.bytesDone, 1);
      const payload = {
        phase: p.phase.padEnd(8),
        file: p.file.length > 28 ? `…${p.file.slice(-27)}` : p.file.padEnd(28),
        done: formatBytes(p.bytesDone),
        size: p.bytesTotal === null ? '?' : formatBytes(p.bytesTotal),
        speed: formatBytes(Math.round(p.bytesPerSecond)),
        eta_s: p.etaSeconds === null ? '?' : `${Math.round(p.etaSeconds)}s`,
      };
      if (!started) {
        bar.start(total, p.bytesDone, payload);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(p.bytesDone, payload);
      }
    },
    stop() {
      if (started && !stopped) bar.stop();
      stopped = true;
    },
  };
}
