/**
 * The studio host over its real engine worker process and the built-in `sketch` model: the job queue with events,
 * generation from the editor's document (takes announced, project.json untouched), previews, soft cancel, hard
 * cancel and an engine killed mid-job (job failed, engine respawned, queue goes on, project intact), export jobs,
 * assets, projects folder, recovery, and corrupt or future project files through the API.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApiResult, JobInfo, StudioEventName, StudioEvents } from '../../src-main/contract/api.ts';
import { parseProject, type ProjectDocument, type RegionId, type TrackId } from '../../src-main/contract/project.ts';
import { createStudioHost, type StudioHost } from '../../src-main/host/studio-host.ts';
import { decodeWav } from '../../src-main/host/wav.ts';
import { region } from '../contract/project-fixtures.ts';
import { TEST_CACHE_DIR } from '../helpers/packs.ts';
import { FakeHub } from './models/fake-hub.ts';
import { MIRROR_ID, MIRROR_REPO, MIRROR_REV, catalogOf, mirrorEntry, sketchMirrorFiles } from './models/mirror.ts';

type Event = { [K in StudioEventName]: { name: K; payload: StudioEvents[K] } }[StudioEventName];

let work: string;
let host: StudioHost;
let events: Event[];
const waiters: { test: (e: Event) => boolean; resolve: (e: Event) => void }[] = [];

/** Resolves with the first event (already seen or future) that passes `test`. */
function waitFor<K extends StudioEventName>(name: K, test: (p: StudioEvents[K]) => boolean = () => true): Promise<StudioEvents[K]> {
  const match = (e: Event): boolean => e.name === name && test(e.payload as StudioEvents[K]);
  const seen = events.find(match);
  if (seen) return Promise.resolve(seen.payload as StudioEvents[K]);
  return new Promise((resolve) => waiters.push({ test: match, resolve: (e) => resolve(e.payload as StudioEvents[K]) }));
}

function value<T>(result: ApiResult<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-host-'));
  events = [];
  host = createStudioHost({
    cacheDir: TEST_CACHE_DIR,
    projectsDir: join(work, 'projects'),
    log: () => undefined,
    emit: (name, payload) => {
      const e = { name, payload } as Event;
      events.push(e);
      for (const w of [...waiters]) if (w.test(e)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e);
      }
    },
  });
});

afterEach(async () => {
  await host.dispose();
  await rm(work, { recursive: true, force: true });
});

/** A new project with one track holding regions of the given [start, end) spans. */
async function projectWith(spans: [number, number][], steps = 10): Promise<{ projectId: string; dir: string; doc: ProjectDocument; trackId: TrackId; regionIds: RegionId[] }> {
  const opened = value(await host.api.createProject({ name: 'Song' }));
  const trackId = opened.document.tracks[0].id;
  const regions = spans.map(([s, e], k) => region(`rgn_${k + 1}`, trackId, s, e, { seed: 11 + k, fadeIn: 0, fadeOut: 0, generation: { model: 'sketch', steps, guidance: 2.5, sampler: 'ddim', eta: 0, method: 'auto', transition: 2 } }));
  const doc = parseProject(
    {
      ...opened.document,
      tracks: [{ ...opened.document.tracks[0], regionIds: regions.map((r) => r.id) }],
      regions: Object.fromEntries(regions.map((r) => [r.id, r])),
    },
    'test document',
  );
  return { projectId: opened.projectId, dir: opened.dir, doc, trackId, regionIds: regions.map((r) => r.id) };
}

const states = (jobId: string): JobInfo['state'][] =>
  events.flatMap((e) => (e.name === 'jobUpdated' && e.payload.job.jobId === jobId ? [e.payload.job.state] : []));

describe('generation jobs', () => {
  it('generate from the editor document: previews, takes announced with their peaks, project.json untouched', async () => {
    const p = await projectWith([[0, 6], [6, 12]]);
    const before = await readFile(join(p.dir, 'project.json'), 'utf8');
    const { jobId } = value(await host.api.enqueueGeneration({ projectId: p.projectId, trackId: p.trackId, document: p.doc }));
    const finished = await waitFor('jobFinished', (f) => f.jobId === jobId);
    expect(finished).toEqual({ jobId, ok: true });
    expect(states(jobId)).toEqual(['queued', 'running', 'done']);

    const added = await waitFor('takesAdded', (t) => t.jobId === jobId);
    expect(added.takes.map((t) => t.regionId)).toEqual(p.regionIds);
    for (const { take } of added.takes) {
      expect(take.seconds).toBeCloseTo(6, 6);
      const wav = decodeWav(await readFile(join(p.dir, take.file)));
      expect(wav.channels[0].length).toBe(6 * 16000);
      const peaks = await readFile(join(p.dir, 'peaks', take.id, '128.i16'));
      expect(peaks.length).toBe(Math.ceil((6 * 16000) / 128) * 4);
    }
    // The editor owns the document: generation never saves it behind the user's back.
    expect(await readFile(join(p.dir, 'project.json'), 'utf8')).toBe(before);

    // Previews cover the piece from its start, as min ≤ max pairs in −1…1.
    const previews = events.flatMap((e) => (e.name === 'jobPreview' && e.payload.jobId === jobId ? [e.payload] : []));
    expect(previews.length).toBeGreaterThan(0);
    expect(previews[0].start).toBe(0);
    for (const pv of previews) {
      expect(pv.trackId).toBe(p.trackId);
      for (let i = 0; i < pv.peaks.length; i += 2) {
        expect(pv.peaks[i]).toBeLessThanOrEqual(pv.peaks[i + 1]);
        expect(Math.abs(pv.peaks[i])).toBeLessThanOrEqual(1);
      }
    }
    const covered = previews.reduce((n, pv) => n + (pv.peaks.length / 2) * pv.samplesPerPeak, 0);
    expect(covered).toBeGreaterThanOrEqual(12 * 16000);
    // Peaks of the preview agree with the take's own cache (same audio, same block size).
    const first = added.takes[0].take;
    const cached = new Int16Array(new Uint8Array(await readFile(join(p.dir, 'peaks', first.id, '128.i16'))).buffer);
    expect(previews[0].peaks[1]).toBeCloseTo(cached[1] / 32767, 3);
  });

  it('soft cancel stops the running job between steps and the next job runs', async () => {
    const p = await projectWith([[0, 300]], 40);
    const long = value(await host.api.enqueueGeneration({ projectId: p.projectId, trackId: p.trackId, document: p.doc }));
    const short = value(await host.api.enqueueGeneration({ projectId: p.projectId, trackId: p.trackId, document: { ...p.doc, regions: { ...p.doc.regions, rgn_1: { ...p.doc.regions.rgn_1, end: 4 } } } }));
    await waitFor('jobProgress', (e) => e.jobId === long.jobId && e.stage === 'denoising' && e.step >= 1);
    value(await host.api.cancelJob({ jobId: long.jobId }));
    expect(await waitFor('jobFinished', (f) => f.jobId === long.jobId)).toMatchObject({ ok: false, error: { code: 'cancelled' } });
    expect(await waitFor('jobFinished', (f) => f.jobId === short.jobId)).toEqual({ jobId: short.jobId, ok: true });
    expect(states(long.jobId)).toEqual(['queued', 'running', 'cancelled']);
    expect(events.some((e) => e.name === 'engineRestarted')).toBe(false);
  });

  it('hard cancel kills the engine: the job is cancelled, the engine respawns, the queue goes on, the project is intact', async () => {
    const p = await projectWith([[0, 300]], 40);
    // Headless: generate from the saved document (which saves new takes, had the job finished).
    value(await host.api.saveProject({ projectId: p.projectId, document: p.doc }));
    const before = await readFile(join(p.dir, 'project.json'), 'utf8');
    const long = value(await host.api.enqueueGeneration({ projectId: p.projectId, trackId: p.trackId }));
    const next = value(await host.api.enqueueGeneration({ projectId: p.projectId, trackId: p.trackId, document: { ...p.doc, regions: { ...p.doc.regions, rgn_1: { ...p.doc.regions.rgn_1, end: 4 } } } }));
    await waitFor('jobProgress', (e) => e.jobId === long.jobId && e.stage === 'denoising' && e.step >= 1);
    const pid = host.enginePid;
    expect(pid).toBeTypeOf('number');
    value(await host.api.cancelJob({ jobId: long.jobId, hard: true }));
    const ended = await waitFor('jobFinished', (f) => f.jobId === long.jobId);
    expect(ended).toMatchObject({ ok: false, error: { code: 'cancelled', message: expect.stringContaining('force-stopped') } });
    await waitFor('engineRestarted');
    expect(await waitFor('jobFinished', (f) => f.jobId === next.jobId)).toEqual({ jobId: next.jobId, ok: true });
    expect(host.enginePid).not.toBe(pid);
    expect(await readFile(join(p.dir, 'project.json'), 'utf8')).toBe(before);
    expect((await readdir(join(p.dir, 'takes'))).filter((n) => n.endsWith('.partial'))).toEqual([]);
  });

  it('an engine killed from outside during a job fails that job only; the next job runs on a fresh engine', async () => {
    const p = await projectWith([[0, 300]], 40);
    const long = value(await host.api.enqueueGeneration({ projectId: p.projectId, trackId: p.trackId, document: p.doc }));
    const next = value(await host.api.enqueueGeneration({ projectId: p.projectId, trackId: p.trackId, document: { ...p.doc, regions: { ...p.doc.regions, rgn_1: { ...p.doc.regions.rgn_1, end: 4 } } } }));
    await waitFor('jobProgress', (e) => e.jobId === long.jobId && e.stage === 'denoising');
    const pid = host.enginePid;
    if (pid === undefined) throw new Error('no engine process');
    process.kill(pid, 'SIGKILL');
    const ended = await waitFor('jobFinished', (f) => f.jobId === long.jobId);
    expect(ended).toMatchObject({ ok: false, error: { code: 'model-error', message: expect.stringContaining('SIGKILL') } });
    expect(states(long.jobId)).toEqual(['queued', 'running', 'failed']);
    expect((await waitFor('engineRestarted')).reason).toContain('stopped during the job');
    expect(await waitFor('jobFinished', (f) => f.jobId === next.jobId)).toEqual({ jobId: next.jobId, ok: true });
  });

  it('a queued job cancelled before it starts never runs; unknown jobs and tracks are coded errors', async () => {
    const p = await projectWith([[0, 120]], 30);
    const first = value(await host.api.enqueueGeneration({ projectId: p.projectId, trackId: p.trackId, document: p.doc }));
    const second = value(await host.api.enqueueGeneration({ projectId: p.projectId, trackId: p.trackId, document: p.doc }));
    value(await host.api.cancelJob({ jobId: second.jobId }));
    expect(await waitFor('jobFinished', (f) => f.jobId === second.jobId)).toMatchObject({ ok: false, error: { code: 'cancelled' } });
    await waitFor('jobFinished', (f) => f.jobId === first.jobId);
    expect(states(second.jobId)).toEqual(['queued', 'cancelled']);
    await expect(host.api.cancelJob({ jobId: 'job_nope' })).rejects.toMatchObject({ code: 'not-found' });
    await expect(host.api.enqueueGeneration({ projectId: p.projectId, trackId: 'trk_nope' })).rejects.toMatchObject({ code: 'not-found' });
    const jobs = value(await host.api.listJobs({ projectId: p.projectId }));
    expect(jobs.map((j) => [j.kind, j.state])).toEqual([['generate', 'done'], ['generate', 'cancelled']]);
  });
});

describe('export jobs', () => {
  it('exports the mixdown and equal-length stems of the editor document and lists the files', async () => {
    const p = await projectWith([[0, 3], [3, 6]]);
    const gen = value(await host.api.enqueueGeneration({ projectId: p.projectId, trackId: p.trackId, document: p.doc }));
    const added = await waitFor('takesAdded', (t) => t.jobId === gen.jobId);
    await waitFor('jobFinished', (f) => f.jobId === gen.jobId);
    let doc = p.doc;
    for (const { regionId, take } of added.takes) doc = { ...doc, regions: { ...doc.regions, [regionId]: { ...doc.regions[regionId], takes: [take], activeTakeId: take.id } } };
    const { jobId } = value(await host.api.enqueueExport({ projectId: p.projectId, document: doc, format: 'wav24', outDir: join(work, 'out') }));
    const finished = await waitFor('jobFinished', (f) => f.jobId === jobId);
    expect(finished.ok).toBe(true);
    expect(finished.files?.map((f) => f.slice(join(work, 'out').length + 1))).toEqual(['Mix.wav', '01_Track 1.wav']);
    const lengths = await Promise.all((finished.files ?? []).map(async (f) => decodeWav(await readFile(f)).channels[0].length));
    expect(lengths[0]).toBe(6 * doc.sampleRate);
    expect(new Set(lengths).size).toBe(1);
    expect(events.some((e) => e.name === 'jobProgress' && e.payload.jobId === jobId && e.payload.stage === 'exporting')).toBe(true);
  });

  it('refuses to export a project without any take', async () => {
    const p = await projectWith([[0, 3]]);
    const { jobId } = value(await host.api.enqueueExport({ projectId: p.projectId, document: p.doc, format: 'flac16' }));
    expect(await waitFor('jobFinished', (f) => f.jobId === jobId)).toMatchObject({ ok: false, error: { code: 'invalid-argument', message: expect.stringContaining('generate') } });
  });
});

describe('assets', () => {
  it('resolves takes and peaks of the project only, and rebuilds missing peaks', async () => {
    const p = await projectWith([[0, 2]]);
    const gen = value(await host.api.enqueueGeneration({ projectId: p.projectId, trackId: p.trackId, document: p.doc }));
    const { take } = (await waitFor('takesAdded', (t) => t.jobId === gen.jobId)).takes[0];
    await waitFor('jobFinished', (f) => f.jobId === gen.jobId);
    const audio = value(await host.api.resolveAsset({ projectId: p.projectId, path: take.file }));
    expect(audio).toMatchObject({ file: join(p.dir, take.file), contentType: 'audio/wav' });
    await rm(join(p.dir, 'peaks', take.id), { recursive: true });
    const peaks = value(await host.api.resolveAsset({ projectId: p.projectId, path: `peaks/${take.id}/8192.i16` }));
    expect(peaks.size).toBe(Math.ceil((2 * 16000) / 8192) * 4);
    for (const bad of ['project.json', '../x', 'takes/../project.json', `peaks/${take.id}/100.i16`, 'peaks/take_zz/512.i16', '.tessera/lock']) {
      await expect(host.api.resolveAsset({ projectId: p.projectId, path: bad }), bad).rejects.toMatchObject({ code: expect.stringMatching(/invalid-argument|not-found/) });
    }
  });
});

describe('models through the API', () => {
  it('installs a catalog model from a hub with progress events, then lists, generates with and removes it', async () => {
    const hub = new FakeHub();
    await hub.start();
    try {
      const files = await sketchMirrorFiles();
      hub.publish(MIRROR_REPO, MIRROR_REV, files);
      await host.dispose();
      events = [];
      host = createStudioHost({
        cacheDir: TEST_CACHE_DIR,
        projectsDir: join(work, 'projects'),
        models: { modelsDir: join(work, 'models'), hubUrl: hub.url, catalog: catalogOf(mirrorEntry(files)) },
        log: () => undefined,
        emit: (name, payload) => {
          const e = { name, payload } as Event;
          events.push(e);
          for (const w of [...waiters]) if (w.test(e)) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(e);
          }
        },
      });
      const before = value(await host.api.listCatalog({}));
      expect(before.models.find((m) => m.id === MIRROR_ID)).toMatchObject({ status: 'available', licence: { name: 'CC0-1.0' }, installing: false });
      expect(before.models.filter((m) => m.status === 'builtin').map((m) => m.id)).toContain('sketch');
      await expect(host.api.installModel({ id: 'nope', acceptLicence: true })).rejects.toMatchObject({ code: 'not-found' });

      value(await host.api.installModel({ id: MIRROR_ID, acceptLicence: true }));
      expect(await waitFor('modelInstalled', (e) => e.id === MIRROR_ID)).toEqual({ id: MIRROR_ID });
      const progress = events.flatMap((e) => (e.name === 'modelProgress' ? [e.payload] : []));
      expect(progress.some((p) => p.phase === 'download' && p.bytesDone > 0)).toBe(true);
      expect(progress[progress.length - 1].bytesDone).toBe(progress[progress.length - 1].bytesTotal);
      expect(value(await host.api.listModels({})).find((m) => m.id === MIRROR_ID)).toMatchObject({ builtin: false, family: 'audioldm', sampleRate: 16000 });
      expect(value(await host.api.listCatalog({})).models.find((m) => m.id === MIRROR_ID)?.status).toBe('installed');

      // The installed model generates like any other.
      const p = await projectWith([[0, 2]]);
      const doc = { ...p.doc, regions: { ...p.doc.regions, rgn_1: { ...p.doc.regions.rgn_1, generation: { ...p.doc.regions.rgn_1.generation, model: MIRROR_ID } } } };
      const gen = value(await host.api.enqueueGeneration({ projectId: p.projectId, trackId: p.trackId, document: doc }));
      expect(await waitFor('jobFinished', (f) => f.jobId === gen.jobId)).toEqual({ jobId: gen.jobId, ok: true });

      expect(value(await host.api.removeModel({ id: MIRROR_ID })).freedBytes).toBeGreaterThan(0);
      await waitFor('modelRemoved', (e) => e.id === MIRROR_ID);
      expect(value(await host.api.listModels({})).some((m) => m.id === MIRROR_ID)).toBe(false);
      await expect(host.api.removeModel({ id: 'sketch' })).rejects.toMatchObject({ code: 'invalid-argument' });
    } finally {
      await hub.close();
    }
  });
});

describe('sessions and settings', () => {
  it('a session that goes away closes its projects keeping the journal; the next session reopens them with recovery', async () => {
    const first = host.session();
    const opened = value(await first.api.createProject({ name: 'Reloaded' }));
    value(await first.api.autosaveProject({ projectId: opened.projectId, document: { ...opened.document, tempo: 99 } }));
    // Another client cannot open it while the first holds it.
    await expect(host.session().api.openProject({ dir: opened.dir })).rejects.toMatchObject({ code: 'locked' });
    await first.close(); // the page reloaded
    const second = host.session();
    const again = value(await second.api.openProject({ dir: opened.dir }));
    expect(again.recoveryAvailable).toBe(true);
    expect(value(await second.api.resolveRecovery({ projectId: again.projectId, accept: true })).tempo).toBe(99);
  });

  it('a project whose session went away while a job ran is taken over by the next client, job and all', async () => {
    const first = host.session();
    const p = await projectWith([[0, 120]], 30);
    // projectWith opened it through the shared API; reopen it through a session.
    value(await host.api.closeProject({ projectId: p.projectId }));
    const opened = value(await first.api.openProject({ dir: p.dir }));
    const job = value(await first.api.enqueueGeneration({ projectId: opened.projectId, trackId: p.trackId, document: p.doc }));
    await waitFor('jobProgress', (e) => e.jobId === job.jobId);
    await first.close();
    const adopted = value(await host.session().api.openProject({ dir: p.dir }));
    expect(adopted.projectId).toBe(opened.projectId);
    expect(adopted.warnings.join(' ')).toContain('still running');
    expect(await waitFor('jobFinished', (f) => f.jobId === job.jobId)).toEqual({ jobId: job.jobId, ok: true });
  });

  it('settings persist across hosts; a damaged settings file is set aside for the defaults', async () => {
    const file = join(work, 'config', 'settings.json');
    const make = () => createStudioHost({ cacheDir: TEST_CACHE_DIR, settingsFile: file, log: () => undefined, emit: () => undefined });
    const a = make();
    value(await a.api.setSettings({ settings: { device: 'cpu', autosaveSeconds: 10, modelDevices: { 'stable-audio-3-standin': 'cpu' } } }));
    value(await a.api.setSettings({ settings: { modelDevices: { sketch: 'auto' } } }));
    await a.dispose();
    const b = make();
    expect(value(await b.api.getSettings({}))).toMatchObject({ device: 'cpu', autosaveSeconds: 10, modelDevices: { 'stable-audio-3-standin': 'cpu', sketch: 'auto' } });
    await b.dispose();
    await writeFile(file, '{"device": "tpu"}');
    const c = make();
    expect(value(await c.api.getSettings({})).device).toBe('auto');
    await c.dispose();
    expect(await readFile(`${file}.bad`, 'utf8')).toBe('{"device": "tpu"}');
  });
});

describe('projects through the API', () => {
  it('creates projects in the projects folder with unique names and lists them', async () => {
    const a = value(await host.api.createProject({ name: 'Song' }));
    const b = value(await host.api.createProject({ name: 'Song' }));
    const c = value(await host.api.createProject({ name: 'a/b:c' }));
    expect([a.dir, b.dir, c.dir]).toEqual([join(work, 'projects', 'Song'), join(work, 'projects', 'Song 2'), join(work, 'projects', 'a b c')]);
    const listed = value(await host.api.listProjects({}));
    expect(listed.map((l) => l.dir).sort()).toEqual([a.dir, b.dir, c.dir].sort());
    expect(listed.find((l) => l.dir === c.dir)?.name).toBe('a/b:c');
  });

  it('a corrupt or future-version project.json is a coded error and the file is untouched', async () => {
    const dir = value(await host.api.createProject({ name: 'Broken' }));
    value(await host.api.closeProject({ projectId: dir.projectId }));
    const file = join(dir.dir, 'project.json');
    const json = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    const corrupt = JSON.stringify({ ...json, tempo: 'fast' });
    await writeFile(file, corrupt);
    await expect(host.api.openProject({ dir: dir.dir })).rejects.toMatchObject({ code: 'corrupt', message: expect.stringContaining('tempo') });
    expect(await readFile(file, 'utf8')).toBe(corrupt);
    const future = JSON.stringify({ ...json, schemaVersion: 99 });
    await writeFile(file, future);
    await expect(host.api.openProject({ dir: dir.dir })).rejects.toMatchObject({ code: 'future-version', message: expect.stringContaining('newer Tessera') });
    expect(await readFile(file, 'utf8')).toBe(future);
  });

  it('offers an autosave after a crash and restores or discards it', async () => {
    const opened = value(await host.api.createProject({ name: 'Crashy' }));
    const edited = { ...opened.document, tempo: 140 };
    value(await host.api.autosaveProject({ projectId: opened.projectId, document: edited }));
    await host.dispose(); // like a crash: the journal stays
    host = createStudioHost({ cacheDir: TEST_CACHE_DIR, projectsDir: join(work, 'projects'), log: () => undefined, emit: () => undefined });
    const again = value(await host.api.openProject({ dir: opened.dir }));
    expect(again.recoveryAvailable).toBe(true);
    expect(again.recoverySavedAt).toMatch(/^\d{4}-/);
    expect(value(await host.api.resolveRecovery({ projectId: again.projectId, accept: true })).tempo).toBe(140);
  });
});
