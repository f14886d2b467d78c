/**
 * Which redo actions the studio offers for a region or a track (issue 12 §2 "Studio"), decided from the document
 * alone so the inspector, the track header and their tests agree: "New take" in context (keeps its neighbours),
 * "Regenerate run" (a run of ≥ 2 regions), "Vary" (the active take kept a latent), "Extend" (a kept latent at the
 * end of a run, room after it), "Extend before" (a kept latent starting a run, room before it), and what a Generate
 * of tracks or regions would replace.
 */
import type { Region, RegionId, ProjectDocument, TrackId } from '../../src-main/contract/project.ts';
import { keptNeighbours, keptTake, type KeptRegion } from '../../src-main/contract/takes.ts';
import type { Span } from '../model/edit-core.ts';
import { extensionBeforeSpan, extensionSpan, type FrameGrid } from '../model/extend-edit.ts';

/** The redo actions of one region. */
export interface RegionRedo {
  /** A new take grows out of neighbours' kept latents; they keep their takes. */
  keepsNeighbours: boolean;
  /** The regions of its run (adjacent, equal settings, itself included), in time order: what "Regenerate run" redoes. */
  run: Region[];
  /** Its active take kept a latent of its model: it can be varied. */
  canVary: boolean;
  /** Where "Extend" would add a region (its kept latent ends a run and there is room after it); null: not offered. */
  extension: Span | null;
  /** Where "Extend before" would add a region (its kept latent starts a run, ≥ 1 s free before it); null: not offered. */
  extensionBefore: Span | null;
}

/** True when `region` has no active take (it plays nothing). */
export function withoutTake(region: Region): boolean {
  return region.activeTakeId === null || !region.takes.some((t) => t.id === region.activeTakeId);
}

/**
 * The run of `region`: the regions of its track that generate together with it, as the host plans them
 * (src-main/host/generation/plan.ts `piecesOf`: a gap up to the transition, the same generation settings).
 */
export function runOf(doc: ProjectDocument, region: Region): Region[] {
  const track = doc.tracks.find((t) => t.id === region.trackId);
  const regions = (track?.regionIds ?? []).map((id) => doc.regions[id]).filter((r) => r !== undefined).sort((a, b) => a.start - b.start);
  const at = regions.findIndex((r) => r.id === region.id);
  if (at === -1) return [region];
  const joins = (a: Region, b: Region): boolean => JSON.stringify(a.generation) === JSON.stringify(b.generation) && b.start - a.end <= b.generation.transition + 1e-9;
  let first = at;
  while (first > 0 && joins(regions[first - 1], regions[first])) first--;
  let last = at;
  while (last + 1 < regions.length && joins(regions[last], regions[last + 1])) last++;
  return regions.slice(first, last + 1);
}

/** A new take of `region` alone grows out of kept neighbours (the host's `hasKeptNeighbours`). */
function keepsNeighbours(doc: ProjectDocument, region: Region): boolean {
  return keptNeighbours(doc, region, -1).length > 0 || keptNeighbours(doc, region, 1).length > 0;
}

/** Where the frames of `kept`'s latent lie on the timeline (as host/generation/context.ts places them). */
function frameGrid({ region, take }: KeptRegion): FrameGrid {
  const fps = take.latent.framesPerSecond;
  return { origin: region.start - (region.takeOffset ?? 0) - take.latent.from / fps, framesPerSecond: fps };
}

/** The redo actions of `region`; `snap` places an extension's free end on the timeline's grid. */
export function regionRedo(doc: ProjectDocument, region: Region, snap?: (t: number) => number): RegionRedo {
  const run = runOf(doc, region);
  const kept = keptTake(region);
  const endsRun = run[run.length - 1]?.id === region.id;
  const startsRun = run[0]?.id === region.id;
  return {
    keepsNeighbours: keepsNeighbours(doc, region),
    run,
    canVary: kept !== undefined,
    extension: kept !== undefined && endsRun ? extensionSpan(doc, region.id, snap) : null,
    extensionBefore: kept !== undefined && startsRun ? extensionBeforeSpan(doc, region.id, snap, frameGrid(kept)) : null,
  };
}

/** The regions of `trackId` in time order. */
function trackRegions(doc: ProjectDocument, trackId: TrackId): Region[] {
  const track = doc.tracks.find((t) => t.id === trackId);
  return (track?.regionIds ?? []).map((id) => doc.regions[id]).filter((r) => r !== undefined).sort((a, b) => a.start - b.start);
}

/** The region a track's "Extend" continues: its last region, when Extend applies to it. */
export function trackExtension(doc: ProjectDocument, trackId: TrackId, snap?: (t: number) => number): { region: Region; span: Span } | null {
  const last = trackRegions(doc, trackId).sort((a, b) => b.end - a.end)[0];
  if (last === undefined) return null;
  const span = regionRedo(doc, last, snap).extension;
  return span === null ? null : { region: last, span };
}

/** The region a track's "Extend before" leads into: its first region, when Extend before applies to it. */
export function trackExtensionBefore(doc: ProjectDocument, trackId: TrackId, snap?: (t: number) => number): { region: Region; span: Span } | null {
  const first = trackRegions(doc, trackId)[0];
  if (first === undefined) return null;
  const span = regionRedo(doc, first, snap).extensionBefore;
  return span === null ? null : { region: first, span };
}

/** What a Generate covers: a whole track, or some of its regions. */
export interface GenerateTarget {
  trackId: TrackId;
  /** Absent or empty: every region of the track. */
  regionIds?: readonly RegionId[];
}

/** What a Generate would replace, and what it may do instead. */
export interface GenerateChoice {
  /** Regions that would get new takes. */
  regions: number;
  /** Of those, the regions that play a take (their takes are replaced by "Regenerate all"). */
  takes: number;
  /** Chosen regions without audio ("Only regions without audio"). */
  missing: number;
  /** Ask first: generating would replace takes. With none, it generates at once. */
  ask: boolean;
}

/**
 * The regions a generation of `target` gives new takes, as the host plans it (host/studio/generation-plan.ts): one
 * region with kept neighbours alone (in context), else every run holding a chosen region; a whole track all its regions.
 */
export function regeneratedBy(doc: ProjectDocument, target: GenerateTarget): Region[] {
  const regions = trackRegions(doc, target.trackId);
  const ids = target.regionIds ?? [];
  if (ids.length === 0) return regions;
  const chosen = regions.filter((r) => ids.includes(r.id));
  if (chosen.length === 1 && keepsNeighbours(doc, chosen[0])) return chosen;
  const inRuns = new Set(chosen.flatMap((r) => runOf(doc, r)).map((r) => r.id));
  return regions.filter((r) => inRuns.has(r.id));
}

/** The chosen regions of `target` that play nothing: what "Only regions without audio" fills. */
export function missingOf(doc: ProjectDocument, target: GenerateTarget): Region[] {
  const ids = target.regionIds ?? [];
  return trackRegions(doc, target.trackId).filter((r) => (ids.length === 0 || ids.includes(r.id)) && withoutTake(r));
}

/** What a Generate of `targets` (one job per target) would do, summed over them. */
export function generateChoice(doc: ProjectDocument, targets: readonly GenerateTarget[]): GenerateChoice {
  let regions = 0;
  let takes = 0;
  let missing = 0;
  for (const target of targets) {
    const redone = regeneratedBy(doc, target);
    regions += redone.length;
    takes += redone.filter((r) => !withoutTake(r)).length;
    missing += missingOf(doc, target).length;
  }
  return { regions, takes, missing, ask: takes > 0 };
}

/** What the track's Generate would do to `trackId`. */
export function trackGenerateChoice(doc: ProjectDocument, trackId: TrackId): GenerateChoice {
  return generateChoice(doc, [{ trackId }]);
}

/** The choices of a Generate's question, with their words. */
export function trackGenerateOptions(choice: GenerateChoice): { all: string; missing: string; missingEnabled: boolean } {
  return {
    all: `Regenerate all (replaces ${choice.takes} take${choice.takes === 1 ? '' : 's'})`,
    missing: choice.missing > 0 ? `Only regions without audio (${choice.missing})` : 'Only regions without audio',
    missingEnabled: choice.missing > 0,
  };
}
