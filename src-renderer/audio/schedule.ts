/**
 * What plays when (pure, Node-tested): from a project document and a start position, one entry per region that
 * is still audible after that position, with the offset into its active take, how long it plays, its gain and its
 * fades; the mute/solo resolution; the loop arithmetic of the playhead. playback.ts turns these into Tone.js nodes.
 *
 * The rules mirror the export engine (src-main/host/export/mix.ts) so that what you hear is what you export:
 * a region plays its active take from `takeOffset` for the region's length, silence after the take's end; fades
 * are linear, in from the region start and out to the region end; a track is heard when it is not muted and either
 * no track is soloed or it is soloed itself (mute wins; a muted soloed track still silences the others).
 */
import { takeAssetPath } from '../../src-main/contract/api.ts';
import type { ProjectDocument, Region, RegionId, TakeId, TakeRef, TrackId } from '../../src-main/contract/project.ts';

/** Where take files are fetched from: the open project's id and the bridge's `assetUrl`. */
export interface TakeLocator {
  projectId: string;
  /** Maps an asset path (`prj_x/takes/take_y.wav`) to a URL (the bridge's `Studio.assetUrl`). */
  assetUrl(path: string): string;
}

/** One player to start. Times are timeline seconds. */
export interface ScheduledRegion {
  regionId: RegionId;
  trackId: TrackId;
  takeId: TakeId;
  /** The URL of the take's audio. */
  url: string;
  /** When the player starts on the timeline (≥ the schedule's `from`, ≥ the region's start). */
  startAt: number;
  /** Seconds into the take where playing begins: `takeOffset + max(0, from − region.start)`. */
  offset: number;
  /** Seconds it plays: to the region's end, the take's end or the schedule's `until`, whichever comes first. */
  duration: number;
  /** The region's span on the timeline (its fades are relative to it). */
  regionStart: number;
  regionEnd: number;
  /** Region gain, dB. */
  gainDb: number;
  /** Fade lengths of the region, seconds (the whole fades, also when playing starts inside one). */
  fadeIn: number;
  fadeOut: number;
}

/** Options of {@link scheduleFrom}. */
export interface ScheduleOptions {
  /** Clip every entry at this timeline time (a loop's end); no clipping when absent. */
  until?: number;
}

/** Shorter than this (seconds) is nothing to play: below a sample at any rate we use. */
const EPSILON = 1e-6;

/** The active take of a region, if it has one that exists. */
export function activeTake(region: Region): TakeRef | undefined {
  if (region.activeTakeId === null) return undefined;
  return region.takes.find((take) => take.id === region.activeTakeId);
}

/**
 * The players to start for playing `doc` from `from` seconds: regions with an active take that still sound after
 * `from`, clipped to their take's length (and to `options.until`), ordered by start time then track order.
 * Muted tracks are included (mute is a mixer setting, see {@link effectiveMute}).
 */
export function scheduleFrom(
  doc: ProjectDocument,
  from: number,
  locator: TakeLocator,
  options: ScheduleOptions = {},
): ScheduledRegion[] {
  if (!Number.isFinite(from) || from < 0) throw new RangeError(`scheduleFrom: from must be a time ≥ 0 s, got ${from}`);
  const until = options.until ?? Infinity;
  const entries: { entry: ScheduledRegion; order: number }[] = [];
  doc.tracks.forEach((track, trackIndex) => {
    for (const regionId of track.regionIds) {
      const region = doc.regions[regionId];
      if (region === undefined) continue;
      const take = activeTake(region);
      if (take === undefined) continue;
      const takeOffset = region.takeOffset ?? 0;
      // The take runs out at region.start + (take.seconds − takeOffset); after that the region is silent.
      const end = Math.min(region.end, region.start + take.seconds - takeOffset, until);
      const startAt = Math.max(from, region.start);
      if (end - startAt <= EPSILON) continue;
      entries.push({
        order: trackIndex,
        entry: {
          regionId: region.id,
          trackId: track.id,
          takeId: take.id,
          url: locator.assetUrl(takeAssetPath(locator.projectId, take.file)),
          startAt,
          offset: takeOffset + (startAt - region.start),
          duration: end - startAt,
          regionStart: region.start,
          regionEnd: region.end,
          gainDb: region.gainDb,
          fadeIn: region.fadeIn,
          fadeOut: region.fadeOut,
        },
      });
    }
  });
  entries.sort((a, b) => a.entry.startAt - b.entry.startAt || a.order - b.order);
  return entries.map((e) => e.entry);
}

/** The URLs of every active take in `doc` (what a player cache must hold), without duplicates. */
export function takeUrls(doc: ProjectDocument, locator: TakeLocator): string[] {
  const urls = new Set<string>();
  for (const track of doc.tracks) {
    for (const regionId of track.regionIds) {
      const region = doc.regions[regionId];
      const take = region === undefined ? undefined : activeTake(region);
      if (take !== undefined) urls.add(locator.assetUrl(takeAssetPath(locator.projectId, take.file)));
    }
  }
  return [...urls];
}

/**
 * Whether each track is silent: muted, or not soloed while some track is (the solo set includes muted soloed
 * tracks, as in Tone.js's Solo and the export engine).
 */
export function effectiveMute(doc: ProjectDocument): Map<TrackId, boolean> {
  const anySolo = doc.tracks.some((track) => track.solo);
  return new Map(doc.tracks.map((track) => [track.id, track.mute || (anySolo && !track.solo)]));
}

/** The region's fade gain (0…1, linear) `u` seconds after its start; the two fades multiply where they meet. */
export function fadeGain(u: number, length: number, fadeIn: number, fadeOut: number): number {
  let gain = 1;
  if (fadeIn > 0 && u < fadeIn) gain *= Math.max(0, u) / fadeIn;
  const left = length - u;
  if (fadeOut > 0 && left < fadeOut) gain *= Math.max(0, left) / fadeOut;
  return gain;
}

/** A point of a gain automation: timeline seconds and linear gain. */
export interface EnvelopePoint {
  time: number;
  gain: number;
}

/**
 * The fade envelope of a scheduled entry as linear ramps: the gain at `startAt`, then at each fade corner inside
 * the played span, then at its end. Between points the gain is linear, which is exact for non-overlapping fades.
 */
export function fadeEnvelope(entry: ScheduledRegion): EnvelopePoint[] {
  const length = entry.regionEnd - entry.regionStart;
  const at = (time: number): EnvelopePoint => ({
    time,
    gain: fadeGain(time - entry.regionStart, length, entry.fadeIn, entry.fadeOut),
  });
  const end = entry.startAt + entry.duration;
  const corners = [entry.regionStart + entry.fadeIn, entry.regionEnd - entry.fadeOut]
    .filter((t) => t > entry.startAt + EPSILON && t < end - EPSILON)
    .sort((a, b) => a - b);
  return [at(entry.startAt), ...corners.map(at), at(end)];
}

/** A loop range on the timeline, seconds, `start < end`. */
export interface LoopRange {
  start: number;
  end: number;
}

/** Shortest loop accepted, seconds: shorter ones would reschedule players faster than they can start. */
export const MIN_LOOP_SECONDS = 0.05;

/** Checks a loop range; throws a RangeError naming the values when it is not usable. */
export function checkLoop(loop: LoopRange): LoopRange {
  const { start, end } = loop;
  if (!Number.isFinite(start) || !Number.isFinite(end) || start < 0 || end - start < MIN_LOOP_SECONDS) {
    throw new RangeError(
      `loop must satisfy 0 ≤ start and end − start ≥ ${MIN_LOOP_SECONDS} s, got start ${start} s, end ${end} s`,
    );
  }
  return { start, end };
}

/** Whether playing from `from` loops: only when it starts before the loop's end (after it, play runs on). */
export function loopApplies(from: number, loop: LoopRange | null): loop is LoopRange {
  return loop !== null && from < loop.end;
}

/** The playhead `elapsed` seconds after starting at `from`, wrapping at the loop's end when the loop applies. */
export function playheadAt(from: number, elapsed: number, loop: LoopRange | null): number {
  const t = from + Math.max(0, elapsed);
  if (!loopApplies(from, loop) || t < loop.end) return t;
  return loop.start + ((t - loop.end) % (loop.end - loop.start));
}

/**
 * The passes of a looped playback: the first from `from` to the loop end, then each repetition of the loop, as
 * `{ from, until, at }` where `at` is the elapsed time (seconds since play) when the pass begins.
 */
export function loopPass(from: number, loop: LoopRange, index: number): { from: number; until: number; at: number } {
  if (index === 0) return { from, until: loop.end, at: 0 };
  const length = loop.end - loop.start;
  return { from: loop.start, until: loop.end, at: loop.end - from + (index - 1) * length };
}
