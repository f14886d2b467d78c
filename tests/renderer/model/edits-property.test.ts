/**
 * Random edit sequences (with undo, redo and host-side takes) never produce a document parseProject refuses, never
 * throw anything but EditError, and undo all the way returns the starting document.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseProject, type ProjectDocument, type RegionId, type TakeId, type TrackId } from '../../../src-main/contract/project.ts';
import {
  EditError,
  addRegion,
  addTrack,
  applyTakes,
  deleteRegions,
  deleteTake,
  deleteTrack,
  duplicateRegions,
  moveRegions,
  moveTrack,
  setActiveTake,
  setRegionFields,
  setTrackMix,
  splitRegion,
  trimRegion,
  type Edit,
} from '../../../src-renderer/model/edits.ts';
import { applyExternal, emptyHistory, push, redo, undo, type History } from '../../../src-renderer/model/history.ts';
import { sampleProject, take } from '../../contract/project-fixtures.ts';

type Op =
  | { kind: 'addTrack' }
  | { kind: 'deleteTrack'; track: number }
  | { kind: 'moveTrack'; track: number; to: number }
  | { kind: 'mix'; track: number; volumeDb: number; mute: boolean }
  | { kind: 'addRegion'; track: number; start: number; length: number }
  | { kind: 'move'; regions: number[]; delta: number; track: number | null }
  | { kind: 'trim'; region: number; edge: 'start' | 'end'; t: number }
  | { kind: 'split'; region: number; fraction: number }
  | { kind: 'duplicate'; regions: number[] }
  | { kind: 'delete'; regions: number[] }
  | { kind: 'fields'; region: number; fadeIn: number; fadeOut: number; seed: number | null; lock: boolean }
  | { kind: 'take'; region: number; action: 'switch' | 'delete' | 'generate'; which: number }
  | { kind: 'undo' }
  | { kind: 'redo' };

// Quarter seconds make touching edges common; arbitrary doubles find float trouble.
const time = fc.oneof(fc.integer({ min: 0, max: 240 }).map((n) => n / 4), fc.double({ min: 0, max: 60, noNaN: true }));
const length = fc.oneof(fc.integer({ min: 1, max: 40 }).map((n) => n / 4), fc.double({ min: 0.001, max: 20, noNaN: true }));
const delta = fc.oneof(fc.integer({ min: -120, max: 120 }).map((n) => n / 4), fc.double({ min: -40, max: 40, noNaN: true }));
const pick = fc.nat(1000);
const picks = fc.array(pick, { minLength: 1, maxLength: 3 });

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<Op>({ kind: 'addTrack' }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteTrack' as const), track: pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('moveTrack' as const), track: pick, to: fc.integer({ min: -1, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('mix' as const), track: pick, volumeDb: fc.integer({ min: -60, max: 6 }), mute: fc.boolean() }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('addRegion' as const), track: pick, start: time, length }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('move' as const), regions: picks, delta, track: fc.option(pick) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('trim' as const), region: pick, edge: fc.constantFrom('start' as const, 'end' as const), t: time }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('split' as const), region: pick, fraction: fc.double({ min: 0, max: 1, noNaN: true }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('duplicate' as const), regions: picks }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), regions: picks }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('fields' as const),
      region: pick,
      fadeIn: time,
      fadeOut: time,
      seed: fc.option(fc.nat(1000)),
      lock: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('take' as const),
      region: pick,
      action: fc.constantFrom('switch' as const, 'delete' as const, 'generate' as const),
      which: pick,
    }),
  },
  { weight: 3, arbitrary: fc.constant<Op>({ kind: 'undo' }) },
  { weight: 2, arbitrary: fc.constant<Op>({ kind: 'redo' }) },
);

interface State {
  doc: ProjectDocument;
  history: History;
}

/** Every document rule, plus the model's own: each track lists its regions by start. */
function expectValid(doc: ProjectDocument): void {
  parseProject(doc, 'state after a random edit');
  for (const track of doc.tracks) {
    const starts = track.regionIds.map((id) => doc.regions[id].start);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
  }
}

/** Runs `ops` from the sample project; generated takes go through `applyExternal` when `external`. */
function run(ops: readonly Op[], external: boolean, onTakes: (regionId: RegionId, takeId: TakeId) => void, onDeleteTake: (regionId: RegionId, takeId: TakeId) => void): State {
  let counter = 0;
  const newId = (prefix: string) => `${prefix}_p${++counter}`;
  let state: State = { doc: sampleProject(), history: emptyHistory() };
  for (const o of ops) {
    state = step(state, o, newId, external, onTakes, onDeleteTake);
    expectValid(state.doc);
  }
  return state;
}

function step(
  { doc, history }: State,
  o: Op,
  newId: (prefix: string) => string,
  external: boolean,
  onTakes: (regionId: RegionId, takeId: TakeId) => void,
  onDeleteTake: (regionId: RegionId, takeId: TakeId) => void,
): State {
  if (o.kind === 'undo' || o.kind === 'redo') {
    const result = o.kind === 'undo' ? undo(history, doc) : redo(history, doc);
    return result === null ? { doc, history } : { doc: result.document, history: result.history };
  }
  const regionIds = Object.keys(doc.regions).sort() as RegionId[];
  const trackIds: TrackId[] = doc.tracks.map((t) => t.id);
  const region = (n: number): RegionId | undefined => regionIds[n % Math.max(1, regionIds.length)];
  const track = (n: number): TrackId | undefined => trackIds[n % Math.max(1, trackIds.length)];
  const some = (ns: number[]): RegionId[] => ns.map(region).filter((id): id is RegionId => id !== undefined);
  let edit: Edit | undefined;
  try {
    edit = makeEdit(doc, o, { region, track, some, newId, onTakes, onDeleteTake });
  } catch (e) {
    if (e instanceof EditError) return { doc, history };
    throw e;
  }
  if (edit === undefined) return { doc, history };
  if (edit.label === 'Generated takes' && external) {
    const result = applyExternal(history, doc, edit);
    return { doc: result.document, history: result.history };
  }
  return { doc: edit.document, history: push(history, edit) };
}

interface Pickers {
  region: (n: number) => RegionId | undefined;
  track: (n: number) => TrackId | undefined;
  some: (ns: number[]) => RegionId[];
  newId: (prefix: string) => string;
  onTakes: (regionId: RegionId, takeId: TakeId) => void;
  onDeleteTake: (regionId: RegionId, takeId: TakeId) => void;
}

function makeEdit(doc: ProjectDocument, o: Op, p: Pickers): Edit | undefined {
  switch (o.kind) {
    case 'addTrack':
      return addTrack(doc, { newId: p.newId });
    case 'deleteTrack':
    case 'moveTrack':
    case 'mix': {
      const t = p.track(o.track);
      if (t === undefined) return undefined;
      if (o.kind === 'deleteTrack') return deleteTrack(doc, t);
      if (o.kind === 'moveTrack') return moveTrack(doc, t, o.to);
      return setTrackMix(doc, t, { volumeDb: o.volumeDb, mute: o.mute });
    }
    case 'addRegion': {
      const t = p.track(o.track);
      return t === undefined ? undefined : addRegion(doc, { newId: p.newId, trackId: t, start: o.start, end: o.start + o.length, prompt: 'p' });
    }
    case 'move':
      return moveRegions(doc, p.some(o.regions), o.delta, o.track === null ? undefined : p.track(o.track));
    case 'duplicate':
      return duplicateRegions(doc, p.some(o.regions), p.newId);
    case 'delete':
      return deleteRegions(doc, p.some(o.regions));
    default:
      return regionEdit(doc, o, p);
  }
}

function regionEdit(doc: ProjectDocument, o: Op, p: Pickers): Edit | undefined {
  if (!('region' in o)) return undefined;
  const id = p.region(o.region);
  if (id === undefined) return undefined;
  const r = doc.regions[id];
  switch (o.kind) {
    case 'trim':
      return trimRegion(doc, id, o.edge, o.t);
    case 'split':
      return splitRegion(doc, id, r.start + o.fraction * (r.end - r.start), p.newId);
    case 'fields':
      return setRegionFields(doc, id, { fadeIn: o.fadeIn, fadeOut: o.fadeOut, seed: o.seed, lockedSeed: o.lock && o.seed !== null });
    case 'take': {
      if (o.action === 'generate') {
        const takeId = p.newId('take') as TakeId;
        p.onTakes(id, takeId);
        return applyTakes(doc, [{ regionId: id, take: take(takeId) }]);
      }
      const chosen = r.takes[o.which % Math.max(1, r.takes.length)];
      if (chosen === undefined) return undefined;
      if (o.action === 'switch') return setActiveTake(doc, id, chosen.id);
      p.onDeleteTake(id, chosen.id);
      return deleteTake(doc, id, chosen.id);
    }
    default:
      return undefined;
  }
}

const RUNS = 500;
const noop = (): void => undefined;

describe('random edit sequences', () => {
  it('keep every document valid, and undo all returns the original', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40, size: 'max' }), (ops) => {
        const end = run(ops, false, noop, noop);
        let { doc, history } = end;
        const applied = history.index;
        for (let u = undo(history, doc); u !== null; u = undo(history, doc)) {
          ({ document: doc, history } = u);
          expectValid(doc);
        }
        expect(doc).toEqual(sampleProject());
        for (let i = 0; i < applied; i++) {
          const r = redo(history, doc);
          if (r === null) throw new Error('redo ran out');
          ({ document: doc, history } = r);
        }
        expect(doc).toEqual(end.doc);
      }),
      { numRuns: RUNS },
    );
  });

  it('keep host-side takes through any undo and redo, with every state valid', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40, size: 'max' }), (ops) => {
        const arrived: [RegionId, TakeId][] = [];
        const deleted = new Set<string>();
        const end = run(
          ops,
          true,
          (regionId, takeId) => arrived.push([regionId, takeId]),
          (regionId, takeId) => deleted.add(`${regionId}/${takeId}`),
        );
        const expectTakes = (doc: ProjectDocument): void => {
          expectValid(doc);
          for (const [regionId, takeId] of arrived) {
            if (deleted.has(`${regionId}/${takeId}`) || !Object.hasOwn(doc.regions, regionId)) continue;
            expect(doc.regions[regionId].takes.map((t) => t.id)).toContain(takeId);
          }
        };
        let { doc, history } = end;
        expectTakes(doc);
        const applied = history.index;
        for (let u = undo(history, doc); u !== null; u = undo(history, doc)) {
          ({ document: doc, history } = u);
          expectTakes(doc);
        }
        for (let r = redo(history, doc); r !== null; r = redo(history, doc)) {
          ({ document: doc, history } = r);
          expectTakes(doc);
        }
        // Back to where the sequence ended, through the rebased entries.
        while (history.index > applied) {
          const u = undo(history, doc);
          if (u === null) throw new Error('undo ran out');
          ({ document: doc, history } = u);
        }
        expect(doc).toEqual(end.doc);
      }),
      { numRuns: RUNS },
    );
  });
});
