import { describe, expect, it } from 'vitest';
import { parseProject, type ProjectDocument } from '../../../src-main/contract/project.ts';
import {
  applyTakes,
  deleteTake,
  moveRegions,
  renameTrack,
  setActiveTake,
  setRegionFields,
  setTrackMix,
  splitRegion,
  trimRegion,
  type Edit,
} from '../../../src-renderer/model/edits.ts';
import {
  HISTORY_LIMIT,
  applyExternal,
  emptyHistory,
  isDirty,
  markSaved,
  push,
  redo,
  redoLabel,
  undo,
  undoLabel,
  type History,
} from '../../../src-renderer/model/history.ts';
import { sampleProject, take } from '../../contract/project-fixtures.ts';

/** The document and history after applying `edit` and recording it. */
interface Session {
  doc: ProjectDocument;
  history: History;
}

function apply(s: Session, make: (doc: ProjectDocument) => Edit): Session {
  const edit = make(s.doc);
  return { doc: edit.document, history: push(s.history, edit) };
}

function undoOnce(s: Session): Session {
  const result = undo(s.history, s.doc);
  if (result === null) throw new Error('nothing to undo');
  return { doc: result.document, history: result.history };
}

function redoOnce(s: Session): Session {
  const result = redo(s.history, s.doc);
  if (result === null) throw new Error('nothing to redo');
  return { doc: result.document, history: result.history };
}

const start = (): Session => ({ doc: sampleProject(), history: emptyHistory() });

describe('undo and redo', () => {
  it('walks back and forth through exact documents with their labels', () => {
    const s0 = start();
    const s1 = apply(s0, (d) => moveRegions(d, ['rgn_c'], 2));
    const s2 = apply(s1, (d) => moveRegions(d, ['rgn_a', 'rgn_b'], 1));
    expect(undoLabel(s2.history)).toBe('Move 2 regions');
    expect(redoLabel(s2.history)).toBeNull();
    const u1 = undo(s2.history, s2.doc);
    expect(u1?.label).toBe('Move 2 regions');
    expect(u1?.document).toEqual(s1.doc);
    const back = undoOnce(undoOnce(s2));
    expect(back.doc).toEqual(s0.doc);
    expect(undo(back.history, back.doc)).toBeNull();
    expect(undoLabel(back.history)).toBeNull();
    expect(redoLabel(back.history)).toBe('Move region');
    const forth = redoOnce(redoOnce(back));
    expect(forth.doc).toEqual(s2.doc);
    expect(redo(forth.history, forth.doc)).toBeNull();
  });

  it('drops the redo tail on a new edit', () => {
    const s2 = apply(apply(start(), (d) => moveRegions(d, ['rgn_c'], 2)), (d) => renameTrack(d, 'trk_a', 'Pads'));
    const branched = apply(undoOnce(s2), (d) => setTrackMix(d, 'trk_b', { mute: false }));
    expect(branched.history.entries.map((e) => e.label)).toEqual(['Move region', 'Unmute Rain']);
    expect(redoLabel(branched.history)).toBeNull();
  });

  it('ignores an edit that changed nothing', () => {
    const s = start();
    const h = push(s.history, setTrackMix(s.doc, 'trk_b', { mute: true }));
    expect(h).toBe(s.history);
  });

  it('merges a drag into one step when asked', () => {
    const s = start();
    const first = setTrackMix(s.doc, 'trk_a', { volumeDb: -4 });
    const second = setTrackMix(first.document, 'trk_a', { volumeDb: -8 });
    let history = push(s.history, first);
    history = push(history, second, { merge: true });
    expect(history.entries).toHaveLength(1);
    expect(undoLabel(history)).toBe('Change volume');
    const undone = undo(history, second.document);
    expect(undone?.document).toEqual(s.doc);
    expect(undone && redo(undone.history, undone.document)?.document).toEqual(second.document);
    // Merging into nothing just records the edit.
    expect(push(emptyHistory(), first, { merge: true }).entries).toHaveLength(1);
  });
});

describe('saved position and dirty flag', () => {
  it('follows undo and redo back to the saved state', () => {
    let s = start();
    expect(isDirty(s.history)).toBe(false);
    s = apply(s, (d) => moveRegions(d, ['rgn_c'], 1));
    expect(isDirty(s.history)).toBe(true);
    s = { ...s, history: markSaved(s.history) };
    expect(isDirty(s.history)).toBe(false);
    s = apply(s, (d) => moveRegions(d, ['rgn_c'], 1));
    expect(isDirty(s.history)).toBe(true);
    s = undoOnce(s);
    expect(isDirty(s.history)).toBe(false);
    s = undoOnce(s);
    expect(isDirty(s.history)).toBe(true);
    s = redoOnce(s);
    expect(isDirty(s.history)).toBe(false);
  });

  it('stays dirty for good once the saved state is dropped from the redo tail', () => {
    let s = apply(start(), (d) => moveRegions(d, ['rgn_c'], 1));
    s = { ...s, history: markSaved(s.history) };
    s = apply(undoOnce(s), (d) => moveRegions(d, ['rgn_c'], 3));
    expect(s.history.savedIndex).toBeNull();
    expect(isDirty(s.history)).toBe(true);
    expect(isDirty(undoOnce(s).history)).toBe(true);
  });

  it('starts dirty for a recovered document', () => {
    expect(isDirty(emptyHistory({ dirty: true }))).toBe(true);
  });

  it('unsaves when a merge changes the saved state', () => {
    const s = start();
    const first = setTrackMix(s.doc, 'trk_a', { volumeDb: -4 });
    const history = markSaved(push(s.history, first));
    expect(isDirty(push(history, setTrackMix(first.document, 'trk_a', { volumeDb: -5 }), { merge: true }))).toBe(true);
  });
});

describe('the entry limit', () => {
  it(`keeps the newest ${HISTORY_LIMIT} entries and shifts the saved position`, () => {
    let s = start();
    for (let i = 1; i <= 5; i++) s = apply(s, (d) => setTrackMix(d, 'trk_a', { volumeDb: -i }));
    s = { ...s, history: markSaved(s.history) };
    for (let i = 1; i <= HISTORY_LIMIT; i++) s = apply(s, (d) => setTrackMix(d, 'trk_a', { volumeDb: i % 2 === 0 ? -1 : -2 }));
    expect(s.history.entries).toHaveLength(HISTORY_LIMIT);
    expect(s.history.index).toBe(HISTORY_LIMIT);
    expect(s.history.savedIndex).toBe(0);
    let back = s;
    while (back.history.index > 0) back = undoOnce(back);
    expect(back.doc.tracks[0].volumeDb).toBe(-5);
    expect(isDirty(back.history)).toBe(false);
    s = apply(s, (d) => renameTrack(d, 'trk_a', 'Later'));
    expect(s.history.savedIndex).toBeNull();
    expect(s.history.entries[0].label).toBe('Change volume');
  });
});

describe('applyExternal: generated takes survive undo and redo', () => {
  const arrive = (s: Session, regionId: 'rgn_a' | 'rgn_b' | 'rgn_c' | `rgn_${string}`, takeId: `take_${string}`): Session => {
    const result = applyExternal(s.history, s.doc, applyTakes(s.doc, [{ regionId, take: take(takeId) }]));
    return { doc: result.document, history: result.history };
  };
  const takeIds = (doc: ProjectDocument, regionId: 'rgn_a' | 'rgn_b' | 'rgn_c' | `rgn_${string}`) => doc.regions[regionId].takes.map((t) => t.id);

  it('keeps a take through undoing earlier edits and redoing them', () => {
    let s = apply(start(), (d) => moveRegions(d, ['rgn_c'], 2));
    s = apply(s, (d) => setRegionFields(d, 'rgn_b', { prompt: 'cello' }));
    s = arrive(s, 'rgn_b', 'take_9');
    expect(s.doc.regions.rgn_b.activeTakeId).toBe('take_9');
    expect(undoLabel(s.history)).toBe('Edit prompt');
    const u1 = undoOnce(s);
    expect(u1.doc.regions.rgn_b).toMatchObject({ prompt: 'deep organ', activeTakeId: 'take_9' });
    const u2 = undoOnce(u1);
    expect(u2.doc.regions.rgn_c.start).toBe(3);
    expect(takeIds(u2.doc, 'rgn_b')).toEqual(['take_9']);
    // Everything but the take is the original document.
    const original = sampleProject();
    expect({ ...u2.doc, regions: { ...u2.doc.regions, rgn_b: original.regions.rgn_b } }).toEqual(original);
    const r2 = redoOnce(redoOnce(u2));
    expect(r2.doc).toEqual(s.doc);
    for (const doc of [u1.doc, u2.doc, r2.doc]) parseProject(doc, 'state');
  });

  it('keeps takes through a redo tail that was undone before they arrived', () => {
    let s = apply(start(), (d) => trimRegion(d, 'rgn_a', 'start', 2));
    s = undoOnce(s);
    s = arrive(s, 'rgn_a', 'take_9');
    expect(s.doc.regions.rgn_a.takeOffset).toBeUndefined();
    s = redoOnce(s);
    expect(s.doc.regions.rgn_a).toMatchObject({ start: 2, takeOffset: 2, activeTakeId: 'take_9' });
    expect(takeIds(s.doc, 'rgn_a')).toEqual(['take_1', 'take_2', 'take_9']);
  });

  it('restores a deleted take next to a newer one and deletes it again on redo', () => {
    let s = apply(start(), (d) => deleteTake(d, 'rgn_a', 'take_1'));
    s = arrive(s, 'rgn_a', 'take_3');
    s = undoOnce(s);
    expect(takeIds(s.doc, 'rgn_a')).toEqual(['take_1', 'take_2', 'take_3']);
    expect(s.doc.regions.rgn_a.activeTakeId).toBe('take_3');
    s = redoOnce(s);
    expect(takeIds(s.doc, 'rgn_a')).toEqual(['take_2', 'take_3']);
    parseProject(s.doc, 'after redo');
  });

  it('gives a split-off region its take back on redo', () => {
    let s = apply(start(), (d) => splitRegion(d, 'rgn_b', 15, () => 'rgn_r'));
    s = arrive(s, 'rgn_r', 'take_9');
    s = undoOnce(s);
    expect(s.doc.regions).not.toHaveProperty('rgn_r');
    expect(s.doc.regions.rgn_b.takes).toEqual([]);
    s = redoOnce(s);
    expect(takeIds(s.doc, 'rgn_r')).toEqual(['take_9']);
    expect(s.doc.regions.rgn_r.activeTakeId).toBe('take_9');
  });

  it('drops a step that the arrival made empty, and clears the saved position', () => {
    let s = apply(start(), (d) => moveRegions(d, ['rgn_c'], 1));
    s = apply(s, (d) => setActiveTake(d, 'rgn_a', 'take_1'));
    s = { ...s, history: markSaved(s.history) };
    s = arrive(s, 'rgn_a', 'take_3');
    expect(s.history.entries.map((e) => e.label)).toEqual(['Move region']);
    expect(s.history.index).toBe(1);
    expect(isDirty(s.history)).toBe(true);
    const back = undoOnce(s);
    expect(back.doc.regions.rgn_a.activeTakeId).toBe('take_3');
    expect(isDirty(back.history)).toBe(true);
  });

  it('changes nothing for an empty change, and resets the history for a change it cannot replay', () => {
    const s = apply(start(), (d) => moveRegions(d, ['rgn_c'], 1));
    const same = applyExternal(s.history, s.doc, applyTakes(s.doc, []));
    expect(same.history).toBe(s.history);
    expect(same.document).toBe(s.doc);
    const renamed = renameTrack(s.doc, 'trk_a', 'Host');
    const reset = applyExternal(s.history, s.doc, renamed);
    expect(reset.document).toBe(renamed.document);
    expect(reset.history.entries).toEqual([]);
    expect(isDirty(reset.history)).toBe(true);
  });
});
