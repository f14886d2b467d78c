/**
 * The project → engine boundary: which regions generate together and what the engine is asked for. The host plans
 * (studio jobs, `npm run render`, the CLI's one-piece `generate`); the engine worker only runs what it is given.
 *
 * A track generates one continuous piece per run of adjacent regions (ARCHITECTURE.md §4): regions whose gap is at
 * most the transition (gaps are absorbed by the earlier region) and that share one model and one set of generation
 * settings. Every region of a piece gets a new take holding its own slice of the piece, so the slices join without
 * a seam.
 */
import { randomInt } from 'node:crypto';
import { ProjectError, type ProjectDocument, type Region, type RegionId, type Track, type TrackId } from '../../contract/project.ts';
import type { TextToAudioRequest } from '../../engine/pipelines/text-to-audio.ts';

/** Regions of one track that generate together, in time order. */
export interface Piece {
  track: Track;
  regions: Region[];
}

/** One take to cut from a generated piece: the region it belongs to and where it lies in the piece, seconds. */
export interface TakeSlice {
  /** The region that gets the take (absent for the CLI's file output). */
  regionId?: RegionId;
  start: number;
  end: number;
  /** The take's title (the region's prompt): the WAV's INAM tag. */
  title: string;
}

/** What the engine is asked to do for one piece: a checked-ready request and the takes to cut from it. */
export interface PieceJob {
  /** Model pack id (or pack folder for the CLI). */
  modelId: string;
  request: TextToAudioRequest;
  slices: TakeSlice[];
  /** Where the piece starts on the project's timeline, seconds (previews are placed there). */
  origin: number;
  /** For progress and messages: the track's name. */
  label: string;
  /** A job in context: the model version its kept latents came from (another version cannot continue them). */
  keptFrom?: { model: string; version: string };
}

/** Splits a track's regions into pieces (see the file comment). */
export function piecesOf(doc: ProjectDocument, track: Track): Piece[] {
  const regions = track.regionIds.map((id) => doc.regions[id]).sort((a, b) => a.start - b.start);
  const pieces: Piece[] = [];
  for (const region of regions) {
    const current = pieces[pieces.length - 1];
    const last = current?.regions[current.regions.length - 1];
    const sameSettings = last !== undefined && JSON.stringify(last.generation) === JSON.stringify(region.generation);
    if (current && last && sameSettings && region.start - last.end <= region.generation.transition + 1e-9) current.regions.push(region);
    else pieces.push({ track, regions: [region] });
  }
  return pieces;
}

/**
 * The engine job of a piece: piece-relative regions (a gap up to the transition is absorbed by the region before
 * it), the piece's start on the timeline (its noise is drawn by absolute frame), the first region's generation
 * settings and seed (a fresh random one when the region has none), one slice per region.
 */
export function pieceJob(piece: Piece, random: () => number = () => randomInt(0, 2 ** 32 - 1)): PieceJob {
  const first = piece.regions[0];
  const origin = first.start;
  const seconds = piece.regions[piece.regions.length - 1].end - origin;
  const regions = piece.regions.map((r, k) => ({
    start: r.start - origin,
    end: (k + 1 < piece.regions.length ? piece.regions[k + 1].start : r.end) - origin,
    prompt: r.prompt,
    negativePrompt: r.negativePrompt,
  }));
  const g = first.generation;
  return {
    modelId: g.model,
    request: { regions, seconds, start: origin, seed: first.seed ?? random(), steps: g.steps, guidance: g.guidance, sampler: g.sampler, eta: g.eta, method: g.method, transition: g.transition },
    slices: piece.regions.map((r) => ({ regionId: r.id, start: r.start - origin, end: r.end - origin, title: r.prompt })),
    origin,
    label: piece.track.name,
  };
}

/**
 * The pieces of track `trackId` that hold any of `regionIds` (every piece of the track when empty). Unknown ids are
 * `not-found` errors naming them.
 */
export function planTrack(doc: ProjectDocument, trackId: TrackId, regionIds: readonly RegionId[]): Piece[] {
  const track = doc.tracks.find((t) => t.id === trackId);
  if (!track) throw new ProjectError('not-found', `track '${trackId}' is not in the project`);
  const wanted = new Set<RegionId>(regionIds.length > 0 ? regionIds : track.regionIds);
  const missing = [...wanted].filter((id) => !track.regionIds.includes(id));
  if (missing.length > 0) throw new ProjectError('not-found', `region(s) ${missing.join(', ')} are not on track '${track.name}'`);
  return piecesOf(doc, track).filter((piece) => piece.regions.some((r) => wanted.has(r.id)));
}

/** True when `region` plays nothing: it has no active take (a generation "only regions without audio" fills it). */
export function withoutTake(region: Region): boolean {
  return region.activeTakeId === null || !region.takes.some((t) => t.id === region.activeTakeId);
}

/**
 * The regions of `wanted` on `track` that have no active take, as pieces of their own: each stretch of consecutive
 * such regions inside one piece (piecesOf) generates together, and the regions with a take around them are left
 * out, so they keep their takes (a generation of only the missing regions whose neighbours keep no latent to
 * continue).
 */
export function missingRuns(doc: ProjectDocument, track: Track, wanted: ReadonlySet<RegionId>): Piece[] {
  const out: Piece[] = [];
  for (const piece of piecesOf(doc, track)) {
    let run: Region[] = [];
    for (const region of [...piece.regions, undefined]) {
      if (region !== undefined && wanted.has(region.id) && withoutTake(region)) {
        run.push(region);
        continue;
      }
      if (run.length > 0) out.push({ track, regions: run });
      run = [];
    }
  }
  return out;
}
