/**
 * The project → engine boundary (host/generation/): the host plans pieces, the worker only generates, and one
 * function (contract/takes.ts `applyTakes`) adds the takes. Checked end to end over real sessions (`sketch`):
 * - a region trimmed or split before (it has a `takeOffset` into its old take) whose take is regenerated plays its
 *   new take from the start: headless `enqueueGeneration` and `npm run render` (after a lost take) both clear it;
 * - a request the model refuses in the worker (a sampler of another family) fails through the studio API as
 *   `invalid-argument`, naming the sampler, not as a model error.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiResult, StudioEventName, StudioEvents } from '../../src-main/contract/api.ts';
import { parseProject, type ProjectDocument, type Region, type TakeRef } from '../../src-main/contract/project.ts';
import { createStudioHost, type StudioHost } from '../../src-main/host/studio-host.ts';
import { decodeNpy } from '../../src-main/host/projects/npy.ts';
import { decodeWav } from '../../src-main/host/wav.ts';
import { region } from '../contract/project-fixtures.ts';
import { runCli } from '../helpers/cli.ts';
import { TEST_CACHE_DIR } from '../helpers/packs.ts';

let work: string;
let host: StudioHost;
const finished = new Map<string, (f: StudioEvents['jobFinished']) => void>();
const seen = new Map<string, StudioEvents['jobFinished']>();
const previews: StudioEvents['jobPreview'][] = [];

function value<T>(result: ApiResult<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

function jobEnd(jobId: string): Promise<StudioEvents['jobFinished']> {
  const done = seen.get(jobId);
  return done ? Promise.resolve(done) : new Promise((resolve) => finished.set(jobId, resolve));
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-boundary-'));
  host = createStudioHost({
    cacheDir: TEST_CACHE_DIR,
    projectsDir: join(work, 'projects'),
    settingsFile: null,
    log: () => undefined,
    emit: <K extends StudioEventName>(name: K, payload: StudioEvents[K]) => {
      if (name === 'jobPreview') previews.push(payload as StudioEvents['jobPreview']);
      if (name !== 'jobFinished') return;
      const f = payload as StudioEvents['jobFinished'];
      seen.set(f.jobId, f);
      finished.get(f.jobId)?.(f);
    },
  });
});
afterAll(async () => {
  await host.dispose();
  await rm(work, { recursive: true, force: true });
});

/** A take record whose file is not on disk (lost), 6 s long. */
const lostTake: TakeRef = {
  id: 'take_lost0001' as TakeRef['id'],
  file: 'takes/rgn_1-take_lost0001.wav',
  createdAt: '2026-01-01T00:00:00.000Z',
  seed: 5,
  parameters: {},
  seconds: 6,
  sampleRate: 16000,
};

/**
 * A project with one 4 s region trimmed at its start by 1.5 s: it plays 1.5–5.5 s of its (lost) 6 s take. Saved
 * through the host, returned with its id and folder.
 */
async function trimmedProject(name: string, generation: Partial<Region['generation']> = {}): Promise<{ projectId: string; dir: string; doc: ProjectDocument }> {
  const opened = value(await host.api.createProject({ name }));
  const trackId = opened.document.tracks[0].id;
  const r = region('rgn_1', trackId, 0, 4, {
    seed: 7,
    fadeIn: 0,
    fadeOut: 0,
    takeOffset: 1.5,
    takes: [lostTake],
    activeTakeId: lostTake.id,
    generation: { model: 'sketch', steps: 4, guidance: 2.5, sampler: 'ddim', eta: 0, method: 'auto', transition: 2, ...generation },
  });
  const doc = parseProject({ ...opened.document, tracks: [{ ...opened.document.tracks[0], regionIds: [r.id] }], regions: { [r.id]: r } }, 'test document');
  value(await host.api.saveProject({ projectId: opened.projectId, document: doc }));
  return { projectId: opened.projectId, dir: opened.dir, doc };
}

async function savedRegion(dir: string): Promise<Region> {
  const doc = parseProject(JSON.parse(await readFile(join(dir, 'project.json'), 'utf8')), 'project.json');
  return doc.regions['rgn_1' as Region['id']];
}

describe('a regenerated region plays its new take from the start', () => {
  it('headless enqueueGeneration (no document): the saved region has the new take active and no takeOffset', async () => {
    const p = await trimmedProject('Headless');
    const { jobId } = value(await host.api.enqueueGeneration({ projectId: p.projectId, trackId: p.doc.tracks[0].id }));
    expect(await jobEnd(jobId)).toEqual({ jobId, ok: true });
    const r = await savedRegion(p.dir);
    expect(r.takes).toHaveLength(2);
    expect(r.activeTakeId).toBe(r.takes[1].id);
    expect(r.takes[1].seconds).toBeCloseTo(4, 6);
    expect(r.takeOffset).toBeUndefined();
    value(await host.api.closeProject({ projectId: p.projectId }));
  });

  it('npm run render after a lost take: the new take plays from its start, so the region ends in sound, not silence', async () => {
    const p = await trimmedProject('Render');
    value(await host.api.closeProject({ projectId: p.projectId }));
    const out = join(work, 'render-out');
    const run = await runCli(['render', p.dir, '--out', out, '--format', 'wav24', '--device', 'cpu', '--quiet'], { ...process.env, TESSERA_CACHE_DIR: TEST_CACHE_DIR });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const r = await savedRegion(p.dir);
    expect(r.activeTakeId).not.toBe(lostTake.id);
    expect(r.takeOffset).toBeUndefined();
    // With the old offset kept, the 4 s take would play from 1.5 s and the last 1.5 s of the region be silent.
    const mix = decodeWav(await readFile(join(out, 'Mix.wav')));
    const tail = mix.channels[0].subarray(Math.round(2.6 * mix.sampleRate), Math.round(3.9 * mix.sampleRate));
    const rms = Math.sqrt(tail.reduce((s, x) => s + x * x, 0) / tail.length);
    expect(rms).toBeGreaterThan(1e-3);
  });
});

describe('latents are kept', () => {
  it("every take of a piece refers to the piece's final latent (one .npy under takes/) and to its own frames", async () => {
    const opened = value(await host.api.createProject({ name: 'Latents' }));
    const trackId = opened.document.tracks[0].id;
    const generation = { model: 'sketch', steps: 4, guidance: 2.5, sampler: 'ddim' as const, eta: 0, method: 'auto' as const, transition: 2 };
    const a = region('rgn_a', trackId, 3, 9, { seed: 4, fadeIn: 0, fadeOut: 0, generation });
    const b = region('rgn_b', trackId, 9, 14, { seed: 4, fadeIn: 0, fadeOut: 0, generation });
    const doc = parseProject({ ...opened.document, tracks: [{ ...opened.document.tracks[0], regionIds: [a.id, b.id] }], regions: { [a.id]: a, [b.id]: b } }, 'test document');
    value(await host.api.saveProject({ projectId: opened.projectId, document: doc }));
    const { jobId } = value(await host.api.enqueueGeneration({ projectId: opened.projectId, trackId }));
    expect(await jobEnd(jobId)).toEqual({ jobId, ok: true });
    const saved = parseProject(JSON.parse(await readFile(join(opened.dir, 'project.json'), 'utf8')), 'project.json');
    const [ta, tb] = [saved.regions[a.id], saved.regions[b.id]].map((r) => r.takes.find((t) => t.id === r.activeTakeId));
    const fps = ta?.latent?.framesPerSecond ?? Number.NaN;
    expect(ta?.latent).toMatchObject({ model: 'sketch', start: 3, channels: 8, bins: 16, from: 0 });
    expect(tb?.latent?.file).toBe(ta?.latent?.file);
    expect(ta?.latent?.to).toBeCloseTo(6 * fps, 6);
    expect(tb?.latent?.from).toBeCloseTo(6 * fps, 6);
    expect(tb?.latent?.to).toBeCloseTo(Math.min(11 * fps, tb?.latent?.frames ?? 0), 6);
    const npy = decodeNpy(new Uint8Array(await readFile(join(opened.dir, ta?.latent?.file ?? ''))), 'latent');
    expect(npy.shape).toEqual([8, ta?.latent?.frames, 16]);
    expect(npy.data.every(Number.isFinite)).toBe(true);

    // One region's new take from the studio keeps its neighbour: only rgn_b gets a take, grown out of rgn_a's latent.
    const again = value(await host.api.enqueueGeneration({ projectId: opened.projectId, trackId, regionIds: [b.id] }));
    expect(await jobEnd(again.jobId)).toEqual({ jobId: again.jobId, ok: true });
    const redone = parseProject(JSON.parse(await readFile(join(opened.dir, 'project.json'), 'utf8')), 'project.json');
    expect(redone.regions[a.id].takes).toHaveLength(1);
    expect(redone.regions[b.id].takes).toHaveLength(2);
    const newB = redone.regions[b.id].takes.find((t) => t.id === redone.regions[b.id].activeTakeId);
    expect(newB?.latent?.start).toBeLessThan(9);
    expect(newB?.seconds).toBeCloseTo(5, 3);
    // Its previews cover rgn_b only (9–14 s), not the neighbour the piece continues.
    const shown = previews.filter((p) => p.jobId === again.jobId);
    expect(shown.length).toBeGreaterThan(0);
    for (const p of shown) {
      expect(p.start).toBeGreaterThanOrEqual(9 - 1e-9);
      expect(p.start + (p.peaks.length / 2) * (p.samplesPerPeak / p.sampleRate)).toBeLessThanOrEqual(14 + p.samplesPerPeak / p.sampleRate);
    }
    value(await host.api.closeProject({ projectId: opened.projectId }));
  });
});

describe('requests the model refuses', () => {
  it('a sampler of another family fails the job as invalid-argument, naming the sampler', async () => {
    const p = await trimmedProject('Sampler', { sampler: 'pingpong' });
    const { jobId } = value(await host.api.enqueueGeneration({ projectId: p.projectId, trackId: p.doc.tracks[0].id, document: p.doc }));
    const end = await jobEnd(jobId);
    expect(end.ok).toBe(false);
    expect(end.error).toMatchObject({ code: 'invalid-argument', message: expect.stringMatching(/sampler 'pingpong' does not fit model 'sketch'/) });
    value(await host.api.closeProject({ projectId: p.projectId }));
  });
});
