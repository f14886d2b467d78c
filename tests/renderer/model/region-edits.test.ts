import { describe, expect, it } from 'vitest';
import { parseProject, type ProjectDocument, type Region } from '../../../src-main/contract/project.ts';
import {
  EditError,
  FALLBACK_GUIDANCE,
  FALLBACK_STEPS,
  MIN_REGION_SECONDS,
  addRegion,
  deleteRegions,
  duplicateRegions,
  moveRegions,
  projectEnd,
  regionsOfTrack,
  splitRegion,
  trimRegion,
  type Edit,
} from '../../../src-renderer/model/edits.ts';
import { counterIds, region, sampleProject, take } from '../../contract/project-fixtures.ts';
import { roundTrip as checkRoundTrip } from './round-trip.ts';

const roundTrip = (before: ProjectDocument, edit: Edit): ProjectDocument => checkRoundTrip(before, edit, { sortedRegions: true });


const fixedId = (id: string) => () => id;

/** The sample project plus `extra` regions on track A. */
function withRegions(...extra: Region[]): ProjectDocument {
  return withRegionsOn(sampleProject(), extra);
}

/** The sample project's tracks holding only `regions`. */
function emptyTracks(...regions: Region[]): ProjectDocument {
  const doc = sampleProject();
  doc.regions = {};
  for (const t of doc.tracks) t.regionIds = [];
  return withRegionsOn(doc, regions);
}

function withRegionsOn(doc: ProjectDocument, regions: Region[]): ProjectDocument {
  for (const r of regions) {
    doc.regions[r.id] = r;
    doc.tracks.find((t) => t.id === r.trackId)?.regionIds.push(r.id);
  }
  for (const t of doc.tracks) t.regionIds.sort((a, b) => doc.regions[a].start - doc.regions[b].start);
  return parseProject(doc, 'fixture');
}

describe('helpers', () => {
  it('lists a track’s regions by start and finds the project end', () => {
    const doc = withRegions(region('rgn_z', 'trk_a', 25, 26));
    expect(regionsOfTrack(doc, 'trk_a').map((r) => r.id)).toEqual(['rgn_a', 'rgn_b', 'rgn_z']);
    expect(regionsOfTrack(doc, 'trk_nope')).toEqual([]);
    expect(projectEnd(doc)).toBe(30);
    expect(projectEnd({ ...doc, regions: {} })).toBe(0);
  });
});

describe('addRegion', () => {
  it('creates an empty region with the project defaults and the model’s steps and guidance', () => {
    const doc = sampleProject();
    doc.settings = { defaultModel: 'tiny', defaultMethod: 'spotdiffusion', defaultTransition: 1.5 };
    const models = [
      { id: 'sketch', defaultSteps: 10, defaultGuidance: 1 },
      { id: 'tiny', defaultSteps: 40, defaultGuidance: 3.5 },
    ];
    const edit = addRegion(doc, { newId: fixedId('rgn_new'), trackId: 'trk_b', start: 0, end: 3, prompt: 'birds', models });
    const next = roundTrip(doc, edit);
    expect(edit.label).toBe('Add region');
    expect(edit.createdIds).toEqual(['rgn_new']);
    expect(next.regions.rgn_new).toEqual({
      id: 'rgn_new',
      trackId: 'trk_b',
      start: 0,
      end: 3,
      prompt: 'birds',
      negativePrompt: '',
      seed: null,
      generation: { model: 'tiny', steps: 40, guidance: 3.5, sampler: 'ddim', eta: 0, method: 'spotdiffusion', transition: 1.5 },
      gainDb: 0,
      fadeIn: 0,
      fadeOut: 0,
      takes: [],
      activeTakeId: null,
    });
    // Touching rgn_c (3–30) is fine, and the track lists the new region first.
    expect(next.tracks[1].regionIds).toEqual(['rgn_new', 'rgn_c']);
  });

  it('falls back to 25 steps and guidance 2.5 for an unknown model', () => {
    const doc = sampleProject();
    const next = roundTrip(doc, addRegion(doc, { newId: fixedId('rgn_n'), trackId: 'trk_a', start: 21, end: 25 }));
    expect(next.regions.rgn_n.generation).toMatchObject({ model: 'sketch', steps: FALLBACK_STEPS, guidance: FALLBACK_GUIDANCE });
    expect([FALLBACK_STEPS, FALLBACK_GUIDANCE]).toEqual([25, 2.5]);
  });

  it('refuses an overlap, naming the region in the way', () => {
    const doc = sampleProject();
    const add = () => addRegion(doc, { newId: fixedId('rgn_n'), trackId: 'trk_a', start: 19, end: 22 });
    expect(add).toThrow(EditError);
    expect(add).toThrow(/19 s–22 s would overlap region 'rgn_b' \("deep organ"\) \(10 s–20.5 s\) on track 'Drones'; draw it in an empty stretch/);
  });

  it('treats an edge a hair inside a neighbour as touching', () => {
    const doc = sampleProject();
    const next = roundTrip(doc, addRegion(doc, { newId: fixedId('rgn_n'), trackId: 'trk_b', start: 1, end: 3 + 1e-9 }));
    expect(next.regions.rgn_n.end).toBe(3);
    expect(() => addRegion(doc, { newId: fixedId('rgn_n'), trackId: 'trk_b', start: 1, end: 3.001 })).toThrow(/overlap region 'rgn_c'/);
  });

  it('refuses an empty, reversed, negative or unknown-track span', () => {
    const doc = sampleProject();
    const at = (start: number, end: number) => () => addRegion(doc, { newId: fixedId('rgn_n'), trackId: 'trk_a', start, end });
    expect(at(25, 25)).toThrow(/0 ≤ start < end ≤ 86400 s, got 25 s–25 s/);
    expect(at(26, 25)).toThrow(/got 26 s–25 s/);
    expect(at(-1, 25)).toThrow(/got -1 s–25 s/);
    expect(at(Number.NaN, 25)).toThrow(/Region start must be a finite number/);
    expect(() => addRegion(doc, { newId: fixedId('rgn_n'), trackId: 'trk_x', start: 0, end: 1 })).toThrow(/Track 'trk_x'/);
  });
});

describe('moveRegions', () => {
  it('moves one region and labels it "Move region"', () => {
    const doc = sampleProject();
    const edit = moveRegions(doc, ['rgn_c'], 5);
    expect(edit.label).toBe('Move region');
    expect(roundTrip(doc, edit).regions.rgn_c).toMatchObject({ start: 8, end: 35, fadeIn: 0.5, fadeOut: 0.5 });
  });

  it('moves several as one block, ignoring overlaps among the selection', () => {
    const doc = sampleProject();
    const edit = moveRegions(doc, ['rgn_a', 'rgn_b', 'rgn_a'], 1.5);
    expect(edit.label).toBe('Move 2 regions');
    const next = roundTrip(doc, edit);
    expect([next.regions.rgn_a.start, next.regions.rgn_b.start]).toEqual([1.5, 11.5]);
  });

  it('clamps the delta so the earliest region stops at 0, moving the whole selection by that', () => {
    const doc = sampleProject();
    const next = roundTrip(doc, moveRegions(doc, ['rgn_c'], -10));
    expect(next.regions.rgn_c).toMatchObject({ start: 0, end: 27 });
    // rgn_a already starts at 0: the block cannot move left at all.
    expect(moveRegions(doc, ['rgn_a', 'rgn_b', 'rgn_c'], -5).patches).toEqual([]);
    expect(roundTrip(doc, moveRegions(doc, ['rgn_c'], 1e6)).regions.rgn_c.end).toBe(86_400);
  });

  it('refuses an overlap with a region outside the selection', () => {
    const doc = sampleProject();
    expect(() => moveRegions(doc, ['rgn_b'], -1)).toThrow(/Moving region 'rgn_b' \("deep organ"\) by -1 s would overlap region 'rgn_a'.*on track 'Drones'/);
  });

  it('moves to another track, updating both tracks', () => {
    const doc = sampleProject();
    const edit = moveRegions(doc, ['rgn_a'], 30, 'trk_b');
    const next = roundTrip(doc, edit);
    expect(next.regions.rgn_a).toMatchObject({ trackId: 'trk_b', start: 30, end: 40 });
    expect(next.tracks[0].regionIds).toEqual(['rgn_b']);
    expect(next.tracks[1].regionIds).toEqual(['rgn_c', 'rgn_a']);
    expect(() => moveRegions(doc, ['rgn_b'], 0, 'trk_b')).toThrow(/overlap region 'rgn_c'.*on track 'Rain'/);
  });

  it('refuses regions from several tracks landing on each other on one target track', () => {
    const doc = sampleProject();
    expect(() => moveRegions(doc, ['rgn_b', 'rgn_c'], 40, 'trk_a')).toThrow(/overlap another of the moved regions on track 'Drones'/);
  });

  it('lets a region that float arithmetic puts a hair inside its neighbour touch it', () => {
    // The selection's start was snapped; the other region's end = end + delta lands one ulp past the neighbour.
    const end = 4.092497945308391;
    const neighbourStart = 40.721714360748685;
    const delta = neighbourStart - end;
    expect(end + delta).toBeGreaterThan(neighbourStart);
    const doc = emptyTracks(region('rgn_x', 'trk_a', 0.4156287579747864, end, { fadeIn: 1, fadeOut: 0 }), region('rgn_y', 'trk_a', neighbourStart, 50));
    const next = roundTrip(doc, moveRegions(doc, ['rgn_x'], delta));
    expect(next.regions.rgn_x.end).toBe(neighbourStart);
  });

  it('refuses an empty selection, unknown ids and a non-finite delta', () => {
    const doc = sampleProject();
    expect(() => moveRegions(doc, [], 1)).toThrow(/Nothing to move: no region is selected/);
    expect(() => moveRegions(doc, ['rgn_gone'], 1)).toThrow(/Region 'rgn_gone' is not in the project/);
    expect(() => moveRegions(doc, ['rgn_a'], Number.POSITIVE_INFINITY)).toThrow(/Move distance must be a finite number/);
    expect(() => moveRegions(doc, ['rgn_a'], 1, 'trk_q')).toThrow(/Track 'trk_q'/);
  });
});

describe('trimRegion', () => {
  it('moves the end edge freely up to the next region and keeps the minimum length', () => {
    const doc = sampleProject();
    const edit = trimRegion(doc, 'rgn_b', 'end', 15);
    expect(edit.label).toBe('Trim region');
    expect(roundTrip(doc, edit).regions.rgn_b).toMatchObject({ start: 10, end: 15, fadeIn: 0.5, fadeOut: 0.5 });
    expect(roundTrip(doc, trimRegion(doc, 'rgn_b', 'end', 40)).regions.rgn_b.end).toBe(40);
    expect(roundTrip(doc, trimRegion(doc, 'rgn_b', 'end', 2)).regions.rgn_b.end).toBe(10 + MIN_REGION_SECONDS);
    // rgn_b starts where rgn_a ends: the end of rgn_a cannot grow.
    expect(trimRegion(doc, 'rgn_a', 'end', 12).patches).toEqual([]);
  });

  it('shifts takeOffset with a start trim so the audio stays put', () => {
    const doc = sampleProject();
    const once = roundTrip(doc, trimRegion(doc, 'rgn_a', 'start', 3));
    expect(once.regions.rgn_a).toMatchObject({ start: 3, end: 10, takeOffset: 3 });
    const back = roundTrip(once, trimRegion(once, 'rgn_a', 'start', 1));
    expect(back.regions.rgn_a).toMatchObject({ start: 1, takeOffset: 1 });
    // With takes, the left edge stops where the take starts (takeOffset 0).
    const stopped = roundTrip(back, trimRegion(back, 'rgn_a', 'start', -4));
    expect(stopped.regions.rgn_a).toMatchObject({ start: 0, takeOffset: 0 });
  });

  it('stops a start trim at the take start even with room before it', () => {
    const doc = withRegions(region('rgn_t', 'trk_a', 25, 30, { takes: [take('take_9')], activeTakeId: 'take_9', takeOffset: 1.5 }));
    const next = roundTrip(doc, trimRegion(doc, 'rgn_t', 'start', 21));
    expect(next.regions.rgn_t).toMatchObject({ start: 23.5, takeOffset: 0 });
  });

  it('lets a region without takes extend left freely, with no negative takeOffset', () => {
    const doc = sampleProject();
    const next = roundTrip(doc, trimRegion(doc, 'rgn_c', 'start', 1));
    expect(next.regions.rgn_c.start).toBe(1);
    expect(next.regions.rgn_c.takeOffset).toBeUndefined();
    const shifted = withRegions(region('rgn_t', 'trk_a', 25, 30, { takeOffset: 4 }));
    expect(roundTrip(shifted, trimRegion(shifted, 'rgn_t', 'start', 22)).regions.rgn_t).toMatchObject({ start: 22, takeOffset: 1 });
    expect(roundTrip(shifted, trimRegion(shifted, 'rgn_t', 'start', 20.6)).regions.rgn_t).toMatchObject({ start: 20.6, takeOffset: 0 });
  });

  it('clamps a start trim at the previous region’s end', () => {
    const doc = sampleProject();
    const trimmed = roundTrip(doc, trimRegion(doc, 'rgn_b', 'start', 12));
    expect(trimmed.regions.rgn_b).toMatchObject({ start: 12, takeOffset: 2 });
    expect(roundTrip(trimmed, trimRegion(trimmed, 'rgn_b', 'start', 5)).regions.rgn_b).toMatchObject({ start: 10, takeOffset: 0 });
    expect(roundTrip(doc, trimRegion(doc, 'rgn_b', 'start', 99)).regions.rgn_b.start).toBeCloseTo(20.5 - MIN_REGION_SECONDS, 12);
  });

  it('shrinks fades to the new length', () => {
    const doc = withRegions(region('rgn_f', 'trk_a', 30, 40, { fadeIn: 3, fadeOut: 3 }));
    expect(roundTrip(doc, trimRegion(doc, 'rgn_f', 'end', 34)).regions.rgn_f).toMatchObject({ fadeIn: 3, fadeOut: 1 });
    expect(roundTrip(doc, trimRegion(doc, 'rgn_f', 'start', 38)).regions.rgn_f).toMatchObject({ fadeIn: 2, fadeOut: 0 });
  });

  it('refuses an unknown region, a bad edge and a non-finite time', () => {
    const doc = sampleProject();
    expect(() => trimRegion(doc, 'rgn_q', 'end', 1)).toThrow(/'rgn_q'/);
    expect(() => trimRegion(doc, 'rgn_a', 'middle' as 'start', 1)).toThrow(/'start' or 'end', got middle/);
    expect(() => trimRegion(doc, 'rgn_a', 'end', Number.NaN)).toThrow(/Trim position must be a finite number/);
  });
});

describe('splitRegion', () => {
  it('splits into two halves sharing settings and takes, the right one playing on', () => {
    const doc = sampleProject();
    const edit = splitRegion(doc, 'rgn_a', 4, fixedId('rgn_r'));
    const next = roundTrip(doc, edit);
    expect(edit.label).toBe('Split region');
    expect(edit.createdIds).toEqual(['rgn_r']);
    const { rgn_a: left, rgn_r: right } = next.regions;
    expect(left).toMatchObject({ start: 0, end: 4, fadeIn: 0.5, fadeOut: 0 });
    expect(right).toMatchObject({ start: 4, end: 10, fadeIn: 0, fadeOut: 0.5, takeOffset: 4, activeTakeId: 'take_2', lockedSeed: true });
    expect(right.takes).toEqual(left.takes);
    expect({ ...right, id: 'rgn_a', start: 0, end: 4, fadeIn: 0.5, fadeOut: 0, takeOffset: undefined }).toEqual({ ...left, takeOffset: undefined });
    expect(next.tracks[0].regionIds).toEqual(['rgn_a', 'rgn_r', 'rgn_b']);
  });

  it('adds to an existing takeOffset and clamps fades to each half', () => {
    const doc = withRegions(region('rgn_s', 'trk_a', 30, 40, { takeOffset: 2, fadeIn: 6, fadeOut: 3 }));
    const next = roundTrip(doc, splitRegion(doc, 'rgn_s', 32, fixedId('rgn_r')));
    expect(next.regions.rgn_s).toMatchObject({ end: 32, fadeIn: 2, fadeOut: 0, takeOffset: 2 });
    expect(next.regions.rgn_r).toMatchObject({ start: 32, fadeIn: 0, fadeOut: 3, takeOffset: 4 });
  });

  it('refuses a position on or outside the edges', () => {
    const doc = sampleProject();
    for (const t of [0, 10, 11]) {
      expect(() => splitRegion(doc, 'rgn_a', t, fixedId('rgn_r'))).toThrow(new RegExp(`Split position ${t} s is not inside region 'rgn_a'.*\\(0 s–10 s\\)`));
    }
    expect(() => splitRegion(doc, 'rgn_a', 5, fixedId('rgn_b'))).toThrow(/'rgn_b', which is already in use/);
  });
});

describe('duplicateRegions', () => {
  it('places a copy right after the region', () => {
    const doc = sampleProject();
    const edit = duplicateRegions(doc, ['rgn_b'], fixedId('rgn_d'));
    const next = roundTrip(doc, edit);
    expect(edit.label).toBe('Duplicate');
    expect(edit.createdIds).toEqual(['rgn_d']);
    expect(next.regions.rgn_d).toEqual({ ...doc.regions.rgn_b, id: 'rgn_d', start: 20.5, end: 31 });
    expect(next.tracks[0].regionIds).toEqual(['rgn_a', 'rgn_b', 'rgn_d']);
  });

  it('shifts a multi-track selection by its whole length, keeping takes', () => {
    const doc = sampleProject();
    const edit = duplicateRegions(doc, ['rgn_c', 'rgn_a'], counterIds());
    const next = roundTrip(doc, edit);
    expect(edit.createdIds).toEqual(['rgn_1', 'rgn_2']);
    expect(next.regions.rgn_1).toMatchObject({ trackId: 'trk_a', start: 30, end: 40, activeTakeId: 'take_2' });
    expect(next.regions.rgn_1.takes).toEqual(doc.regions.rgn_a.takes);
    expect(next.regions.rgn_2).toMatchObject({ trackId: 'trk_b', start: 33, end: 60 });
  });

  it('refuses when a copy would land on a region', () => {
    const doc = withRegions(region('rgn_z', 'trk_a', 25, 26, { prompt: '' }));
    expect(() => duplicateRegions(doc, ['rgn_b'], fixedId('rgn_d'))).toThrow(
      /copy of region 'rgn_b'.*20.5 s–31 s, over region 'rgn_z' \(25 s–26 s\) on track 'Drones'; make room after 20.5 s/,
    );
  });

  it('refuses copies past the 24-hour limit and duplicate generated ids', () => {
    const doc = withRegions(region('rgn_late', 'trk_a', 50_000, 80_000));
    expect(() => duplicateRegions(doc, ['rgn_late'], fixedId('rgn_d'))).toThrow(/would end at 110000 s, past the 86400 s limit/);
    expect(() => duplicateRegions(doc, ['rgn_a', 'rgn_b'], fixedId('rgn_d'))).toThrow(/'rgn_d', which is already in use/);
  });
});

describe('deleteRegions', () => {
  it('deletes one or several regions from their tracks', () => {
    const doc = sampleProject();
    const one = deleteRegions(doc, ['rgn_b']);
    expect(one.label).toBe('Delete region');
    expect(roundTrip(doc, one).tracks[0].regionIds).toEqual(['rgn_a']);
    const two = deleteRegions(doc, ['rgn_a', 'rgn_c']);
    expect(two.label).toBe('Delete 2 regions');
    const next = roundTrip(doc, two);
    expect(Object.keys(next.regions)).toEqual(['rgn_b']);
    expect(next.tracks.map((t) => t.regionIds)).toEqual([['rgn_b'], []]);
  });

  it('refuses unknown ids and an empty selection', () => {
    const doc = sampleProject();
    expect(() => deleteRegions(doc, ['rgn_a', 'rgn_nope'])).toThrow(/'rgn_nope' is not in the project/);
    expect(() => deleteRegions(doc, [])).toThrow(/Nothing to delete/);
  });
});
