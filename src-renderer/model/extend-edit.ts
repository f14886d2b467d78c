/**
 * Extend (issue 12 §2): a new region right after a region (or right before it), with its prompt and generation
 * settings, which the host then generates in the context of the region's kept latent (outpainting). The edit only
 * adds the region (one undo step); generating it is the caller's next call.
 */
import type { NewId, ProjectDocument, Region, RegionId } from '../../src-main/contract/project.ts';
import { EditError, MAX_SECONDS, describeRegion, fmtSeconds, freshId, idInUse, insertRegionEdit, regionsOfTrack, requireRegion, type Edit, type Span } from './edit-core.ts';

/** The shortest extension offered, seconds: less is not worth a generation (and a transition would not fit). */
export const MIN_EXTENSION_SECONDS = 1;

/**
 * Where an extension of `regionId` goes: from its end, as long as the region (the free stretch before the next
 * region on the track caps it), its end snapped by `snap` (the timeline's grid) when that keeps at least
 * MIN_EXTENSION_SECONDS. Null when the free stretch is shorter than that.
 */
export function extensionSpan(doc: ProjectDocument, regionId: RegionId, snap: (t: number) => number = (t) => t): Span | null {
  const region = requireRegion(doc, regionId);
  const start = region.end;
  const next = regionsOfTrack(doc, region.trackId).find((r) => r.id !== region.id && r.start >= start - 1e-6);
  const limit = Math.min(next?.start ?? MAX_SECONDS, MAX_SECONDS);
  if (limit - start < MIN_EXTENSION_SECONDS - 1e-9) return null;
  const wanted = Math.min(start + (region.end - region.start), limit);
  const snapped = snap(wanted);
  const end = Number.isFinite(snapped) && snapped - start >= MIN_EXTENSION_SECONDS - 1e-9 && snapped <= limit ? snapped : wanted;
  return end - start >= MIN_EXTENSION_SECONDS - 1e-9 ? { start, end } : null;
}

/** The frame grid of a kept latent on the timeline: where its frame 0 lies, seconds, and its frames per second. */
export interface FrameGrid {
  origin: number;
  framesPerSecond: number;
}

/**
 * Where an extension before `regionId` goes: up to its start, as long as the region (the free stretch after the
 * previous region on the track, or after 0 s, caps it), its start snapped by `snap` when that keeps at least
 * MIN_EXTENSION_SECONDS, then put on `grid` (the frame grid of the region's kept latent) at the frame at or before
 * it, or the one after when that would leave the free stretch. Null when less than MIN_EXTENSION_SECONDS is left.
 *
 * Why the grid: the host plans the new region's piece on the kept latent's frames and, with nothing kept before the
 * region, starts the piece at the region's start rounded to a frame; a start between frames would be rounded to a
 * frame after it (at 0 s always), and the region's take would then begin before its piece (host/generation/context.ts).
 */
export function extensionBeforeSpan(doc: ProjectDocument, regionId: RegionId, snap: (t: number) => number = (t) => t, grid?: FrameGrid): Span | null {
  const region = requireRegion(doc, regionId);
  const end = region.start;
  const previous = regionsOfTrack(doc, region.trackId).filter((r) => r.id !== region.id && r.end <= end + 1e-6);
  const limit = Math.max(0, ...previous.map((r) => r.end));
  const enough = (start: number): boolean => end - start >= MIN_EXTENSION_SECONDS - 1e-9;
  if (!enough(limit)) return null;
  const wanted = Math.max(end - (region.end - region.start), limit);
  const snapped = snap(wanted);
  let start = Number.isFinite(snapped) && enough(snapped) && snapped >= limit - 1e-9 ? snapped : wanted;
  if (grid !== undefined) {
    const fps = grid.framesPerSecond;
    let frame = Math.floor((start - grid.origin) * fps + 1e-6);
    if (grid.origin + frame / fps < limit - 1e-9) frame += 1;
    start = grid.origin + frame / fps;
  }
  return enough(start) && start >= limit - 1e-9 ? { start, end } : null;
}

/**
 * Adds the extension of `regionId` (see extensionSpan and extensionBeforeSpan): same prompt, negative prompt, generation settings and gain;
 * its locked seed when the region has one, else a random one at generation; no fades, no takes.
 */
export function extendRegion(doc: ProjectDocument, regionId: RegionId, span: Span, newId: NewId): Edit {
  const source = requireRegion(doc, regionId);
  const clash = regionsOfTrack(doc, source.trackId).find((r) => r.start < span.end - 1e-6 && span.start < r.end - 1e-6);
  if (!(span.start < span.end) || clash !== undefined) {
    throw new EditError(
      `An extension of ${describeRegion(source)} at ${fmtSeconds(span.start)}–${fmtSeconds(span.end)} ${clash === undefined ? 'is empty' : `would overlap ${describeRegion(clash)}`}; make room next to the region first.`,
    );
  }
  const before = span.end <= source.start + 1e-6;
  const id = freshId('rgn', newId, (candidate) => idInUse(doc, candidate));
  const locked = source.lockedSeed === true && source.seed !== null;
  const region: Region = {
    id,
    trackId: source.trackId,
    start: span.start,
    end: span.end,
    prompt: source.prompt,
    negativePrompt: source.negativePrompt,
    seed: locked ? source.seed : null,
    ...(locked ? { lockedSeed: true } : {}),
    generation: { ...source.generation },
    gainDb: source.gainDb,
    fadeIn: 0,
    fadeOut: 0,
    takes: [],
    activeTakeId: null,
  };
  return insertRegionEdit(doc, before ? 'Extend region before' : 'Extend region', region);
}
