/**
 * The model catalog (`resources/models/catalog.json`): packs Tessera knows how to get, where they come from, how
 * big they are and under which licence. Validated with valibot when it is loaded; docs/MODELS.md explains each field.
 */
import * as v from 'valibot';
import { CodedError } from './errors.ts';

/** Current catalog schema version. */
export const CATALOG_SCHEMA_VERSION = 1;

/** Model families a catalog entry may name (the manifest schema decides what actually loads). */
export const CATALOG_FAMILIES = ['audioldm', 'stable-audio-3'] as const;

/** Marks a revision that still needs a real commit hash: `UNPINNED` or `UNPINNED:<what is known>`. */
export const UNPINNED_PREFIX = 'UNPINNED';

const nonNegativeInt = v.pipe(v.number(), v.integer(), v.minValue(0));
const sha256 = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits (sha256)'));
const text = v.pipe(v.string(), v.minLength(1));
const packId = v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lowercase letters, digits, ".", "_" or "-"'));
const repoId = v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a Hugging Face repo id, "owner/name"'));
const revision = v.pipe(
  v.string(),
  v.regex(/^(?:[0-9a-f]{40}|UNPINNED(?::[\w.-]+)?)$/, 'must be a 40-hex-digit commit hash, or "UNPINNED[:note]" while no commit is pinned'),
);
/** A path inside a repo: `/`-separated plain segments, no `.`/`..`, no leading slash. */
const repoPath = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]*(?:\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/, 'must be a relative path of plain names separated by "/"'),
);

/** One file to fetch; it lands in the pack folder under its base name. */
export const RepoFileSchema = v.strictObject({
  path: repoPath,
  /** Size in bytes, when known; checked against the hub's declared size before downloading. */
  bytes: v.optional(nonNegativeInt),
  /** Pinned sha256, when known; must equal the hub's LFS hash and the downloaded bytes. */
  sha256: v.optional(sha256),
  /**
   * Other paths that hold the same content in another format (a `.bin` for a `.safetensors`), tried in order when
   * the hub has no `path`: a converter reads either. Only in `convert` sources; `bytes`/`sha256` pin `path` alone.
   */
  alternatives: v.optional(v.pipe(v.array(repoPath), v.minLength(1))),
});

/** A full commit hash. */
export const commitSchema = v.pipe(v.string(), v.regex(/^[0-9a-f]{40}$/, 'must be a full 40-hex-digit commit hash'));

/** Files from one Hugging Face repo at one revision. */
export const RepoPartSchema = v.strictObject({
  repo: repoId,
  revision,
  /**
   * For an UNPINNED revision: a commit seen elsewhere (e.g. in public ports) that the maintainers could not check;
   * offered to the user as a suggestion when they enter the revision, never used on its own.
   */
  candidate: v.optional(commitSchema),
  files: v.pipe(v.array(RepoFileSchema), v.minLength(1)),
});

/** Downloaded from the hub (one or more repos: an add-on may reuse another bundle's files). */
export const HubSourceSchema = v.strictObject({
  kind: v.literal('hub'),
  repos: v.pipe(v.array(RepoPartSchema), v.minLength(1)),
});

/** Converters Tessera runs on the user's machine, by the checkpoint layout they read. */
export const CONVERTERS = ['diffusers-audioldm'] as const;

/**
 * A checkpoint downloaded from the hub (resumable, verified like a hub source) and converted into a pack on the
 * user's machine by a Tessera converter: `diffusers-audioldm` reads a diffusers AudioLDM folder. Files keep their
 * repo paths in the download folder (a diffusers folder has one `config.json` per component); the converter writes
 * the pack, its manifest included.
 */
export const ConvertSourceSchema = v.strictObject({
  kind: v.literal('convert'),
  converter: v.picklist(CONVERTERS),
  /** The UNet's attention head split: `original` (default, the original AudioLDM's) or `config` (diffusers'). */
  heads: v.optional(v.picklist(['original', 'config'])),
  /** The one repo holding the checkpoint folder. */
  repos: v.pipe(v.array(RepoPartSchema), v.length(1, 'a convert source reads one checkpoint folder: give exactly one repo')),
});

/** Produced on the user's machine by an exporter in `tools/`, then imported (`npm run models -- import DIR`). */
export const ExportSourceSchema = v.strictObject({
  kind: v.literal('export'),
  /** The exporter, relative to the repository root. */
  tool: text,
  /** The upstream weights the exporter reads. */
  from: v.strictObject({ repo: repoId, revision }),
  /** The command to run, as shown to the user. */
  command: text,
});

/** What a licence lets the user do with the weights and what they generate. */
export const LicenceSchema = v.strictObject({
  name: text,
  url: v.pipe(v.string(), v.url()),
  /** A short plain-language summary; the licence at `url` is what binds. */
  text: text,
  /** `yes`, `no` (non-commercial only) or `limited` (conditions in `conditions`). */
  commercialUse: v.picklist(['yes', 'no', 'limited']),
  /** Conditions a user must know before accepting, one sentence each. */
  conditions: v.array(text),
  /** Further licences that apply to parts of the pack (e.g. the Gemma terms for T5Gemma). */
  also: v.optional(v.array(v.strictObject({ name: text, url: v.pipe(v.string(), v.url()) }))),
});

/**
 * How the installed folder gets its Tessera `manifest.json`: `included` (one of the files is `manifest.json`), or a
 * draft manifest (any family) whose `{ file }` entries get the sha256 of the verified download filled in.
 */
export const PackManifestSourceSchema = v.union([v.literal('included'), v.record(v.string(), v.unknown())]);

/** One catalog entry. */
export const CatalogEntrySchema = v.strictObject({
  /** The pack id once installed (`--model <id>`); must equal the manifest's id. */
  id: packId,
  name: text,
  family: v.picklist(CATALOG_FAMILIES),
  description: v.string(),
  /** Bytes to download (hub, convert) or of the exported pack (export); `estimate` when not every size is known. */
  size: v.strictObject({ bytes: nonNegativeInt, estimate: v.boolean() }),
  licence: LicenceSchema,
  source: v.variant('kind', [HubSourceSchema, ConvertSourceSchema, ExportSourceSchema]),
  /** Required for hub sources; convert and export sources have none (the converter or exporter writes it). */
  manifest: v.optional(PackManifestSourceSchema),
  /** Maintainer notes (why a revision is unpinned, what to verify). */
  notes: v.optional(v.array(v.string())),
});

/** The catalog file. */
export const CatalogSchema = v.pipe(
  v.strictObject({
    schemaVersion: v.literal(CATALOG_SCHEMA_VERSION),
    entries: v.array(CatalogEntrySchema),
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const seen = new Set<string>();
    dataset.value.entries.forEach((entry, i) => {
      const at = (message: string): void => addIssue({ message: `entries.${i} (${entry.id}): ${message}` });
      if (seen.has(entry.id)) at('duplicate id');
      seen.add(entry.id);
      for (const problem of entryProblems(entry)) at(problem);
    });
  }),
);

/** A validated catalog. */
export type Catalog = v.InferOutput<typeof CatalogSchema>;
/** A validated catalog entry. */
export type CatalogEntry = v.InferOutput<typeof CatalogEntrySchema>;
/** A hub entry's source. */
export type HubSource = v.InferOutput<typeof HubSourceSchema>;
/** A convert entry's source. */
export type ConvertSource = v.InferOutput<typeof ConvertSourceSchema>;
/** A source whose files are downloaded from the hub (hub and convert entries). */
export type DownloadSource = HubSource | ConvertSource;
/** One repo and revision of a hub source. */
export type RepoPart = v.InferOutput<typeof RepoPartSchema>;
/** One file of a repo part. */
export type RepoFile = v.InferOutput<typeof RepoFileSchema>;
/** A catalog licence. */
export type CatalogLicence = v.InferOutput<typeof LicenceSchema>;

/** The name a repo file gets in the pack folder (its base name; ONNX external data keeps its relative location). */
export function packFileName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** True for entries whose files come from the hub (hub and convert sources); export entries are made by a tool. */
export function isDownloadSource(source: CatalogEntry['source']): source is DownloadSource {
  return source.kind !== 'export';
}

/**
 * Where a downloaded file is kept: a hub entry's files land in the pack folder under their base name; a convert
 * entry's keep their repo path in the download folder, which the converter reads as the checkpoint.
 */
export function downloadName(source: DownloadSource, path: string): string {
  return source.kind === 'convert' ? path : packFileName(path);
}

/** Cross-field rules of one entry, as messages (empty when it is consistent). */
export function entryProblems(entry: CatalogEntry): string[] {
  const problems: string[] = [];
  if (entry.source.kind === 'export') {
    if (entry.manifest !== undefined) problems.push('an export entry has no manifest: the exporter writes it');
    return problems;
  }
  const source = entry.source;
  const convert = source.kind === 'convert';
  if (convert && entry.manifest !== undefined) problems.push('a convert entry has no manifest: the converter writes it');
  if (!convert && entry.manifest === undefined) problems.push('a hub entry needs "manifest": "included" or a draft manifest');
  for (const part of source.repos) {
    if (part.candidate !== undefined && !part.revision.startsWith(UNPINNED_PREFIX)) problems.push(`${part.repo}: a candidate commit is only for an UNPINNED revision`);
  }
  const names = new Map<string, string>();
  let total = 0;
  let allSized = true;
  for (const part of source.repos) {
    for (const file of part.files) {
      if (file.alternatives !== undefined && !convert) problems.push(`${part.repo}/${file.path}: "alternatives" are only for convert sources (a pack file has one name)`);
      for (const path of [file.path, ...(file.alternatives ?? [])]) {
        const name = downloadName(source, path);
        const other = names.get(name);
        if (other !== undefined) problems.push(`${part.repo}/${path} and ${other} would both be saved as '${name}'`);
        names.set(name, `${part.repo}/${path}`);
      }
      if (file.bytes === undefined) allSized = false;
      else total += file.bytes;
    }
  }
  if (source.kind === 'convert' && source.converter === 'diffusers-audioldm' && !names.has('model_index.json')) {
    problems.push('a diffusers-audioldm source must download model_index.json (the converter recognises the folder by it)');
  }
  const hasManifestFile = names.has('manifest.json');
  if (entry.manifest === 'included' && !hasManifestFile) problems.push('"manifest": "included" but no file is named manifest.json');
  if (typeof entry.manifest === 'object' && hasManifestFile) problems.push('a draft manifest and a downloaded manifest.json cannot both be given');
  if (allSized && !entry.size.estimate && total !== entry.size.bytes) {
    problems.push(`size.bytes ${entry.size.bytes} is not the sum of the file sizes (${total}); fix it or mark it as an estimate`);
  }
  if (!allSized && !entry.size.estimate) problems.push('some file sizes are unknown, so size.estimate must be true');
  return problems;
}

/** Raised when a catalog fails validation; the message lists every problem with its path. */
export class CatalogError extends CodedError<'invalid-argument'> {
  override name = 'CatalogError';
  constructor(message: string) {
    super('invalid-argument', message);
  }
}

/** Validates unknown JSON as a catalog. */
export function parseCatalog(json: unknown, where: string): Catalog {
  const result = v.safeParse(CatalogSchema, json);
  if (result.success) return result.output;
  const problems = result.issues.map((issue) => {
    const path = v.getDotPath(issue);
    return `  - ${path ? `${path}: ` : ''}${issue.message}`;
  });
  throw new CatalogError(`${where} is not a valid Tessera model catalog:\n${problems.join('\n')}\nFix the listed fields (docs/MODELS.md describes them).`);
}
