import { describe, expect, it } from 'vitest';
import { parseProject, type ProjectDocument, type Region, type Track } from '../../../src-main/contract/project.ts';
import {
  checkLoop,
  effectiveMute,
  fadeEnvelope,
  fadeGain,
  loopPass,
  playheadAt,
  scheduleFrom,
  takeUrls,
  type ScheduledRegion,
  type TakeLocator,
} from '../../../src-renderer/audio/schedule.ts';
import { region, take } from '../../contract/project-fixtures.ts';

const locator: TakeLocator = { projectId: 'prj_1', assetUrl: (path) => `asset:${path}` };

function track(id: `trk_${string}`, regionIds: `rgn_${string}`[], extra: Partial<Track> = {}): Track {
  return { id, name: id, colour: '#336699', volumeDb: 0, pan: 0, mute: false, solo: false, stem: true, regionIds, ...extra };
}

/** A valid document (checked by parseProject) from tracks and regions. */
function project(tracks: Track[], regions: Region[]): ProjectDocument {
  return parseProject(
    {
      schemaVersion: 1,
      name: 'Schedule',
      tempo: 120,
      sampleRate: 48000,
      tracks,
      regions: Object.fromEntries(regions.map((r) => [r.id, r])),
      settings: { defaultModel: 'sketch', defaultMethod: 'auto', defaultTransition: 2 },
      createdWith: 'Tessera 0.1.0',
      createdAt: '2025-03-01T09:00:00.000Z',
    },
    'test',
  );
}

/** A take of `seconds` length. */
function takeOf(id: `take_${string}`, seconds: number) {
  return { ...take(id), seconds };
}

/** A region with one active take (default 20 s long, no fades). */
function playing(id: `rgn_${string}`, trackId: `trk_${string}`, start: number, end: number, extra: Partial<Region> = {}): Region {
  const takeId = `take_${id.slice(4)}` as const;
  return region(id, trackId, start, end, {
    fadeIn: 0,
    fadeOut: 0,
    takes: [takeOf(takeId, 20)],
    activeTakeId: takeId,
    ...extra,
  });
}

const timing = (e: ScheduledRegion) => ({ id: e.regionId, startAt: e.startAt, offset: e.offset, duration: e.duration });

describe('scheduleFrom', () => {
  it('starts every region at its start with the take from its takeOffset when playing from 0', () => {
    const doc = project(
      [track('trk_a', ['rgn_a', 'rgn_b'])],
      [playing('rgn_a', 'trk_a', 1, 5), playing('rgn_b', 'trk_a', 6, 9, { takeOffset: 2.5 })],
    );
    expect(scheduleFrom(doc, 0, locator).map(timing)).toEqual([
      { id: 'rgn_a', startAt: 1, offset: 0, duration: 4 },
      { id: 'rgn_b', startAt: 6, offset: 2.5, duration: 3 },
    ]);
  });

  it('after a seek into the middle of a region, starts at the seek with the offset advanced by the same amount', () => {
    const doc = project([track('trk_a', ['rgn_a'])], [playing('rgn_a', 'trk_a', 2, 10, { takeOffset: 1.5 })]);
    const [entry] = scheduleFrom(doc, 5.25, locator);
    expect(timing(entry)).toEqual({ id: 'rgn_a', startAt: 5.25, offset: 1.5 + 3.25, duration: 4.75 });
  });

  it('drops regions that ended before the start position, keeps those starting later', () => {
    const doc = project(
      [track('trk_a', ['rgn_a', 'rgn_b'])],
      [playing('rgn_a', 'trk_a', 0, 4), playing('rgn_b', 'trk_a', 8, 12)],
    );
    expect(scheduleFrom(doc, 4, locator).map((e) => e.regionId)).toEqual(['rgn_b']);
    expect(scheduleFrom(doc, 3.999, locator).map((e) => e.regionId)).toEqual(['rgn_a', 'rgn_b']);
  });

  it('clips a region to the end of its take (silence after it)', () => {
    // Take 20 s, offset 15: only 5 s of audio for a 10 s region.
    const doc = project([track('trk_a', ['rgn_a'])], [playing('rgn_a', 'trk_a', 0, 10, { takeOffset: 15 })]);
    expect(scheduleFrom(doc, 0, locator).map(timing)).toEqual([{ id: 'rgn_a', startAt: 0, offset: 15, duration: 5 }]);
    expect(scheduleFrom(doc, 2, locator).map(timing)).toEqual([{ id: 'rgn_a', startAt: 2, offset: 17, duration: 3 }]);
    // From past the take's end nothing of the region sounds any more.
    expect(scheduleFrom(doc, 6, locator)).toEqual([]);
  });

  it('skips regions without an active take, and an activeTakeId whose take is missing', () => {
    const doc = project(
      [track('trk_a', ['rgn_a', 'rgn_b'])],
      [region('rgn_a', 'trk_a', 0, 4), playing('rgn_b', 'trk_a', 5, 8)],
    );
    expect(scheduleFrom(doc, 0, locator).map((e) => e.regionId)).toEqual(['rgn_b']);
    const broken = structuredClone(doc);
    broken.regions.rgn_b.activeTakeId = 'take_gone';
    expect(scheduleFrom(broken, 0, locator)).toEqual([]);
  });

  it('plays the active take, not the newest', () => {
    const doc = project(
      [track('trk_a', ['rgn_a'])],
      [region('rgn_a', 'trk_a', 0, 4, { takes: [takeOf('take_1', 8), takeOf('take_2', 8)], activeTakeId: 'take_1' })],
    );
    const [entry] = scheduleFrom(doc, 0, locator);
    expect(entry.takeId).toBe('take_1');
    expect(entry.url).toBe('asset:prj_1/takes/take_1.wav');
  });

  it('clips at `until` (a loop end)', () => {
    const doc = project(
      [track('trk_a', ['rgn_a', 'rgn_b'])],
      [playing('rgn_a', 'trk_a', 0, 6), playing('rgn_b', 'trk_a', 7, 9)],
    );
    expect(scheduleFrom(doc, 1, locator, { until: 4 }).map(timing)).toEqual([
      { id: 'rgn_a', startAt: 1, offset: 1, duration: 3 },
    ]);
  });

  it('carries gain and fades, orders by start then track order, includes muted tracks', () => {
    const doc = project(
      [track('trk_a', ['rgn_a']), track('trk_b', ['rgn_b'], { mute: true })],
      [
        playing('rgn_a', 'trk_a', 2, 6, { gainDb: -6, fadeIn: 1, fadeOut: 0.5 }),
        playing('rgn_b', 'trk_b', 2, 4),
      ],
    );
    const entries = scheduleFrom(doc, 0, locator);
    expect(entries.map((e) => [e.regionId, e.trackId])).toEqual([
      ['rgn_a', 'trk_a'],
      ['rgn_b', 'trk_b'],
    ]);
    expect(entries[0]).toMatchObject({ gainDb: -6, fadeIn: 1, fadeOut: 0.5, regionStart: 2, regionEnd: 6 });
  });

  it('refuses a negative or non-finite start', () => {
    const doc = project([track('trk_a', [])], []);
    expect(() => scheduleFrom(doc, -1, locator)).toThrow(/from must be a time ≥ 0 s, got -1/);
    expect(() => scheduleFrom(doc, Number.NaN, locator)).toThrow(RangeError);
  });
});

describe('takeUrls', () => {
  it('lists each active take once', () => {
    const shared = takeOf('take_s', 20);
    const doc = project(
      [track('trk_a', ['rgn_a', 'rgn_b', 'rgn_c'])],
      [
        region('rgn_a', 'trk_a', 0, 2, { takes: [shared], activeTakeId: 'take_s' }),
        region('rgn_b', 'trk_a', 2, 4, { takes: [shared], activeTakeId: 'take_s', takeOffset: 2 }),
        region('rgn_c', 'trk_a', 4, 6),
      ],
    );
    expect(takeUrls(doc, locator)).toEqual(['asset:prj_1/takes/take_s.wav']);
  });
});

describe('effectiveMute (solo and mute)', () => {
  const doc = (flags: [mute: boolean, solo: boolean][]) =>
    project(
      flags.map(([mute, solo], i) => track(`trk_${i}`, [], { mute, solo })),
      [],
    );
  const silent = (d: ProjectDocument) => [...effectiveMute(d).values()];

  it('without solo, silences only muted tracks', () => {
    expect(silent(doc([[false, false], [true, false], [false, false]]))).toEqual([false, true, false]);
  });

  it('with a solo, only soloed unmuted tracks play', () => {
    expect(silent(doc([[false, true], [false, false], [true, false]]))).toEqual([false, true, true]);
    expect(silent(doc([[false, true], [false, true], [false, false]]))).toEqual([false, false, true]);
  });

  it('mute wins over solo, and a muted soloed track still silences the others', () => {
    expect(silent(doc([[true, true], [false, false]]))).toEqual([true, true]);
  });
});

describe('fades', () => {
  it('fadeGain is linear in and out and 1 in between', () => {
    expect(fadeGain(0, 10, 2, 4)).toBe(0);
    expect(fadeGain(1, 10, 2, 4)).toBe(0.5);
    expect(fadeGain(2, 10, 2, 4)).toBe(1);
    expect(fadeGain(5, 10, 2, 4)).toBe(1);
    expect(fadeGain(8, 10, 2, 4)).toBe(0.5);
    expect(fadeGain(10, 10, 2, 4)).toBe(0);
    expect(fadeGain(3, 10, 0, 0)).toBe(1);
  });

  it('fadeEnvelope gives the corners inside the played span', () => {
    const doc = project([track('trk_a', ['rgn_a'])], [playing('rgn_a', 'trk_a', 10, 20, { fadeIn: 2, fadeOut: 4 })]);
    const [whole] = scheduleFrom(doc, 0, locator);
    expect(fadeEnvelope(whole)).toEqual([
      { time: 10, gain: 0 },
      { time: 12, gain: 1 },
      { time: 16, gain: 1 },
      { time: 20, gain: 0 },
    ]);
    // Seek into the fade-in: the envelope starts at the gain the fade has reached there.
    const [mid] = scheduleFrom(doc, 11, locator);
    expect(fadeEnvelope(mid)).toEqual([
      { time: 11, gain: 0.5 },
      { time: 12, gain: 1 },
      { time: 16, gain: 1 },
      { time: 20, gain: 0 },
    ]);
    // Clipped by a loop end inside the fade-out.
    const [clipped] = scheduleFrom(doc, 13, locator, { until: 18 });
    expect(fadeEnvelope(clipped)).toEqual([
      { time: 13, gain: 1 },
      { time: 16, gain: 1 },
      { time: 18, gain: 0.5 },
    ]);
  });
});

describe('loops and the playhead', () => {
  const loop = { start: 2, end: 5 };

  it('runs on without a loop', () => {
    expect(playheadAt(1, 10, null)).toBe(11);
    expect(playheadAt(1, -0.05, null)).toBe(1);
  });

  it('wraps at the loop end back to the loop start', () => {
    expect(playheadAt(1, 3.5, loop)).toBe(4.5);
    expect(playheadAt(1, 4, loop)).toBe(2);
    expect(playheadAt(1, 5.5, loop)).toBe(3.5);
    expect(playheadAt(1, 4 + 3 * 10 + 1, loop)).toBeCloseTo(3, 9);
  });

  it('does not loop when playing starts at or after the loop end', () => {
    expect(playheadAt(5, 2, loop)).toBe(7);
    expect(playheadAt(6, 2, loop)).toBe(8);
  });

  it('plans passes: first from the start position, then whole loops', () => {
    expect(loopPass(1, loop, 0)).toEqual({ from: 1, until: 5, at: 0 });
    expect(loopPass(1, loop, 1)).toEqual({ from: 2, until: 5, at: 4 });
    expect(loopPass(1, loop, 3)).toEqual({ from: 2, until: 5, at: 10 });
    // Each pass begins exactly when the playhead wraps.
    expect(playheadAt(1, loopPass(1, loop, 2).at, loop)).toBe(2);
  });

  it('checkLoop refuses empty, reversed and negative ranges', () => {
    expect(checkLoop({ start: 1, end: 2 })).toEqual({ start: 1, end: 2 });
    expect(() => checkLoop({ start: 2, end: 2 })).toThrow(/end − start ≥ 0.05 s, got start 2 s, end 2 s/);
    expect(() => checkLoop({ start: 3, end: 2 })).toThrow(RangeError);
    expect(() => checkLoop({ start: -1, end: 2 })).toThrow(RangeError);
  });
});
