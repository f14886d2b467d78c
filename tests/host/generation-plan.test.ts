/**
 * The studio generation job's labels and checks (host/studio/generation-plan.ts), from documents alone: the queue
 * says what a job generates and what it replaces (Extend, New take in context, Regenerate run, Vary, only the
 * regions without audio, a whole track), and contradictory requests are refused naming the value.
 */
import { describe, expect, it } from 'vitest';
import type { ProjectDocument, Region, RegionId, TakeRef, TrackId } from '../../src-main/contract/project.ts';
import { checkGeneration, generationLabel } from '../../src-main/host/studio/generation-plan.ts';
import { region, sampleProject, take } from '../contract/project-fixtures.ts';

const TRACK = 'trk_a' as TrackId;
const id = (s: string): RegionId => s as RegionId;

/** A take that kept a latent of `sketch` covering its region. */
function kept(takeId: `take_${string}`, seconds: number): TakeRef {
  return { ...take(takeId), seconds, latent: { file: 'takes/piece_1.npy', model: 'sketch', modelVersion: '1', framesPerSecond: 25, window: 256, start: 0, channels: 8, frames: 2000, bins: 16, from: 0, to: seconds * 25 } };
}

/** Track "Drones": 'low drone' 0–20.7, 'rain noise' 20.7–41.3 (both kept), 'bright bell' 41.3–60 (kept), 'bright bell' 60–80 (no take). */
function project(): ProjectDocument {
  const doc = sampleProject();
  const g = doc.regions.rgn_a.generation;
  const spans: [string, number, number, string, boolean][] = [
    ['rgn_1', 0, 20.7, 'low drone', true],
    ['rgn_2', 20.7, 41.3, 'rain noise', true],
    ['rgn_3', 41.3, 60, 'bright bell', true],
    ['rgn_4', 60, 80, 'bright bell', false],
  ];
  const regions: Region[] = spans.map(([rid, s, e, prompt, has], k) =>
    region(id(rid), TRACK, s, e, { prompt, generation: g, ...(has ? { takes: [kept(`take_${k}`, e - s)], activeTakeId: `take_${k}` as TakeRef['id'] } : {}) }),
  );
  return { ...doc, tracks: [{ ...doc.tracks[0], regionIds: regions.map((r) => r.id) }, doc.tracks[1]], regions: { ...Object.fromEntries(regions.map((r) => [r.id, r])), rgn_c: doc.regions.rgn_c } };
}

describe('generation labels', () => {
  it('say what each kind of job generates and replaces', () => {
    const doc = project();
    expect(generationLabel(doc, { trackId: TRACK, regionIds: [id('rgn_2')] })).toBe("New take of 'rain noise' 20.7–41.3 s (keeps neighbours)");
    expect(generationLabel(doc, { trackId: TRACK, regionIds: [id('rgn_2')], mode: 'run' })).toBe('Regenerate run: 4 regions of Drones (replaces 3 takes)');
    expect(generationLabel(doc, { trackId: TRACK, regionIds: [id('rgn_2')], strength: 0.4 })).toBe("Vary 'rain noise' 20.7–41.3 s at strength 0.4");
    expect(generationLabel(doc, { trackId: TRACK, regionIds: [id('rgn_4')] })).toBe("Extend Drones: 'bright bell' 60–80 s");
    expect(generationLabel(doc, { trackId: TRACK, regionIds: [], onlyMissing: true })).toBe('Generate Drones: 1 region without audio');
    expect(generationLabel(doc, { trackId: TRACK, regionIds: [] })).toBe('Generate Drones, replaces 3 takes');
    expect(generationLabel(doc, { trackId: 'trk_b' as TrackId, regionIds: [] })).toBe('Generate Rain');
    expect(generationLabel(doc, { trackId: 'trk_b' as TrackId, regionIds: [id('rgn_c')] })).toBe("Generate Rain: 'gentle rain' 3–30 s");
  });
});

describe('generation checks', () => {
  it('refuse strength outside one region in context, a strength below 1 without a kept latent, and nothing missing', () => {
    const doc = project();
    expect(() => checkGeneration(doc, { trackId: TRACK, regionIds: [id('rgn_1'), id('rgn_2')], strength: 0.5 })).toThrow(/strength 0\.5 varies one region in context; give exactly one region id \(got 2\)/);
    expect(() => checkGeneration(doc, { trackId: TRACK, regionIds: [id('rgn_4')], strength: 0.5 })).toThrow(/region 'rgn_4' \("bright bell"\) has no kept latent of sketch to vary at strength 0\.5/);
    expect(() => checkGeneration(doc, { trackId: TRACK, regionIds: [id('rgn_4')], strength: 1 })).not.toThrow();
    expect(() => checkGeneration(doc, { trackId: TRACK, regionIds: [id('rgn_1')], onlyMissing: true })).toThrow(/every chosen region of track 'Drones' already has a take/);
    expect(() => checkGeneration(doc, { trackId: TRACK, regionIds: [id('rgn_c')] })).toThrow(/rgn_c are not on track 'Drones'/);
  });
});
