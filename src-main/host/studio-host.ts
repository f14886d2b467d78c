/**
 * The engine host's StudioApi implementation in plain Node (the Electron utility process, browser mode, the CLI
 * and tests run the same code): open projects, a job queue (generation in the engine worker process, export in
 * this one) with progress, previews and soft/hard cancel, assets for the renderer, models and settings. Methods
 * throw coded errors; the RPC server turns them into results.
 */
import { homedir, platform } from 'node:os';
import { join } from 'node:path';
import type { ApiResult, OpenedProjectInfo, StudioApi, StudioEventName, StudioEvents, StudioSettings } from '../contract/api.ts';
import { CodedError } from '../contract/errors.ts';
import { parseProject, ProjectError, type RegionId, type TakeRef, type TrackId } from '../contract/project.ts';
import { resolveProjectAsset } from './assets.ts';
import { checkPackInWorker, convertInWorker, EngineWorker, forkWorker, type SpawnWorker } from './engine-worker/engine-worker.ts';
import { JobQueue } from './jobs.ts';
import { listInstalledModels } from './model-info.ts';
import { ModelManager, type ModelManagerOptions } from './models/manager.ts';
import { projectPaths } from './projects/layout.ts';
import {
  acceptRecovery,
  autosave,
  closeProject,
  createProject,
  discardRecovery,
  openProject,
  pathsOf,
  saveProject,
  saveProjectAs,
  type OpenedProject,
} from './projects/project-store.ts';
import { providerReport } from './runtime-probe.ts';
import { defaultConfigDir, loadSettings, saveSettings } from './settings-store.ts';
import { catalogInfo } from './studio/catalog-info.ts';
import { exportJob } from './studio/export-job.ts';
import { generationJob, type GenerationContext } from './studio/generation-job.ts';
import { checkGeneration, generationLabel } from './studio/generation-plan.ts';
import { listProjectFolders, newProjectFolder, openedInfo, type OpenEntry } from './studio/open-projects.ts';
import { trackedSession, type StudioSession } from './studio/session.ts';
import packageJson from '../../package.json' with { type: 'json' };

/** Options of the host. */
export interface StudioHostOptions {
  cacheDir?: string;
  /** Where new projects go by default (default `~/Tessera Projects`). */
  projectsDir?: string;
  /** The model manager's folder, hub and catalog (defaults: TESSERA_MODELS_DIR, TESSERA_HUB_URL, the bundled catalog). */
  models?: Omit<ModelManagerOptions, 'cacheDir'>;
  /** Receives every event for every connected client. */
  emit: <K extends StudioEventName>(name: K, payload: StudioEvents[K]) => void;
  log?: (line: string) => void;
  /** Where settings persist (default `<config dir>/settings.json`, see settings-store.ts); null keeps them in memory. */
  settingsFile?: string | null;
  /** Starts engine worker processes (default: Node child processes; the Electron engine asks main). */
  spawnWorker?: SpawnWorker;
}

/** A host: the API plus its shutdown. */
export interface StudioHost {
  /** The API without session tracking (tests, single-client tools). */
  api: StudioApi;
  /** A tracked API for one connection. */
  session(): StudioSession;
  /** Process id of the engine worker while one runs (tests kill it to simulate a crash). */
  readonly enginePid: number | undefined;
  dispose(): Promise<void>;
}

const FORMAT_LABEL = { wav16: 'WAV 16-bit', wav24: 'WAV 24-bit', wav32f: 'WAV 32-bit float', flac16: 'FLAC 16-bit', flac24: 'FLAC 24-bit' } as const;

/** Creates the host. */
export function createStudioHost(options: StudioHostOptions): StudioHost {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const projects = new Map<string, OpenEntry>();
  const queue = new JobQueue(options.emit);
  const engine = new EngineWorker({ log, ...(options.spawnWorker ? { spawn: options.spawnWorker } : {}) });
  // A new pack's graphs are opened in a worker process of their own before it is listed as installed; a conversion
  // runs in one too, as building the graphs would stall this event loop (RPC, saves, job progress) for many seconds.
  const manager = new ModelManager({
    checkPack: (dir) => checkPackInWorker(options.spawnWorker ?? forkWorker, dir),
    convert: (sourceDir, outDir, o) => convertInWorker(options.spawnWorker ?? forkWorker, sourceDir, outDir, o),
    ...options.models,
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
  });
  const offManager = [
    manager.on('progress', (p) => options.emit('modelProgress', { id: p.id, phase: p.phase, file: p.file, bytesDone: p.bytesDone, bytesTotal: p.bytesTotal, bytesPerSecond: p.bytesPerSecond, etaSeconds: p.etaSeconds })),
    manager.on('installed', ({ id }) => options.emit('modelInstalled', { id })),
    manager.on('failed', ({ id, code, message }) => options.emit('modelFailed', { id, error: { code, message } })),
    manager.on('removed', ({ id }) => options.emit('modelRemoved', { id })),
  ];
  const defaults: StudioSettings = {
    device: 'auto',
    intraOpThreads: null,
    autosaveSeconds: 30,
    projectsDir: options.projectsDir ?? join(homedir(), 'Tessera Projects'),
    modelDevices: {},
  };
  const settingsFile = options.settingsFile === undefined ? join(defaultConfigDir(), 'settings.json') : options.settingsFile;
  let settings = defaults;
  const settingsLoaded = (settingsFile === null ? Promise.resolve<{ settings: StudioSettings; warning?: string }>({ settings: defaults }) : loadSettings(settingsFile, defaults)).then((loaded) => {
    settings = options.projectsDir === undefined ? loaded.settings : { ...loaded.settings, projectsDir: options.projectsDir };
    if (loaded.warning) log(loaded.warning);
  });
  let nextProject = 1;

  const ok = <T>(value: T): ApiResult<T> => ({ ok: true, value });
  const project = (projectId: string): OpenEntry => {
    const p = projects.get(projectId);
    if (!p) throw new CodedError('not-found', `project '${projectId}' is not open; open it first`);
    return p;
  };
  const opened = (o: OpenedProject, projectId = `prj_${Date.now().toString(36)}${(nextProject++).toString(36)}`): OpenedProjectInfo => {
    projects.set(projectId, { handle: o.handle, document: o.document, sessionTakes: new Map(), orphaned: false });
    return openedInfo(o, projectId);
  };

  const generationContext: GenerationContext = {
    engine,
    project,
    settings: () => settings,
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
    modelsDir: manager.modelsDir,
    emit: options.emit,
  };

  const api: StudioApi = {
    async createProject({ dir, name }) {
      return ok(opened(await createProject(dir ?? (await newProjectFolder(settings.projectsDir, name)), name)));
    },
    async openProject({ dir }) {
      const target = projectPaths(dir).dir;
      for (const [projectId, entry] of projects) {
        if (!entry.orphaned || entry.handle.dir !== target) continue;
        if (!queue.busy(projectId)) {
          // Left by a client that went away: close it (journal kept) and open it afresh, recovery offer included.
          await closeProject(entry.handle, { keepAutosave: true });
          projects.delete(projectId);
          break;
        }
        entry.orphaned = false;
        return ok({ projectId, dir: target, document: entry.document, recoveryAvailable: false, recoverySavedAt: null, warnings: ['generation jobs of this project are still running; their takes will arrive as they finish'] });
      }
      return ok(opened(await openProject(dir)));
    },
    async listProjects() {
      return ok(await listProjectFolders(settings.projectsDir));
    },
    async saveProject({ projectId, document }) {
      const p = project(projectId);
      p.document = await saveProject(p.handle, parseProject(document, 'the document'));
      return ok(p.document);
    },
    async saveProjectAs({ projectId, dir, document }) {
      const p = project(projectId);
      if (queue.busy(projectId)) throw new CodedError('busy', 'jobs of this project are queued or running; wait for them or cancel them, then save as');
      const moved = await saveProjectAs(p.handle, dir, parseProject(document, 'the document'));
      projects.delete(projectId);
      return ok(opened(moved, projectId));
    },
    async autosaveProject({ projectId, document }) {
      await autosave(project(projectId).handle, parseProject(document, 'the document'));
      return ok(null);
    },
    async resolveRecovery({ projectId, accept }) {
      const p = project(projectId);
      if (!accept) {
        await discardRecovery(p.handle);
        return ok(p.document);
      }
      return ok((await acceptRecovery(p.handle)).document);
    },
    async closeProject({ projectId }) {
      const p = project(projectId);
      if (queue.busy(projectId)) throw new CodedError('busy', `project '${projectId}' has jobs queued or running; cancel them first`);
      await closeProject(p.handle);
      projects.delete(projectId);
      return ok(null);
    },
    async enqueueGeneration({ projectId, trackId, regionIds, document, mode, strength, onlyMissing }) {
      const p = project(projectId);
      const doc = document === undefined ? p.document : parseProject(document, 'the document');
      const track = doc.tracks.find((t) => t.id === trackId);
      if (!track) throw new CodedError('not-found', `track '${trackId}' is not in the project`);
      if (track.regionIds.length === 0) throw new CodedError('invalid-argument', `track '${track.name}' has no regions to generate; draw a region first`);
      const what = {
        trackId: trackId as TrackId,
        regionIds: (regionIds ?? []) as RegionId[],
        ...(mode === undefined ? {} : { mode }),
        ...(strength === undefined ? {} : { strength }),
        ...(onlyMissing === undefined ? {} : { onlyMissing }),
      };
      // Refused before it is queued; the label says what the job will replace (from the document it was given).
      checkGeneration(doc, what);
      const info = queue.add(
        { kind: 'generate', projectId, label: generationLabel(doc, what), trackId: what.trackId, regionIds: what.regionIds },
        generationJob(generationContext, { projectId, ...what, ...(document === undefined ? {} : { snapshot: doc }) }),
        (jobId) => engine.kill(jobId, { code: 'cancelled', message: 'force-stopped: the engine process was killed and restarts for the next job' }),
      );
      return ok({ jobId: info.jobId });
    },
    async enqueueExport(input) {
      project(input.projectId);
      if (input.document !== undefined) parseProject(input.document, 'the document');
      const info = queue.add({ kind: 'export', projectId: input.projectId, label: `Export ${FORMAT_LABEL[input.format]}` }, exportJob(() => project(input.projectId), input, options.emit));
      return ok({ jobId: info.jobId });
    },
    async cancelJob({ jobId, hard }) {
      queue.cancel(jobId, hard === true);
      return ok(null);
    },
    async listJobs({ projectId }) {
      return ok(queue.list(projectId));
    },
    async resolveAsset({ projectId, path }) {
      const p = project(projectId);
      const findTake = (takeId: TakeRef['id']) =>
        p.sessionTakes.get(takeId) ?? Object.values(p.document.regions).flatMap((r) => r.takes).find((t) => t.id === takeId);
      return ok(await resolveProjectAsset(pathsOf(p.handle), path, findTake));
    },
    async listModels() {
      return ok(await listInstalledModels(options.cacheDir, manager.modelsDir));
    },
    async listCatalog() {
      return ok(await catalogInfo(manager));
    },
    async installModel({ id, revisions }) {
      // Checks (known id, licence, revisions, not already running) happen before the download starts in the background.
      await manager.licence(id);
      if (manager.installing().includes(id)) throw new CodedError('busy', `'${id}' is already being installed`);
      const unpinned = await manager.unpinnedRepos(id);
      const foreign = Object.keys(revisions ?? {}).filter((repo) => !unpinned.some((u) => u.repo === repo));
      if (foreign.length > 0) throw new CodedError('invalid-argument', `'${id}' takes no entered commit for ${foreign.join(', ')}: the catalog pins it (or '${id}' downloads nothing from it)`);
      const missing = unpinned.filter((u) => revisions?.[u.repo] === undefined && u.entered === undefined);
      if (missing.length > 0) {
        throw new CodedError(
          'invalid-argument',
          `'${id}' needs the commit to download from ${missing.map((u) => u.repo).join(' and ')}: the catalog pins none yet. Enter the 40-character commit id in the download dialog (the repo's history on the hub lists it).`,
        );
      }
      manager.install(id, { acceptLicence: true, ...(revisions ? { revisions } : {}) }).catch(() => undefined); // the outcome arrives as modelInstalled/modelFailed
      return ok(null);
    },
    async cancelModelInstall({ id }) {
      if (!manager.cancel(id)) throw new CodedError('not-found', `no install of '${id}' is running`);
      return ok(null);
    },
    async importModel({ dir, replace, id, heads, unetFp16 }) {
      // Conversion progress and cancel reach the view through the manager's events (the `convert` phase).
      const imported = await manager.import(dir, { ...(replace ? { replace: true } : {}), ...(id ? { id } : {}), ...(heads ? { heads } : {}), ...(unetFp16 ? { unetFp16 } : {}) });
      const info = (await listInstalledModels(options.cacheDir, manager.modelsDir)).find((m) => m.id === imported.id);
      if (!info) throw new CodedError('not-found', `the imported pack '${imported.id}' did not verify after the copy`);
      return ok(info);
    },
    async removeModel({ id }) {
      return ok({ freedBytes: (await manager.remove(id)).freedBytes });
    },
    async getSettings() {
      await settingsLoaded;
      return ok(settings);
    },
    async setSettings({ settings: patch }) {
      await settingsLoaded;
      settings = { ...settings, ...patch, modelDevices: { ...settings.modelDevices, ...patch.modelDevices } };
      if (settingsFile !== null) await saveSettings(settingsFile, settings);
      return ok(settings);
    },
    async getSystemInfo({ remeasure }) {
      const { providers, auto } = await providerReport({ remeasure: remeasure === true });
      return ok({ version: packageJson.version, platform: `${platform()} ${process.arch}`, providers, auto });
    },
    async ping() {
      return ok({ pong: true as const, version: packageJson.version });
    },
  };

  const session = (): StudioSession => trackedSession(api, { queue, projects });

  return {
    api,
    session,
    get enginePid() {
      return engine.pid;
    },
    async dispose() {
      offManager.forEach((off) => off());
      for (const id of manager.installing()) manager.cancel(id);
      await queue.drain();
      await engine.dispose();
      await Promise.all([...projects.values()].map((p) => closeProject(p.handle, { keepAutosave: true })));
      projects.clear();
      if (projects.size > 0) throw new ProjectError('io-error', 'projects stayed open');
    },
  };
}
