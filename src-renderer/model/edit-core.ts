/**
 * What every edit shares: the `Edit` record (next document + immer patches both ways), `EditError`, lookups that
 * refuse unknown ids, value checks whose messages name the value, and the timing rules (minimum length, the
 * tolerance under which two edges are one, fades that fit). The edits themselves live in track-edits.ts,
 * region-edits.ts and region-fields.ts; import them all from edits.ts.
 */
import { enablePatches, produceWithPatches, type Draft, type Patch } from 'immer';
import { withinLimit, type NumberLimit } from '../../src-main/contract/generation-settings.ts';
import {
  MAX_PROJECT_SECONDS,
  isId,
  type IdPrefix,
  type NewId,
  type ProjectDocument,
  type Region,
  type RegionId,
  type Track,
  type TrackId,
} from '../../src-main/contract/project.ts';

// Once per module graph: immer's patch support is a plugin.
enablePatches();

/** One project edit: what the Edit menu calls it, the resulting document and the patches to replay or revert it. */
export interface Edit {
  /** Shown as "Undo <label>". */
  label: string;
  /** The new document (frozen by immer: never mutate it, derive the next one with another edit). */
  document: ProjectDocument;
  patches: Patch[];
  inversePatches: Patch[];
  /** Ids this edit created (new track, region, split part, duplicates), in order, e.g. to select them. */
  createdIds?: readonly string[];
}

/** An edit that cannot be made (unknown id, overlap, value out of range); the message says what to do instead. */
export class EditError extends Error {
  override name = 'EditError';
}

/** The shortest region a trim leaves: below this a region cannot be grabbed or heard. */
export const MIN_REGION_SECONDS = 0.05;
/**
 * Edges closer than this (1 µs, under one sample at 384 kHz) are one edge: `start + delta` in floating point can land
 * a hair inside a neighbour the user snapped to, and that must touch, not be refused.
 */
export const TOUCH_EPSILON = 1e-6;
/** The latest time a region may reach. */
export const MAX_SECONDS = MAX_PROJECT_SECONDS;

/** Runs `recipe` on a draft of `doc` and packages the result as an Edit. */
export function makeEdit(
  doc: ProjectDocument,
  label: string,
  recipe: (draft: Draft<ProjectDocument>) => void,
  createdIds?: readonly string[],
): Edit {
  const [document, patches, inversePatches] = produceWithPatches(doc, recipe);
  const edit: Edit = { label, document, patches, inversePatches };
  if (createdIds !== undefined) edit.createdIds = createdIds;
  return edit;
}

/**
 * The Edit that turns `doc` into `next`, a document built outside immer from `doc` (by a contract function shared
 * with the host, such as `applyTakes`). Only what differs is written, field by field down to arrays, so the patches
 * are as small as a recipe's would be and unchanged parts stay shared; `next === doc` gives an edit without patches.
 */
export function patchEdit(doc: ProjectDocument, label: string, next: ProjectDocument): Edit {
  return makeEdit(doc, label, (draft) => {
    if (next !== doc) writeChanges(draft as unknown as Record<string, unknown>, doc as unknown as Record<string, unknown>, next as unknown as Record<string, unknown>);
  });
}

/** Writes into `draft` (a draft of `base`) every field where `next` differs from `base`; plain objects recursively. */
function writeChanges(draft: Record<string, unknown>, base: Record<string, unknown>, next: Record<string, unknown>): void {
  for (const key of Object.keys(base)) if (!Object.hasOwn(next, key)) delete draft[key];
  for (const [key, value] of Object.entries(next)) {
    const before = Object.hasOwn(base, key) ? base[key] : undefined;
    if (before === value) continue;
    if (isPlainObject(before) && isPlainObject(value)) writeChanges(draft[key] as Record<string, unknown>, before, value);
    else draft[key] = value;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ─── lookups ─────────────────────────────────────────────────────────────────────────────────────────────────

/** The region `id` of `doc`, or undefined (own keys only: `__proto__` is no region). */
export function findRegion(doc: ProjectDocument, id: string): Region | undefined {
  return Object.hasOwn(doc.regions, id) ? doc.regions[id as RegionId] : undefined;
}

/** The track `id`, or an EditError naming it. */
export function requireTrack(doc: ProjectDocument, id: TrackId): Track {
  const track = doc.tracks.find((t) => t.id === id);
  if (track === undefined) {
    throw new EditError(`Track '${String(id)}' is not in the project (deleted?); pick one of its ${doc.tracks.length} tracks.`);
  }
  return track;
}

/** The region `id`, or an EditError naming it. */
export function requireRegion(doc: ProjectDocument, id: RegionId): Region {
  const region = findRegion(doc, id);
  if (region === undefined) {
    throw new EditError(`Region '${String(id)}' is not in the project (deleted or undone?); select an existing region and try again.`);
  }
  return region;
}

/** The distinct regions of `ids` in the order given; refuses an empty list and unknown ids. */
export function requireRegions(doc: ProjectDocument, ids: Iterable<RegionId>, action: string): Region[] {
  const unique = [...new Set(ids)];
  if (unique.length === 0) throw new EditError(`Nothing to ${action}: no region is selected; select one or more regions first.`);
  return unique.map((id) => requireRegion(doc, id));
}

/** A new id from the injected generator, refused when malformed or already used (both would corrupt the file). */
export function freshId<P extends IdPrefix>(prefix: P, newId: NewId, taken: (id: string) => boolean): `${P}_${string}` {
  const id = newId(prefix);
  if (!isId(prefix, id)) {
    throw new EditError(`The id generator returned '${id}', expected "${prefix}_" and 1–64 of [A-Za-z0-9_-]; fix the NewId passed in.`);
  }
  if (taken(id)) throw new EditError(`The id generator returned '${id}', which is already in use; ids must be unique (use random ids).`);
  return id;
}

/** True when `id` names a track or region of `doc` (ids of both kinds share one namespace in practice). */
export function idInUse(doc: ProjectDocument, id: string): boolean {
  return findRegion(doc, id) !== undefined || doc.tracks.some((t) => t.id === id);
}

// ─── the timeline ────────────────────────────────────────────────────────────────────────────────────────────

/** The regions of track `trackId`, earliest first ([] for an unknown track). */
export function regionsOfTrack(doc: ProjectDocument, trackId: TrackId): Region[] {
  const track = doc.tracks.find((t) => t.id === trackId);
  if (track === undefined) return [];
  return track.regionIds
    .map((id) => findRegion(doc, id))
    .filter((r): r is Region => r !== undefined)
    .sort((a, b) => a.start - b.start || a.end - b.end);
}

/** Where the last region ends (0 for a project without regions). */
export function projectEnd(doc: ProjectDocument): number {
  let end = 0;
  for (const region of Object.values(doc.regions)) end = Math.max(end, region.end);
  return end;
}

/** A span of time on a track. */
export interface Span {
  start: number;
  end: number;
}

/**
 * `span` with each edge that lies within TOUCH_EPSILON inside a neighbour moved onto that neighbour's edge, so float
 * noise from `start + delta` reads as touching. Real overlaps are left for `findOverlap` to report.
 */
export function settleEdges(span: Span, neighbours: Iterable<Span>): Span {
  let { start, end } = span;
  for (const other of neighbours) {
    if (!(start < other.end && other.start < end)) continue;
    if (other.end - start <= TOUCH_EPSILON && other.start < start) start = other.end;
    else if (end - other.start <= TOUCH_EPSILON && other.end > end) end = other.start;
  }
  return { start, end };
}

/** The first of `neighbours` that `span` overlaps (touching is fine), or undefined. */
export function findOverlap<S extends Span>(span: Span, neighbours: Iterable<S>): S | undefined {
  for (const other of neighbours) if (span.start < other.end && other.start < span.end) return other;
  return undefined;
}

/**
 * Fade lengths that fit `length`: `keep` is cut only when it alone is too long, `shrink` gives way first. The sum
 * is checked as parseProject checks it, because `length - keep + keep` can exceed `length` by one ulp.
 */
export function fitPair(keep: number, shrink: number, length: number): [number, number] {
  const first = Math.min(Math.max(0, keep), length);
  let second = Math.min(Math.max(0, shrink), length - first);
  while (second > 0 && first + second > length) second = Math.max(0, second - Number.EPSILON * Math.max(1, length));
  return [first, second];
}

/** Fade-in and fade-out that fit `length` (the fade-out gives way first). */
export function fitFades(fadeIn: number, fadeOut: number, length: number): [number, number] {
  return fitPair(fadeIn, fadeOut, length);
}

/** Re-sorts a draft track's `regionIds` by start, touching the array only when the order changed. */
export function sortRegionIds(draft: Draft<ProjectDocument>, track: Draft<Track>): void {
  const startOf = (id: RegionId): number => draft.regions[id].start;
  const sorted = [...track.regionIds].sort((a, b) => startOf(a) - startOf(b));
  if (sorted.some((id, i) => id !== track.regionIds[i])) track.regionIds = sorted;
}

/** The draft of track `id` (callers have checked it exists). */
export function draftTrack(draft: Draft<ProjectDocument>, id: TrackId): Draft<Track> {
  const track = draft.tracks.find((t) => t.id === id);
  if (track === undefined) throw new EditError(`Track '${id}' vanished during an edit; this is a bug in the edit.`);
  return track;
}

// ─── values and messages ─────────────────────────────────────────────────────────────────────────────────────

/** `4 s`, `2.125 s`: times in messages, to the millisecond. */
export function fmtSeconds(t: number): string {
  return `${Number.isFinite(t) ? Number(t.toFixed(3)) : String(t)} s`;
}

/** `'rgn_x' ("warm drone…")`: how messages name a region. */
export function describeRegion(region: Region): string {
  const prompt = region.prompt.trim();
  if (prompt === '') return `'${region.id}'`;
  return `'${region.id}' ("${prompt.length > 30 ? `${prompt.slice(0, 30)}…` : prompt}")`;
}

/** The name of track `id` for messages and labels. */
export function trackName(doc: ProjectDocument, id: TrackId): string {
  return doc.tracks.find((t) => t.id === id)?.name ?? id;
}

/** A finite number, or an EditError naming `what`. */
export function requireFinite(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new EditError(`${what} must be a finite number of seconds, got ${String(value)}; this is a bug in the caller.`);
  }
  return value;
}

/** `value` if it is a number in [min, max] (whole when `integer`), else an EditError naming field and range. */
export function requireInRange(value: unknown, what: string, min: number, max: number, integer = false): number {
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isInteger(value));
  if (!ok) {
    throw new EditError(`${what} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${String(value)}; enter a value in that range.`);
  }
  return value;
}

/** `value` if it lies in `limit` (a range of the contract's generation-settings table), else an EditError naming field and range. */
export function requireLimit(value: unknown, what: string, limit: NumberLimit): number {
  if (withinLimit(limit, value)) return value;
  const kind = limit.integer ? 'a whole number' : 'a number';
  const range = limit.exclusiveMin === true ? `greater than ${limit.min} and at most ${limit.max}` : `from ${limit.min} to ${limit.max}`;
  throw new EditError(`${what} must be ${kind} ${range}, got ${String(value)}; enter a value in that range.`);
}

/** `value` if it is a string of at most `max` characters (and not blank when `nonEmpty`). */
export function requireText(value: unknown, what: string, max: number, nonEmpty = false): string {
  if (typeof value !== 'string') throw new EditError(`${what} must be text, got ${String(value)}; this is a bug in the caller.`);
  if (nonEmpty && value.trim() === '') throw new EditError(`${what} must not be empty; type a name.`);
  if (value.length > max) throw new EditError(`${what} is ${value.length} characters long, at most ${max} are allowed; shorten it.`);
  return value;
}

/** `value` if it is a boolean. */
export function requireBoolean(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') throw new EditError(`${what} must be true or false, got ${String(value)}; this is a bug in the caller.`);
  return value;
}

/** The edit that puts the new region `region` on its track (in start order) and selects it. */
export function insertRegionEdit(doc: ProjectDocument, label: string, region: Region): Edit {
  return makeEdit(
    doc,
    label,
    (draft) => {
      draft.regions[region.id] = region;
      const lane = draftTrack(draft, region.trackId);
      lane.regionIds.push(region.id);
      sortRegionIds(draft, lane);
    },
    [region.id],
  );
}
