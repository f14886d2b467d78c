/**
 * Which redo actions the studio offers for a region or a track (issue 12 §2 "Studio"), decided from the document
 * alone so the inspector, the track header and their tests agree: "New take" in context (keeps its neighbours),
 * "Regenerate run" (a run of ≥ 2 regions), "Vary" (the active take kept a latent), "Extend" (a kept latent at the
 * end of a run, room after it), and what the track's Generate would replace.
 */
import type { Region, ProjectDocument, TrackId } from '../../src-main/contract/project.ts';
import { keptNeighbours, keptTake } from '../../src-main/contract/takes.ts';
import type { Span } from '../model/edit-core.ts';
import { extensionSpan } from '../model/extend-edit.ts';

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

/** The redo actions of `region`; `snap` places an extension's end on the timeline's grid. */
export function regionRedo(doc: ProjectDocument, region: Region, snap?: (t: number) => number): RegionRedo {
  const run = runOf(doc, region);
  const kept = keptTake(region) !== undefined;
  const endsRun = run[run.length - 1]?.id === region.id;
  return {
    keepsNeighbours: keptNeighbours(doc, region, -1).length > 0 || keptNeighbours(doc, region, 1).length > 0,
    run,
    canVary: kept,
    extension: kept && endsRun ? extensionSpan(doc, region.id, snap) : null,
  };
}

/** The region a track's "Extend" continues: its last region, when Extend applies to it. */
export function trackExtension(doc: ProjectDocument, trackId: TrackId, snap?: (t: number) => number): { region: Region; span: Span } | null {
  const track = doc.tracks.find((t) => t.id === trackId);
  const last = (track?.regionIds ?? []).map((id) => doc.regions[id]).filter((r) => r !== undefined).sort((a, b) => b.end - a.end)[0];
  if (last === undefined) return null;
  const span = regionRedo(doc, last, snap).extension;
  return span === null ? null : { region: last, span };
}

/** What the track's Generate would replace, and what it may do instead. */
export interface TrackGenerateChoice {
  regions: number;
  /** Regions that play a take (their takes are replaced by "Regenerate all"). */
  takes: number;
  /** Regions without audio ("Only regions without audio"). */
  missing: number;
  /** Ask first: generating would replace takes. With none, the track generates at once. */
  ask: boolean;
}

/** What the track's Generate would do to `trackId`. */
export function trackGenerateChoice(doc: ProjectDocument, trackId: TrackId): TrackGenerateChoice {
  const track = doc.tracks.find((t) => t.id === trackId);
  const regions = (track?.regionIds ?? []).map((id) => doc.regions[id]).filter((r) => r !== undefined);
  const missing = regions.filter(withoutTake).length;
  const takes = regions.length - missing;
  return { regions: regions.length, takes, missing, ask: takes > 0 };
}

/** The choices of the track Generate's question, with their words. */
export function trackGenerateOptions(choice: TrackGenerateChoice): { all: string; missing: string; missingEnabled: boolean } {
  return {
    all: `Regenerate all (replaces ${choice.takes} take${choice.takes === 1 ? '' : 's'})`,
    missing: choice.missing > 0 ? `Only regions without audio (${choice.missing})` : 'Only regions without audio',
    missingEnabled: choice.missing > 0,
  };
}
