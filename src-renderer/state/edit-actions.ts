/**
 * The studio's named edits: each one builds one model edit (model/edits.ts) from the studio's selection, playhead
 * and models, runs it through `StudioState.edit` (one undo step) and selects what it created.
 */
import type { ModelInfo } from '../../src-main/contract/api.ts';
import type { ProjectDocument, Region, RegionId, TakeId, TakeRef, Track, TrackId } from '../../src-main/contract/project.ts';
import {
  addRegion,
  addTrack,
  applyTakes,
  changeModel,
  deleteRegions,
  deleteTake,
  deleteTrack,
  duplicateRegions,
  moveRegions,
  moveTrack,
  renameTrack,
  setActiveTake,
  setRegionFields,
  setProjectFields,
  setTrackMix,
  splitRegion,
  trimRegion,
  type Edit,
  type ProjectFieldsPatch,
  type RegionFieldsPatch,
  type TrackMixPatch,
} from '../model/edits.ts';
import { newId } from './new-id.ts';
import type { Notices } from './notices.svelte.ts';

/** What the edits need of the studio (StudioState is one). */
export interface EditHost {
  readonly document: ProjectDocument | null;
  /** The installed models: a new region takes the default model's settings, a model switch its defaults. */
  readonly models: readonly ModelInfo[];
  readonly notices: Notices;
  readonly selectedRegionIds: ReadonlySet<RegionId>;
  /** Applies one edit and records it for undo (null when refused or no project is open). */
  edit(make: (doc: ProjectDocument) => Edit, options?: { merge?: boolean }): Edit | null;
  region(id: RegionId): Region | undefined;
  track(id: TrackId): Track | undefined;
  selectRegion(id: RegionId): void;
  selectRegions(ids: Iterable<RegionId>): void;
  selectTrack(id: TrackId | null): void;
  clearSelection(): void;
}

/** The edits a studio offers, bound to it. */
export type EditActions = ReturnType<typeof bind>;

/** The studio's edits. */
export function bind(studio: EditHost) {
  const selected = (): RegionId[] => [...studio.selectedRegionIds];
  const created = (edit: Edit | null): string | undefined => edit?.createdIds?.[0];

  return {
    setProjectFields(patch: ProjectFieldsPatch): void {
      studio.edit((doc) => setProjectFields(doc, patch));
    },
    addTrack(): void {
      const id = created(studio.edit((doc) => addTrack(doc, { newId })));
      if (id !== undefined) studio.selectTrack(id as TrackId);
    },
    renameTrack(trackId: TrackId, name: string): void {
      const track = studio.track(trackId);
      if (track === undefined || track.name === name.trim()) return;
      studio.edit((doc) => renameTrack(doc, trackId, name));
    },
    moveTrack(trackId: TrackId, toIndex: number): void {
      studio.edit((doc) => moveTrack(doc, trackId, toIndex));
    },
    deleteTrack(trackId: TrackId): void {
      studio.edit((doc) => deleteTrack(doc, trackId));
    },
    setTrackMix(trackId: TrackId, patch: TrackMixPatch): void {
      studio.edit((doc) => setTrackMix(doc, trackId, patch));
    },

    /** Draws a region and selects it so the inspector shows its prompt. */
    addRegion(trackId: TrackId, start: number, end: number): RegionId | null {
      const id = created(studio.edit((doc) => addRegion(doc, { newId, trackId, start, end, models: studio.models })));
      if (id === undefined) return null;
      studio.selectRegion(id as RegionId);
      return id as RegionId;
    },
    moveRegions(ids: readonly RegionId[], delta: number, targetTrackId?: TrackId): void {
      if (ids.length === 0) return;
      studio.edit((doc) => moveRegions(doc, ids, delta, targetTrackId));
    },
    trimRegion(id: RegionId, edge: 'start' | 'end', t: number): void {
      studio.edit((doc) => trimRegion(doc, id, edge, t));
    },
    /** Splits the selected regions at `t`; without a selection, every region under `t`. */
    splitAt(t: number): void {
      const doc = studio.document;
      if (doc === null) return;
      const candidates = studio.selectedRegionIds.size > 0 ? selected() : (Object.keys(doc.regions) as RegionId[]);
      const inside = candidates.filter((id) => {
        const r = doc.regions[id];
        return r !== undefined && r.start < t && t < r.end;
      });
      if (inside.length === 0) {
        studio.notices.info('Nothing to split here', 'Put the playhead inside a (selected) region and press S.');
        return;
      }
      const rights: RegionId[] = [];
      studio.edit((current) => chain(current, inside.length === 1 ? 'Split region' : `Split ${inside.length} regions`, inside, (d, id) => {
        const edit = splitRegion(d, id, t, newId);
        const right = edit.createdIds?.[0];
        if (right !== undefined) rights.push(right as RegionId);
        return edit;
      }));
      if (studio.selectedRegionIds.size > 0) studio.selectRegions([...inside, ...rights]);
    },
    duplicateSelection(): void {
      const ids = selected();
      if (ids.length === 0) return;
      const edit = studio.edit((doc) => duplicateRegions(doc, ids, newId));
      if (edit?.createdIds !== undefined) studio.selectRegions(edit.createdIds as RegionId[]);
    },
    deleteSelection(): void {
      const ids = selected();
      if (ids.length === 0) return;
      studio.edit((doc) => deleteRegions(doc, ids));
      studio.clearSelection();
    },
    nudgeSelection(delta: number): void {
      const ids = selected();
      if (ids.length === 0) return;
      studio.edit((doc) => moveRegions(doc, ids, delta));
    },
    setRegionFields(id: RegionId, patch: RegionFieldsPatch): void {
      studio.edit((doc) => setRegionFields(doc, id, patch));
    },
    /** Switches a region's model, bringing that model's steps, guidance and sampler (one undo step). */
    changeModel(id: RegionId, modelId: string): void {
      const region = studio.region(id);
      if (region === undefined || region.generation.model === modelId) return;
      studio.edit((doc) => changeModel(doc, id, modelId, studio.models));
    },
    setActiveTake(regionId: RegionId, takeId: TakeId): void {
      const region = studio.region(regionId);
      if (region === undefined || region.activeTakeId === takeId) return;
      studio.edit((doc) => setActiveTake(doc, regionId, takeId));
    },
    deleteTake(regionId: RegionId, takeId: TakeId): void {
      studio.edit((doc) => deleteTake(doc, regionId, takeId));
    },
  };
}

/** The edit that applies the host's new takes (not undoable on its own: see history `applyExternal`). */
export function applyTakesEdit(doc: ProjectDocument, takes: readonly { regionId: RegionId; take: TakeRef }[]): Edit {
  return applyTakes(doc, takes);
}

/** Several edits of the same kind as one undo step: their patches concatenated, the last document kept. */
function chain(doc: ProjectDocument, label: string, ids: readonly RegionId[], step: (doc: ProjectDocument, id: RegionId) => Edit): Edit {
  let current = doc;
  const patches: Edit['patches'] = [];
  const inversePatches: Edit['inversePatches'] = [];
  const createdIds: string[] = [];
  for (const id of ids) {
    const edit = step(current, id);
    current = edit.document;
    patches.push(...edit.patches);
    // Undo runs the inverse patches in order, so the last step's come first.
    inversePatches.unshift(...edit.inversePatches);
    createdIds.push(...(edit.createdIds ?? []));
  }
  return { label, document: current, patches, inversePatches, createdIds };
}
