/**
 * The studio's redo actions (issue 12 §2 "Studio") without a browser: which actions a region offers (New take in
 * context, Regenerate run, Vary, Extend), what the track's Generate asks and its answers, and what each action sends
 * to the host (mode, strength, onlyMissing; Extend's region added as one undo step, then generated in context).
 */
import { describe, expect, it } from 'vitest';
import type { ApiResult, EnqueueGenerationRequest, StudioApi } from '../../../src-main/contract/api.ts';
import type { ProjectDocument, RegionId, TakeRef, TrackId } from '../../../src-main/contract/project.ts';
import type { Edit } from '../../../src-renderer/model/edits.ts';
import { extendRegion, extensionSpan } from '../../../src-renderer/model/extend-edit.ts';
import { generationActions, type JobHost } from '../../../src-renderer/state/generation-actions.ts';
import type { JobsState } from '../../../src-renderer/state/jobs.svelte.ts';
import type { Notices } from '../../../src-renderer/state/notices.svelte.ts';
import { regionRedo, runOf, trackExtension, trackGenerateChoice, trackGenerateOptions } from '../../../src-renderer/state/redo-options.ts';
import { counterIds, region, sampleProject, take } from '../../contract/project-fixtures.ts';

const TRACK = 'trk_a' as TrackId;
const id = (s: string): RegionId => s as RegionId;

/** A take that kept a latent of `sketch`. */
function keptTake(takeId: `take_${string}`, start: number, from: number, to: number): TakeRef {
  return { ...take(takeId), seconds: (to - from) / 25, latent: { file: `takes/piece_${takeId}.npy`, model: 'sketch', modelVersion: '1', framesPerSecond: 25, window: 256, start, channels: 8, frames: 1000, bins: 16, from, to } };
}

/**
 * Track A: three touching regions 0–10–20–30 s of one run (the first two with kept takes, the third without a
 * take), then a gap and a lone region 40–50 s with a kept take; track B unchanged.
 */
function project(): ProjectDocument {
  const doc = sampleProject();
  const g = doc.regions.rgn_a.generation;
  const a = region(id('rgn_a'), TRACK, 0, 10, { generation: g, takes: [keptTake('take_a', 0, 0, 250)], activeTakeId: 'take_a' as TakeRef['id'] });
  const b = region(id('rgn_b'), TRACK, 10, 20, { generation: g, takes: [keptTake('take_b', 0, 250, 500)], activeTakeId: 'take_b' as TakeRef['id'] });
  const c = region(id('rgn_c3'), TRACK, 20, 30, { generation: g });
  const d = region(id('rgn_d'), TRACK, 40, 50, { generation: g, takes: [keptTake('take_d', 40, 0, 250)], activeTakeId: 'take_d' as TakeRef['id'] });
  return {
    ...doc,
    tracks: [{ ...doc.tracks[0], regionIds: [a.id, b.id, c.id, d.id] }, doc.tracks[1]],
    regions: { [a.id]: a, [b.id]: b, [c.id]: c, [d.id]: d, rgn_c: doc.regions.rgn_c },
  };
}

describe('the redo actions a region offers', () => {
  it('New take keeps its neighbours where they kept latents; Regenerate run needs a run of two or more', () => {
    const doc = project();
    const b = regionRedo(doc, doc.regions[id('rgn_b')]);
    expect(b.keepsNeighbours).toBe(true);
    expect(b.run.map((r) => r.id)).toEqual(['rgn_a', 'rgn_b', 'rgn_c3']);
    const d = regionRedo(doc, doc.regions[id('rgn_d')]);
    expect(d.keepsNeighbours).toBe(false);
    expect(d.run.map((r) => r.id)).toEqual(['rgn_d']);
    // A different setting splits the run, as the host plans it.
    const split: ProjectDocument = { ...doc, regions: { ...doc.regions, rgn_b: { ...doc.regions[id('rgn_b')], generation: { ...doc.regions[id('rgn_b')].generation, steps: 3 } } } };
    expect(runOf(split, split.regions[id('rgn_a')]).map((r) => r.id)).toEqual(['rgn_a']);
  });

  it('Vary only where the active take kept a latent; Extend only at the end of a run, with room after it', () => {
    const doc = project();
    expect(regionRedo(doc, doc.regions[id('rgn_b')]).canVary).toBe(true);
    expect(regionRedo(doc, doc.regions[id('rgn_c3')]).canVary).toBe(false);
    const plain: ProjectDocument = { ...doc, regions: { ...doc.regions, rgn_d: { ...doc.regions[id('rgn_d')], takes: [take('take_d')] } } };
    expect(regionRedo(plain, plain.regions[id('rgn_d')]).canVary).toBe(false);
    // rgn_b is inside its run: no Extend; rgn_d ends its run: a region as long as it, right after it.
    expect(regionRedo(doc, doc.regions[id('rgn_b')]).extension).toBeNull();
    expect(regionRedo(doc, doc.regions[id('rgn_d')]).extension).toEqual({ start: 50, end: 60 });
    expect(trackExtension(doc, TRACK)).toMatchObject({ region: { id: 'rgn_d' }, span: { start: 50, end: 60 } });
    // Without a kept latent there is nothing to continue.
    expect(regionRedo(plain, plain.regions[id('rgn_d')]).extension).toBeNull();
  });

  it("an extension is capped by the next region, snapped to the grid, and refused when there is under 1 s of room", () => {
    const doc = project();
    // rgn_e at 55 s leaves 5 s after rgn_d.
    const e = region(id('rgn_e'), TRACK, 55, 58, { generation: doc.regions[id('rgn_d')].generation });
    const crowded: ProjectDocument = { ...doc, tracks: [{ ...doc.tracks[0], regionIds: [...doc.tracks[0].regionIds, e.id] }, doc.tracks[1]], regions: { ...doc.regions, [e.id]: e } };
    expect(extensionSpan(crowded, id('rgn_d'))).toEqual({ start: 50, end: 55 });
    expect(extensionSpan(doc, id('rgn_d'), (t) => Math.round(t / 4) * 4)).toEqual({ start: 50, end: 60 });
    expect(extensionSpan(doc, id('rgn_d'), (t) => Math.round(t / 3) * 3)).toEqual({ start: 50, end: 60 });
    expect(extensionSpan(doc, id('rgn_d'), (t) => Math.round(t / 7) * 7)).toEqual({ start: 50, end: 63 });
    // A grid line past the next region's start is not taken: the free stretch is the limit.
    expect(extensionSpan(crowded, id('rgn_d'), (t) => Math.round(t / 8) * 8)).toEqual({ start: 50, end: 55 });
    const tight: ProjectDocument = { ...crowded, regions: { ...crowded.regions, [e.id]: { ...e, start: 50.5 } } };
    expect(extensionSpan(tight, id('rgn_d'))).toBeNull();
  });

  it('the extension region copies prompt and settings (a locked seed too) and is one undoable edit', () => {
    const doc = project();
    const locked: ProjectDocument = { ...doc, regions: { ...doc.regions, rgn_d: { ...doc.regions[id('rgn_d')], prompt: 'bright bell', seed: 9, lockedSeed: true } } };
    const edit = extendRegion(locked, id('rgn_d'), { start: 50, end: 60 }, counterIds());
    const created = edit.document.regions[edit.createdIds?.[0] as RegionId];
    expect(created).toMatchObject({ start: 50, end: 60, prompt: 'bright bell', seed: 9, lockedSeed: true, takes: [], activeTakeId: null, generation: locked.regions[id('rgn_d')].generation });
    expect(edit.label).toBe('Extend region');
    expect(edit.document.tracks[0].regionIds.at(-1)).toBe(created.id);
    expect(() => extendRegion(doc, id('rgn_a'), { start: 10, end: 15 }, counterIds())).toThrow(/would overlap/);
  });
});

describe("the track's Generate", () => {
  it('asks only when it would replace takes, offering only the regions without audio when there are some', () => {
    const doc = project();
    const choice = trackGenerateChoice(doc, TRACK);
    expect(choice).toEqual({ regions: 4, takes: 3, missing: 1, ask: true });
    expect(trackGenerateOptions(choice)).toEqual({ all: 'Regenerate all (replaces 3 takes)', missing: 'Only regions without audio (1)', missingEnabled: true });
    const full: ProjectDocument = { ...doc, regions: { ...doc.regions, rgn_c3: { ...doc.regions[id('rgn_c3')], takes: [take('take_c3')], activeTakeId: 'take_c3' as TakeRef['id'] } } };
    expect(trackGenerateOptions(trackGenerateChoice(full, TRACK))).toMatchObject({ missingEnabled: false, all: 'Regenerate all (replaces 4 takes)' });
    expect(trackGenerateChoice(doc, 'trk_b' as TrackId)).toEqual({ regions: 1, takes: 0, missing: 1, ask: false });
  });
});

/** A studio with a fake host that records what is enqueued and edits applied. */
function fakeStudio(doc: ProjectDocument) {
  const sent: EnqueueGenerationRequest[] = [];
  const notices: string[] = [];
  const selected: RegionId[] = [];
  const edits: Edit[] = [];
  const api = {
    enqueueGeneration: async (input: EnqueueGenerationRequest) => {
      sent.push(input);
      return { ok: true, value: { jobId: `job_${sent.length}` } };
    },
  } as unknown as StudioApi;
  const host: JobHost & { document: ProjectDocument } = {
    api,
    project: { projectId: 'prj_1' },
    document: doc,
    selectedRegions: [],
    jobs: { accepted: () => undefined } as unknown as JobsState,
    notices: { info: (m: string) => notices.push(m), error: (m: string) => notices.push(m) } as unknown as Notices,
    async call<T>(_failure: string, run: (a: StudioApi) => Promise<ApiResult<T>>): Promise<T | null> {
      const r = await run(api);
      return r.ok ? r.value : null;
    },
    async succeeded() {
      return true;
    },
    edit(make) {
      const edit = make(host.document);
      edits.push(edit);
      host.document = edit.document;
      return edit;
    },
    selectRegion: (rid) => selected.push(rid),
  };
  return { host, run: generationActions(host), sent, notices, selected, edits };
}

describe('what the actions send to the host', () => {
  it('Regenerate run, Vary and the track Generate answers carry mode, strength and onlyMissing', async () => {
    const s = fakeStudio(project());
    await s.run.regenerateRun(TRACK, id('rgn_b'));
    await s.run.vary(TRACK, id('rgn_b'), 0.4);
    await s.run.generateTrack(TRACK, 'missing');
    await s.run.generateTrack(TRACK, 'all');
    expect(s.sent.map(({ document: _d, ...rest }) => rest)).toEqual([
      { projectId: 'prj_1', trackId: TRACK, regionIds: ['rgn_b'], mode: 'run' },
      { projectId: 'prj_1', trackId: TRACK, regionIds: ['rgn_b'], strength: 0.4 },
      { projectId: 'prj_1', trackId: TRACK, onlyMissing: true },
      { projectId: 'prj_1', trackId: TRACK },
    ]);
  });

  it('"Only regions without audio" with nothing missing sends nothing and says why', async () => {
    const doc = project();
    const full: ProjectDocument = { ...doc, regions: { ...doc.regions, rgn_c3: { ...doc.regions[id('rgn_c3')], takes: [take('take_c3')], activeTakeId: 'take_c3' as TakeRef['id'] } } };
    const s = fakeStudio(full);
    expect(await s.run.generateTrack(TRACK, 'missing')).toBeNull();
    expect(s.sent).toEqual([]);
    expect(s.notices).toEqual(['Every region of this track has audio']);
  });

  it('Extend adds the region (one edit), selects it and generates it alone, with the edited document', async () => {
    const s = fakeStudio(project());
    const jobId = await s.run.extend(id('rgn_d'));
    expect(jobId).toBe('job_1');
    expect(s.edits).toHaveLength(1);
    const created = s.edits[0].createdIds?.[0] as RegionId;
    expect(s.selected).toEqual([created]);
    expect(s.sent).toHaveLength(1);
    expect(s.sent[0]).toMatchObject({ trackId: TRACK, regionIds: [created] });
    expect(s.sent[0].mode).toBeUndefined();
    expect(s.sent[0].document?.regions[created]).toMatchObject({ start: 50, end: 60 });
    // Inside a run there is nothing to extend: no edit, no job.
    const t = fakeStudio(project());
    expect(await t.run.extend(id('rgn_b'))).toBeNull();
    expect(t.edits).toEqual([]);
    expect(t.sent).toEqual([]);
  });
});

