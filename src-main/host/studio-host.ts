/**
 * The engine host's StudioApi implementation in plain Node (the Electron utility process, browser mode, the CLI
 * and tests run the same code): open projects, a job queue (generation in the engine worker process, export in
 * this one) with progress, previews and soft/hard cancel, assets for the renderer, models and settings. Methods
 * throw coded errors; the RPC server turns them into results.
 */
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { homedir, platform } from 'node:os';
import { join } from 'node:path';
import { parseProject, ProjectError, type ProjectDocument, type RegionId, type TakeRef, type TrackId } from '../contract/project.ts';
import type { ApiResult, EnqueueExportRequest, OpenedProjectInfo, ProjectSummary, StudioApi, StudioEventName, StudioEvents, StudioSettings } from '../contract/api.ts';
import { resolveProjectAsset } from './assets.ts';
import { checkPackInWorker, EngineRunError, EngineWorker, forkWorker, type SpawnWorker } from './engine-worker/engine-worker.ts';
import { exportProject } from './export/export.ts';
import { JobQueue } from './jobs.ts';
import { listInstalledModels, providerInfo } from './model-info.ts';
import { ModelManager, type ModelManagerOptions } from './models/manager.ts';
import { confinedPath } from './projects/confine.ts';
import { PROJECT_FILE, projectPaths } from './projects/layout.ts';
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
  updateProject,
  type OpenedProject,
  type ProjectHandle,
} from './projects/project-store.ts';
import { removePartialTakes } from './projects/takes.ts';
import { defaultConfigDir, loadSettings, saveSettings } from './settings-store.ts';
import { exportTracks } from './render.ts';
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

/** One client's view of the host (a browser tab, an Electron window): its projects close when it goes away. */
export interface StudioSession {
  api: StudioApi;
  /**
   * The client disconnected: its open projects are closed keeping their autosave journal (a reload then offers
   * recovery of unsaved work); a project with jobs still running stays open until a client opens it again.
   */
  close(): Promise<void>;
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

/** An error with an API code (the RPC server keeps the code). */
class HostError extends Error {
  constructor(
    readonly code: 'not-found' | 'invalid-argument' | 'busy',
    message: string,
  ) {
    super(message);
  }
}

/** Samples per min/max pair of generation previews (16 kHz: 125 pairs per second). */
const PREVIEW_SAMPLES_PER_PEAK = 128;
const FORMAT_LABEL = { wav16: 'WAV 16-bit', wav24: 'WAV 24-bit', wav32f: 'WAV 32-bit float', flac16: 'FLAC 16-bit', flac24: 'FLAC 24-bit' } as const;

interface OpenEntry {
  handle: ProjectHandle;
  /** Its session disconnected while jobs ran: the next client to open the folder takes it over. */
  orphaned: boolean;
  /** The document as last saved. */
  document: ProjectDocument;
  /** Takes generated this session that the saved document may not list yet (for assets). */
  sessionTakes: Map<TakeRef['id'], Pick<TakeRef, 'id' | 'file'>>;
}

/** A folder name for a new project: the name without characters file systems refuse. */
function folderName(name: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what file names may not hold
  const cleaned = name.replace(/[\\/:*?"<>|\x00-\x1f]/g, ' ').replace(/\s+/g, ' ').trim().replace(/^\.+/, '');
  return cleaned.slice(0, 120) || 'Untitled';
}

/** Adds generated takes to a document (each made active); regions that no longer exist are skipped. */
export function withTakes(doc: ProjectDocument, takes: { regionId: RegionId; take: TakeRef }[]): ProjectDocument {
  let next = doc;
  for (const { regionId, take } of takes) {
    const region = next.regions[regionId];
    if (!region || region.takes.some((t) => t.id === take.id)) continue;
    next = { ...next, regions: { ...next.regions, [regionId]: { ...region, takes: [...region.takes, take], activeTakeId: take.id } } };
  }
  return next;
}

/** Creates the host. */
export function createStudioHost(options: StudioHostOptions): StudioHost {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const projects = new Map<string, OpenEntry>();
  const queue = new JobQueue(options.emit);
  const engine = new EngineWorker({ log, ...(options.spawnWorker ? { spawn: options.spawnWorker } : {}) });
  // A new pack's graphs are opened in a worker process of their own before it is listed as installed.
  const manager = new ModelManager({
    checkPack: (dir) => checkPackInWorker(options.spawnWorker ?? forkWorker, dir),
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
    if (!p) throw new HostError('not-found', `project '${projectId}' is not open; open it first`);
    return p;
  };
  const opened = (o: OpenedProject, projectId = `prj_${Date.now().toString(36)}${(nextProject++).toString(36)}`): OpenedProjectInfo => {
    projects.set(projectId, { handle: o.handle, document: o.document, sessionTakes: new Map(), orphaned: false });
    const warnings = [...o.warnings];
    if (o.missingTakes.length > 0) warnings.push(`${o.missingTakes.length} take file(s) are missing (${o.missingTakes.slice(0, 3).join(', ')}${o.missingTakes.length > 3 ? ', …' : ''}); regenerate those regions`);
    if (o.migratedFrom !== null) warnings.push(`the project was upgraded from schemaVersion ${o.migratedFrom}; saving writes the new version (a backup of the old file is in .tessera/)`);
    if (o.staleLockReplaced) warnings.push('the project was not closed properly last time (a crash?); its lock was taken over');
    return { projectId, dir: o.handle.dir, document: o.document, recoveryAvailable: o.recovery !== null, recoverySavedAt: o.recovery?.savedAt ?? null, warnings };
  };

  const generation = (projectId: string, trackId: TrackId, regionIds: RegionId[], snapshot: ProjectDocument | undefined) =>
    async (job: { jobId: string }, signal: AbortSignal): Promise<void> => {
      const p = project(projectId);
      const onAbort = (): void => engine.cancel(job.jobId);
      signal.addEventListener('abort', onAbort);
      // Pieces are saved in order even though the worker's messages arrive while the run is in flight.
      let saving: Promise<void> = Promise.resolve();
      try {
        await engine.run(
          {
            type: 'run',
            jobId: job.jobId,
            document: snapshot ?? p.document,
            projectDir: p.handle.dir,
            trackId,
            regionIds,
            device: settings.device,
            modelDevices: settings.modelDevices,
            intraOpThreads: settings.intraOpThreads,
            ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
            modelsDir: manager.modelsDir,
            previewSamplesPerPeak: PREVIEW_SAMPLES_PER_PEAK,
          },
          {
            onMessage: (m) => {
              if (m.type === 'progress') {
                const { type: _type, ...progress } = m;
                options.emit('jobProgress', progress);
              } else if (m.type === 'preview') {
                const { type: _type, ...preview } = m;
                options.emit('jobPreview', { ...preview, projectId, trackId });
              } else {
                for (const t of m.takes) p.sessionTakes.set(t.take.id, t.take);
                options.emit('takesAdded', { projectId, jobId: job.jobId, takes: m.takes });
                if (!snapshot) {
                  // Applied to the last saved document inside the store's save section, so a save another client
                  // finished meanwhile is kept, never replaced by the document this job started from.
                  saving = saving.then(async () => {
                    p.document = await updateProject(p.handle, (saved) => withTakes(saved, m.takes));
                    options.emit('projectChanged', { projectId });
                  });
                }
              }
            },
          },
        );
      } catch (e) {
        if (e instanceof EngineRunError && e.workerDied) {
          options.emit('engineRestarted', { reason: e.message });
          await removePartialTakes(pathsOf(p.handle));
        }
        throw e;
      } finally {
        signal.removeEventListener('abort', onAbort);
        await saving;
      }
    };

  const exporting = (input: EnqueueExportRequest) =>
    async (job: { jobId: string }, signal: AbortSignal): Promise<{ files: string[] }> => {
      const p = project(input.projectId);
      const doc = input.document ?? p.document;
      const tracks = await exportTracks(doc, p.handle.dir, { skipMissing: true });
      if (tracks.every((t) => t.regions.length === 0)) {
        throw new HostError('invalid-argument', 'nothing to export: no region has a take yet; generate the tracks first');
      }
      const stamp = new Date().toISOString().replace(/[:T]/g, '-').slice(0, 19);
      // The default folder is inside the project: confined like every other project path (no link leads out).
      const outDir = input.outDir ?? (await confinedPath(p.handle.dir, join('exports', `${folderName(doc.name)} ${stamp}`)));
      const result = await exportProject(input.stems === false ? tracks.map((t) => ({ ...t, stem: false })) : tracks, outDir, {
        project: await realpath(p.handle.dir),
        format: input.format,
        sampleRate: doc.sampleRate,
        ...(input.loudness === undefined ? {} : { loudness: { targetLufs: input.loudness, ...(input.truePeakCeiling === undefined ? {} : { truePeakDbtp: input.truePeakCeiling }) } }),
        metadata: { title: doc.name, project: doc.name },
        signal,
        onProgress: (fraction) => options.emit('jobProgress', { jobId: job.jobId, stage: 'exporting', step: Math.round(fraction * 1000), steps: 1000 }),
      });
      return { files: result.files.map((f) => f.path) };
    };

  const api: StudioApi = {
    async createProject({ dir, name }) {
      let target = dir;
      if (target === undefined) {
        const base = join(settings.projectsDir, folderName(name));
        target = base;
        for (let k = 2; await stat(target).then(() => true, () => false); k++) target = `${base} ${k}`;
      }
      return ok(opened(await createProject(target, name)));
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
      const names = await readdir(settings.projectsDir).catch(() => [] as string[]);
      const found = await Promise.all(
        names.map(async (n): Promise<ProjectSummary | null> => {
          const dir = join(settings.projectsDir, n);
          try {
            const info = await stat(join(dir, PROJECT_FILE));
            const json = JSON.parse(await readFile(join(dir, PROJECT_FILE), 'utf8')) as { name?: unknown };
            return { name: typeof json.name === 'string' ? json.name : n, dir, modifiedAt: info.mtime.toISOString() };
          } catch {
            return null; // not a project (or unreadable): opening it would say why
          }
        }),
      );
      return ok(found.filter((p): p is ProjectSummary => p !== null).sort((a, b) => b.modifiedAt.localeCompare(a.modifiedAt)));
    },
    async saveProject({ projectId, document }) {
      const p = project(projectId);
      p.document = await saveProject(p.handle, parseProject(document, 'the document'));
      return ok(p.document);
    },
    async saveProjectAs({ projectId, dir, document }) {
      const p = project(projectId);
      if (queue.busy(projectId)) throw new HostError('busy', 'jobs of this project are queued or running; wait for them or cancel them, then save as');
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
      if (queue.busy(projectId)) throw new HostError('busy', `project '${projectId}' has jobs queued or running; cancel them first`);
      await closeProject(p.handle);
      projects.delete(projectId);
      return ok(null);
    },
    async enqueueGeneration({ projectId, trackId, regionIds, document }) {
      const p = project(projectId);
      const doc = document === undefined ? p.document : parseProject(document, 'the document');
      const track = doc.tracks.find((t) => t.id === trackId);
      if (!track) throw new HostError('not-found', `track '${trackId}' is not in the project`);
      if (track.regionIds.length === 0) throw new HostError('invalid-argument', `track '${track.name}' has no regions to generate; draw a region first`);
      const ids = (regionIds ?? []) as RegionId[];
      const label = `Generate ${track.name}${ids.length > 0 ? ` (${ids.length} region${ids.length === 1 ? '' : 's'})` : ''}`;
      const info = queue.add(
        { kind: 'generate', projectId, label, trackId: trackId as TrackId, regionIds: ids },
        generation(projectId, trackId as TrackId, ids, document === undefined ? undefined : doc),
        (jobId) => engine.kill(jobId, { code: 'cancelled', message: 'force-stopped: the engine process was killed and restarts for the next job' }),
      );
      return ok({ jobId: info.jobId });
    },
    async enqueueExport(input) {
      project(input.projectId);
      if (input.document !== undefined) parseProject(input.document, 'the document');
      const info = queue.add({ kind: 'export', projectId: input.projectId, label: `Export ${FORMAT_LABEL[input.format]}` }, exporting(input));
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
      const [{ models, disk }, catalog] = await Promise.all([manager.list(), manager.getCatalog()]);
      const installing = new Set(manager.installing());
      const downloadable = models.filter((m) => m.status === 'available' || m.status === 'partial');
      const unpinned = Object.fromEntries(await Promise.all(downloadable.map(async (m) => [m.id, await manager.unpinnedRepos(m.id)] as const)));
      return ok({
        models: models.map((m) => {
          const entry = catalog.entries.find((e) => e.id === m.id);
          const text = entry?.licence.text;
          const howTo =
            m.status === 'export' && entry?.source.kind === 'export'
              ? `Not downloadable: export it once from ${entry.source.from.repo} with ${entry.source.tool} (\`${entry.source.command}\`), then import the folder it writes.`
              : undefined;
          return {
            id: m.id,
            name: m.name,
            family: m.family,
            status: m.status,
            sizeBytes: m.sizeBytes,
            sizeIsEstimate: m.sizeIsEstimate,
            diskBytes: m.diskBytes,
            licence: { name: m.licence.name, ...(m.licence.url ? { url: m.licence.url } : {}), ...(text ? { text } : {}), ...(m.licence.commercialUse ? { commercialUse: String(m.licence.commercialUse) } : {}) },
            origin: m.origin,
            ...(m.version ? { version: m.version } : {}),
            ...(m.problem ?? howTo ? { problem: m.problem ?? howTo } : {}),
            installing: installing.has(m.id),
            ...(unpinned[m.id]?.length ? { unpinned: unpinned[m.id] } : {}),
          };
        }),
        disk: { dir: disk.modelsDir, installedBytes: disk.packs.reduce((n, p) => n + p.bytes, 0), partialBytes: disk.partial.reduce((n, p) => n + p.bytes, 0), freeBytes: disk.freeBytes ?? null },
      });
    },
    async installModel({ id, revisions }) {
      // Checks (known id, licence, revisions, not already running) happen before the download starts in the background.
      await manager.licence(id);
      if (manager.installing().includes(id)) throw new HostError('busy', `'${id}' is already being installed`);
      const unpinned = await manager.unpinnedRepos(id);
      const foreign = Object.keys(revisions ?? {}).filter((repo) => !unpinned.some((u) => u.repo === repo));
      if (foreign.length > 0) throw new HostError('invalid-argument', `'${id}' takes no entered commit for ${foreign.join(', ')}: the catalog pins it (or '${id}' downloads nothing from it)`);
      const missing = unpinned.filter((u) => revisions?.[u.repo] === undefined && u.entered === undefined);
      if (missing.length > 0) {
        throw new HostError(
          'invalid-argument',
          `'${id}' needs the commit to download from ${missing.map((u) => u.repo).join(' and ')}: the catalog pins none yet. Enter the 40-character commit id in the download dialog (the repo's history on the hub lists it).`,
        );
      }
      manager.install(id, { acceptLicence: true, ...(revisions ? { revisions } : {}) }).catch(() => undefined); // the outcome arrives as modelInstalled/modelFailed
      return ok(null);
    },
    async cancelModelInstall({ id }) {
      if (!manager.cancel(id)) throw new HostError('not-found', `no install of '${id}' is running`);
      return ok(null);
    },
    async importModel({ dir, replace }) {
      const imported = await manager.import(dir, replace ? { replace: true } : {});
      const info = (await listInstalledModels(options.cacheDir, manager.modelsDir)).find((m) => m.id === imported.id);
      if (!info) throw new HostError('not-found', `the imported pack '${imported.id}' did not verify after the copy`);
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
    async getSystemInfo() {
      return ok({ version: packageJson.version, platform: `${platform()} ${process.arch}`, providers: providerInfo() });
    },
    async ping() {
      return ok({ pong: true as const, version: packageJson.version });
    },
  };

  const session = (): StudioSession => {
    const owned = new Set<string>();
    const track = <T extends { projectId: string }>(result: ApiResult<T>): ApiResult<T> => {
      if (result.ok) owned.add(result.value.projectId);
      return result;
    };
    // A connection acts only on the projects it created or opened (openProject is also how it takes over a project
    // orphaned by a connection that went away). Another connection's project is `not-found`, as an unknown id is:
    // the answer does not tell a client which projects other windows hold.
    const mine = (projectId: string): void => {
      if (!owned.has(projectId)) {
        throw new HostError('not-found', `project '${projectId}' is not open in this window; open its folder here first (a project that another window has open stays with that window until it closes it)`);
      }
    };
    /** `method`, run only when its input names a project of this connection. */
    const owning = <I extends { projectId: string }, R>(method: (input: I) => Promise<R>) => async (input: I): Promise<R> => {
      mine(input.projectId);
      return method(input);
    };
    const tracked: StudioApi = {
      ...api,
      createProject: async (input) => track(await api.createProject(input)),
      openProject: async (input) => track(await api.openProject(input)),
      saveProject: owning(api.saveProject),
      saveProjectAs: owning(async (input) => track(await api.saveProjectAs(input))),
      autosaveProject: owning(api.autosaveProject),
      resolveRecovery: owning(api.resolveRecovery),
      closeProject: owning(async (input) => {
        const result = await api.closeProject(input);
        if (result.ok) owned.delete(input.projectId);
        return result;
      }),
      enqueueGeneration: owning(api.enqueueGeneration),
      enqueueExport: owning(api.enqueueExport),
      cancelJob: async (input) => {
        const job = queue.list().find((j) => j.jobId === input.jobId);
        if (job && !owned.has(job.projectId)) throw new HostError('not-found', `job '${input.jobId}' is not a job of a project open in this window`);
        return api.cancelJob(input);
      },
      listJobs: async (input) => {
        if (input.projectId !== undefined) mine(input.projectId);
        const jobs = await api.listJobs(input);
        return jobs.ok ? ok(jobs.value.filter((j) => owned.has(j.projectId))) : jobs;
      },
      // NOTE: resolveAsset stays open to every connection. Asset requests reach the host without the page's
      // connection: browser mode's HTTP route carries only the run token, and in Electron main asks over its own
      // connection for the window. The asset rule (takes and peaks of an open project only) still applies.
    };
    return {
      api: tracked,
      async close() {
        for (const projectId of owned) {
          const entry = projects.get(projectId);
          if (!entry) continue;
          if (queue.busy(projectId)) {
            entry.orphaned = true;
            continue;
          }
          await closeProject(entry.handle, { keepAutosave: true });
          projects.delete(projectId);
        }
        owned.clear();
      },
    };
  };

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
