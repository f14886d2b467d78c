/**
 * The studio's redo actions through the host API (issue 12 §2 "Studio"), over the real engine worker and the
 * built-in `sketch` model: `mode: 'run'` replaces the whole run's takes; one region in context (the default) keeps
 * its neighbours; `strength` varies a region (a take unlike the old one and unlike a fresh one of the same seed);
 * `onlyMissing` fills only the regions without audio, in context of kept neighbours (a chain of new regions each
 * continuing the one before) or as runs of their own, and leaves every other take and file bit for bit; the queue's
 * labels say what is replaced; contradictory requests are refused before they are queued, naming the value; the
 * studio's "Extend before" (its span and edit, then a one-region job) grows a new region into a kept run in context.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiResult, EnqueueGenerationRequest, JobInfo, StudioEventName, StudioEvents } from '../../src-main/contract/api.ts';
import { parseProject, type ProjectDocument, type Region, type RegionId, type TrackId } from '../../src-main/contract/project.ts';
import { createStudioHost, type StudioHost } from '../../src-main/host/studio-host.ts';
import { decodeWav } from '../../src-main/host/wav.ts';
import { extendRegion } from '../../src-renderer/model/extend-edit.ts';
import { regionRedo } from '../../src-renderer/state/redo-options.ts';
import { counterIds, region } from '../contract/project-fixtures.ts';
import { TEST_CACHE_DIR } from '../helpers/packs.ts';

let work: string;
let host: StudioHost;
let projectId: string;
let dir: string;
let trackId: TrackId;
const finished = new Map<string, (f: StudioEvents['jobFinished']) => void>();
const seen = new Map<string, StudioEvents['jobFinished']>();
const labels = new Map<string, string>();

function value<T>(result: ApiResult<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

const GENERATION = { model: 'sketch', steps: 4, guidance: 2.5, sampler: 'ddim' as const, eta: 0, method: 'auto' as const, transition: 1 };
const id = (s: string): RegionId => s as RegionId;
const load = async (): Promise<ProjectDocument> => parseProject(JSON.parse(await readFile(join(dir, 'project.json'), 'utf8')), 'project.json');
const active = (r: Region) => r.takes.find((t) => t.id === r.activeTakeId);
const sha = async (file: string): Promise<string> => createHash('sha256').update(await readFile(join(dir, file))).digest('hex');
const samples = async (file: string): Promise<Float32Array> => decodeWav(await readFile(join(dir, file))).channels[0];

/** Queues a headless generation (the saved document, saved after), waits for it; returns its label. */
async function generate(input: Omit<EnqueueGenerationRequest, 'projectId' | 'trackId'>): Promise<string> {
  const { jobId } = value(await host.api.enqueueGeneration({ projectId, trackId, ...input }));
  const end = seen.get(jobId) ?? (await new Promise<StudioEvents['jobFinished']>((resolve) => finished.set(jobId, resolve)));
  expect(end).toEqual({ jobId, ok: true });
  return labels.get(jobId) ?? '';
}

/** Every region's active take id and file hash. */
async function fingerprint(doc: ProjectDocument): Promise<Record<string, { take: string | undefined; sha: string }>> {
  const out: Record<string, { take: string | undefined; sha: string }> = {};
  for (const r of Object.values(doc.regions)) {
    const take = active(r);
    if (take) out[r.id] = { take: take.id, sha: await sha(take.file) };
  }
  return out;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-studio-redo-'));
  host = createStudioHost({
    cacheDir: TEST_CACHE_DIR,
    projectsDir: join(work, 'projects'),
    settingsFile: null,
    log: () => undefined,
    emit: <K extends StudioEventName>(name: K, payload: StudioEvents[K]) => {
      if (name === 'jobUpdated') {
        const job = (payload as StudioEvents['jobUpdated']).job as JobInfo;
        labels.set(job.jobId, job.label);
      }
      if (name !== 'jobFinished') return;
      const f = payload as StudioEvents['jobFinished'];
      seen.set(f.jobId, f);
      finished.get(f.jobId)?.(f);
    },
  });
  const opened = value(await host.api.createProject({ name: 'Redo' }));
  projectId = opened.projectId;
  dir = opened.dir;
  trackId = opened.document.tracks[0].id;
  const spans: [string, number, number, string][] = [
    ['rgn_one', 0, 6, 'low drone'],
    ['rgn_two', 6, 12, 'rain noise'],
    ['rgn_three', 12, 18, 'bright bell'],
  ];
  const regions = spans.map(([rid, s, e, prompt]) => region(rid as RegionId, trackId, s, e, { prompt, negativePrompt: '', seed: 5, lockedSeed: true, fadeIn: 0, fadeOut: 0, generation: GENERATION }));
  const doc = parseProject({ ...opened.document, tracks: [{ ...opened.document.tracks[0], name: 'Drone', regionIds: regions.map((r) => r.id) }], regions: Object.fromEntries(regions.map((r) => [r.id, r])) }, 'test');
  value(await host.api.saveProject({ projectId, document: doc }));
  expect(await generate({})).toBe('Generate Drone');
});
afterAll(async () => {
  await host.dispose();
  await rm(work, { recursive: true, force: true });
});

describe('redo in the studio', () => {
  it("mode 'run' replaces the takes of the region's whole run, and says so", async () => {
    const before = await load();
    const label = await generate({ regionIds: [id('rgn_two')], mode: 'run' });
    expect(label).toBe('Regenerate run: 3 regions of Drone (replaces their takes)');
    const after = await load();
    for (const rid of ['rgn_one', 'rgn_two', 'rgn_three']) {
      expect(after.regions[id(rid)].takes, rid).toHaveLength(2);
      expect(active(after.regions[id(rid)])?.id, rid).not.toBe(active(before.regions[id(rid)])?.id);
    }
  });

  it('one region in context (the default) gets a new take alone; its neighbours keep theirs bit for bit', async () => {
    const before = await load();
    const kept = await fingerprint(before);
    const label = await generate({ regionIds: [id('rgn_two')] });
    expect(label).toBe("New take of 'rain noise' 6–12 s (keeps neighbours)");
    const after = await load();
    const now = await fingerprint(after);
    expect(now.rgn_one).toEqual(kept.rgn_one);
    expect(now.rgn_three).toEqual(kept.rgn_three);
    expect(now.rgn_two.take).not.toBe(kept.rgn_two.take);
    expect(active(after.regions[id('rgn_two')])?.latent?.start).toBeLessThan(6);
  });

  it('strength varies the region: unlike its old take and unlike a fresh take of the same seed', async () => {
    const old = active((await load()).regions[id('rgn_two')]);
    const label = await generate({ regionIds: [id('rgn_two')], strength: 0.4 });
    expect(label).toBe("Vary 'rain noise' 6–12 s at strength 0.4");
    const varied = active((await load()).regions[id('rgn_two')]);
    expect(varied?.parameters).toMatchObject({ strength: 0.4 });
    // A fresh take of the same seed in the same context: strength 1.
    await generate({ regionIds: [id('rgn_two')], strength: 1 });
    const fresh = active((await load()).regions[id('rgn_two')]);
    expect(new Set([old?.id, varied?.id, fresh?.id]).size).toBe(3);
    const [o, v, f] = await Promise.all([old, varied, fresh].map((t) => samples(t?.file ?? '')));
    const rmsDiff = (a: Float32Array, b: Float32Array): number => {
      let s = 0;
      for (let i = 0; i < Math.min(a.length, b.length); i++) s += (a[i] - b[i]) ** 2;
      return Math.sqrt(s / Math.min(a.length, b.length));
    };
    expect(rmsDiff(v, o)).toBeGreaterThan(1e-4);
    expect(rmsDiff(v, f)).toBeGreaterThan(1e-4);
  });

  it('onlyMissing fills only regions without audio (in context where they touch kept ones) and keeps every other take and file', async () => {
    // Two new regions after the run (a chain: the second continues the first's new take) and one on its own.
    const saved = await load();
    const extra = [
      region(id('rgn_four'), trackId, 18, 22, { prompt: 'bright bell', negativePrompt: '', seed: 6, fadeIn: 0, fadeOut: 0, generation: GENERATION }),
      region(id('rgn_five'), trackId, 22, 26, { prompt: 'low drone', negativePrompt: '', seed: 7, fadeIn: 0, fadeOut: 0, generation: GENERATION }),
      region(id('rgn_six'), trackId, 40, 44, { prompt: 'rain noise', negativePrompt: '', seed: 8, fadeIn: 0, fadeOut: 0, generation: GENERATION }),
    ];
    const doc = parseProject({ ...saved, tracks: [{ ...saved.tracks[0], regionIds: [...saved.tracks[0].regionIds, ...extra.map((r) => r.id)] }], regions: { ...saved.regions, ...Object.fromEntries(extra.map((r) => [r.id, r])) } }, 'test');
    value(await host.api.saveProject({ projectId, document: doc }));
    const kept = await fingerprint(doc);

    const label = await generate({ onlyMissing: true });
    expect(label).toBe('Generate Drone: 3 regions without audio');
    const after = await load();
    const now = await fingerprint(after);
    for (const rid of ['rgn_one', 'rgn_two', 'rgn_three']) expect(now[rid], rid).toEqual(kept[rid]);
    for (const rid of ['rgn_one', 'rgn_two', 'rgn_three']) expect(after.regions[id(rid)].takes).toHaveLength(doc.regions[id(rid)].takes.length);
    const four = active(after.regions[id('rgn_four')]);
    const five = active(after.regions[id('rgn_five')]);
    const six = active(after.regions[id('rgn_six')]);
    expect(four?.seconds).toBeCloseTo(4, 3);
    expect(five?.seconds).toBeCloseTo(4, 3);
    expect(six?.seconds).toBeCloseTo(4, 3);
    // In context: each piece reached back into the kept latent before it (rgn_five into rgn_four's new take).
    expect(four?.latent?.start).toBeLessThan(18);
    expect(five?.latent?.start).toBeLessThan(22);
    expect(five?.latent?.file).not.toBe(four?.latent?.file);
    // On its own: a fresh piece of just that region.
    expect(six?.latent?.start).toBe(40);
  });

  it('refuses contradictory requests before queueing, naming the value', async () => {
    const refused = async (input: Omit<EnqueueGenerationRequest, 'projectId' | 'trackId'>): Promise<string> => {
      try {
        await host.api.enqueueGeneration({ projectId, trackId, ...input });
      } catch (e) {
        expect(e).toMatchObject({ code: 'invalid-argument' });
        return (e as Error).message;
      }
      throw new Error(`not refused: ${JSON.stringify(input)}`);
    };
    expect(await refused({ regionIds: [id('rgn_one'), id('rgn_two')], strength: 0.5 })).toMatch(/strength 0\.5 varies one region in context; give exactly one region id \(got 2\)/);
    expect(await refused({ regionIds: [id('rgn_two')], strength: 0.5, mode: 'run' })).toMatch(/strength 0\.5 varies one region/);
    expect(await refused({ onlyMissing: true })).toMatch(/every region of track 'Drone' already has a take; nothing is missing/);
    expect(await refused({ onlyMissing: true, mode: 'run' })).toMatch(/onlyMissing and mode 'run' contradict/);
    // A region whose take kept no latent cannot be varied.
    const saved = await load();
    const two = saved.regions[id('rgn_two')];
    const take = active(two);
    if (!take) throw new Error('no take');
    const { latent: _latent, ...plain } = take;
    const document = { ...saved, regions: { ...saved.regions, [two.id]: { ...two, takes: [...two.takes.filter((t) => t.id !== take.id), plain] } } };
    const message = await (async () => {
      try {
        await host.api.enqueueGeneration({ projectId, trackId, regionIds: [two.id], strength: 0.3, document });
      } catch (e) {
        return (e as Error).message;
      }
      return 'not refused';
    })();
    expect(message).toMatch(/region 'rgn_two' \("rain noise"\) has no kept latent of sketch to vary at strength 0\.3/);
  });

  it('Extend before a kept run generates the new region in its context; the run keeps its takes and files bit for bit', async () => {
    // A lone region at 50.01 s, generated on its own: its latent's frames lie off the whole-second grid.
    const saved = await load();
    const far = region(id('rgn_far'), trackId, 50.01, 54.01, { prompt: 'bright bell', negativePrompt: '', seed: 9, fadeIn: 0, fadeOut: 0, generation: GENERATION });
    const withFar = parseProject({ ...saved, tracks: [{ ...saved.tracks[0], regionIds: [...saved.tracks[0].regionIds, far.id] }], regions: { ...saved.regions, [far.id]: far } }, 'test');
    value(await host.api.saveProject({ projectId, document: withFar }));
    expect(await generate({ regionIds: [far.id] })).toBe("Generate Drone: 'bright bell' 50–54 s");
    const run = await load();
    const runTake = active(run.regions[far.id]);
    expect(runTake?.latent?.start).toBe(50.01);
    const fps = runTake?.latent?.framesPerSecond ?? 0;

    // The studio's Extend before on a 1 s grid: as long as the region, its start snapped to 46 s, then put on the
    // run's latent frame at or before it (rgn_six ends at 44 s: room enough).
    const span = regionRedo(run, run.regions[far.id], (t) => Math.round(t)).extensionBefore;
    if (span === null) throw new Error('Extend before not offered');
    expect(span.end).toBe(50.01);
    expect(46 - span.start).toBeGreaterThanOrEqual(0);
    expect(46 - span.start).toBeLessThan(1 / fps);
    const frames = (span.start - 50.01) * fps;
    expect(Math.abs(frames - Math.round(frames))).toBeLessThan(1e-6);
    const edit = extendRegion(run, far.id, span, counterIds());
    const added = edit.createdIds?.[0] as RegionId;
    value(await host.api.saveProject({ projectId, document: edit.document }));
    const kept = await fingerprint(edit.document);

    expect(await generate({ regionIds: [added] })).toBe("Extend Drone: 'bright bell' 46–50 s");
    const after = await load();
    const now = await fingerprint(after);
    for (const [rid, was] of Object.entries(kept)) expect(now[rid], rid).toEqual(was);
    for (const rid of Object.keys(kept)) expect(after.regions[id(rid)].takes, rid).toHaveLength(edit.document.regions[id(rid)].takes.length);
    const take = active(after.regions[added]);
    const length = span.end - span.start;
    expect(take?.seconds).toBeCloseTo(length, 3);
    // The piece starts at the new region (nothing kept before it to hold) and reaches on into the run, whose frames
    // were held to its kept latent: the new take grew into it.
    expect(take?.latent?.start).toBeCloseTo(span.start, 9);
    expect(take?.latent?.from).toBeCloseTo(0, 6);
    expect(take?.latent?.to).toBeCloseTo(length * fps, 6);
    expect(take?.latent?.frames).toBeGreaterThan((length + 3) * fps);
    expect(take?.parameters).toMatchObject({
      context: { free: { from: expect.closeTo(0, 6), to: expect.closeTo(length, 6) }, kept: [{ from: expect.closeTo(length, 6), offset: expect.closeTo(length, 6) }] },
    });
  });
});
