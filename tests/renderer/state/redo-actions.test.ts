/**
 * The studio's redo actions (issue 12 §2 "Studio") without a browser: which actions a region offers (New take in
 * context, Regenerate run, Vary, Extend, Extend before), what a Generate of a track, of every track or of a selection
 * asks and its answers, and what each action sends to the host (mode, strength, onlyMissing; Extend's region added
 * as one undo step, then generated in context).
 */
import { describe, expect, it } from 'vitest';
import type { ApiResult, EnqueueGenerationRequest, StudioApi } from '../../../src-main/contract/api.ts';
import type { ProjectDocument, Region, RegionId, TakeRef, TrackId } from '../../../src-main/contract/project.ts';
import type { Edit } from '../../../src-renderer/model/edits.ts';
import { extendRegion, extensionBeforeSpan, extensionSpan } from '../../../src-renderer/model/extend-edit.ts';
import { generationActions, type GenerateAnswer, type GenerateQuestion, type JobHost } from '../../../src-renderer/state/generation-actions.ts';
import type { JobsState } from '../../../src-renderer/state/jobs.svelte.ts';
import type { Notices } from '../../../src-renderer/state/notices.svelte.ts';
import { generateChoice, regionRedo, runOf, trackExtension, trackExtensionBefore, trackGenerateChoice, trackGenerateOptions } from '../../../src-renderer/state/redo-options.ts';
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

describe('Extend before', () => {
  /** `doc` with track A's lone kept region rgn_d moved to [start, start + 10), its latent's frame 0 at `start`. */
  const movedD = (doc: ProjectDocument, start: number): ProjectDocument => {
    const d = doc.regions[id('rgn_d')];
    const t = d.takes[0];
    const latent = t.latent === undefined ? undefined : { ...t.latent, start };
    return { ...doc, regions: { ...doc.regions, rgn_d: { ...d, start, end: start + 10, takes: [{ ...t, ...(latent === undefined ? {} : { latent }) }] } } };
  };

  it('is offered where a kept latent starts a run with at least 1 s free before it, up to the region before', () => {
    const doc = project();
    // rgn_d (40–50 s) starts its run; rgn_c3 ends at 30 s: a region as long as the room, right before rgn_d.
    expect(regionRedo(doc, doc.regions[id('rgn_d')]).extensionBefore).toEqual({ start: 30, end: 40 });
    // rgn_a starts at 0 s (no room), rgn_b is inside its run, rgn_c3 has no take.
    expect(regionRedo(doc, doc.regions[id('rgn_a')]).extensionBefore).toBeNull();
    expect(regionRedo(doc, doc.regions[id('rgn_b')]).extensionBefore).toBeNull();
    expect(regionRedo(doc, doc.regions[id('rgn_c3')]).extensionBefore).toBeNull();
    // The track's "Extend before the first region" follows its first region: rgn_a, at 0 s.
    expect(trackExtensionBefore(doc, TRACK)).toBeNull();
    const alone: ProjectDocument = { ...doc, tracks: [{ ...doc.tracks[0], regionIds: [id('rgn_d')] }, doc.tracks[1]] };
    expect(trackExtensionBefore(alone, TRACK)).toMatchObject({ region: { id: 'rgn_d' }, span: { start: 30, end: 40 } });
    // 0.5 s free after rgn_c3 is too little.
    expect(regionRedo(movedD(doc, 30.5), movedD(doc, 30.5).regions[id('rgn_d')]).extensionBefore).toBeNull();
  });

  it('snaps its start to the grid, then onto the kept latent\'s frames (the frame before, or after when that leaves the room), never before 0 s', () => {
    const doc = project();
    // rgn_d's latent starts at 40.01 s: its frames (25 per second) lie at 40.01 + k·0.04.
    const off = movedD(doc, 40.01);
    const d = off.regions[id('rgn_d')];
    const grid = { origin: 40.01, framesPerSecond: 25 };
    const at = (span: { start: number; end: number } | null) => span && { start: Math.round(span.start * 1e6) / 1e6, end: span.end };
    // Unsnapped, as long as the room (30 s is not a frame): the frame after it, inside the room.
    expect(at(extensionBeforeSpan(off, d.id, undefined, grid))).toEqual({ start: 30.01, end: 40.01 });
    // A 4 s grid puts the start at 32 s; the frame at or before it is 31.97 s.
    expect(at(extensionBeforeSpan(off, d.id, (t) => Math.round(t / 4) * 4, grid))).toEqual({ start: 31.97, end: 40.01 });
    // regionRedo reads the grid from the take (its latent's frame 0 and frames per second).
    expect(at(regionRedo(off, d, (t) => Math.round(t / 4) * 4).extensionBefore)).toEqual({ start: 31.97, end: 40.01 });
    // Near 0 s: the room reaches 0 s, whose frame on this grid would be before 0 s; the first frame after 0 s is taken.
    const early = movedD({ ...doc, tracks: [{ ...doc.tracks[0], regionIds: [id('rgn_d')] }, doc.tracks[1]] }, 2.3);
    expect(at(regionRedo(early, early.regions[id('rgn_d')]).extensionBefore)).toEqual({ start: 0.02, end: 2.3 });
    // A snapped start that would leave under 1 s is not taken: the unsnapped one is.
    expect(extensionBeforeSpan(doc, id('rgn_d'), (t) => Math.round(t / 50) * 50)).toEqual({ start: 30, end: 40 });
  });

  it('adds its region as one undoable edit, selects it and generates it alone', async () => {
    const s = fakeStudio(project());
    const jobId = await s.run.extend(id('rgn_d'), undefined, 'before');
    expect(jobId).toBe('job_1');
    expect(s.edits.map((e) => e.label)).toEqual(['Extend region before']);
    const created = s.edits[0].createdIds?.[0] as RegionId;
    expect(s.selected).toEqual([created]);
    expect(s.sent).toEqual([expect.objectContaining({ trackId: TRACK, regionIds: [created] })]);
    expect(s.sent[0].document?.regions[created]).toMatchObject({ start: 30, end: 40, prompt: s.host.document.regions[id('rgn_d')].prompt, takes: [] });
    // Where it does not apply: no edit, no job, and a notice says why.
    const t = fakeStudio(project());
    expect(await t.run.extend(id('rgn_a'), undefined, 'before')).toBeNull();
    expect(t.edits).toEqual([]);
    expect(t.sent).toEqual([]);
    expect(t.notices).toEqual(['Nothing to extend here']);
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

/** A studio with a fake host that records what is enqueued, edits applied and questions asked (`answers` answer them in turn). */
function fakeStudio(doc: ProjectDocument, answers: (GenerateAnswer | null)[] = []) {
  const sent: EnqueueGenerationRequest[] = [];
  const notices: string[] = [];
  const selected: RegionId[] = [];
  const edits: Edit[] = [];
  const questions: GenerateQuestion[] = [];
  const api = {
    enqueueGeneration: async (input: EnqueueGenerationRequest) => {
      sent.push(input);
      return { ok: true, value: { jobId: `job_${sent.length}` } };
    },
  } as unknown as StudioApi;
  const host: JobHost & { document: ProjectDocument; selectedRegions: Region[] } = {
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
    askGenerate: async (question) => {
      questions.push(question);
      return answers.shift() ?? null;
    },
  };
  return { host, run: generationActions(host), sent, notices, selected, edits, questions };
}

describe('Generate over several tracks or a selection', () => {
  it('counts the takes replaced and the regions without audio across the tracks, as the host would generate them', () => {
    const doc = project();
    const B = 'trk_b' as TrackId;
    // Every track: track A's four regions (three with takes, one without) and track B's one region without audio.
    expect(generateChoice(doc, [{ trackId: TRACK }, { trackId: B }])).toEqual({ regions: 5, takes: 3, missing: 2, ask: true });
    // One region with kept neighbours is redone alone, in context.
    expect(generateChoice(doc, [{ trackId: TRACK, regionIds: [id('rgn_b')] }])).toEqual({ regions: 1, takes: 1, missing: 0, ask: true });
    // Two regions: the runs holding them (rgn_a's run of three, rgn_d alone).
    expect(generateChoice(doc, [{ trackId: TRACK, regionIds: [id('rgn_a'), id('rgn_d')] }])).toEqual({ regions: 4, takes: 3, missing: 0, ask: true });
    // Regions without audio on two tracks replace nothing: no question.
    expect(generateChoice(doc, [{ trackId: TRACK, regionIds: [id('rgn_c3')] }, { trackId: B, regionIds: [id('rgn_c')] }])).toEqual({ regions: 2, takes: 0, missing: 2, ask: false });
  });

  it('Generate all asks when takes would be replaced; its answers send onlyMissing per track that lacks audio, or everything', async () => {
    const doc = project();
    const B = 'trk_b' as TrackId;
    const missing = fakeStudio(doc, ['missing']);
    expect(await missing.run.generateAll()).toEqual(['job_1', 'job_2']);
    expect(missing.questions).toEqual([{ subject: 'all 2 tracks', targets: [{ trackId: TRACK }, { trackId: B }], choice: { regions: 5, takes: 3, missing: 2, ask: true } }]);
    expect(missing.sent.map(({ document: _d, ...rest }) => rest)).toEqual([
      { projectId: 'prj_1', trackId: TRACK, onlyMissing: true },
      { projectId: 'prj_1', trackId: B, onlyMissing: true },
    ]);
    // A track whose regions all have audio is left out of "Only regions without audio".
    const full: ProjectDocument = { ...doc, regions: { ...doc.regions, rgn_c3: { ...doc.regions[id('rgn_c3')], takes: [take('take_c3')], activeTakeId: 'take_c3' as TakeRef['id'] } } };
    const some = fakeStudio(full, ['missing']);
    await some.run.generateAll();
    expect(some.sent.map(({ document: _d, ...rest }) => rest)).toEqual([{ projectId: 'prj_1', trackId: B, onlyMissing: true }]);
    const all = fakeStudio(doc, ['all']);
    await all.run.generateAll();
    expect(all.sent.map((r) => [r.trackId, r.onlyMissing])).toEqual([
      [TRACK, undefined],
      [B, undefined],
    ]);
    const cancelled = fakeStudio(doc, [null]);
    expect(await cancelled.run.generateAll()).toEqual([]);
    expect(cancelled.questions).toHaveLength(1);
    expect(cancelled.sent).toEqual([]);
  });

  it('with no takes anywhere, Generate all generates at once', async () => {
    const doc = sampleProject();
    const bare: ProjectDocument = { ...doc, regions: { ...doc.regions, rgn_a: { ...doc.regions.rgn_a, takes: [], activeTakeId: null } } };
    const s = fakeStudio(bare);
    expect(await s.run.generateAll()).toEqual(['job_1', 'job_2']);
    expect(s.questions).toEqual([]);
  });

  it('Generate selection asks about the selected regions; "Only regions without audio" sends each track\'s chosen ones', async () => {
    const doc = project();
    const s = fakeStudio(doc, ['missing']);
    s.host.selectedRegions = [doc.regions[id('rgn_b')], doc.regions[id('rgn_c3')], doc.regions.rgn_c];
    await s.run.generateSelection();
    expect(s.questions.map((q) => [q.subject, q.choice])).toEqual([['3 selected regions', { regions: 4, takes: 2, missing: 2, ask: true }]]);
    expect(s.sent.map(({ document: _d, ...rest }) => rest)).toEqual([
      { projectId: 'prj_1', trackId: TRACK, regionIds: ['rgn_b', 'rgn_c3'], onlyMissing: true },
      { projectId: 'prj_1', trackId: 'trk_b', regionIds: ['rgn_c'], onlyMissing: true },
    ]);
    // Nothing missing among the chosen regions: "Only regions without audio" sends nothing and says why.
    const t = fakeStudio(doc, ['missing']);
    t.host.selectedRegions = [doc.regions[id('rgn_d')]];
    expect(await t.run.generateSelection()).toEqual([]);
    expect(t.sent).toEqual([]);
    expect(t.notices).toEqual(['Every chosen region has audio']);
  });
});

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

