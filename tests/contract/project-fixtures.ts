/** Valid project documents for tests, and an independent checker of the document rules. */
import { expect } from 'vitest';
import { parseProject, type ProjectDocument, type Region, type TakeRef } from '../../src-main/contract/project.ts';

/** A deterministic id generator: trk_1, rgn_2, take_3, … */
export function counterIds(): (prefix: 'trk' | 'rgn' | 'take') => string {
  let n = 0;
  return (prefix) => `${prefix}_${++n}`;
}

export function take(id: `take_${string}`, seed = 7): TakeRef {
  return {
    id,
    file: `takes/${id}.wav`,
    createdAt: '2025-03-01T10:00:00.000Z',
    seed,
    parameters: { prompt: 'warm drone', steps: 10, regions: [{ start: 0, end: 4 }], tiling: { weights: 'tapered' }, note: null },
    seconds: 4,
    sampleRate: 16000,
  };
}

export function region(id: `rgn_${string}`, trackId: `trk_${string}`, start: number, end: number, extra: Partial<Region> = {}): Region {
  return {
    id,
    trackId,
    start,
    end,
    prompt: 'warm drone with a soft pad',
    negativePrompt: 'hiss',
    seed: 42,
    generation: { model: 'sketch', steps: 10, guidance: 2.5, sampler: 'ddim', eta: 0, method: 'auto', transition: 2 },
    gainDb: 0,
    fadeIn: 0.5,
    fadeOut: 0.5,
    takes: [],
    activeTakeId: null,
    ...extra,
  };
}

/** Two tracks, three regions, one region with two takes. */
export function sampleProject(): ProjectDocument {
  return {
    schemaVersion: 1,
    name: 'Sample',
    tempo: 96,
    sampleRate: 48000,
    tracks: [
      {
        id: 'trk_a',
        name: 'Drones',
        colour: '#336699',
        volumeDb: -3,
        pan: -0.25,
        mute: false,
        solo: false,
        stem: true,
        regionIds: ['rgn_a', 'rgn_b'],
      },
      { id: 'trk_b', name: 'Rain', colour: '#AABBCC', volumeDb: 0, pan: 0.5, mute: true, solo: false, stem: false, regionIds: ['rgn_c'] },
    ],
    regions: {
      rgn_a: region('rgn_a', 'trk_a', 0, 10, { takes: [take('take_1', 1), take('take_2', 2)], activeTakeId: 'take_2', lockedSeed: true }),
      rgn_b: region('rgn_b', 'trk_a', 10, 20.5, { seed: null, prompt: 'deep organ' }),
      rgn_c: region('rgn_c', 'trk_b', 3, 30, { prompt: 'gentle rain', gainDb: -6 }),
    },
    settings: { defaultModel: 'sketch', defaultMethod: 'auto', defaultTransition: 2 },
    createdWith: 'Tessera 0.1.0',
    createdAt: '2025-03-01T09:00:00.000Z',
  };
}

/** A large valid document: `regions` regions with prompts of about `promptChars` characters (crash tests). */
export function largeProject(regions: number, label: string, promptChars = 440): ProjectDocument {
  const doc = sampleProject();
  doc.name = label;
  doc.tracks = [{ ...doc.tracks[0], regionIds: [] }];
  doc.regions = {};
  for (let i = 0; i < regions; i++) {
    const id = `rgn_${label}_${i}` as const;
    doc.tracks[0].regionIds.push(id);
    doc.regions[id] = region(id, 'trk_a', i * 2, i * 2 + 1.5, { prompt: `${label} ${'warm drone '.repeat(Math.ceil(promptChars / 11))}${i}` });
  }
  return doc;
}

/**
 * Checks every document rule without using parseProject's cross-field code (an independent oracle for fuzzing),
 * then that parsing the document again gives the same document.
 */
export function expectValidDocument(doc: ProjectDocument): void {
  expect(doc.schemaVersion).toBe(1);
  const trackIds = doc.tracks.map((t) => t.id);
  expect(new Set(trackIds).size).toBe(trackIds.length);
  const listed: string[] = [];
  for (const track of doc.tracks) {
    expect(track.id).toMatch(/^trk_[A-Za-z0-9_-]{1,64}$/);
    expect(Number.isFinite(track.volumeDb) && Math.abs(track.pan) <= 1).toBe(true);
    for (const id of track.regionIds) {
      expect(Object.hasOwn(doc.regions, id)).toBe(true);
      expect(doc.regions[id].trackId).toBe(track.id);
      listed.push(id);
    }
    const spans = track.regionIds.map((id) => doc.regions[id]);
    for (const a of spans) for (const b of spans) if (a !== b) expect(a.end <= b.start || b.end <= a.start).toBe(true);
  }
  expect(new Set(listed).size).toBe(listed.length);
  expect(Object.keys(doc.regions).sort()).toEqual([...listed].sort());
  for (const [key, r] of Object.entries(doc.regions)) {
    expect(r.id).toBe(key);
    expect(Number.isFinite(r.start) && Number.isFinite(r.end) && r.start >= 0 && r.start < r.end).toBe(true);
    expect(r.fadeIn + r.fadeOut).toBeLessThanOrEqual(r.end - r.start);
    const takeIds = r.takes.map((t) => t.id);
    expect(new Set(takeIds).size).toBe(takeIds.length);
    if (r.activeTakeId !== null) expect(takeIds).toContain(r.activeTakeId);
    for (const t of r.takes) expect(Number.isFinite(t.seconds) && t.seconds > 0).toBe(true);
  }
  // Stable through JSON (compared as JSON: -0 from code is written as 0, which is the same number to us).
  const text = JSON.stringify(doc);
  expect(JSON.stringify(parseProject(JSON.parse(text), 'reparse'))).toBe(text);
}
