/**
 * Redo one region in context (issue 12 §2): the region is generated again while its neighbours keep their takes.
 * The piece that runs covers the region plus up to one native window of each neighbour's kept latent (the final
 * latent of the piece its active take was cut from, `TakeRef.latent`); the engine holds those frames to the kept
 * latent at every step and lets the region's frames grow out of them (engine/longform/context.ts). Only the region
 * gets a new take: its slice of the piece. With a strength below 1 it is a variation: the region's own previous
 * latent, noised to that strength, is where its frames start (SDEdit).
 */
import { randomInt } from 'node:crypto';
import { ProjectError, type ProjectDocument, type RegionId } from '../../contract/project.ts';
import { keptNeighbours, keptTake, type KeptRegion } from '../../contract/takes.ts';
import type { KeptLatent } from '../../engine/longform/context.ts';
import type { NpyArray } from '../projects/npy.ts';
import type { PieceJob } from './plan.ts';

/** A kept region placed on the timeline: where its latent's frame 0 lies and the span it plays. */
interface Neighbour extends KeptRegion {
  /** Timeline seconds of the kept latent's frame 0. */
  latentStart: number;
  from: number;
  to: number;
}

/** `kept` placed on the timeline. */
function placed(kept: KeptRegion): Neighbour {
  const { region: r, take } = kept;
  const offset = r.takeOffset ?? 0;
  return { ...kept, latentStart: r.start - offset - take.latent.from / take.latent.framesPerSecond, from: r.start, to: Math.min(r.end, r.start + take.seconds - offset) };
}

/**
 * The engine job that regenerates `regionId` in the context of its neighbours' kept latents, or null when no
 * touching neighbour plays a kept latent of the region's model (then the region's run is regenerated as before).
 * `read` loads a kept latent file of the project.
 */
export async function regionInContext(
  doc: ProjectDocument,
  regionId: RegionId,
  read: (file: string) => Promise<NpyArray>,
  options: { strength?: number; rounds?: number; random?: () => number } = {},
): Promise<PieceJob | null> {
  const random = options.random ?? (() => randomInt(0, 2 ** 32 - 1));
  // Neighbours and the region itself usually play slices of one piece: read each kept latent file once.
  const files = new Map<string, Promise<NpyArray>>();
  const readOnce = (file: string): Promise<NpyArray> => {
    let data = files.get(file);
    if (!data) {
      data = read(file);
      files.set(file, data);
    }
    return data;
  };
  const region = Object.hasOwn(doc.regions, regionId) ? doc.regions[regionId] : undefined;
  if (!region) throw new ProjectError('not-found', `region '${regionId}' is not in the project`);
  const varies = options.strength !== undefined && options.strength < 1;
  const allBefore = keptNeighbours(doc, region, -1).map(placed);
  const allAfter = keptNeighbours(doc, region, 1).map(placed);
  const ownTake = keptTake(region);
  const anyOwn = ownTake ? placed(ownTake) : undefined;
  // One job continues latents of one model version (PieceJob.keptFrom; another version's latent space may differ):
  // that of the region's own latent where it kept one (the take being replaced), else of the nearest kept neighbour
  // before, then after; the walk on each side stops at a latent of another version, as at one of another model.
  const reference = anyOwn ?? allBefore[0] ?? allAfter[0];
  const sameVersion = (n: Neighbour): boolean => n.take.latent.modelVersion === reference?.take.latent.modelVersion;
  const upTo = (list: Neighbour[]): Neighbour[] => {
    const stop = list.findIndex((n) => !sameVersion(n));
    return stop < 0 ? list : list.slice(0, stop);
  };
  const before = upTo(allBefore);
  const after = upTo(allAfter);
  const own = anyOwn && sameVersion(anyOwn) ? anyOwn : undefined;
  if (varies && !own) {
    throw new ProjectError('invalid-argument', `region '${region.id}' ("${region.prompt.slice(0, 40)}") has no kept latent of ${region.generation.model} to vary; generate it once (or use strength 1 for a fresh take)`);
  }
  const first = before[0] ?? after[0] ?? (varies ? own : undefined);
  if (!first) return null;
  const { framesPerSecond: fps, window, modelVersion } = first.take.latent;
  const windowSeconds = window / fps;
  // The canvas reaches one native window into the kept content on each side, on the nearest kept latent's frame
  // grid (its frames then align exactly; a neighbour from another piece is read at the nearest frame).
  const reach = (list: Neighbour[], side: -1 | 1): number => {
    const far = side < 0 ? Math.min(...list.map((n) => n.from)) : Math.max(...list.map((n) => n.to));
    return list.length === 0 ? 0 : Math.min(windowSeconds, side < 0 ? region.start - far : far - region.end);
  };
  const grid = first.latentStart;
  // With nothing kept before the region, the piece starts on the grid at or before the region (rounding could put it
  // up to half a frame inside, leaving the region's first samples outside the piece); at the timeline's start, where
  // no grid frame is at or before it, on the region itself (a kept latent is then read at its nearest frames).
  const back = region.start - reach(before, -1);
  let start = grid + (before.length === 0 ? Math.floor((back - grid) * fps + 1e-6) : Math.round((back - grid) * fps)) / fps;
  if (start < 0) start += Math.ceil(-start * fps - 1e-9) / fps;
  if (start > region.start) start = region.start;
  const end = region.end + reach(after, 1);
  const g = region.generation;
  const kept: KeptLatent[] = [];
  const regions: { start: number; end: number; prompt: string; negativePrompt: string }[] = [];
  for (const n of [...before].reverse()) {
    const from = Math.max(n.from, start);
    if (from >= n.to) continue;
    const data = await readOnce(n.take.latent.file);
    kept.push({ data: data.data, frames: n.take.latent.frames, offset: n.latentStart - start, from: from - start, to: n.to - start });
    regions.push({ start: from - start, end: n.to - start, prompt: n.region.prompt, negativePrompt: n.region.negativePrompt });
  }
  const ownRegion = { start: region.start - start, end: region.end - start, prompt: region.prompt, negativePrompt: region.negativePrompt };
  regions.push(ownRegion);
  // The region's own previous latent, where its take kept one: the ramps inside the region hold to it, so the new
  // content grows out of what played there before instead of out of nothing.
  if (own) {
    const data = await readOnce(own.take.latent.file);
    kept.push({ data: data.data, frames: own.take.latent.frames, offset: own.latentStart - start, from: own.from - start, to: own.to - start });
  }
  for (const n of after) {
    const to = Math.min(n.to, end);
    if (to <= n.from) continue;
    const data = await readOnce(n.take.latent.file);
    kept.push({ data: data.data, frames: n.take.latent.frames, offset: n.latentStart - start, from: n.from - start, to: to - start });
    regions.push({ start: n.from - start, end: to - start, prompt: n.region.prompt, negativePrompt: n.region.negativePrompt });
  }
  // The canvas's ends may cut a far neighbour down to a sliver shorter than the transition (a chain of short kept
  // regions before an extension), which the engine refuses next to a transition. Its frames are held to the kept
  // latent anyway, so its prompt only steers a prediction that is replaced: the region next to it takes it over.
  const sliver = (r: { start: number; end: number }): boolean => r.end - r.start < g.transition + 1e-9;
  while (regions.length > 1 && regions[0] !== ownRegion && sliver(regions[0])) regions.shift();
  while (regions.length > 1 && regions[regions.length - 1] !== ownRegion && sliver(regions[regions.length - 1])) {
    regions.pop();
    regions[regions.length - 1] = { ...regions[regions.length - 1], end: end - start };
  }
  // Regions of the request cover [0, seconds] without gaps: the first starts at 0 (the canvas start may fall a
  // fraction of a frame before the first kept region after grid alignment).
  regions[0] = { ...regions[0], start: 0 };
  return {
    modelId: g.model,
    request: {
      regions,
      seconds: end - start,
      start,
      seed: region.seed ?? random(),
      steps: g.steps,
      guidance: g.guidance,
      sampler: g.sampler,
      eta: g.eta,
      method: g.method,
      transition: g.transition,
      context: { kept, free: { from: region.start - start, to: region.end - start }, ramp: g.transition, ...(options.rounds === undefined || options.rounds === 1 ? {} : { rounds: options.rounds }) },
      ...(options.strength !== undefined && options.strength < 1 ? { strength: options.strength } : {}),
    },
    keptFrom: { model: g.model, version: modelVersion },
    slices: [{ regionId: region.id, start: region.start - start, end: region.end - start, title: region.prompt }],
    origin: start,
    label: doc.tracks.find((t) => t.id === region.trackId)?.name ?? '',
  };
}
