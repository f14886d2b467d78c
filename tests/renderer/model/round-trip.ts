/** The check every edit test makes: a valid result, patches that replay it, undo/redo that round-trip exactly. */
import { applyPatches } from 'immer';
import { expect } from 'vitest';
import { parseProject, type ProjectDocument } from '../../../src-main/contract/project.ts';
import type { Edit } from '../../../src-renderer/model/edits.ts';
import { emptyHistory, push, redo, undo } from '../../../src-renderer/model/history.ts';

/** Checks `edit` made from `before`; `sortedRegions` also checks every track lists its regions by start. */
export function roundTrip(before: ProjectDocument, edit: Edit, options: { sortedRegions?: boolean } = {}): ProjectDocument {
  const snapshot = structuredClone(before);
  expect(parseProject(edit.document, 'edit result')).toEqual(edit.document);
  if (options.sortedRegions) {
    for (const track of edit.document.tracks) {
      const starts = track.regionIds.map((id) => edit.document.regions[id].start);
      expect(starts).toEqual([...starts].sort((a, b) => a - b));
    }
  }
  expect(applyPatches(before, edit.patches)).toEqual(edit.document);
  const undone = undo(push(emptyHistory(), edit), edit.document);
  if (edit.patches.length > 0) {
    expect(undone?.label).toBe(edit.label);
    expect(undone?.document).toEqual(before);
    if (undone) expect(redo(undone.history, undone.document)?.document).toEqual(edit.document);
  }
  expect(before).toEqual(snapshot);
  return edit.document;
}
