/**
 * Folding a host-side change (takes a generation added) into the undo history, for `applyExternal` in history.ts.
 *
 * The change is read as an intent per region (takes added or removed by id, the active take, `takeOffset`). For
 * each changed region, its value in every state the history can reach is rebuilt from the entries' patches, the
 * intent is replayed on each, and the entries' patches for that region are replaced by the difference between the
 * rebased neighbours (the rest of each entry is kept). Replaying by take id, not by array index, is what makes it
 * safe: immer's patches address `takes[3]`, which means another take once the arrays differ. The cost is the
 * entries' patch count, not the document size.
 */
import { applyPatches, enablePatches, produce, type Patch } from 'immer';
import type { ProjectDocument, Region, RegionId, TakeId, TakeRef } from '../../src-main/contract/project.ts';

enablePatches();

/** An undo step as the history stores it. */
export interface StoredEntry {
  label: string;
  patches: Patch[];
  inversePatches: Patch[];
}

/** What an external edit did to one region, in terms that replay on any state of the history. */
interface RegionIntent {
  added: TakeRef[];
  removed: Set<TakeId>;
  /** Present when the change set the active take. */
  active?: TakeId | null;
  /** Present when the change set (`number`) or cleared (`undefined`) `takeOffset`. */
  takeOffset?: { value: number | undefined };
}

/** Region fields a host-side change may touch and still be replayed on other states. */
const REPLAYABLE = new Set(['takes', 'activeTakeId', 'takeOffset']);

/**
 * The history rebased onto `after` (the external edit's result, made from `current`, the state at `index`):
 * entries whose step became empty are dropped. Null when the change touches more than regions' takes, active take
 * and take offset (or an entry rewrites the whole region table): such a change cannot be replayed and the caller
 * starts a new history.
 */
export function rebaseEntries(
  entries: readonly StoredEntry[],
  index: number,
  current: ProjectDocument,
  after: ProjectDocument,
): { entries: StoredEntry[]; index: number } | null {
  const intents = readIntents(current, after);
  if (intents === null) return null;
  const touched = new Set<string>(intents.keys());
  if (entries.some((e) => e.patches.some((p) => p.path.length < 2 && (p.path.length === 0 || p.path[0] === 'regions')))) return null;
  // Only the changed regions differ between a state and its rebased version, so only their values are tracked
  // through the history; the rest of each entry's patches is kept as it is.
  const rebased = new Map<RegionId, (Region | undefined)[]>();
  for (const [id, intent] of intents) {
    const values = regionThroughHistory(entries, index, id, current);
    rebased.set(
      id,
      values.map((value, k) => (k === index ? after.regions[id] : value === undefined ? undefined : replayIntent(value, intent))),
    );
  }
  const local = (p: Patch): boolean => p.path[0] === 'regions' && touched.has(String(p.path[1]));
  const out: StoredEntry[] = [];
  let newIndex = index;
  entries.forEach((entry, k) => {
    const patches = entry.patches.filter((p) => !local(p));
    const inversePatches = entry.inversePatches.filter((p) => !local(p));
    for (const [id, values] of rebased) {
      patches.push(...diffRegion(id, values[k], values[k + 1]));
      inversePatches.push(...diffRegion(id, values[k + 1], values[k]));
    }
    if (patches.length === 0) {
      // The step only did what the external change now does everywhere (e.g. it switched to a take that is active
      // in every state now); an Undo that changes nothing would only confuse.
      if (k < index) newIndex--;
      return;
    }
    out.push({ label: entry.label, patches, inversePatches });
  });
  return { entries: out, index: newIndex };
}

/** Region `id` in every state the history reaches (undefined where it does not exist), from its patches alone. */
function regionThroughHistory(entries: readonly StoredEntry[], index: number, id: RegionId, current: ProjectDocument): (Region | undefined)[] {
  const values: (Region | undefined)[] = [];
  values[index] = Object.hasOwn(current.regions, id) ? current.regions[id] : undefined;
  for (let k = index - 1; k >= 0; k--) values[k] = applyRegionPatches(values[k + 1], id, entries[k].inversePatches);
  for (let k = index + 1; k <= entries.length; k++) values[k] = applyRegionPatches(values[k - 1], id, entries[k - 1].patches);
  return values;
}

/** The patches of `patches` that address region `id`, applied to its value. */
function applyRegionPatches(value: Region | undefined, id: RegionId, patches: readonly Patch[]): Region | undefined {
  let out = value;
  for (const patch of patches) {
    if (patch.path[0] !== 'regions' || patch.path[1] !== id) continue;
    if (patch.path.length === 2) out = patch.op === 'remove' ? undefined : (patch.value as Region);
    else if (out !== undefined) out = applyPatches(out, [{ ...patch, path: patch.path.slice(2) }]);
  }
  return out;
}

/** Patches turning region `id` from `from` into `to` (either may be absent). */
function diffRegion(id: RegionId, from: Region | undefined, to: Region | undefined): Patch[] {
  if (from === to) return [];
  if (to === undefined) return [{ op: 'remove', path: ['regions', id] }];
  if (from === undefined) return [{ op: 'add', path: ['regions', id], value: to }];
  return diffPatches(from, to, ['regions', id]);
}

/** Per region, what `after` changed relative to `before`; null when anything else changed. */
function readIntents(before: ProjectDocument, after: ProjectDocument): Map<RegionId, RegionIntent> | null {
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (key === 'regions') continue;
    if (!deepEqual(Reflect.get(before, key), Reflect.get(after, key))) return null;
  }
  const ids = new Set([...Object.keys(before.regions), ...Object.keys(after.regions)]) as Set<RegionId>;
  const intents = new Map<RegionId, RegionIntent>();
  for (const id of ids) {
    const was = Object.hasOwn(before.regions, id) ? before.regions[id] : undefined;
    const now = Object.hasOwn(after.regions, id) ? after.regions[id] : undefined;
    if (was === now) continue;
    if (was === undefined || now === undefined) return null;
    const intent = readRegionIntent(was, now);
    if (intent === null) return null;
    if (intent !== undefined) intents.set(id, intent);
  }
  return intents;
}

function readRegionIntent(was: Region, now: Region): RegionIntent | null | undefined {
  const intent: RegionIntent = { added: [], removed: new Set() };
  let changed = false;
  for (const key of new Set([...Object.keys(was), ...Object.keys(now)])) {
    const a: unknown = Reflect.get(was, key);
    const b: unknown = Reflect.get(now, key);
    if (deepEqual(a, b)) continue;
    if (!REPLAYABLE.has(key)) return null;
    changed = true;
    if (key === 'activeTakeId') intent.active = now.activeTakeId;
    else if (key === 'takeOffset') intent.takeOffset = { value: now.takeOffset };
  }
  const wasById = new Map(was.takes.map((t) => [t.id, t]));
  const nowIds = new Set(now.takes.map((t) => t.id));
  for (const take of now.takes) {
    const old = wasById.get(take.id);
    if (old === undefined) intent.added.push(take);
    else if (!deepEqual(old, take)) return null;
  }
  for (const take of was.takes) if (!nowIds.has(take.id)) intent.removed.add(take.id);
  return changed ? intent : undefined;
}

/** `region` as it would be had the external change been made to it (matching takes by id). */
function replayIntent(region: Region, intent: RegionIntent): Region {
  return produce(region, (r) => {
    if (intent.removed.size > 0) r.takes = r.takes.filter((t) => !intent.removed.has(t.id));
    for (const take of intent.added) if (!r.takes.some((t) => t.id === take.id)) r.takes.push(take);
    const has = (takeId: TakeId | null): boolean => takeId !== null && r.takes.some((t) => t.id === takeId);
    if (intent.active !== undefined && (intent.active === null || has(intent.active))) r.activeTakeId = intent.active;
    if (r.activeTakeId !== null && !has(r.activeTakeId)) r.activeTakeId = r.takes.length > 0 ? r.takes[r.takes.length - 1].id : null;
    if (intent.takeOffset !== undefined) {
      if (intent.takeOffset.value === undefined) delete r.takeOffset;
      else r.takeOffset = intent.takeOffset.value;
    }
  });
}

/**
 * Immer patches that turn `from` into `to`: objects key by key, anything else (arrays included) replaced whole
 * when not deep-equal. Shared subtrees are skipped by identity, so this costs what differs, not the document.
 */
export function diffPatches(from: unknown, to: unknown, path: (string | number)[] = []): Patch[] {
  const out: Patch[] = [];
  diffInto(from, to, path, out);
  return out;
}

function diffInto(from: unknown, to: unknown, path: (string | number)[], out: Patch[]): void {
  if (from === to) return;
  if (isPlainObject(from) && isPlainObject(to)) {
    for (const key of Object.keys(from)) {
      if (!Object.hasOwn(to, key)) out.push({ op: 'remove', path: [...path, key] });
      else diffInto(from[key], to[key], [...path, key], out);
    }
    for (const key of Object.keys(to)) if (!Object.hasOwn(from, key)) out.push({ op: 'add', path: [...path, key], value: to[key] });
    return;
  }
  if (!deepEqual(from, to)) out.push({ op: 'replace', path, value: to });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Structural equality of JSON values. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (!isPlainObject(a) || !isPlainObject(b) || Array.isArray(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
}
