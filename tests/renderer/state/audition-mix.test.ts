/** Auditioning plays one region alone; mixer values read the way the headers show them. */
import { describe, expect, it } from 'vitest';
import { parseProject, type ProjectDocument, type Region, type RegionId, type TrackId } from '../../../src-main/contract/project.ts';
import { auditionDocument } from '../../../src-renderer/state/audition.ts';
import { formatDb, formatPan } from '../../../src-renderer/state/mix-format.ts';

function region(id: RegionId, trackId: TrackId, start: number, end: number, takes: string[]): Region {
  return {
    id,
    trackId,
    start,
    end,
    prompt: 'p',
    negativePrompt: '',
    seed: null,
    generation: { model: 'sketch', steps: 10, guidance: 2.5, sampler: 'ddim', eta: 0, method: 'auto', transition: 2 },
    gainDb: -3,
    fadeIn: 0.5,
    fadeOut: 0,
    takes: takes.map((t) => ({ id: t as `take_${string}`, file: `takes/${t}.wav`, createdAt: '2025-03-01T10:00:00.000Z', seed: 1, parameters: {}, seconds: 20, sampleRate: 16000 })),
    activeTakeId: takes.length > 0 ? (takes[takes.length - 1] as `take_${string}`) : null,
  };
}

function doc(): ProjectDocument {
  const track = (id: TrackId, regionIds: RegionId[], extra: object = {}) => ({ id, name: id, colour: '#336699', volumeDb: -6, pan: 0.5, mute: true, solo: false, stem: true, regionIds, ...extra });
  return {
    schemaVersion: 1,
    name: 'A',
    tempo: 120,
    sampleRate: 48000,
    tracks: [track('trk_a', ['rgn_1', 'rgn_2']), track('trk_b', ['rgn_3'], { solo: true, mute: false })],
    regions: {
      rgn_1: region('rgn_1', 'trk_a', 0, 10, ['take_1', 'take_2']),
      rgn_2: region('rgn_2', 'trk_a', 10, 20, ['take_3']),
      rgn_3: region('rgn_3', 'trk_b', 0, 20, ['take_4']),
    },
    settings: { defaultModel: 'sketch', defaultMethod: 'auto', defaultTransition: 2 },
    createdWith: 'Tessera 0.1.0',
    createdAt: '2025-03-01T09:00:00.000Z',
  };
}

describe('auditionDocument', () => {
  it('keeps only the region, with the chosen take, on an audible track at unity', () => {
    const out = auditionDocument(doc(), 'rgn_1', 'take_1');
    expect(out.tracks).toHaveLength(1);
    expect(out.tracks[0]).toMatchObject({ id: 'trk_a', mute: false, solo: false, volumeDb: 0, pan: 0, regionIds: ['rgn_1'] });
    expect(Object.keys(out.regions)).toEqual(['rgn_1']);
    expect(out.regions.rgn_1.activeTakeId).toBe('take_1');
    expect(out.regions.rgn_1.gainDb).toBe(-3);
    // Still a valid document, so the playback schedule accepts it.
    expect(() => parseProject(out, 'audition')).not.toThrow();
  });

  it('leaves the document alone for an unknown region', () => {
    const d = doc();
    expect(auditionDocument(d, 'rgn_zz', 'take_1')).toBe(d);
  });
});

describe('mixer text', () => {
  it('formats decibels with a sign and −∞ at the bottom', () => {
    expect(formatDb(0)).toBe('0.0');
    expect(formatDb(1.54)).toBe('+1.5');
    expect(formatDb(-6)).toBe('−6.0');
    expect(formatDb(-60)).toBe('−∞');
  });

  it('formats pan as C, L n, R n', () => {
    expect(formatPan(0)).toBe('C');
    expect(formatPan(-0.4)).toBe('L40');
    expect(formatPan(0.25)).toBe('R25');
  });
});
