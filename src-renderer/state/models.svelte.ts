/**
 * The model manager's state: the host's catalog (`listCatalog`: built-in, installed, imported, partial, available
 * and export-only models with the disk use of the models folder) and the installs running, fed by the host's
 * `modelProgress` / `modelInstalled` / `modelFailed` / `modelRemoved` events. Downloads keep running while the
 * manager is closed; a finished install, import or removal also reloads `listModels` for the inspector's picker.
 */
import type { ApiResult, CatalogModelInfo, ModelInfo, ModelsDiskInfo, StudioApi, StudioEvents } from '../../src-main/contract/api.ts';
import { formatBytes, progressFraction, type ModelProgress } from './model-format.ts';
import type { Notices } from './notices.svelte.ts';

/** What the catalog needs of the studio. */
export interface CatalogHost {
  /** The host's API while connected. */
  readonly api: StudioApi | null;
  readonly notices: Notices;
  /** Reloads the installed models (`listModels`) that pickers offer. */
  refreshModels(): Promise<void>;
}

/** The model catalog of one window. */
export class ModelCatalogState {
  rows = $state.raw<readonly CatalogModelInfo[]>([]);
  disk = $state.raw<ModelsDiskInfo | null>(null);
  /** The first `listCatalog` answered. */
  loaded = $state(false);
  loading = $state(false);
  loadError = $state<string | null>(null);
  /** The last progress event of each running install. */
  progress = $state.raw<Readonly<Record<string, ModelProgress>>>({});
  /** Installs running on the host, as this window knows them. */
  running = $state.raw<ReadonlySet<string>>(new Set());
  /** Ids with a call in flight (starting, cancelling, removing), for disabled buttons. */
  pending = $state.raw<ReadonlySet<string>>(new Set());
  /** The last failure of an id's install or removal (not a cancel), shown on its row until the next attempt. */
  failures = $state.raw<Readonly<Record<string, string>>>({});

  /**
   * The last progress event of a diffusers folder being converted by an import from this window (the Import form
   * shows it, with Cancel); null when none runs.
   */
  importProgress = $state.raw<ModelProgress | null>(null);

  /** The share done of the first running download with a known size (the taskbar's progress); null for none. */
  downloadFraction = $derived(this.#firstFraction());

  /** Installs started here whose first event has not come yet (a refresh may not list them as installing). */
  #starting = new Set<string>();
  /** Imports in flight from this window, and the ids their conversions report progress under. */
  #imports = 0;
  #importIds = new Set<string>();
  #refreshing: Promise<void> | null = null;
  #again = false;

  constructor(private readonly host: CatalogHost) {}

  /** True while an install of `id` runs. */
  isInstalling(id: string): boolean {
    return this.running.has(id);
  }

  /** A row's display name (the id when the catalog does not list it). */
  nameOf(id: string): string {
    return this.rows.find((r) => r.id === id)?.name ?? id;
  }

  /** Reloads the catalog; calls made while one runs coalesce into one more. */
  refresh(): Promise<void> {
    if (this.#refreshing !== null) {
      this.#again = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      try {
        do {
          this.#again = false;
          await this.#load();
        } while (this.#again);
      } finally {
        this.#refreshing = null;
      }
    })();
    return this.#refreshing;
  }

  async #load(): Promise<void> {
    const api = this.host.api;
    if (api === null) {
      this.loadError = 'Not connected to the Tessera host.';
      return;
    }
    this.loading = true;
    try {
      const result = await api.listCatalog({});
      if (!result.ok) {
        this.loadError = result.error.message;
        return;
      }
      this.rows = result.value.models;
      this.disk = result.value.disk;
      this.loadError = null;
      this.loaded = true;
      this.running = new Set([...result.value.models.filter((m) => m.installing).map((m) => m.id), ...this.#starting]);
      const progress = Object.fromEntries(Object.entries(this.progress).filter(([id]) => this.running.has(id)));
      if (Object.keys(progress).length !== Object.keys(this.progress).length) this.progress = progress;
    } finally {
      this.loading = false;
    }
  }

  /**
   * Starts (or resumes) downloading `id`; the caller has shown its licence and the user accepted it. `revisions`
   * holds the commits the user entered for repos the catalog does not pin (a resume reuses the ones given before).
   */
  async install(id: string, revisions?: Record<string, string>): Promise<boolean> {
    const api = this.#api();
    if (api === null) return false;
    this.#clearFailure(id);
    this.#starting.add(id);
    this.running = withItem(this.running, id);
    const result = await this.#pendingCall(id, () => api.installModel({ id, acceptLicence: true, ...(revisions && Object.keys(revisions).length > 0 ? { revisions } : {}) }));
    if (result.ok) return true;
    this.#starting.delete(id);
    this.running = withoutItem(this.running, id);
    this.failures = { ...this.failures, [id]: result.error.message };
    this.host.notices.error(`Could not start downloading ${this.nameOf(id)}`, result.error.message);
    void this.refresh();
    return false;
  }

  /** Stops a running install; what was downloaded stays, so the row offers Resume. */
  async cancel(id: string): Promise<void> {
    const api = this.#api();
    if (api === null) return;
    const result = await this.#pendingCall(id, () => api.cancelModelInstall({ id }));
    // not-found: it ended on its own meanwhile; its event tells how.
    if (!result.ok && result.error.code !== 'not-found') this.host.notices.error(`Could not cancel downloading ${this.nameOf(id)}`, result.error.message);
    if (!result.ok) void this.refresh();
  }

  /** Deletes an installed, imported, damaged or partial model. */
  async remove(id: string): Promise<boolean> {
    const api = this.#api();
    if (api === null) return false;
    const name = this.nameOf(id);
    this.#clearFailure(id);
    const result = await this.#pendingCall(id, () => api.removeModel({ id }));
    if (!result.ok) {
      this.failures = { ...this.failures, [id]: result.error.message };
      this.host.notices.error(`Could not remove ${name}`, result.error.message);
      return false;
    }
    this.host.notices.success(`Removed ${name}`, `${formatBytes(result.value.freedBytes)} freed`);
    await this.#afterChange();
    return true;
  }

  /**
   * Copies and verifies a pack folder into the models folder; the result goes back to the caller, which shows a
   * failure with the host's message next to the folder field.
   */
  async importPack(dir: string, replace: boolean): Promise<ApiResult<ModelInfo>> {
    const api = this.host.api;
    if (api === null) return { ok: false, error: { code: 'io-error', message: 'Not connected to the Tessera host.' } };
    this.#imports++;
    let result: ApiResult<ModelInfo>;
    try {
      result = await api.importModel(replace ? { dir, replace: true } : { dir });
    } finally {
      this.#imports--;
    }
    if (result.ok) {
      this.host.notices.success(`Imported ${result.value.name}`, `${formatBytes(result.value.sizeBytes)} · now in the model picker`);
      await this.#afterChange();
    }
    return result;
  }

  // ─── host events ──────────────────────────────────────────────────────────────────────────────────────────

  onProgress(event: StudioEvents['modelProgress']): void {
    // A conversion nobody here started as a download, seen while an import runs, is that import's (ModelManager.import).
    if (this.#imports > 0 && event.phase === 'convert' && !this.running.has(event.id) && !this.#starting.has(event.id)) this.#importIds.add(event.id);
    if (this.#importIds.has(event.id)) this.importProgress = event;
    this.#starting.delete(event.id);
    if (!this.running.has(event.id)) this.running = withItem(this.running, event.id);
    this.progress = { ...this.progress, [event.id]: event };
  }

  onInstalled(event: StudioEvents['modelInstalled']): void {
    const downloaded = this.running.has(event.id) && !this.#endImport(event.id);
    this.#ended(event.id);
    // An import announces itself the same way; its caller already said so.
    if (downloaded) this.host.notices.success(`${this.nameOf(event.id)} is installed`, 'It is now in the model picker.');
    void this.#afterChange();
  }

  onFailed(event: StudioEvents['modelFailed']): void {
    if (this.#endImport(event.id)) {
      // The Import form shows the import's error (or its cancel) next to the folder.
      this.#ended(event.id);
      void this.refresh();
      return;
    }
    this.#ended(event.id);
    const name = this.nameOf(event.id);
    if (event.error.code === 'cancelled') this.host.notices.info(`Download of ${name} stopped`, 'What was downloaded is kept: Resume continues from there.');
    else {
      this.failures = { ...this.failures, [event.id]: event.error.message };
      this.host.notices.error(`Downloading ${name} failed`, event.error.message);
    }
    void this.refresh();
  }

  onRemoved(): void {
    void this.#afterChange();
  }

  // ─── helpers ──────────────────────────────────────────────────────────────────────────────────────────────

  #api(): StudioApi | null {
    const api = this.host.api;
    if (api === null) this.host.notices.error('Not connected to the Tessera host.');
    return api;
  }

  async #pendingCall<T>(id: string, run: () => Promise<ApiResult<T>>): Promise<ApiResult<T>> {
    this.pending = withItem(this.pending, id);
    try {
      return await run();
    } finally {
      this.pending = withoutItem(this.pending, id);
    }
  }

  #ended(id: string): void {
    this.#starting.delete(id);
    this.running = withoutItem(this.running, id);
    if (id in this.progress) this.progress = withoutKey(this.progress, id);
  }

  /** Forgets the import converting under `id`; true when there was one. */
  #endImport(id: string): boolean {
    if (!this.#importIds.delete(id)) return false;
    if (this.importProgress?.id === id) this.importProgress = null;
    return true;
  }

  #clearFailure(id: string): void {
    if (id in this.failures) this.failures = withoutKey(this.failures, id);
  }

  async #afterChange(): Promise<void> {
    await Promise.all([this.refresh(), this.host.refreshModels()]);
  }

  #firstFraction(): number | null {
    for (const id of this.running) {
      const p = this.progress[id];
      // The bar fills once while downloading and once more while a checkpoint is converted.
      const f = p === undefined || (p.phase !== 'download' && p.phase !== 'convert') ? null : progressFraction(p);
      if (f !== null) return f;
    }
    return null;
  }
}

function withoutKey<T>(record: Readonly<Record<string, T>>, key: string): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter(([k]) => k !== key));
}

function withItem(set: ReadonlySet<string>, item: string): ReadonlySet<string> {
  return set.has(item) ? set : new Set([...set, item]);
}

function withoutItem(set: ReadonlySet<string>, item: string): ReadonlySet<string> {
  if (!set.has(item)) return set;
  const next = new Set(set);
  next.delete(item);
  return next;
}
