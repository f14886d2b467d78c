import { describe, expect, it } from 'vitest';
import {
  EditError,
  TRACK_PALETTE,
  addTrack,
  deleteTrack,
  moveTrack,
  renameTrack,
  setTrackMix,
} from '../../../src-renderer/model/edits.ts';
import { counterIds, sampleProject } from '../../contract/project-fixtures.ts';
import { roundTrip } from './round-trip.ts';


const fixedId = (id: string) => () => id;

describe('addTrack', () => {
  it('appends "Track N" with the next palette colour and default mix', () => {
    const doc = sampleProject();
    const edit = addTrack(doc, { newId: fixedId('trk_new') });
    const next = roundTrip(doc, edit);
    expect(edit.label).toBe('Add track');
    expect(edit.createdIds).toEqual(['trk_new']);
    expect(next.tracks.map((t) => t.id)).toEqual(['trk_a', 'trk_b', 'trk_new']);
    expect(next.tracks[2]).toEqual({
      id: 'trk_new',
      name: 'Track 3',
      colour: TRACK_PALETTE[2],
      volumeDb: 0,
      pan: 0,
      mute: false,
      solo: false,
      stem: true,
      regionIds: [],
    });
  });

  it('cycles the 8 palette colours and skips names already taken', () => {
    let doc = sampleProject();
    doc.tracks[1].name = 'Track 3';
    const ids = counterIds();
    const colours: string[] = [];
    for (let i = 0; i < 9; i++) {
      const edit = addTrack(doc, { newId: ids });
      doc = roundTrip(doc, edit);
      colours.push(doc.tracks[doc.tracks.length - 1].colour);
    }
    expect(colours.slice(0, 7)).toEqual(TRACK_PALETTE.slice(2, 8).concat(TRACK_PALETTE[0]));
    expect(new Set(TRACK_PALETTE).size).toBe(8);
    expect(doc.tracks[2].name).toBe('Track 4');
    expect(new Set(doc.tracks.map((t) => t.name)).size).toBe(doc.tracks.length);
  });

  it('takes a name, colour and position', () => {
    const doc = sampleProject();
    const next = roundTrip(doc, addTrack(doc, { newId: fixedId('trk_v'), name: '  Voice ', colour: '#123abc', index: 0 }));
    expect(next.tracks[0]).toMatchObject({ id: 'trk_v', name: 'Voice', colour: '#123abc' });
  });

  it('refuses a bad id generator, a reused id, a blank name and a bad colour', () => {
    const doc = sampleProject();
    expect(() => addTrack(doc, { newId: fixedId('track-1') })).toThrow(/returned 'track-1', expected "trk_"/);
    expect(() => addTrack(doc, { newId: fixedId('trk_a') })).toThrow(/'trk_a', which is already in use/);
    expect(() => addTrack(doc, { newId: fixedId('trk_n'), name: '   ' })).toThrow(/Track name must not be empty/);
    expect(() => addTrack(doc, { newId: fixedId('trk_n'), colour: 'red' })).toThrow(EditError);
    expect(() => addTrack(doc, { newId: fixedId('trk_n'), colour: 'red' })).toThrow(/#rrggbb.*got red/);
  });
});

describe('renameTrack', () => {
  it('renames, trimming spaces', () => {
    const doc = sampleProject();
    const edit = renameTrack(doc, 'trk_b', ' Storm ');
    expect(edit.label).toBe('Rename track');
    expect(roundTrip(doc, edit).tracks[1].name).toBe('Storm');
  });

  it('refuses an unknown track and names that do not fit', () => {
    const doc = sampleProject();
    expect(() => renameTrack(doc, 'trk_zz', 'x')).toThrow(/Track 'trk_zz' is not in the project/);
    expect(() => renameTrack(doc, 'trk_a', '')).toThrow(/must not be empty/);
    expect(() => renameTrack(doc, 'trk_a', 'x'.repeat(257))).toThrow(/257 characters long, at most 256/);
  });
});

describe('moveTrack', () => {
  it('reorders, clamping the position to the list', () => {
    const doc = sampleProject();
    const edit = moveTrack(doc, 'trk_b', 0);
    expect(edit.label).toBe('Reorder tracks');
    expect(roundTrip(doc, edit).tracks.map((t) => t.id)).toEqual(['trk_b', 'trk_a']);
    expect(roundTrip(doc, moveTrack(doc, 'trk_a', 99)).tracks.map((t) => t.id)).toEqual(['trk_b', 'trk_a']);
  });

  it('changes nothing when the track stays put, and refuses a fractional position', () => {
    const doc = sampleProject();
    expect(moveTrack(doc, 'trk_a', 0).patches).toEqual([]);
    expect(() => moveTrack(doc, 'trk_a', 0.5)).toThrow(/whole number, got 0.5/);
  });
});

describe('deleteTrack', () => {
  it('removes the track with its regions and undo brings both back', () => {
    const doc = sampleProject();
    const edit = deleteTrack(doc, 'trk_a');
    const next = roundTrip(doc, edit);
    expect(edit.label).toBe('Delete track');
    expect(next.tracks.map((t) => t.id)).toEqual(['trk_b']);
    expect(Object.keys(next.regions)).toEqual(['rgn_c']);
  });
});

describe('setTrackMix', () => {
  it.each([
    [{ mute: true }, 'Mute Drones'],
    [{ mute: false }, 'Unmute Drones'],
    [{ solo: true }, 'Solo Drones'],
    [{ solo: false }, 'Unsolo Drones'],
    [{ stem: false }, "Don't export Drones as stem"],
    [{ stem: true }, 'Export Drones as stem'],
    [{ volumeDb: -6 }, 'Change volume'],
    [{ pan: 1 }, 'Change pan'],
    [{ colour: '#000000' }, 'Change track colour'],
    [{ mute: true, volumeDb: -3 }, 'Change track mix'],
  ])('%o is labelled %s', (patch, label) => {
    const doc = sampleProject();
    const edit = setTrackMix(doc, 'trk_a', patch);
    expect(edit.label).toBe(label);
    expect(roundTrip(doc, edit).tracks[0]).toMatchObject(patch);
  });

  it('refuses values outside the document limits, naming them', () => {
    const doc = sampleProject();
    expect(() => setTrackMix(doc, 'trk_a', { volumeDb: 30 })).toThrow(/Track volume \(dB\) must be a number from -120 to 24, got 30/);
    expect(() => setTrackMix(doc, 'trk_a', { pan: -1.5 })).toThrow(/pan must be a number from -1 to 1, got -1.5/);
    expect(() => setTrackMix(doc, 'trk_a', { volumeDb: Number.NaN })).toThrow(/got NaN/);
    expect(() => setTrackMix(doc, 'trk_q', { mute: true })).toThrow(/'trk_q'/);
  });

  it('is a no-op when nothing changes', () => {
    const doc = sampleProject();
    expect(setTrackMix(doc, 'trk_b', { mute: true }).patches).toEqual([]);
  });
});
