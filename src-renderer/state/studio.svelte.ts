/**
 * The studio's app state: the connection to the host, the open project (document in `$state.raw`, its undo
 * history, the dirty flag), the selection, and the parts that have their own class (timeline view, transport,
 * jobs, peaks, notices). Every project edit goes through `edit()`, which records it for undo; components never
 * change the document any other way.
 */
import type {
  ApiResult,
  ModelInfo,
  ProjectSummary,
  StudioApi,
  StudioEvents,
  StudioSettings,
  SystemInfo,
} from '../../src-main/contract/api.ts';
import type { ProjectDocument, Region, RegionId, TakeId, Track, TrackId } from '../../src-main/contract/project.ts';
import { connectStudio, type ConnectionChange, type Platform, type ShellApi, type Studio as Bridge } from '../bridge/connect.ts';
import { EditError, projectEnd, type Edit } from '../model/edits.ts';
import { applyExternal, emptyHistory, isDirty, push, redo, redoLabel, undo, undoLabel, type History } from '../model/history.ts';
import {
  addToSelection,
  emptySelection,
  pruneSelection,
  selectOnly,
  selectionBounds,
  toggle,
  type Selection,
} from '../model/selection.ts';
import { regionEdges, snapThreshold, snapTime } from '../model/snap.ts';
import { spanOf, type Snapper } from './drag.ts';
import { JobsState } from './jobs.svelte.ts';
import { ModelCatalogState } from './models.svelte.ts';
import { Notices } from './notices.svelte.ts';
import { PeaksCache } from './peaks.svelte.ts';
import { MIN_TIMELINE_SECONDS, TAIL_SECONDS, TimelineState } from './timeline.svelte.ts';
import { TransportState } from './transport.svelte.ts';
import { applyTakesEdit, bind as bindEdits } from './edit-actions.ts';
import { generationActions, type GenerateAnswer, type GenerateQuestion } from './generation-actions.ts';
import { GenerateQuestionState } from './generate-question.svelte.ts';
import { projectActions } from './project-actions.ts';
import type { OpenProject, RecoveryOffer } from './studio-context.ts';
import { errorMessage } from '../../src-main/contract/errors.ts';

/** The connection as the UI shows it. */
export type ConnectionStatus = 'connecting' | 'connected' | 'reconnecting' | 'failed' | 'closed';

/** The app state; one per window. */
export class StudioState {
  connection = $state<ConnectionStatus>('connecting');
  connectionError = $state<string | null>(null);
  platform = $state<Platform>('browser');
  hostVersion = $state<string | null>(null);

  project = $state.raw<OpenProject | null>(null);
  document = $state.raw<ProjectDocument | null>(null);
  history = $state.raw<History>(emptyHistory());
  recovery = $state.raw<RecoveryOffer | null>(null);
  openWarnings = $state.raw<readonly string[]>([]);
  saving = $state(false);
  /** A project call in flight (open, create, close), for spinners and disabled buttons. */
  busy = $state<string | null>(null);
  lastSavedAt = $state<Date | null>(null);
  lastAutosaveAt = $state<Date | null>(null);

  /** The selected regions (model/selection.ts; the loop range is the transport's). */
  selection = $state.raw<Selection>(emptySelection());
  selectedTrackId = $state<TrackId | null>(null);

  projects = $state.raw<readonly ProjectSummary[]>([]);
  projectsError = $state<string | null>(null);
  models = $state.raw<readonly ModelInfo[]>([]);
  settings = $state.raw<StudioSettings | null>(null);
  systemInfo = $state.raw<SystemInfo | null>(null);

  readonly timeline = new TimelineState();
  readonly notices = new Notices();
  /** The Generate question on screen (it would replace takes), shared by every Generate button. */
  readonly generateQuestion = new GenerateQuestionState();
  /** The model manager's catalog and running downloads. */
  readonly catalog = new ModelCatalogState(this);
  readonly transport: TransportState;
  jobs = $state.raw<JobsState>(this.jobsFor(''));
  peaks = $state.raw<PeaksCache | null>(null);

  dirty = $derived(isDirty(this.history));
  undoLabel = $derived(undoLabel(this.history));
  redoLabel = $derived(redoLabel(this.history));
  /** The end of the last region, seconds. */
  end = $derived(this.document === null ? 0 : projectEnd(this.document));
  /** How long the scrollable timeline is. */
  timelineSeconds = $derived(Math.max(MIN_TIMELINE_SECONDS, this.end + TAIL_SECONDS, this.timeline.visibleSeconds));
  selectedRegionIds = $derived(this.selection.regionIds);
  selectedRegions = $derived(this.#regionsOf(this.document, this.selectedRegionIds));
  /** The one selected region the inspector edits (null for none or several). */
  selectedRegion = $derived(this.selectedRegions.length === 1 ? this.selectedRegions[0] : null);
  selectedTrack = $derived(this.document?.tracks.find((t) => t.id === this.selectedTrackId) ?? null);
  title = $derived(this.document === null ? 'Tessera' : `${this.dirty ? '• ' : ''}${this.document.name} — Tessera`);
  mac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform);

  #bridge: Bridge | null = null;
  #unsubscribe: (() => void)[] = [];

  constructor() {
    this.transport = new TransportState({
      locator: () => {
        const bridge = this.#bridge;
        const project = this.project;
        return bridge === null || project === null ? null : { projectId: project.projectId, assetUrl: (p) => bridge.assetUrl(p) };
      },
      projectEnd: () => this.end,
      reportError: (message, detail) => this.notices.error(message, detail),
      onFrame: (t) => {
        if (this.timeline.followPlayhead && this.timeline.drag === null) this.timeline.reveal(t);
      },
    });
  }

  get shell(): ShellApi | null {
    return this.#bridge?.shell ?? null;
  }

  /** The host's API while connected. */
  get api(): StudioApi | null {
    return this.#bridge?.api ?? null;
  }

  /** Points jobs and the peaks cache at a newly opened project (null: none open). */
  attachProject(projectId: string | null): void {
    this.jobs = this.jobsFor(projectId ?? '');
    this.peaks?.clear();
    this.peaks = projectId === null ? null : new PeaksCache(projectId, (p) => this.assetUrl(p));
  }

  /** The URL of an asset path of the open project. */
  assetUrl(path: string): string {
    return this.#bridge?.assetUrl(path) ?? '';
  }

  // ─── connection ───────────────────────────────────────────────────────────────────────────────────────────

  async connect(): Promise<void> {
    this.connection = 'connecting';
    this.connectionError = null;
    let bridge: Bridge;
    try {
      bridge = await connectStudio();
    } catch (e) {
      this.connection = 'failed';
      this.connectionError = errorMessage(e);
      return;
    }
    this.#bridge = bridge;
    this.platform = bridge.platform;
    this.connection = 'connected';
    this.#unsubscribe.push(
      bridge.onConnectionChange((change) => void this.#onConnectionChange(change)),
      bridge.on('jobUpdated', (e) => this.jobs.onUpdated(e)),
      bridge.on('jobProgress', (e) => this.jobs.onProgress(e)),
      bridge.on('jobPreview', (e) => this.jobs.onPreview(e)),
      bridge.on('jobFinished', (e) => this.#onJobFinished(e)),
      bridge.on('takesAdded', (e) => this.#onTakesAdded(e)),
      bridge.on('engineRestarted', (e) => this.notices.info('The engine restarted', e.reason)),
      bridge.on('modelProgress', (e) => this.catalog.onProgress(e)),
      bridge.on('modelInstalled', (e) => this.catalog.onInstalled(e)),
      bridge.on('modelFailed', (e) => this.catalog.onFailed(e)),
      bridge.on('modelRemoved', () => this.catalog.onRemoved()),
    );
    const [ping, settings, models, system] = await Promise.all([
      bridge.api.ping({}),
      bridge.api.getSettings({}),
      bridge.api.listModels({}),
      bridge.api.getSystemInfo({}),
    ]);
    if (ping.ok) this.hostVersion = ping.value.version;
    if (settings.ok) this.settings = settings.value;
    if (models.ok) this.models = models.value;
    else this.notices.error('Could not list the installed models', models.error.message);
    if (system.ok) this.systemInfo = system.value;
    await this.files.refreshProjects();
  }

  dispose(): void {
    for (const off of this.#unsubscribe) off();
    this.#unsubscribe = [];
    this.transport.dispose();
    this.notices.dispose();
    this.#bridge?.close();
    this.#bridge = null;
  }

  async #onConnectionChange(change: ConnectionChange): Promise<void> {
    if (change.state === 'reconnecting') {
      this.connection = 'reconnecting';
      this.connectionError = change.reason ?? null;
      return;
    }
    if (change.state === 'closed') {
      this.connection = 'closed';
      return;
    }
    this.connection = 'connected';
    this.connectionError = null;
    // Events may have been missed while disconnected: downloads may have ended, models come or gone.
    if (change.reconnected) void Promise.all([this.refreshModels(), this.catalog.loaded ? this.catalog.refresh() : null]);
    const project = this.project;
    if (!change.reconnected || project === null || this.document === null) return;
    await this.#reattach(project);
  }

  /**
   * After a reconnect: the host may be the same process (only the connection dropped; the project handle still
   * works) or a new one (the handle is gone, the old lock expires within seconds). The editor's document is kept
   * either way (it is newer than anything on disk) and so is the undo history.
   */
  async #reattach(project: OpenProject): Promise<void> {
    const api = this.api;
    if (api === null) return;
    // An invalid path is refused as such by a host that still has the project open, and as not-found otherwise.
    const probe = await api.resolveAsset({ projectId: project.projectId, path: '../probe' });
    if (probe.ok || probe.error.code !== 'not-found') {
      const jobs = await api.listJobs({ projectId: project.projectId });
      if (jobs.ok) this.jobs.reset(jobs.value);
      this.notices.info('Reconnected to the host');
      return;
    }
    for (let attempt = 0; attempt < 6; attempt++) {
      const reopened = await api.openProject({ dir: project.dir });
      if (reopened.ok) {
        this.project = { projectId: reopened.value.projectId, dir: reopened.value.dir };
        this.attachProject(reopened.value.projectId);
        this.notices.info('Reconnected to the engine', 'Jobs that were running were lost; generate them again if needed.');
        return;
      }
      // A restarted host finds the dead one's lock until it expires.
      if (reopened.error.code !== 'locked') {
        this.notices.error('Could not reopen the project after reconnecting', reopened.error.message);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 2500));
    }
    this.notices.error('Could not reopen the project after reconnecting', `${project.dir} stayed locked; save your work with Save as…`);
  }

  // ─── host calls ───────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Calls the host; on failure shows `failure` with the host's message and resolves to null. Methods whose value
   * is itself null (close, cancel) use `#succeeded`.
   */
  async call<T>(failure: string, run: (api: Bridge['api']) => Promise<ApiResult<T>>): Promise<T | null> {
    const result = await this.#request(failure, run);
    return result === null ? null : result.value;
  }

  /** Calls a host method that answers `null` on success; true when it succeeded. */
  async succeeded(failure: string, run: (api: Bridge['api']) => Promise<ApiResult<null>>): Promise<boolean> {
    return (await this.#request(failure, run)) !== null;
  }

  async #request<T>(failure: string, run: (api: Bridge['api']) => Promise<ApiResult<T>>): Promise<{ value: T } | null> {
    const bridge = this.#bridge;
    if (bridge === null) {
      this.notices.error(failure, 'Not connected to the Tessera host.');
      return null;
    }
    const result = await run(bridge.api);
    if (result.ok) return { value: result.value };
    this.notices.error(failure, result.error.message);
    return null;
  }

  // Opening, saving and closing projects; generation and export jobs (one undo-free concern each).
  readonly files = projectActions(this);
  readonly run = generationActions(this);

  /** Puts a Generate's question on screen (the shell shows it); resolves to the answer, null when cancelled. */
  askGenerate(question: GenerateQuestion): Promise<GenerateAnswer | null> {
    return this.generateQuestion.ask(question);
  }

  // ─── editing ──────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Applies one edit to the document and records it for undo; a refused edit shows its reason. With `merge`, it
   * joins the previous undo step (a burst of nudges, one field typed in several commits).
   */
  edit(make: (doc: ProjectDocument) => Edit, options: { merge?: boolean } = {}): Edit | null {
    const doc = this.document;
    if (doc === null) return null;
    let edit: Edit;
    try {
      edit = make(doc);
    } catch (e) {
      if (e instanceof EditError) {
        this.notices.error(e.message);
        return null;
      }
      throw e;
    }
    if (edit.patches.length === 0) return edit;
    this.history = push(this.history, edit, options);
    this.document = edit.document;
    this.#pruneSelection();
    return edit;
  }

  undo(): void {
    const doc = this.document;
    if (doc === null) return;
    const result = undo(this.history, doc);
    if (result === null) return;
    this.history = result.history;
    this.document = result.document;
    this.#pruneSelection();
  }

  redo(): void {
    const doc = this.document;
    if (doc === null) return;
    const result = redo(this.history, doc);
    if (result === null) return;
    this.history = result.history;
    this.document = result.document;
    this.#pruneSelection();
  }

  // Named edits for components; each is one undo step.
  readonly act = bindEdits(this);

  // ─── selection ────────────────────────────────────────────────────────────────────────────────────────────

  /** Selects a region: `replace` (plain click), `toggle` (Ctrl/Cmd-click) or `add` (Shift-click). */
  selectRegion(id: RegionId, mode: 'replace' | 'toggle' | 'add' = 'replace'): void {
    const region = this.document?.regions[id];
    if (region === undefined) return;
    if (mode === 'replace') this.selection = selectOnly(this.selection, id);
    else if (mode === 'toggle') this.selection = toggle(this.selection, id);
    else this.selection = addToSelection(this.selection, [id]);
    this.selectedTrackId = region.trackId;
  }

  /** Selects exactly `ids`, or adds them to the selection (`add`: Shift or Ctrl/Cmd held). */
  selectRegions(ids: Iterable<RegionId>, add = false): void {
    this.selection = add ? addToSelection(this.selection, ids) : selectOnly(this.selection, ids);
  }

  selectAll(): void {
    const doc = this.document;
    if (doc !== null) this.selection = selectOnly(this.selection, Object.keys(doc.regions) as RegionId[]);
  }

  clearSelection(): void {
    if (this.selection.regionIds.size > 0) this.selection = selectOnly(this.selection, []);
  }

  selectTrack(id: TrackId | null): void {
    this.selectedTrackId = id;
  }

  /** The selection's span as a loop range. */
  selectionSpan(): { start: number; end: number } | null {
    const doc = this.document;
    return doc === null ? null : selectionBounds(doc, this.selection.regionIds);
  }

  #pruneSelection(): void {
    const doc = this.document;
    if (doc === null) return;
    this.selection = pruneSelection(doc, this.selection);
    if (this.selectedTrackId !== null && !doc.tracks.some((t) => t.id === this.selectedTrackId)) {
      this.selectedTrackId = doc.tracks[0]?.id ?? null;
    }
  }

  #regionsOf(doc: ProjectDocument | null, ids: ReadonlySet<RegionId>): Region[] {
    if (doc === null) return [];
    return [...ids].map((id) => doc.regions[id]).filter((r): r is Region => r !== undefined);
  }

  // ─── snapping ─────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * The snapper for a gesture that drags `exclude` (their own edges are not magnets); null when snapping is off
   * or bypassed (Alt held).
   */
  snapper(exclude: Iterable<RegionId>, bypass = false): Snapper | null {
    const doc = this.document;
    if (doc === null || !this.timeline.snapEnabled || bypass) return null;
    const view = this.timeline.view;
    const options = {
      enabled: true,
      grid: this.timeline.grid(doc.tempo),
      edges: [...regionEdges(doc, exclude), this.transport.position],
      thresholdSeconds: snapThreshold(view),
    };
    return (t) => {
      const result = snapTime(t, options);
      return result.snappedTo === null ? null : result.time;
    };
  }

  #onJobFinished(event: StudioEvents['jobFinished']): void {
    const job = this.jobs.find(event.jobId);
    this.jobs.onFinished(event);
    if (job === undefined) return;
    if (!event.ok && event.error !== undefined && event.error.code !== 'cancelled') {
      this.notices.error(`${job.label} failed`, event.error.message);
    } else if (event.ok && job.kind === 'export') {
      this.notices.success('Export finished', event.files?.[0]);
    }
  }

  #onTakesAdded(event: StudioEvents['takesAdded']): void {
    if (this.project === null || event.projectId !== this.project.projectId || this.document === null) return;
    let edit: Edit;
    try {
      edit = applyTakesEdit(this.document, event.takes);
    } catch (e) {
      this.notices.error('Could not add the generated takes', errorMessage(e));
      return;
    }
    const applied = applyExternal(this.history, this.document, edit);
    this.history = applied.history;
    this.document = applied.document;
  }

  // ─── models and settings ──────────────────────────────────────────────────────────────────────────────────

  async refreshModels(): Promise<void> {
    const models = await this.call('Could not list the models', (api) => api.listModels({}));
    if (models !== null) this.models = models;
  }

  async updateSettings(patch: Partial<StudioSettings>): Promise<boolean> {
    const next = await this.call('Could not change the settings', (api) => api.setSettings({ settings: patch }));
    if (next === null) return false;
    this.settings = next;
    return true;
  }

  async refreshSystemInfo(): Promise<void> {
    const info = await this.call('Could not read the system info', (api) => api.getSystemInfo({}));
    if (info !== null) this.systemInfo = info;
  }

  /** A job list for a project; a generation's span is its regions' (or its track's) for decode progress. */
  jobsFor(projectId: string): JobsState {
    return new JobsState(projectId, (job) => {
      const doc = this.document;
      const track = job.trackId === undefined ? undefined : doc?.tracks.find((t) => t.id === job.trackId);
      if (doc === null || track === undefined) return null;
      return spanOf(doc, job.regionIds.length > 0 ? job.regionIds : track.regionIds);
    });
  }

  // ─── lookups for components ───────────────────────────────────────────────────────────────────────────────

  track(id: TrackId): Track | undefined {
    return this.document?.tracks.find((t) => t.id === id);
  }

  region(id: RegionId): Region | undefined {
    return this.document?.regions[id];
  }

  /** The model a region uses, if installed. */
  model(id: string): ModelInfo | undefined {
    return this.models.find((m) => m.id === id);
  }

  /** Audition a take of a region (see TransportState.audition). */
  audition(regionId: RegionId, takeId: TakeId): void {
    void this.transport.audition(regionId, takeId);
  }
}

