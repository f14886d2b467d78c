/** contract/takes.ts: applyTakes clears takeOffset; keptNeighbours finds what a redo in context can continue. */
import { describe, expect, it } from 'vitest';
import type { ProjectDocument, Region, TakeRef } from '../../src-main/contract/project.ts';
import { applyTakes, keptNeighbours } from '../../src-main/contract/takes.ts';
import { region, sampleProject } from './project-fixtures.ts';

const latentTake = (id: string, seconds: number, model = 'sketch'): TakeRef => ({
  id: id as TakeRef['id'],
  file: `takes/${id}.wav`,
  createdAt: '2026-01-01T00:00:00.000Z',
  seed: 1,
  parameters: {},
  seconds,
  sampleRate: 16000,
  latent: { file: 'takes/piece_x.npy', model, modelVersion: '1', framesPerSecond: 25, window: 256, start: 0, channels: 8, frames: 750, bins: 16, from: 0, to: seconds * 25 },
});

/** Regions a…e on one track: a [0,5) b [5,10) c [10,15) touching, d [16,20) after a gap; e [20,25). */
function project(overrides: Partial<Record<'a' | 'b' | 'c' | 'd' | 'e', Partial<Region>>> = {}): ProjectDocument {
  const base = sampleProject();
  const trackId = base.tracks[0].id;
  const spans = { a: [0, 5], b: [5, 10], c: [10, 15], d: [16, 20], e: [20, 25] } as const;
  const regions = Object.entries(spans).map(([k, [s, e]]) => {
    const take = latentTake(`take_${k}`, e - s);
    return region(`rgn_${k}` as Region['id'], trackId, s, e, { takes: [take], activeTakeId: take.id, ...overrides[k as keyof typeof spans] });
  });
  return { ...base, tracks: [{ ...base.tracks[0], regionIds: regions.map((r) => r.id) }, ...base.tracks.slice(1).map((t) => ({ ...t, regionIds: [] }))], regions: Object.fromEntries(regions.map((r) => [r.id, r])) };
}

const ids = (doc: ProjectDocument, id: string, direction: -1 | 1): string[] => keptNeighbours(doc, doc.regions[id as Region['id']], direction).map((n) => n.region.id);

describe('keptNeighbours', () => {
  it('walks touching regions with kept latents, nearest first, and stops at a gap', () => {
    const doc = project();
    expect(ids(doc, 'rgn_c', -1)).toEqual(['rgn_b', 'rgn_a']);
    expect(ids(doc, 'rgn_b', 1)).toEqual(['rgn_c']);
    expect(ids(doc, 'rgn_d', -1)).toEqual([]);
    expect(ids(doc, 'rgn_d', 1)).toEqual(['rgn_e']);
  });

  it('stops at a take without a latent, of another model, or ending before its region', () => {
    const old = { ...latentTake('take_b', 5) };
    delete old.latent;
    expect(ids(project({ b: { takes: [old], activeTakeId: old.id } }), 'rgn_c', -1)).toEqual([]);
    const other = latentTake('take_b', 5, 'stable-audio-3-standin');
    expect(ids(project({ b: { takes: [other], activeTakeId: other.id } }), 'rgn_c', -1)).toEqual([]);
    const short = latentTake('take_b', 3);
    expect(ids(project({ b: { takes: [short], activeTakeId: short.id } }), 'rgn_c', -1)).toEqual([]);
    expect(ids(project({ b: { takes: [short], activeTakeId: short.id } }), 'rgn_a', 1)).toEqual(['rgn_b']);
  });
});

describe('applyTakes', () => {
  it('makes each new take active, clears takeOffset and ignores repeats and unknown regions', () => {
    const doc = project({ b: { takeOffset: 1.5 } });
    const take = latentTake('take_new', 5);
    const next = applyTakes(doc, [{ regionId: 'rgn_b' as Region['id'], take }, { regionId: 'rgn_zz' as Region['id'], take }]);
    expect(next.regions['rgn_b' as Region['id']]).toMatchObject({ activeTakeId: 'take_new' });
    expect(next.regions['rgn_b' as Region['id']].takeOffset).toBeUndefined();
    expect(applyTakes(next, [{ regionId: 'rgn_b' as Region['id'], take }])).toBe(next);
  });
});
