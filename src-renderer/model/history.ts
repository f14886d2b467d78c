/**
 * Undo history as plain data: a list of applied-or-undone edits (label + immer patches both ways), how many are
 * applied, and which position matches the file on disk (as in Reaper, undoing back to the saved state reads as not
 * dirty). Pure functions return new History values; the document is passed in and returned, never stored.
 *
 * Host-side changes (`applyExternal`): takes that a generation adds are facts on disk, not user actions, so Undo
 * must not take them away. Semantics chosen: the change is applied *underneath* the whole history, as if it had
 * been made before the first entry. Every state Undo/Redo can reach is rebuilt with the change replayed on it
 * (matched by take id: added takes appear, removed ones go, the active take and `takeOffset` are set, on every
 * state that has the region), and every entry's patches are recomputed between the rebased states. So undoing an
 * earlier edit keeps later takes, and redo brings edits back without losing them. Consequences: a region that did
 * not exist in an older state (e.g. the right half of a split) has no takes there; an entry that only did what the
 * change now does everywhere (say "Switch take" to the take that is now active) disappears; the saved position is
 * cleared (the new takes are not in project.json until the user saves). A change that touches anything beyond
 * existing regions' takes, active take and take offset cannot be replayed and resets the history instead.
 */
import { applyPatches, enablePatches } from 'immer';
import type { ProjectDocument } from '../../src-main/contract/project.ts';
import type { Edit } from './edit-core.ts';
import { rebaseEntries, type StoredEntry } from './external-rebase.ts';

enablePatches();

/** One undo step. */
export type HistoryEntry = StoredEntry;

/** The undo history of one open document. */
export interface History {
  entries: HistoryEntry[];
  /** How many entries are applied: Undo reverts `entries[index - 1]`, Redo replays `entries[index]`. */
  index: number;
  /** The `index` at which the document equals the saved file; null when no reachable state does. */
  savedIndex: number | null;
}

/** Oldest entries beyond this are forgotten. */
export const HISTORY_LIMIT = 500;

/** A history with nothing to undo; `dirty: true` for a document that is not the saved file (a recovered one). */
export function emptyHistory(options: { dirty?: boolean } = {}): History {
  return { entries: [], index: 0, savedIndex: options.dirty === true ? null : 0 };
}

/**
 * Records an applied edit, dropping the redo tail. An edit without patches is ignored. With `merge`, the edit joins
 * the entry Undo would revert (one slider drag or one typing burst becomes one step) when there is one.
 */
export function push(history: History, edit: Edit, options: { merge?: boolean } = {}): History {
  if (edit.patches.length === 0) return history;
  const kept = history.entries.slice(0, history.index);
  let savedIndex = history.savedIndex !== null && history.savedIndex > history.index ? null : history.savedIndex;
  const previous = kept[kept.length - 1];
  if (options.merge === true && previous !== undefined) {
    kept[kept.length - 1] = {
      label: previous.label,
      patches: [...previous.patches, ...edit.patches],
      inversePatches: [...edit.inversePatches, ...previous.inversePatches],
    };
    // The state after the merged entry changed, so if that was the saved one, it no longer is.
    if (savedIndex === history.index) savedIndex = null;
    return { entries: kept, index: history.index, savedIndex };
  }
  kept.push({ label: edit.label, patches: edit.patches, inversePatches: edit.inversePatches });
  return capped({ entries: kept, index: kept.length, savedIndex });
}

/** Reverts the last applied entry of `doc`; null when there is nothing to undo. */
export function undo(history: History, doc: ProjectDocument): { history: History; document: ProjectDocument; label: string } | null {
  if (history.index === 0) return null;
  const entry = history.entries[history.index - 1];
  return {
    history: { ...history, index: history.index - 1 },
    document: applyPatches(doc, entry.inversePatches),
    label: entry.label,
  };
}

/** Replays the next undone entry on `doc`; null when there is nothing to redo. */
export function redo(history: History, doc: ProjectDocument): { history: History; document: ProjectDocument; label: string } | null {
  if (history.index >= history.entries.length) return null;
  const entry = history.entries[history.index];
  return {
    history: { ...history, index: history.index + 1 },
    document: applyPatches(doc, entry.patches),
    label: entry.label,
  };
}

/** The label of what Undo would revert ("Move region"), or null. */
export function undoLabel(history: History): string | null {
  return history.index > 0 ? history.entries[history.index - 1].label : null;
}

/** The label of what Redo would replay, or null. */
export function redoLabel(history: History): string | null {
  return history.index < history.entries.length ? history.entries[history.index].label : null;
}

/** Records that the current state is what is on disk. */
export function markSaved(history: History): History {
  return { ...history, savedIndex: history.index };
}

/** True when the document differs from the saved file. */
export function isDirty(history: History): boolean {
  return history.savedIndex !== history.index;
}

/**
 * Applies a host-side edit made from `doc` (e.g. `applyTakes(doc, event.takes)`) so that no Undo removes it; see
 * the file comment for the exact semantics. Returns the new history and `edit.document`.
 */
export function applyExternal(history: History, doc: ProjectDocument, edit: Edit): { history: History; document: ProjectDocument } {
  if (edit.patches.length === 0) return { history, document: doc };
  const rebased = rebaseEntries(history.entries, history.index, doc, edit.document);
  if (rebased === null) return { history: emptyHistory({ dirty: true }), document: edit.document };
  return { history: { entries: rebased.entries, index: rebased.index, savedIndex: null }, document: edit.document };
}

function capped(history: History): History {
  const excess = history.entries.length - HISTORY_LIMIT;
  if (excess <= 0) return history;
  const { savedIndex } = history;
  return {
    entries: history.entries.slice(excess),
    index: history.index - excess,
    savedIndex: savedIndex === null || savedIndex < excess ? null : savedIndex - excess,
  };
}
