/**
 * What a studio generation job does, decided from the document (issue 12 §2 "Studio"): which regions get new takes
 * and which keep theirs. One region is redone in the context of its neighbours' kept latents (they keep their takes),
 * optionally as a variation of its own latent (`strength`), or with its whole run (`mode: 'run'`); a track or a
 * selection regenerates its runs; `onlyMissing` fills only the regions without audio. The same decisions give the
 * queue's label (what will be replaced), the checks made before the job is queued, and the job's stages.
 */
import type { GenerationMode } from '../../contract/api.ts';
import { CodedError } from '../../contract/errors.ts';
import type { ProjectDocument, Region, RegionId, Track, TrackId } from '../../contract/project.ts';
import { keptNeighbours, keptTake } from '../../contract/takes.ts';
import type { NpyArray } from '../projects/npy.ts';
import { regionInContext } from '../generation/context.ts';
import { missingRuns, pieceJob, piecesOf, planTrack, withoutTake, type PieceJob } from '../generation/plan.ts';

/** What to generate and how: the regions of one track (all of it when empty) and the way they are redone. */
export interface GenerationWhat {
  trackId: TrackId;
  regionIds: readonly RegionId[];
  /** One region: `in-context` (default) or its whole run. */
  mode?: GenerationMode;
  /** Vary one region in context: its kept latent noised to this level starts the new take (1 = a fresh take). */
  strength?: number;
  /** Only regions without an active take. */
  onlyMissing?: boolean;
}

const trackOf = (doc: ProjectDocument, trackId: TrackId): Track => {
  const track = doc.tracks.find((t) => t.id === trackId);
  if (!track) throw new CodedError('not-found', `track '${trackId}' is not in the project`);
  return track;
};

const regionsOf = (doc: ProjectDocument, track: Track, ids: readonly RegionId[]): Region[] =>
  (ids.length > 0 ? ids : track.regionIds).flatMap((id) => (track.regionIds.includes(id) && Object.hasOwn(doc.regions, id) ? [doc.regions[id]] : []));

/** Seconds as a label shows them: at most one decimal ("20.7", "60"). */
const secondsText = (s: number): string => String(Math.round(s * 10) / 10);

/** A region as a label names it: its prompt (shortened) and its span. */
function named(region: Region): string {
  const prompt = region.prompt.trim() === '' ? '(no prompt)' : region.prompt.trim().length > 40 ? `${region.prompt.trim().slice(0, 39)}…` : region.prompt.trim();
  return `'${prompt}' ${secondsText(region.start)}–${secondsText(region.end)} s`;
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The run (piece) of `track` that holds `region`. */
function runOf(doc: ProjectDocument, track: Track, region: Region): Region[] {
  return piecesOf(doc, track).find((p) => p.regions.some((r) => r.id === region.id))?.regions ?? [region];
}

const hasKeptNeighbours = (doc: ProjectDocument, region: Region): boolean => keptNeighbours(doc, region, -1).length > 0 || keptNeighbours(doc, region, 1).length > 0;

/**
 * Refuses what cannot run, before it is queued: a strength other than for one region in context, a strength below 1
 * for a region whose take kept no latent, `onlyMissing` with `mode: 'run'` or with nothing missing, regions that are
 * not on the track. Errors are `invalid-argument` / `not-found` naming the value and what to do.
 */
export function checkGeneration(doc: ProjectDocument, what: GenerationWhat): void {
  const track = trackOf(doc, what.trackId);
  const unknown = what.regionIds.filter((id) => !track.regionIds.includes(id));
  if (unknown.length > 0) throw new CodedError('not-found', `region(s) ${unknown.join(', ')} are not on track '${track.name}'`);
  if (what.onlyMissing === true && what.mode === 'run') {
    throw new CodedError('invalid-argument', `onlyMissing and mode 'run' contradict each other: 'run' replaces the takes of the whole run; drop one of them`);
  }
  if (what.strength !== undefined) {
    if (what.regionIds.length !== 1 || what.mode === 'run' || what.onlyMissing === true) {
      throw new CodedError(
        'invalid-argument',
        `strength ${what.strength} varies one region in context; give exactly one region id (got ${what.regionIds.length}) without mode 'run' or onlyMissing`,
      );
    }
    const region = doc.regions[what.regionIds[0]];
    if (what.strength < 1 && !keptTake(region)) {
      throw new CodedError(
        'invalid-argument',
        `region '${region.id}' ("${region.prompt.slice(0, 40)}") has no kept latent of ${region.generation.model} to vary at strength ${what.strength}; generate it once (or use strength 1 for a fresh take)`,
      );
    }
  }
  if (what.onlyMissing === true && !regionsOf(doc, track, what.regionIds).some(withoutTake)) {
    throw new CodedError('invalid-argument', `every ${what.regionIds.length > 0 ? 'chosen region' : 'region'} of track '${track.name}' already has a take; nothing is missing (generate without onlyMissing to replace takes)`);
  }
}

/**
 * The queue's label for the job: what it generates and what it replaces, e.g. "New take of 'rain noise' 20.7–41.3 s
 * (keeps neighbours)", "Regenerate run: 3 regions of Drone (replaces their takes)", "Vary 'rain' 0–8 s at strength
 * 0.4", "Extend Drone: 'bright bell' 60–80 s" (a new region next to kept ones, after or before them), "Generate Drone:
 * 2 regions without audio".
 */
export function generationLabel(doc: ProjectDocument, what: GenerationWhat): string {
  const track = trackOf(doc, what.trackId);
  if (what.onlyMissing === true) {
    const missing = regionsOf(doc, track, what.regionIds).filter(withoutTake).length;
    return `Generate ${track.name}: ${plural(missing, 'region')} without audio`;
  }
  if (what.regionIds.length === 1 && Object.hasOwn(doc.regions, what.regionIds[0])) {
    const region = doc.regions[what.regionIds[0]];
    if (what.mode !== 'run') {
      if (what.strength !== undefined && what.strength < 1) return `Vary ${named(region)} at strength ${what.strength}`;
      if (hasKeptNeighbours(doc, region)) return withoutTake(region) ? `Extend ${track.name}: ${named(region)}` : `New take of ${named(region)} (keeps neighbours)`;
    }
    const run = runOf(doc, track, region);
    if (run.length >= 2) {
      const takes = run.filter((r) => !withoutTake(r)).length;
      return `Regenerate run: ${plural(run.length, 'region')} of ${track.name}${takes > 0 ? ` (replaces ${takes === run.length ? 'their takes' : plural(takes, 'take')})` : ''}`;
    }
    return withoutTake(region) ? `Generate ${track.name}: ${named(region)}` : `New take of ${named(region)}`;
  }
  const pieces = planTrack(doc, what.trackId, what.regionIds);
  const regions = pieces.flatMap((p) => p.regions);
  const takes = regions.filter((r) => !withoutTake(r)).length;
  const scope = what.regionIds.length > 0 ? ` (${plural(regions.length, 'region')})` : '';
  return `Generate ${track.name}${scope}${takes > 0 ? `, replaces ${plural(takes, 'take')}` : ''}`;
}

/**
 * The job's stages: each call plans the engine jobs to run next from `doc` (the document with every take of the
 * stages before applied) and resolves to none when the job is complete. Most jobs are one stage. Filling missing
 * regions is one region per stage while any missing region touches kept neighbours (each new take is a kept
 * neighbour for the next, as `npm run render` does), then one stage for the runs of missing regions that touch no
 * kept latent.
 */
export function generationStages(what: GenerationWhat, read: (file: string) => Promise<NpyArray>): (doc: ProjectDocument) => Promise<PieceJob[]> {
  let started = false;
  let remaining: Set<RegionId> | null = null;
  return async (doc) => {
    const track = trackOf(doc, what.trackId);
    if (what.onlyMissing !== true) {
      if (started) return [];
      started = true;
      if (what.regionIds.length === 1 && what.mode !== 'run') {
        const strength = what.strength === undefined ? {} : { strength: what.strength };
        const inContext = await regionInContext(doc, what.regionIds[0], read, strength);
        if (inContext) return [inContext];
      }
      return planTrack(doc, what.trackId, what.regionIds).map((piece) => pieceJob(piece));
    }
    remaining ??= new Set(regionsOf(doc, track, what.regionIds).filter(withoutTake).map((r) => r.id));
    if (remaining.size === 0) return [];
    const ordered = track.regionIds.map((id) => doc.regions[id]).filter((r) => r !== undefined).sort((a, b) => a.start - b.start);
    for (const region of ordered) {
      if (!remaining.has(region.id) || !hasKeptNeighbours(doc, region)) continue;
      const job = await regionInContext(doc, region.id, read);
      if (job) {
        remaining.delete(region.id);
        return [job];
      }
    }
    const runs = missingRuns(doc, track, remaining);
    remaining.clear();
    return runs.map((piece) => pieceJob(piece));
  };
}
