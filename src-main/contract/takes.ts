/**
 * How generated takes enter a project document, defined once for the host (studio jobs, `npm run render`) and the
 * studio's own edit: each new take is appended to its region and made active, and the region plays it from its
 * start (`takeOffset` cleared: a new take is rendered for the region as it is now, so an offset left by an earlier
 * trim or split of the old take would play the wrong part of the new one).
 */
import type { ProjectDocument, Region, RegionId, TakeLatent, TakeRef } from './project.ts';

/** A take the engine wrote for a region. */
export interface NewTake {
  regionId: RegionId;
  take: TakeRef;
}

/**
 * `doc` with `takes` added, each made its region's active take, played from its start. Regions that no longer
 * exist and takes already present are skipped, so applying the same takes twice changes nothing. Returns `doc`
 * itself when nothing changed.
 */
export function applyTakes(doc: ProjectDocument, takes: readonly NewTake[]): ProjectDocument {
  let next = doc;
  for (const { regionId, take } of takes) {
    const region = Object.hasOwn(next.regions, regionId) ? next.regions[regionId] : undefined;
    if (!region || region.takes.some((t) => t.id === take.id)) continue;
    const { takeOffset: _dropped, ...rest } = region;
    next = { ...next, regions: { ...next.regions, [regionId]: { ...rest, takes: [...region.takes, take], activeTakeId: take.id } } };
  }
  return next;
}

/** A region whose active take keeps a latent (the piece it was cut from). */
export interface KeptRegion {
  region: Region;
  take: TakeRef & { latent: TakeLatent };
}

const TOUCH = 1e-6;

/** `region`'s active take, when it keeps a latent of the region's current model. */
export function keptTake(region: Region): KeptRegion | undefined {
  const take = region.takes.find((t) => t.id === region.activeTakeId);
  const latent = take?.latent;
  return take && latent && latent.model === region.generation.model ? { region, take: { ...take, latent } } : undefined;
}

/**
 * The regions on `region`'s track that touch it in a chain (before it for direction −1, after it for +1), nearest
 * first, as long as each plays a kept latent of `region`'s model to its end: what a redo of `region` in context can
 * continue (host/generation/context.ts), and what the studio's "New take" keeps.
 */
export function keptNeighbours(doc: ProjectDocument, region: Region, direction: -1 | 1): KeptRegion[] {
  const track = doc.tracks.find((t) => t.id === region.trackId);
  const regions = (track?.regionIds ?? []).map((id) => doc.regions[id]).filter((r) => r !== undefined).sort((a, b) => a.start - b.start);
  const out: KeptRegion[] = [];
  let edge = direction < 0 ? region.start : region.end;
  for (let at = regions.findIndex((r) => r.id === region.id) + direction; at >= 0 && at < regions.length; at += direction) {
    const r = regions[at];
    if (Math.abs((direction < 0 ? r.end : r.start) - edge) > TOUCH) break;
    const take = r.takes.find((t) => t.id === r.activeTakeId);
    const latent = take?.latent;
    if (!take || !latent || latent.model !== region.generation.model) break;
    // A take that ends before its region does keeps nothing at the region's end: looking back, the region does not
    // reach the edge it should continue; looking ahead, nothing beyond it is kept.
    const short = r.start + take.seconds - (r.takeOffset ?? 0) < r.end - TOUCH;
    if (short && direction < 0) break;
    out.push({ region: r, take: { ...take, latent } });
    if (short) break;
    edge = direction < 0 ? r.start : r.end;
  }
  return out;
}
