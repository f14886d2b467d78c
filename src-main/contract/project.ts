/**
 * The project document: what `project.json` in a project folder holds (ARCHITECTURE.md §5). Tracks are ordered;
 * regions are keyed by id and listed by their track; takes are immutable audio files under `takes/`. Times are
 * seconds. `parseProject` is the only way a document enters the program: shape (valibot), then the cross-field
 * rules (references, ordering, overlap), every problem reported with its dotted path (`regions.rgn_x.start`).
 */
import * as v from 'valibot';
import { limitSchema, LIMITS, MAX_PROMPT_CHARS, SAMPLERS, TILING_METHODS, type SamplerName, type TilingMethod } from './generation-settings.ts';
import { CodedError } from './errors.ts';

/** The `schemaVersion` this Tessera writes; older files are migrated by the host, newer ones are refused. */
export const CURRENT_PROJECT_SCHEMA_VERSION = 1;

// ─── ids ─────────────────────────────────────────────────────────────────────────────────────────────────────

/** Id of a track: `trk_` + 1–64 of [A-Za-z0-9_-]. */
export type TrackId = `trk_${string}`;
/** Id of a region: `rgn_` + 1–64 of [A-Za-z0-9_-]. */
export type RegionId = `rgn_${string}`;
/** Id of a take: `take_` + 1–64 of [A-Za-z0-9_-]. */
export type TakeId = `take_${string}`;
/** The prefixes of the three id kinds. */
export type IdPrefix = 'trk' | 'rgn' | 'take';
/** Makes a fresh opaque id for `prefix` (`trk_3f9a…`); injected so the contract holds no random source. */
export type NewId = (prefix: IdPrefix) => string;

const ID_BODY = '[A-Za-z0-9_-]{1,64}';
const ID_PATTERN: Record<IdPrefix, RegExp> = {
  trk: new RegExp(`^trk_${ID_BODY}$`),
  rgn: new RegExp(`^rgn_${ID_BODY}$`),
  take: new RegExp(`^take_${ID_BODY}$`),
};
const idRule = (prefix: IdPrefix): string => `must be an id "${prefix}_" followed by 1–64 letters, digits, "_" or "-"`;

/** True when `value` is a well-formed id of the given kind. */
export function isId<P extends IdPrefix>(prefix: P, value: unknown): value is `${P}_${string}` {
  return typeof value === 'string' && ID_PATTERN[prefix].test(value);
}

/** Calls the injected generator and checks what it returned, so a bad generator fails here and not on save. */
export function makeId<P extends IdPrefix>(prefix: P, newId: NewId): `${P}_${string}` {
  const id = newId(prefix);
  if (!isId(prefix, id)) throw new ProjectError('invalid-argument', `id generator returned '${id}': ${idRule(prefix)}`);
  return id;
}

const idSchema = <P extends IdPrefix>(prefix: P) =>
  v.custom<`${P}_${string}`>((x) => isId(prefix, x), idRule(prefix));
const TrackIdSchema = idSchema('trk');
const RegionIdSchema = idSchema('rgn');
const TakeIdSchema = idSchema('take');

// ─── the document types ──────────────────────────────────────────────────────────────────────────────────────

/** Any value JSON can hold (numbers finite). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

export type { SamplerName } from './generation-settings.ts';
/** Long-form methods (generation-settings.ts). */
export type LongformMethod = TilingMethod;

/** How a region is generated. Every field is explicit so a stored region reproduces without model defaults. */
export interface RegionGeneration {
  /** Model pack id (`sketch`). */
  model: string;
  /** Denoising steps, 1–1000. */
  steps: number;
  /** Classifier-free guidance scale, ≥ 0. */
  guidance: number;
  sampler: SamplerName;
  /** DDIM η, ≥ 0 (0 = deterministic). */
  eta: number;
  method: LongformMethod;
  /** Crossfade between adjacent regions of one piece, seconds ≥ 0. */
  transition: number;
}

/** One generated audio file of a region. Never rewritten; a new generation adds a take. */
export interface TakeRef {
  id: TakeId;
  /** Project-relative path under `takes/` (`takes/take_x.wav`). */
  file: string;
  /** When it was generated, ISO 8601. */
  createdAt: string;
  /** The seed actually used (also when the region's seed is random). */
  seed: number;
  /** The full generation request that produced it, as JSON. */
  parameters: { [key: string]: JsonValue };
  /** Length of the audio in seconds. */
  seconds: number;
  /** Sample rate of the file. */
  sampleRate: number;
  /** The final latent of the piece the take was cut from, and which of its frames the take covers (absent: older takes). */
  latent?: TakeLatent;
}

/**
 * A generated piece's final latent (before decoding), kept so its regions can be redone in context. One file per
 * piece, shared by the takes cut from it; written once, like the audio.
 */
export interface TakeLatent {
  /** `takes/<name>.npy`: float32 [C, T, Fq] in NumPy's .npy format. */
  file: string;
  /** The model (pack id and version) that made it: only that model can continue it. */
  model: string;
  modelVersion: string;
  /** Latent frames per second of audio. */
  framesPerSecond: number;
  /** The model's native window, frames: how much context a regeneration of a neighbour reads at most. */
  window: number;
  /** Where the piece's latent frame 0 lies on the timeline, seconds. */
  start: number;
  /** The latent's shape: channels C, frames T, bins Fq. */
  channels: number;
  frames: number;
  bins: number;
  /** Frames [from, to) of the piece this take's audio covers (audio seconds × frame rate: not whole numbers). */
  from: number;
  to: number;
}

/** A span of a track with its own prompt. */
export interface Region {
  id: RegionId;
  /** The track that lists this region in its `regionIds`. */
  trackId: TrackId;
  /** Seconds from the project start; `start < end`. */
  start: number;
  end: number;
  prompt: string;
  negativePrompt: string;
  /** Seed for the next take; null draws a fresh one per take. */
  seed: number | null;
  /** The user pinned `seed`: new takes reuse it (requires a seed). */
  lockedSeed?: boolean;
  generation: RegionGeneration;
  gainDb: number;
  /** Fade lengths in seconds; together at most the region's length. */
  fadeIn: number;
  fadeOut: number;
  /**
   * Seconds into the active take where the region's audio begins (absent = 0). Trimming the left edge or
   * splitting moves it, so the audio stays where it was on the timeline; a take shorter than offset + length
   * plays silence after its end.
   */
  takeOffset?: number;
  /** Oldest first. */
  takes: TakeRef[];
  /** The take that plays and exports; null until one is generated. */
  activeTakeId: TakeId | null;
}

/** A timeline lane with its mixer settings. */
export interface Track {
  id: TrackId;
  name: string;
  /** `#rrggbb`. */
  colour: string;
  volumeDb: number;
  /** −1 (left) … 1 (right), equal-power. */
  pan: number;
  mute: boolean;
  solo: boolean;
  /** Export this track as a stem. */
  stem: boolean;
  /** The regions on this track; each names this track in `trackId`. */
  regionIds: RegionId[];
}

/** Project-wide defaults. */
export interface ProjectSettings {
  /** Model for new regions. */
  defaultModel: string;
  /** Long-form method for new regions. */
  defaultMethod: LongformMethod;
  /** Transition for new regions, seconds. */
  defaultTransition: number;
}

/** The whole `project.json`. */
export interface ProjectDocument {
  schemaVersion: typeof CURRENT_PROJECT_SCHEMA_VERSION;
  name: string;
  /** Beats per minute, for the grid. */
  tempo: number;
  /** Export sample rate, Hz. */
  sampleRate: number;
  /** Top to bottom. */
  tracks: Track[];
  regions: Record<RegionId, Region>;
  settings: ProjectSettings;
  /** The app that created the project, `Tessera x.y[.z]`. */
  createdWith: string;
  /** When the project was created, ISO 8601. */
  createdAt: string;
}

// ─── the schema ──────────────────────────────────────────────────────────────────────────────────────────────

/** Longest timeline position accepted (24 h): far beyond any piece, small enough to catch unit mix-ups (ms). */
export const MAX_PROJECT_SECONDS = LIMITS.start.max;
const MAX_JSON_DEPTH = 64;
/** Values (counted as a tree) above which a document is refused before validation: bounds the schema's work. */
const MAX_JSON_NODES = 5_000_000;

const finite = v.pipe(v.number(), v.finite());
const time = v.pipe(finite, v.minValue(0), v.maxValue(MAX_PROJECT_SECONDS));
const decibels = v.pipe(finite, v.minValue(-120), v.maxValue(24));
const seed = limitSchema(LIMITS.seed);
const name = v.pipe(v.string(), v.minLength(1, 'must not be empty'), v.maxLength(256));
/** Longest prompt or negative prompt, in characters (far past what any model reads: AudioLDM 512 tokens). */
const text = v.pipe(v.string(), v.maxLength(MAX_PROMPT_CHARS, `must be at most ${MAX_PROMPT_CHARS} characters`));
const timestamp = v.pipe(v.string(), v.isoTimestamp('must be an ISO 8601 timestamp (2025-01-31T12:00:00.000Z)'));
const modelId = v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be a model pack id (lowercase, digits, ".", "_", "-")'));
const sampleRate = v.pipe(v.number(), v.integer(), v.minValue(8000), v.maxValue(384_000));
const samplerSchema = v.picklist(SAMPLERS);
const methodSchema = v.picklist(TILING_METHODS);
const takeFile = v.pipe(
  v.string(),
  v.regex(
    /^takes\/(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*$/,
    'must be a relative path under takes/ (names of letters, digits, ".", "_", "-", not starting with ".")',
  ),
  v.maxLength(512),
);

const JsonValueSchema: v.GenericSchema<JsonValue> = v.lazy(() =>
  v.union([v.null(), v.boolean(), finite, v.string(), v.array(JsonValueSchema), v.record(v.string(), JsonValueSchema)]),
);

const latentFile = v.pipe(v.string(), v.regex(/^takes\/[A-Za-z0-9_-][A-Za-z0-9._-]*\.npy$/, 'must be a .npy file under takes/ (letters, digits, ".", "_", "-")'));
const count = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(2 ** 31 - 1));

/** A take's latent reference as stored (cross-field rules are in `parseProject`). */
export const TakeLatentSchema: v.GenericSchema<unknown, TakeLatent> = v.strictObject({
  file: latentFile,
  model: modelId,
  modelVersion: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  framesPerSecond: v.pipe(finite, v.gtValue(0), v.maxValue(100_000)),
  window: count,
  start: time,
  channels: count,
  frames: count,
  bins: count,
  from: v.pipe(finite, v.minValue(0)),
  to: v.pipe(finite, v.minValue(0)),
});

/** A take as stored. */
export const TakeRefSchema: v.GenericSchema<unknown, TakeRef> = v.strictObject({
  id: TakeIdSchema,
  file: takeFile,
  createdAt: timestamp,
  seed,
  parameters: v.record(v.string(), JsonValueSchema),
  seconds: v.pipe(finite, v.gtValue(0)),
  sampleRate,
  latent: v.optional(TakeLatentSchema),
});

/** A region as stored (cross-field rules are in `parseProject`). */
export const ProjectRegionSchema: v.GenericSchema<unknown, Region> = v.strictObject({
  id: RegionIdSchema,
  trackId: TrackIdSchema,
  start: time,
  end: time,
  prompt: text,
  negativePrompt: text,
  seed: v.nullable(seed),
  lockedSeed: v.optional(v.boolean()),
  generation: v.strictObject({
    model: modelId,
    steps: limitSchema(LIMITS.steps),
    guidance: limitSchema(LIMITS.guidance),
    sampler: samplerSchema,
    eta: limitSchema(LIMITS.eta),
    method: methodSchema,
    transition: limitSchema(LIMITS.transition),
  }),
  gainDb: decibels,
  fadeIn: time,
  fadeOut: time,
  takeOffset: v.optional(time),
  takes: v.array(TakeRefSchema),
  activeTakeId: v.nullable(TakeIdSchema),
});

/** A track as stored. */
export const ProjectTrackSchema: v.GenericSchema<unknown, Track> = v.strictObject({
  id: TrackIdSchema,
  name,
  colour: v.pipe(v.string(), v.regex(/^#[0-9a-fA-F]{6}$/, 'must be a colour #rrggbb')),
  volumeDb: decibels,
  pan: v.pipe(finite, v.minValue(-1), v.maxValue(1)),
  mute: v.boolean(),
  solo: v.boolean(),
  stem: v.boolean(),
  regionIds: v.array(RegionIdSchema),
});

/** The shape of `project.json` (cross-field rules are in `parseProject`). */
export const ProjectDocumentSchema: v.GenericSchema<unknown, ProjectDocument> = v.strictObject({
  schemaVersion: v.literal(CURRENT_PROJECT_SCHEMA_VERSION, `must be ${CURRENT_PROJECT_SCHEMA_VERSION}`),
  name,
  tempo: v.pipe(finite, v.minValue(1), v.maxValue(999)),
  sampleRate,
  tracks: v.array(ProjectTrackSchema),
  regions: v.record(v.pipe(v.string(), v.regex(ID_PATTERN.rgn, `key ${idRule('rgn')}`)), ProjectRegionSchema),
  settings: v.strictObject({
    defaultModel: modelId,
    defaultMethod: methodSchema,
    defaultTransition: limitSchema(LIMITS.transition),
  }),
  createdWith: v.pipe(v.string(), v.regex(/^Tessera \d+\.\d+(?:\.\d+)?(?:[-+][0-9A-Za-z.+-]+)?$/, 'must be "Tessera x.y"')),
  createdAt: timestamp,
});

// ─── errors and parsing ──────────────────────────────────────────────────────────────────────────────────────

/** Why a project operation failed; an RPC layer maps these one to one onto coded results. */
export type ProjectErrorCode = 'invalid-argument' | 'not-found' | 'io-error' | 'locked' | 'future-version' | 'corrupt';

/** One problem in a document: dotted path (`regions.rgn_x.start`, `(root)`) and what is wrong. */
export interface ProjectIssue {
  path: string;
  message: string;
}

/** Raised by every project operation; `issues` lists each field problem when the document is at fault. */
export class ProjectError extends CodedError<ProjectErrorCode> {
  override name = 'ProjectError';
  constructor(code: ProjectErrorCode, message: string, issues: readonly ProjectIssue[] = [], options: { cause?: unknown } = {}) {
    super(code, message, { ...options, issues });
  }
}

/** The `schemaVersion` a JSON value claims, if it is an object with an integer one. */
export function readSchemaVersion(json: unknown): number | undefined {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return undefined;
  const version: unknown = Object.getOwnPropertyDescriptor(json, 'schemaVersion')?.value;
  return typeof version === 'number' && Number.isInteger(version) ? version : undefined;
}

/** The error for a document written by a newer Tessera. */
export function futureVersionError(where: string, version: number): ProjectError {
  return new ProjectError(
    'future-version',
    `${where} was made by a newer Tessera (schemaVersion ${version} > ${CURRENT_PROJECT_SCHEMA_VERSION}); update Tessera to open it.`,
  );
}

/**
 * Validates unknown JSON as a current-version project document: plain JSON only, then shape, then cross-field
 * rules. Returns a fresh object (never the input). Throws ProjectError (`code`, default `invalid-argument`) that
 * lists every problem by path; a newer `schemaVersion` throws `future-version`.
 */
export function parseProject(json: unknown, where: string, code: 'invalid-argument' | 'corrupt' = 'invalid-argument'): ProjectDocument {
  try {
    const version = readSchemaVersion(json);
    if (version !== undefined && version > CURRENT_PROJECT_SCHEMA_VERSION) throw futureVersionError(where, version);
    const plain = plainJsonIssues(json);
    if (plain.length > 0) throw documentError(code, where, plain);
    const result = v.safeParse(ProjectDocumentSchema, json);
    if (!result.success) {
      throw documentError(
        code,
        where,
        result.issues.map((issue) => ({ path: v.getDotPath(issue) ?? '(root)', message: describeIssue(issue) })),
      );
    }
    const crossIssues = crossFieldIssues(result.output);
    if (crossIssues.length > 0) throw documentError(code, where, crossIssues);
    return result.output;
  } catch (e) {
    if (e instanceof ProjectError) throw e;
    // NOTE: only reachable with exotic inputs from code (getters that throw, proxies); JSON never gets here.
    throw new ProjectError(code, `${where} could not be read as a project: ${String(e)}`, [], { cause: e });
  }
}

/** A new project: one empty track, default settings, `createdWith` naming the running app, ids from `newId`. */
export function createEmptyProject(
  projectName: string,
  now: Date,
  options: { newId: NewId; createdWith: string; defaultModel?: string; sampleRate?: number },
): ProjectDocument {
  const doc: ProjectDocument = {
    schemaVersion: CURRENT_PROJECT_SCHEMA_VERSION,
    name: projectName,
    tempo: 120,
    sampleRate: options.sampleRate ?? 48_000,
    tracks: [
      {
        id: makeId('trk', options.newId),
        name: 'Track 1',
        colour: '#4f8cc9',
        volumeDb: 0,
        pan: 0,
        mute: false,
        solo: false,
        stem: true,
        regionIds: [],
      },
    ],
    regions: {},
    settings: { defaultModel: options.defaultModel ?? 'sketch', defaultMethod: 'auto', defaultTransition: 2 },
    createdWith: options.createdWith,
    createdAt: now.toISOString(),
  };
  return parseProject(doc, `new project '${projectName}'`);
}

function documentError(code: ProjectErrorCode, where: string, issues: ProjectIssue[]): ProjectError {
  const shown = issues.slice(0, 50).map((i) => `  - ${i.path}: ${i.message}`);
  if (issues.length > shown.length) shown.push(`  … and ${issues.length - shown.length} more`);
  return new ProjectError(
    code,
    `${where} is not a valid Tessera project:\n${shown.join('\n')}\nFix the listed fields, or restore the file from a backup.`,
    issues,
  );
}

function describeIssue(issue: v.BaseIssue<unknown>): string {
  const got = issue.received === 'undefined' ? 'missing' : `got ${issue.received}`;
  return `${issue.message} (${got})`;
}

/**
 * Rejects what JSON cannot hold before the schema walks it: cycles, class instances, nesting past 64 levels, and
 * more than MAX_JSON_NODES values counted as a tree (shared subtrees from code count once per reference, which is
 * how the schema walks them). Each object is visited once, so this is linear in the objects of the input.
 */
function plainJsonIssues(root: unknown): ProjectIssue[] {
  const issues: ProjectIssue[] = [];
  const seen = new Map<object, { height: number; size: number }>();
  const onPath = new Set<object>();
  const failed = { height: MAX_JSON_DEPTH, size: MAX_JSON_NODES };
  const fail = (path: string, message: string): typeof failed => {
    issues.push({ path: path === '' ? '(root)' : path, message });
    return failed;
  };
  const visit = (value: unknown, path: string, depth: number): { height: number; size: number } => {
    if (value === null || typeof value !== 'object') return { height: 0, size: 1 };
    if (onPath.has(value)) return fail(path, 'refers to itself (a cycle); a project must be plain JSON');
    const known = seen.get(value);
    if (known !== undefined) return depth + known.height > MAX_JSON_DEPTH ? fail(path, 'is nested too deeply') : known;
    if (depth >= MAX_JSON_DEPTH) return fail(path, `is nested more than ${MAX_JSON_DEPTH} levels deep`);
    const proto: unknown = Object.getPrototypeOf(value);
    if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) {
      return fail(path, 'must be a plain JSON object (not a class instance such as a Date or Map)');
    }
    onPath.add(value);
    const result = { height: 0, size: 1 };
    for (const [key, child] of Object.entries(value)) {
      const sub = visit(child, path === '' ? key : `${path}.${key}`, depth + 1);
      result.height = Math.max(result.height, 1 + sub.height);
      result.size = Math.min(MAX_JSON_NODES, result.size + sub.size);
      if (issues.length > 0) break;
    }
    onPath.delete(value);
    seen.set(value, result);
    return result;
  };
  const total = visit(root, '', 0);
  if (issues.length === 0 && total.size >= MAX_JSON_NODES) {
    fail('', `holds ${MAX_JSON_NODES} values or more; a project is far smaller (shared objects count once per use)`);
  }
  return issues;
}

/** The rules one field's schema cannot see: references both ways, order, overlap, fades, takes. */
function crossFieldIssues(doc: ProjectDocument): ProjectIssue[] {
  const issues: ProjectIssue[] = [];
  const add = (path: string, message: string): void => void issues.push({ path, message });
  const trackIndex = new Map<TrackId, number>();
  doc.tracks.forEach((track, i) => {
    const first = trackIndex.get(track.id);
    if (first === undefined) trackIndex.set(track.id, i);
    else add(`tracks.${i}.id`, `'${track.id}' is already the id of tracks.${first}; track ids must be unique`);
  });

  const listedBy = new Map<RegionId, number>();
  doc.tracks.forEach((track, ti) => {
    track.regionIds.forEach((regionId, j) => {
      const path = `tracks.${ti}.regionIds.${j}`;
      const owner = listedBy.get(regionId);
      if (owner !== undefined) return add(path, `'${regionId}' is already listed by tracks.${owner}; a region is on one track once`);
      listedBy.set(regionId, ti);
      const region = Object.hasOwn(doc.regions, regionId) ? doc.regions[regionId] : undefined;
      if (region === undefined) return add(path, `'${regionId}' names no region in regions`);
      if (region.trackId !== track.id) {
        add(path, `region '${regionId}' has trackId '${region.trackId}', not this track's '${track.id}'`);
      }
    });
  });

  for (const [key, region] of Object.entries(doc.regions)) {
    const at = `regions.${key}`;
    if (region.id !== key) add(`${at}.id`, `must equal its key '${key}' (got '${region.id}')`);
    if (!(region.start < region.end)) add(`${at}.start`, `must be less than end (${region.end} s), got ${region.start} s`);
    else if (region.fadeIn + region.fadeOut > region.end - region.start) {
      add(`${at}.fadeOut`, `fadeIn + fadeOut (${region.fadeIn + region.fadeOut} s) exceeds the region's length (${region.end - region.start} s)`);
    }
    const ti = trackIndex.get(region.trackId);
    if (ti === undefined) add(`${at}.trackId`, `'${region.trackId}' names no track`);
    else if (!isId('rgn', key) || listedBy.get(key) !== ti) {
      add(`${at}.trackId`, `track '${region.trackId}' (tracks.${ti}) does not list this region in its regionIds`);
    }
    if (region.lockedSeed === true && region.seed === null) add(`${at}.lockedSeed`, 'a locked seed needs a seed (seed is null)');
    const takeIds = new Map<TakeId, number>();
    region.takes.forEach((take, k) => {
      const first = takeIds.get(take.id);
      if (first === undefined) takeIds.set(take.id, k);
      else add(`${at}.takes.${k}.id`, `'${take.id}' is already the id of takes.${first}; take ids must be unique in a region`);
      const latent = take.latent;
      if (latent !== undefined && !(latent.from < latent.to && latent.to <= latent.frames + 1e-6)) {
        add(`${at}.takes.${k}.latent`, `frames ${latent.from}–${latent.to} are not a span of the piece's ${latent.frames} latent frames`);
      }
    });
    if (region.activeTakeId !== null && !takeIds.has(region.activeTakeId)) {
      add(`${at}.activeTakeId`, `'${region.activeTakeId}' is none of this region's takes (${[...takeIds.keys()].join(', ') || 'none'})`);
    }
  }

  for (const track of doc.tracks) {
    const spans = track.regionIds
      .filter((id) => Object.hasOwn(doc.regions, id) && doc.regions[id].trackId === track.id && doc.regions[id].id === id)
      .map((id) => doc.regions[id])
      .filter((r) => r.start < r.end)
      .sort((a, b) => a.start - b.start || a.end - b.end);
    let reach: Region | undefined;
    for (const region of spans) {
      if (reach !== undefined && region.start < reach.end) {
        add(
          `regions.${region.id}.start`,
          `overlaps region '${reach.id}' (${reach.start}–${reach.end} s) on track '${track.id}'; regions on one track may touch, not overlap`,
        );
      }
      if (reach === undefined || region.end > reach.end) reach = region;
    }
  }
  return issues;
}
