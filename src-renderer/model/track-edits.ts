/** Track edits: add, rename, reorder, delete (with its regions) and the mixer fields. */
import type { NewId, ProjectDocument, Track, TrackId } from '../../src-main/contract/project.ts';
import {
  EditError,
  draftTrack,
  freshId,
  idInUse,
  makeEdit,
  requireBoolean,
  requireInRange,
  requireText,
  requireTrack,
  type Edit,
} from './edit-core.ts';

/** Colours new tracks cycle through: muted, distinct on a dark background; the first is the new-project colour. */
export const TRACK_PALETTE = ['#4f8cc9', '#d9825b', '#6fb07f', '#b58bd6', '#d4b45a', '#5fb3b3', '#d46a8c', '#8a9bb0'] as const;

const MAX_NAME = 256;
const COLOUR = /^#[0-9a-fA-F]{6}$/;

/** Adds a track at `index` (default: the bottom) named `Track N` unless `name` is given. */
export function addTrack(
  doc: ProjectDocument,
  options: { newId: NewId; name?: string; colour?: string; index?: number },
): Edit {
  const id = freshId('trk', options.newId, (candidate) => idInUse(doc, candidate));
  const name = options.name === undefined ? defaultTrackName(doc) : requireText(options.name, 'Track name', MAX_NAME, true).trim();
  const colour = options.colour === undefined ? TRACK_PALETTE[doc.tracks.length % TRACK_PALETTE.length] : requireColour(options.colour);
  const index = options.index === undefined ? doc.tracks.length : clampIndex(options.index, doc.tracks.length, 'Track position');
  const track: Track = { id, name, colour, volumeDb: 0, pan: 0, mute: false, solo: false, stem: true, regionIds: [] };
  return makeEdit(doc, 'Add track', (draft) => void draft.tracks.splice(index, 0, track), [id]);
}

/** Renames a track (surrounding spaces dropped). */
export function renameTrack(doc: ProjectDocument, trackId: TrackId, name: string): Edit {
  requireTrack(doc, trackId);
  const clean = requireText(name, 'Track name', MAX_NAME, true).trim();
  return makeEdit(doc, 'Rename track', (draft) => {
    draftTrack(draft, trackId).name = clean;
  });
}

/** Moves a track to position `toIndex` (clamped to the list, so a drag past the end lands last). */
export function moveTrack(doc: ProjectDocument, trackId: TrackId, toIndex: number): Edit {
  requireTrack(doc, trackId);
  const target = clampIndex(toIndex, doc.tracks.length - 1, 'Track position');
  return makeEdit(doc, 'Reorder tracks', (draft) => {
    const from = draft.tracks.findIndex((t) => t.id === trackId);
    if (from === target) return;
    const [track] = draft.tracks.splice(from, 1);
    draft.tracks.splice(target, 0, track);
  });
}

/** Deletes a track and every region on it. */
export function deleteTrack(doc: ProjectDocument, trackId: TrackId): Edit {
  const track = requireTrack(doc, trackId);
  return makeEdit(doc, 'Delete track', (draft) => {
    for (const regionId of track.regionIds) delete draft.regions[regionId];
    draft.tracks.splice(
      draft.tracks.findIndex((t) => t.id === trackId),
      1,
    );
  });
}

/** The mixer fields of a track that `setTrackMix` changes. */
export type TrackMixPatch = Partial<Pick<Track, 'volumeDb' | 'pan' | 'mute' | 'solo' | 'stem' | 'colour'>>;

/** Changes mixer fields; a single toggle gets a label naming the track ("Mute Drums"). */
export function setTrackMix(doc: ProjectDocument, trackId: TrackId, patch: TrackMixPatch): Edit {
  const track = requireTrack(doc, trackId);
  const clean: TrackMixPatch = {};
  if (patch.volumeDb !== undefined) clean.volumeDb = requireInRange(patch.volumeDb, 'Track volume (dB)', -120, 24);
  if (patch.pan !== undefined) clean.pan = requireInRange(patch.pan, 'Track pan', -1, 1);
  if (patch.mute !== undefined) clean.mute = requireBoolean(patch.mute, 'Mute');
  if (patch.solo !== undefined) clean.solo = requireBoolean(patch.solo, 'Solo');
  if (patch.stem !== undefined) clean.stem = requireBoolean(patch.stem, 'Stem');
  if (patch.colour !== undefined) clean.colour = requireColour(patch.colour);
  return makeEdit(doc, mixLabel(track.name, clean), (draft) => {
    Object.assign(draftTrack(draft, trackId), clean);
  });
}

function mixLabel(name: string, patch: TrackMixPatch): string {
  const keys = Object.keys(patch);
  if (keys.length !== 1) return 'Change track mix';
  if (patch.mute !== undefined) return `${patch.mute ? 'Mute' : 'Unmute'} ${name}`;
  if (patch.solo !== undefined) return `${patch.solo ? 'Solo' : 'Unsolo'} ${name}`;
  if (patch.stem !== undefined) return patch.stem ? `Export ${name} as stem` : `Don't export ${name} as stem`;
  if (patch.volumeDb !== undefined) return 'Change volume';
  if (patch.pan !== undefined) return 'Change pan';
  return 'Change track colour';
}

/** `Track N` for the first N from the track count up that no track is called yet. */
function defaultTrackName(doc: ProjectDocument): string {
  const names = new Set(doc.tracks.map((t) => t.name));
  let n = doc.tracks.length + 1;
  while (names.has(`Track ${n}`)) n++;
  return `Track ${n}`;
}

function requireColour(colour: unknown): string {
  if (typeof colour !== 'string' || !COLOUR.test(colour)) {
    throw new EditError(`Track colour must be #rrggbb (e.g. ${TRACK_PALETTE[0]}), got ${String(colour)}; pick a colour from the palette.`);
  }
  return colour;
}

function clampIndex(index: number, max: number, what: string): number {
  if (!Number.isInteger(index)) throw new EditError(`${what} must be a whole number, got ${String(index)}; this is a bug in the caller.`);
  return Math.min(Math.max(0, index), Math.max(0, max));
}
