/**
 * The engine host's StudioApi implementation in plain Node (browser mode, CLI, tests; the Electron utility
 * process will run the same code): open projects, a one-at-a-time generation queue with progress events and soft
 * cancel, built-in models and settings. Methods throw coded errors; the RPC server turns them into results.
 */
import { randomBytes } from 'node:crypto';
import { parseProject, ProjectError, type ProjectDocument, type RegionId, type TrackId } from '../contract/project.ts';
import type { ApiResult, JobInfo, JobStage, OpenedProjectInfo, StudioApi, StudioEventName, StudioEvents, StudioSettings } from '../contract/api.ts';
import type { AudioLdmModel } from '../engine/families/audioldm.ts';
import type { Progress } from '../engine/pipelines/text-to-audio.ts';
import { BUILTIN_PACKS, ensureBuiltinPack } from './packs/builtin.ts';
import { probeProviders } from './runtime-probe.ts';
import { autosave, closeProject, createProject, openProject, saveProject, type ProjectHandle } from './projects/project-store.ts';
import { generatePiece, modelFor, piecesOf } from './render.ts';
import packageJson from '../../package.json' with { type: 'json' };

/** Options of the host. */
export interface StudioHostOptions {
  cacheDir?: string;
  /** Receives every event for every connected client. */
  emit: <K extends StudioEventName>(name: K, payload: StudioEvents[K]) => void;
}

/** A host: the API plus its shutdown. */
export interface StudioHost {
  api: StudioApi;
  dispose(): Promise<void>;
}

interface Job {
  info: JobInfo;
  abort: AbortController;
}

/** An error with an API code (the RPC server keeps the code). */
class HostError extends Error {
  constructor(
    readonly code: 'not-found' | 'invalid-argument' | 'busy',
    message: string,
  ) {
    super(message);
  }
}

const STAGE: Record<Progress['stage'], JobStage> = { encode: 'encoding', denoise: 'denoising', decode: 'decoding', vocode: 'decoding' };

/** Creates the host. */
export function createStudioHost(options: StudioHostOptions): StudioHost {
  const projects = new Map<string, { handle: ProjectHandle; document: ProjectDocument }>();
  const models = new Map<string, AudioLdmModel>();
  const jobs: Job[] = [];
  let settings: StudioSettings = { device: 'auto', intraOpThreads: null, autosaveSeconds: 30 };
  let running: Promise<void> = Promise.resolve();

  const ok = <T>(value: T): ApiResult<T> => ({ ok: true, value });
  const project = (projectId: string) => {
    const p = projects.get(projectId);
    if (!p) throw new HostError('not-found', `project '${projectId}' is not open; open it first`);
    return p;
  };
  const opened = (o: Awaited<ReturnType<typeof openProject>>): OpenedProjectInfo => {
    const projectId = `prj_${randomBytes(8).toString('hex')}`;
    projects.set(projectId, { handle: o.handle, document: o.document });
    return { projectId, dir: o.handle.dir, document: o.document, recoveryAvailable: o.recovery !== null };
  };

  const runJob = async (job: Job): Promise<void> => {
    const { info } = job;
    if (job.abort.signal.aborted) return;
    info.state = 'running';
    try {
      const p = project(info.projectId);
      const track = p.document.tracks.find((t) => t.id === info.trackId);
      if (!track) throw new HostError('not-found', `track '${info.trackId}' is not in the project`);
      const wanted = new Set<RegionId>(info.regionIds.length > 0 ? info.regionIds : track.regionIds);
      const pieces = piecesOf(p.document, track).filter((piece) => piece.regions.some((r) => wanted.has(r.id)));
      for (const piece of pieces) {
        options.emit('jobProgress', { jobId: info.jobId, stage: 'loading', step: 0, steps: 0 });
        const model = await modelFor(piece.regions[0].generation.model, models, { device: settings.device, cacheDir: options.cacheDir });
        const doc = await generatePiece(p.document, piece, model, p.handle.dir, {
          signal: job.abort.signal,
          onProgress: (pr) => options.emit('jobProgress', { jobId: info.jobId, stage: STAGE[pr.stage], step: pr.step, steps: pr.steps, window: pr.window, windows: pr.windows, eta: pr.eta }),
        });
        options.emit('jobProgress', { jobId: info.jobId, stage: 'writing', step: 0, steps: 0 });
        p.document = await saveProject(p.handle, doc);
        options.emit('projectChanged', { projectId: info.projectId });
      }
      info.state = 'done';
      options.emit('jobFinished', { jobId: info.jobId, ok: true });
    } catch (e) {
      const cancelled = job.abort.signal.aborted;
      info.state = cancelled ? 'cancelled' : 'failed';
      const code = cancelled ? 'cancelled' : e instanceof HostError || e instanceof ProjectError ? e.code : 'model-error';
      info.error = { code, message: e instanceof Error ? e.message : String(e) };
      options.emit('jobFinished', { jobId: info.jobId, ok: false, error: info.error });
    }
  };

  const api: StudioApi = {
    async createProject({ dir, name }) {
      return ok(opened(await createProject(dir, name)));
    },
    async openProject({ dir }) {
      return ok(opened(await openProject(dir)));
    },
    async saveProject({ projectId, document }) {
      const p = project(projectId);
      p.document = await saveProject(p.handle, parseProject(document, 'the document'));
      return ok(p.document);
    },
    async autosaveProject({ projectId, document }) {
      await autosave(project(projectId).handle, parseProject(document, 'the document'));
      return ok(null);
    },
    async closeProject({ projectId }) {
      const p = project(projectId);
      if (jobs.some((j) => j.info.projectId === projectId && (j.info.state === 'queued' || j.info.state === 'running'))) {
        throw new HostError('busy', `project '${projectId}' has generation jobs queued or running; cancel them first`);
      }
      await closeProject(p.handle);
      projects.delete(projectId);
      return ok(null);
    },
    async enqueueGeneration({ projectId, trackId, regionIds }) {
      project(projectId);
      const job: Job = {
        info: { jobId: `job_${randomBytes(8).toString('hex')}`, projectId, trackId: trackId as TrackId, regionIds: (regionIds ?? []) as RegionId[], state: 'queued', queuedAt: new Date().toISOString() },
        abort: new AbortController(),
      };
      jobs.push(job);
      // One generation at a time: each job runs after the previous one settles.
      running = running.then(() => runJob(job));
      return ok({ jobId: job.info.jobId });
    },
    async cancelJob({ jobId }) {
      const job = jobs.find((j) => j.info.jobId === jobId);
      if (!job) throw new HostError('not-found', `job '${jobId}' does not exist`);
      // NOTE: in plain Node a hard cancel is a soft one (between window batches); the Electron main process
      // implements hard cancel by restarting the engine's utility process.
      job.abort.abort();
      if (job.info.state === 'queued') {
        job.info.state = 'cancelled';
        options.emit('jobFinished', { jobId, ok: false, error: { code: 'cancelled', message: 'cancelled before it started' } });
      }
      return ok(null);
    },
    async listJobs({ projectId }) {
      return ok(jobs.filter((j) => projectId === undefined || j.info.projectId === projectId).map((j) => ({ ...j.info })));
    },
    async listModels() {
      const installed = probeProviders();
      const devices: ('cpu' | 'cuda')[] = installed.available.includes('cuda') ? ['cpu', 'cuda'] : ['cpu'];
      const infos = await Promise.all(Object.keys(BUILTIN_PACKS).map((id) => ensureBuiltinPack(id, options.cacheDir)));
      return ok(infos.map((p) => ({ id: p.manifest.id, name: p.manifest.name, sampleRate: p.manifest.audio.sampleRate, devices })));
    },
    async getSettings() {
      return ok(settings);
    },
    async setSettings({ settings: patch }) {
      settings = { ...settings, ...patch };
      return ok(settings);
    },
    async ping() {
      return ok({ pong: true as const, version: packageJson.version });
    },
  };

  return {
    api,
    async dispose() {
      for (const j of jobs) j.abort.abort();
      await running;
      await Promise.all([...models.values()].map((m) => m.dispose()));
      await Promise.all([...projects.values()].map((p) => closeProject(p.handle, { keepAutosave: true })));
      projects.clear();
    },
  };
}
