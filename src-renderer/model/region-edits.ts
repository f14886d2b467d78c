/**
 * Region edits on the timeline: add, move (also to another track), trim, split, duplicate, delete. Every result
 * keeps the document rules of parseProject: regions on a track may touch but never overlap, start < end ≤ 24 h,
 * fades fit the length, `regionIds` lists each region once (kept sorted by start).
 */
import { GENERATION_DEFAULTS, LIMITS, MAX_PROMPT_CHARS, withinLimit } from '../../src-main/contract/generation-settings.ts';
import type { NewId, ProjectDocument, Region, RegionId, SamplerName, TrackId } from '../../src-main/contract/project.ts';
import {
  EditError,
  MAX_SECONDS,
  MIN_REGION_SECONDS,
  describeRegion,
  draftTrack,
  findOverlap,
  fitFades,
  fmtSeconds,
  freshId,
  idInUse,
  insertRegionEdit,
  makeEdit,
  regionsOfTrack,
  requireFinite,
  requireRegion,
  requireRegions,
  requireText,
  requireTrack,
  settleEdges,
  sortRegionIds,
  trackName,
  type Edit,
  type Span,
} from './edit-core.ts';
import { defaultSamplerForModel } from './model-switch.ts';

/** A model's defaults for new regions (from the model list the host reports). */
export interface ModelDefaults {
  id: string;
  defaultSteps: number;
  defaultGuidance: number;
  /** The model's family, which decides the sampler when `samplers` is absent (model-switch.ts); `ddim` when both are. */
  family?: string;
  /** The samplers the model runs, its default first (`ModelInfo.samplers`). */
  samplers?: readonly SamplerName[];
}

/** Steps when the default model is not in the list given. */
export const FALLBACK_STEPS = 25;
/** Guidance when the default model is not in the list given. */
export const FALLBACK_GUIDANCE = 2.5;

/**
 * Adds an empty region (no takes) with the project's generation defaults; steps and guidance come from the default
 * model's entry in `models`, else FALLBACK_STEPS / FALLBACK_GUIDANCE, and the sampler is the model's default.
 */
export function addRegion(
  doc: ProjectDocument,
  options: { newId: NewId; trackId: TrackId; start: number; end: number; prompt?: string; models?: readonly ModelDefaults[] },
): Edit {
  const track = requireTrack(doc, options.trackId);
  const asked = { start: requireFinite(options.start, 'Region start'), end: requireFinite(options.end, 'Region end') };
  if (asked.start < 0 || asked.end > MAX_SECONDS || !(asked.start < asked.end)) {
    throw new EditError(
      `A region needs 0 ≤ start < end ≤ ${MAX_SECONDS} s, got ${fmtSeconds(asked.start)}–${fmtSeconds(asked.end)}; drag from left to right inside the timeline.`,
    );
  }
  const neighbours = regionsOfTrack(doc, track.id);
  const span = settled(asked, neighbours);
  const clash = findOverlap(span, neighbours);
  if (clash !== undefined) {
    throw new EditError(
      `A region at ${fmtSeconds(span.start)}–${fmtSeconds(span.end)} would overlap region ${describeRegion(clash)} ` +
        `(${fmtSeconds(clash.start)}–${fmtSeconds(clash.end)}) on track '${track.name}'; draw it in an empty stretch or move that region first.`,
    );
  }
  const prompt = options.prompt === undefined ? '' : requireText(options.prompt, 'Prompt', MAX_PROMPT_CHARS);
  const model = options.models?.find((m) => m.id === doc.settings.defaultModel);
  const id = freshId('rgn', options.newId, (candidate) => idInUse(doc, candidate));
  const region: Region = {
    id,
    trackId: track.id,
    start: span.start,
    end: span.end,
    prompt,
    negativePrompt: '',
    seed: null,
    generation: {
      model: doc.settings.defaultModel,
      steps: validSteps(model?.defaultSteps) ?? FALLBACK_STEPS,
      guidance: validGuidance(model?.defaultGuidance) ?? FALLBACK_GUIDANCE,
      sampler: defaultSamplerForModel(model),
      eta: GENERATION_DEFAULTS.eta,
      method: doc.settings.defaultMethod,
      transition: doc.settings.defaultTransition,
    },
    gainDb: 0,
    fadeIn: 0,
    fadeOut: 0,
    takes: [],
    activeTakeId: null,
  };
  return insertRegionEdit(doc, 'Add region', region);
}

/**
 * Moves regions by `deltaSeconds`, all or nothing, optionally all onto `targetTrackId`. The delta is clamped so the
 * selection stays within 0…24 h (it moves as one block); a move onto regions outside the selection is refused.
 */
export function moveRegions(doc: ProjectDocument, regionIds: Iterable<RegionId>, deltaSeconds: number, targetTrackId?: TrackId): Edit {
  const moving = requireRegions(doc, regionIds, 'move');
  const target = targetTrackId === undefined ? undefined : requireTrack(doc, targetTrackId).id;
  const asked = requireFinite(deltaSeconds, 'Move distance');
  const first = Math.min(...moving.map((r) => r.start));
  const last = Math.max(...moving.map((r) => r.end));
  const delta = Math.min(Math.max(asked, -first), MAX_SECONDS - last);
  const movingIds = new Set<string>(moving.map((r) => r.id));
  const what = moving.length === 1 ? `region ${describeRegion(moving[0])}` : `${moving.length} regions`;

  const placed = new Map<RegionId, { trackId: TrackId } & Span>();
  for (const region of moving) {
    const trackId = target ?? region.trackId;
    const others = regionsOfTrack(doc, trackId).filter((o) => !movingIds.has(o.id));
    const span = settled({ start: Math.max(0, region.start + delta), end: Math.min(MAX_SECONDS, region.end + delta) }, others);
    const clash = findOverlap(span, others);
    const fellow = findOverlap(span, [...placed.values()].filter((p) => p.trackId === trackId));
    if (clash !== undefined || fellow !== undefined || !(span.start < span.end)) {
      const onto =
        clash !== undefined
          ? `region ${describeRegion(clash)} (${fmtSeconds(clash.start)}–${fmtSeconds(clash.end)})`
          : 'another of the moved regions';
      throw new EditError(
        `Moving ${what} by ${fmtSeconds(delta)} would overlap ${onto} on track '${trackName(doc, trackId)}'; ` +
          'move to an empty stretch or another track.',
      );
    }
    placed.set(region.id, { trackId, ...span });
  }

  return makeEdit(doc, moving.length === 1 ? 'Move region' : `Move ${moving.length} regions`, (draft) => {
    const touched = new Set<TrackId>();
    for (const [id, spot] of placed) {
      const region = draft.regions[id];
      const from = region.trackId;
      region.start = spot.start;
      region.end = spot.end;
      [region.fadeIn, region.fadeOut] = fitFades(region.fadeIn, region.fadeOut, spot.end - spot.start);
      if (spot.trackId !== from) {
        const source = draftTrack(draft, from);
        source.regionIds.splice(source.regionIds.indexOf(id), 1);
        draftTrack(draft, spot.trackId).regionIds.push(id);
        region.trackId = spot.trackId;
      }
      touched.add(from).add(spot.trackId);
    }
    for (const trackId of touched) sortRegionIds(draft, draftTrack(draft, trackId));
  });
}

/**
 * Moves one edge of a region to `t`, clamped: at least MIN_REGION_SECONDS long, never into a neighbour, and, for a
 * region with takes, never before its take's start. A start trim shifts `takeOffset` by the same amount so the
 * audio stays put on the timeline; fades shrink to fit.
 */
export function trimRegion(doc: ProjectDocument, regionId: RegionId, edge: 'start' | 'end', t: number): Edit {
  const region = requireRegion(doc, regionId);
  if (edge !== 'start' && edge !== 'end') throw new EditError(`Trim edge must be 'start' or 'end', got ${String(edge)}; this is a bug in the caller.`);
  const asked = requireFinite(t, 'Trim position');
  const others = regionsOfTrack(doc, region.trackId).filter((o) => o.id !== region.id);
  const offset = region.takeOffset ?? 0;
  let { start, end } = region;
  if (edge === 'start') {
    let lower = Math.max(0, ...others.filter((o) => o.end <= region.start).map((o) => o.end));
    if (region.takes.length > 0) lower = Math.max(lower, region.start - offset);
    // A region already shorter than the minimum (from an older file) may stay as it is, but not shrink.
    const upper = Math.max(region.start, region.end - MIN_REGION_SECONDS);
    start = Math.min(Math.max(asked, Math.min(lower, region.start)), upper);
  } else {
    const upper = Math.min(MAX_SECONDS, ...others.filter((o) => o.start >= region.end).map((o) => o.start));
    const lower = Math.min(region.end, region.start + MIN_REGION_SECONDS);
    end = Math.min(Math.max(asked, lower), Math.max(upper, region.end));
  }
  return makeEdit(doc, 'Trim region', (draft) => {
    const r = draft.regions[regionId];
    r.start = start;
    r.end = end;
    if (start !== region.start) {
      const next = Math.max(0, offset + (start - region.start));
      if (next !== offset || region.takeOffset !== undefined) r.takeOffset = next;
    }
    [r.fadeIn, r.fadeOut] = fitFades(region.fadeIn, region.fadeOut, end - start);
  });
}

/**
 * Splits a region at `t` (strictly inside) into two with the same prompt, settings and takes; the right part plays
 * on from where the left stops (`takeOffset` advances by `t − start`). The fade-in stays left, the fade-out goes right.
 */
export function splitRegion(doc: ProjectDocument, regionId: RegionId, t: number, newId: NewId): Edit {
  const region = requireRegion(doc, regionId);
  const at = requireFinite(t, 'Split position');
  if (!(region.start < at && at < region.end)) {
    throw new EditError(
      `Split position ${fmtSeconds(at)} is not inside region ${describeRegion(region)} (${fmtSeconds(region.start)}–${fmtSeconds(region.end)}); ` +
        'put the playhead inside the region and split again.',
    );
  }
  const id = freshId('rgn', newId, (candidate) => idInUse(doc, candidate));
  const [fadeIn] = fitFades(region.fadeIn, 0, at - region.start);
  const [, fadeOut] = fitFades(0, region.fadeOut, region.end - at);
  // Take ids are unique per region, so both halves may list the same take records.
  const right: Region = { ...region, id, start: at, fadeIn: 0, fadeOut, takeOffset: (region.takeOffset ?? 0) + (at - region.start) };
  return makeEdit(
    doc,
    'Split region',
    (draft) => {
      const left = draft.regions[regionId];
      left.end = at;
      left.fadeIn = fadeIn;
      left.fadeOut = 0;
      draft.regions[id] = right;
      const lane = draftTrack(draft, region.trackId);
      lane.regionIds.splice(lane.regionIds.indexOf(regionId) + 1, 0, id);
      sortRegionIds(draft, lane);
    },
    [id],
  );
}

/**
 * Copies the regions, each on its own track, shifted by the selection's length so the copies start where the
 * selection ends (as Ctrl+D does). Refused when a copy would overlap a region or pass 24 h.
 */
export function duplicateRegions(doc: ProjectDocument, regionIds: Iterable<RegionId>, newId: NewId): Edit {
  const originals = requireRegions(doc, regionIds, 'duplicate').sort((a, b) => a.start - b.start);
  const first = Math.min(...originals.map((r) => r.start));
  const last = Math.max(...originals.map((r) => r.end));
  const shift = last - first;
  if (last + shift > MAX_SECONDS) {
    throw new EditError(`The copies would end at ${fmtSeconds(last + shift)}, past the ${MAX_SECONDS} s limit; duplicate fewer regions or move them earlier.`);
  }
  const created = new Set<string>();
  const copies = originals.map((original): Region => {
    const neighbours = regionsOfTrack(doc, original.trackId);
    const span = settled({ start: original.start + shift, end: original.end + shift }, neighbours);
    const clash = findOverlap(span, neighbours);
    if (clash !== undefined || !(span.start < span.end)) {
      throw new EditError(
        `The copy of region ${describeRegion(original)} would land at ${fmtSeconds(span.start)}–${fmtSeconds(span.end)}` +
          `${clash === undefined ? '' : `, over region ${describeRegion(clash)} (${fmtSeconds(clash.start)}–${fmtSeconds(clash.end)})`} ` +
          `on track '${trackName(doc, original.trackId)}'; make room after ${fmtSeconds(last)} or move that region.`,
      );
    }
    const id = freshId('rgn', newId, (candidate) => created.has(candidate) || idInUse(doc, candidate));
    created.add(id);
    const [fadeIn, fadeOut] = fitFades(original.fadeIn, original.fadeOut, span.end - span.start);
    return { ...original, id, start: span.start, end: span.end, fadeIn, fadeOut };
  });
  return makeEdit(
    doc,
    'Duplicate',
    (draft) => {
      for (const copy of copies) {
        draft.regions[copy.id] = copy;
        draftTrack(draft, copy.trackId).regionIds.push(copy.id);
      }
      for (const trackId of new Set(copies.map((c) => c.trackId))) sortRegionIds(draft, draftTrack(draft, trackId));
    },
    copies.map((c) => c.id),
  );
}

/** Deletes regions (and their place on their tracks); their take files stay on disk so Undo can bring them back. */
export function deleteRegions(doc: ProjectDocument, regionIds: Iterable<RegionId>): Edit {
  const doomed = requireRegions(doc, regionIds, 'delete');
  return makeEdit(doc, doomed.length === 1 ? 'Delete region' : `Delete ${doomed.length} regions`, (draft) => {
    for (const region of doomed) {
      const lane = draftTrack(draft, region.trackId);
      lane.regionIds.splice(lane.regionIds.indexOf(region.id), 1);
      delete draft.regions[region.id];
    }
  });
}

/** `span` settled against `neighbours` and still inside the timeline. */
function settled(span: Span, neighbours: readonly Span[]): Span {
  const out = settleEdges(span, neighbours);
  return { start: Math.max(0, out.start), end: Math.min(MAX_SECONDS, out.end) };
}

function validSteps(steps: number | undefined): number | undefined {
  return withinLimit(LIMITS.steps, steps) ? steps : undefined;
}

function validGuidance(guidance: number | undefined): number | undefined {
  return withinLimit(LIMITS.guidance, guidance) ? guidance : undefined;
}
