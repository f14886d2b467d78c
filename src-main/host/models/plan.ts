/**
 * What an install of a catalog entry will fetch, checked before any byte is downloaded: the entry is a download
 * (hub or convert, not an export), its licence was accepted, every repo has a pinned commit, the id is free of
 * built-ins, and a draft manifest would validate once its hashes are known (so a pack this Tessera cannot load is
 * refused up front). A convert entry's manifest is written by its converter after the download.
 */
import { downloadName, type CatalogEntry, type ConvertSource } from '../../contract/catalog.ts';
import { ManifestError, manifestFiles, parseManifest, withFileHashes } from '../../contract/manifest.ts';
import { BUILTIN_PACKS } from '../packs/builtin.ts';
import { isUnpinned } from './catalog.ts';
import { ModelsError } from './errors.ts';

/** One file of the plan. */
export interface PlannedFile {
  repo: string;
  /** The pinned commit (or the override). */
  revision: string;
  /** Path in the repo. */
  path: string;
  /** Name in the download folder: the pack file's name (hub), or the repo path (convert). */
  name: string;
  /** Paths tried in order when the hub has no `path` (convert sources: a `.bin` for a `.safetensors`). */
  alternatives?: string[];
  catalogBytes?: number;
  catalogSha256?: string;
}

/** The checked plan of an install. */
export interface InstallPlan {
  entry: CatalogEntry;
  files: PlannedFile[];
  /**
   * The draft manifest to complete, `included` when manifest.json is one of the files, or `converted` when the
   * converter writes it (then `convert` says which converter).
   */
  manifest: 'included' | 'converted' | Record<string, unknown>;
  /** Convert entries: the converter to run on the downloaded checkpoint folder. */
  convert?: Pick<ConvertSource, 'converter' | 'heads'>;
}

const COMMIT = /^[0-9a-f]{40}$/;

/** Checks an entry and resolves its revisions; throws a ModelsError that says what to do otherwise. */
export function planInstall(entry: CatalogEntry, options: { acceptLicence: boolean; revisions?: Record<string, string> }): InstallPlan {
  if (entry.source.kind === 'export') {
    const s = entry.source;
    throw new ModelsError(
      'invalid-argument',
      `'${entry.id}' has no ready-made download: it is exported from ${s.from.repo} with ${s.tool} on your machine, then imported:\n` +
        `  1. ${s.command.replace('DIR', `<folder>/${entry.id}`)}\n  2. npm run models -- import <folder>/${entry.id}\n` +
        `Licence: ${entry.licence.name} (${entry.licence.url}).`,
    );
  }
  if (!options.acceptLicence) {
    throw new ModelsError('invalid-argument', `The licence of '${entry.id}' (${entry.licence.name}, ${entry.licence.url}) has not been accepted: read it, then accept it (CLI: --accept-licence).`);
  }
  if (entry.id in BUILTIN_PACKS) throw new ModelsError('invalid-argument', `'${entry.id}' is the id of a built-in model; a catalog entry cannot use it.`);
  const source = entry.source;
  if (source.kind === 'hub' && entry.manifest === undefined) throw new ModelsError('invalid-argument', `catalog entry '${entry.id}' says neither "manifest": "included" nor gives a draft manifest.`);

  const overrides = options.revisions ?? {};
  for (const [repo, commit] of Object.entries(overrides)) {
    if (!source.repos.some((p) => p.repo === repo)) {
      throw new ModelsError('invalid-argument', `--revision ${repo}=…: '${entry.id}' downloads nothing from ${repo}; its repos are ${source.repos.map((p) => p.repo).join(', ')}.`);
    }
    if (!COMMIT.test(commit)) throw new ModelsError('invalid-argument', `--revision ${repo}=${commit}: expected a full 40-hex-digit commit hash (pin a commit, not a branch).`);
  }
  const unpinned = source.repos.filter((p) => overrides[p.repo] === undefined && isUnpinned(p.revision));
  if (unpinned.length > 0) {
    throw new ModelsError(
      'invalid-argument',
      `The catalog pins no commit for ${unpinned.map((p) => `${p.repo} (${p.revision})`).join(' and ')}, so '${entry.id}' cannot be downloaded reproducibly yet. ` +
        `Look up the commit in the repo's history on the hub, then enter it in the Models view's download dialog, or pass ${unpinned.map((p) => `--revision ${p.repo}=<40-hex commit>`).join(' ')} on the command line` +
        `${unpinned.some((p) => p.candidate) ? ` (a candidate seen in public ports, unchecked: ${unpinned.flatMap((p) => (p.candidate ? [`${p.repo}=${p.candidate}`] : [])).join(', ')})` : ''}.`,
    );
  }
  const files: PlannedFile[] = source.repos.flatMap((part) =>
    part.files.map((f) => ({
      repo: part.repo,
      revision: overrides[part.repo] ?? part.revision,
      path: f.path,
      name: downloadName(source, f.path),
      ...(f.alternatives === undefined ? {} : { alternatives: [...f.alternatives] }),
      ...(f.bytes === undefined ? {} : { catalogBytes: f.bytes }),
      ...(f.sha256 === undefined ? {} : { catalogSha256: f.sha256 }),
    })),
  );
  if (source.kind === 'convert') return { entry, files, manifest: 'converted', convert: { converter: source.converter, ...(source.heads ? { heads: source.heads } : {}) } };
  const manifest = entry.manifest ?? 'included';
  if (manifest !== 'included') checkManifest(entry.id, completeManifest(manifest, new Map(files.map((f) => [f.name, '0'.repeat(64)]))), files, 'its draft manifest');
  return { entry, files, manifest };
}

/**
 * Copies a draft manifest with `sha256` set on every object that has a `file` naming a downloaded file.
 * Throws when a `file` names something the entry does not download.
 */
export function completeManifest(draft: Record<string, unknown>, hashes: ReadonlyMap<string, string>): Record<string, unknown> {
  return withFileHashes(draft, (file, path) => {
    const hash = hashes.get(file);
    if (hash === undefined) throw new ModelsError('invalid-argument', `the draft manifest's ${path}.file '${file}' is not one of the files the entry downloads.`);
    return hash;
  }) as Record<string, unknown>;
}

/** Validates a manifest for the entry: loadable by this Tessera, same id, every listed file downloaded. */
export function checkManifest(id: string, json: unknown, files: readonly PlannedFile[], what: string): ReturnType<typeof parseManifest> {
  let manifest;
  try {
    manifest = parseManifest(json, `'${id}' ${what}`);
  } catch (e) {
    if (!(e instanceof ManifestError)) throw e;
    const family = typeof json === 'object' && json !== null && 'family' in json ? String(json.family) : 'unknown';
    throw new ModelsError('model-error', `${e.message}\nThis Tessera cannot load the '${family}' pack that '${id}' describes; nothing was installed (a newer Tessera, or a corrected catalog entry, is needed).`);
  }
  if (manifest.id !== id) throw new ModelsError('model-error', `'${id}' ${what} has id '${manifest.id}'; the catalog id and the manifest id must be the same.`);
  const names = new Set(files.map((f) => f.name));
  const listed = manifestFiles(manifest).map((f) => f.file);
  const missing = listed.filter((n) => !names.has(n));
  if (missing.length > 0) throw new ModelsError('model-error', `'${id}' ${what} lists ${missing.join(', ')}, which the catalog entry does not download.`);
  return manifest;
}
