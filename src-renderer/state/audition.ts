/** What auditioning one take of one region plays: that region alone, with that take, on its track at unity. */
import type { ProjectDocument, RegionId, TakeId } from '../../src-main/contract/project.ts';

/**
 * The document with only `regionId`, playing `takeId`, on an unmuted, unsoloed track at 0 dB and centre pan (the
 * region's own gain and fades stay); `doc` itself when the region or its track is missing.
 */
export function auditionDocument(doc: ProjectDocument, regionId: RegionId, takeId: TakeId): ProjectDocument {
  const region = Object.hasOwn(doc.regions, regionId) ? doc.regions[regionId] : undefined;
  const track = region === undefined ? undefined : doc.tracks.find((t) => t.id === region.trackId);
  if (region === undefined || track === undefined) return doc;
  return {
    ...doc,
    tracks: [{ ...track, mute: false, solo: false, volumeDb: 0, pan: 0, regionIds: [regionId] }],
    regions: { [regionId]: { ...region, activeTakeId: takeId } },
  };
}
