/**
 * How generated takes enter a project document, defined once for the host (studio jobs, `npm run render`) and the
 * studio's own edit: each new take is appended to its region and made active, and the region plays it from its
 * start (`takeOffset` cleared: a new take is rendered for the region as it is now, so an offset left by an earlier
 * trim or split of the old take would play the wrong part of the new one).
 */
import type { ProjectDocument, RegionId, TakeRef } from './project.ts';

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
