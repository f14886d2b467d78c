/**
 * The StudioApi: every call the renderer (or a browser, or a test) makes to the engine host, and every event the
 * host pushes back. Each method takes ONE input object and resolves to an `ApiResult`, never rejects: thrown errors
 * lose their class across IPC, so failures travel as data with a closed set of codes. Every input has a valibot
 * schema in `API_INPUT_SCHEMAS`, which the host checks before it runs anything (src-main/host/rpc/server.ts).
 */
import * as v from 'valibot';
import { commitSchema } from './catalog.ts';
import { ProjectDocumentSchema, isId } from './project.ts';
import type { ProjectDocument, RegionId, TakeId, TakeRef, TrackId } from './project.ts';
import { DEVICES, LIMITS, limitSchema, PRECISIONS, type DevicePreference, type ExecutionProvider, type PrecisionPreference, type SamplerName } from './generation-settings.ts';

// ─── results ─────────────────────────────────────────────────────────────────────────────────────────────────

export { ERROR_CODES, isErrorCode } from './errors.ts';
export type { ApiError, ErrorCode } from './errors.ts';
import type { ApiError } from './errors.ts';

/** What every API method resolves to. */
export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiError };

// ─── input schemas ───────────────────────────────────────────────────────────────────────────────────────────

/** A host-issued opaque id (project handle, job id): 1–128 printable characters. */
const handleSchema = v.pipe(v.string(), v.regex(/^[\x21-\x7e]{1,128}$/, 'must be 1–128 printable ASCII characters'));
/** A filesystem path as the user chose it; the host resolves and checks it. */
const dirSchema = v.pipe(
  v.string(),
  v.minLength(1, 'must not be empty'),
  v.maxLength(4096, 'must be at most 4096 characters'),
  v.check((s) => !s.includes('\0'), 'must not contain NUL characters'),
);
const trackIdSchema = v.custom<TrackId>((x) => isId('trk', x), 'must be a track id "trk_…"');
const regionIdSchema = v.custom<RegionId>((x) => isId('rgn', x), 'must be a region id "rgn_…"');
const noInput = v.strictObject({});

/** How `enqueueGeneration` redoes one region: in the context of its kept neighbours, or with its whole run. */
export const GENERATION_MODES = ['in-context', 'run'] as const;
/** One of {@link GENERATION_MODES}. */
export type GenerationMode = (typeof GENERATION_MODES)[number];

/** Devices and providers (generation-settings.ts): CUDA (Linux x64), DirectML (Windows), CoreML (macOS), WebGPU, CPU. */
export type { DevicePreference, ExecutionProvider, PrecisionPreference } from './generation-settings.ts';

/** Settings of the app (not of a project). */
export interface StudioSettings {
  /**
   * Where models run; `auto` takes the platform's installed GPU provider (CUDA, DirectML, CoreML), else WebGPU where it
   * measured faster than the CPU here, else the CPU.
   */
  device: DevicePreference;
  /** ONNX Runtime intra-op threads; null lets the runtime choose. */
  intraOpThreads: number | null;
  /** Seconds between autosave journal writes; 0 turns autosave off. */
  autosaveSeconds: number;
  /** Folder where new projects go when `createProject` gets no `dir`, and that `listProjects` lists. */
  projectsDir: string;
  /** A device remembered per model id; models not listed use `device`. */
  modelDevices: Record<string, DevicePreference>;
  /**
   * The denoiser's precision per provider (`auto` when absent: float16 on a WebGPU adapter with shader-f16, `fp32`
   * keeps the pack's graph). A patch replaces the whole map.
   */
  devicePrecision?: DevicePrecision;
}

/** The denoiser's precision per provider as settings keep it (`int8` on the CPU only). */
export type DevicePrecision = { cpu?: PrecisionPreference } & Partial<Record<Exclude<ExecutionProvider, 'cpu'>, Exclude<PrecisionPreference, 'int8'>>>;

/** Precisions a GPU provider takes (`int8` is CPU only: INT8_PROVIDERS). */
const gpuPrecision = v.picklist(['auto', 'fp32'] as const satisfies readonly PrecisionPreference[], 'int8 runs on the CPU only; choose auto or fp32 for a GPU provider');

const settingsPatchSchema = v.strictObject({
  device: v.optional(v.picklist(DEVICES)),
  intraOpThreads: v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(256)))),
  autosaveSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(3600))),
  projectsDir: v.optional(dirSchema),
  modelDevices: v.optional(
    v.pipe(
      v.record(v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, 'keys must be model ids')), v.picklist(DEVICES)),
      v.check((r) => Object.keys(r).length <= 256, 'at most 256 models'),
    ),
  ),
  devicePrecision: v.optional(
    v.strictObject({
      cpu: v.optional(v.picklist(PRECISIONS)),
      cuda: v.optional(gpuPrecision),
      dml: v.optional(gpuPrecision),
      coreml: v.optional(gpuPrecision),
      webgpu: v.optional(gpuPrecision),
    }),
  ),
});

/** Export formats (mirrors the export engine's list). */
export type ExportFormatName = 'wav16' | 'wav24' | 'wav32f' | 'flac16' | 'flac24';
/** Every export format, for pickers. */
export const EXPORT_FORMAT_NAMES: readonly ExportFormatName[] = ['wav16', 'wav24', 'wav32f', 'flac16', 'flac24'];

const CreateProjectInput = v.strictObject({
  /** The new folder; `<projectsDir>/<name>` (made unique) when absent. */
  dir: v.optional(dirSchema),
  name: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
});
const OpenProjectInput = v.strictObject({ dir: dirSchema });
const SaveProjectInput = v.strictObject({ projectId: handleSchema, document: ProjectDocumentSchema });
const SaveProjectAsInput = v.strictObject({ projectId: handleSchema, dir: dirSchema, document: ProjectDocumentSchema });
const ProjectIdInput = v.strictObject({ projectId: handleSchema });
const ResolveRecoveryInput = v.strictObject({ projectId: handleSchema, accept: v.boolean() });
const EnqueueGenerationInput = v.strictObject({
  projectId: handleSchema,
  trackId: trackIdSchema,
  /** Only these regions (and the pieces they belong to); all of the track when absent. */
  regionIds: v.optional(v.pipe(v.array(regionIdSchema), v.minLength(1), v.maxLength(10_000))),
  /**
   * The document to generate from (the editor's current, possibly unsaved state). When given, the host writes the
   * takes and announces them with `takesAdded` but does not touch project.json: saving stays the user's decision.
   * When absent, the host generates from the saved document and saves it with the new takes (headless use).
   */
  document: v.optional(ProjectDocumentSchema),
  /**
   * How one region is redone: `in-context` (default) gives it alone a new take grown out of its neighbours' kept
   * latents (they keep theirs); `run` regenerates its whole run of adjacent equal-settings regions, replacing every
   * take of the run. Several regions or a whole track always regenerate their runs.
   */
  mode: v.optional(v.picklist(GENERATION_MODES)),
  /** Vary (SDEdit): the one region's own kept latent noised to this level is where its new take starts; 1 = fresh. */
  strength: v.optional(limitSchema(LIMITS.strength)),
  /**
   * Only the regions (of the track, or of `regionIds`) without an active take; each grows out of kept neighbours
   * where it touches some, and the rest generate as runs of their own, so regions with audio keep their takes.
   */
  onlyMissing: v.optional(v.boolean()),
});
const EnqueueExportInput = v.strictObject({
  projectId: handleSchema,
  /** What to export; the saved document when absent. Regions without an active take are an error. */
  document: v.optional(ProjectDocumentSchema),
  /** Output folder; `<project>/exports/<name> <timestamp>` when absent. */
  outDir: v.optional(dirSchema),
  format: v.picklist(['wav16', 'wav24', 'wav32f', 'flac16', 'flac24']),
  /** Integrated loudness target of the mix in LUFS (−14, −16, −23 or any in −70…−5); none when absent. */
  loudness: v.optional(v.pipe(v.number(), v.finite(), v.minValue(-70), v.maxValue(-5))),
  /** True-peak ceiling in dBTP when normalising (default −1). */
  truePeakCeiling: v.optional(v.pipe(v.number(), v.finite(), v.minValue(-20), v.maxValue(0))),
  /** Write one stem per track with `stem` on (default true). */
  stems: v.optional(v.boolean()),
});
const ModelIdInput = v.strictObject({ id: v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, 'must be a model id (lowercase letters, digits, ".", "_", "-")')) });
const InstallModelInput = v.strictObject({
  id: ModelIdInput.entries.id,
  /** The user accepted the model's licence (shown from `listCatalog`); installs are refused without it. */
  acceptLicence: v.literal(true, 'the licence must be accepted first (acceptLicence: true)'),
  /** Commits the user entered for repos the catalog does not pin (`CatalogModelInfo.unpinned`), by repo id. */
  revisions: v.optional(v.pipe(v.record(v.pipe(v.string(), v.maxLength(200)), commitSchema), v.maxEntries(8))),
});
const ImportModelInput = v.strictObject({
  dir: dirSchema,
  replace: v.optional(v.boolean()),
  /** A diffusers AudioLDM folder only (converted on import): the pack id (default: from the folder's name). */
  id: v.optional(v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9._-]{0,127}$/, 'must be lowercase letters, digits, ".", "_" or "-" (e.g. audioldm-s-full-v2)'))),
  /** A diffusers folder only: the UNet's head split, `original` (AudioLDM's, default) or as its config says. */
  heads: v.optional(v.picklist(['original', 'config'])),
  /** A diffusers folder only: a float16 UNet (normalisations in float32). */
  unetFp16: v.optional(v.boolean()),
});

/** A path under an open project that the renderer may fetch (`takes/…` or `peaks/…`). */
const ResolveAssetInput = v.strictObject({
  projectId: handleSchema,
  path: v.pipe(v.string(), v.minLength(1), v.maxLength(1024)),
});
const CancelJobInput = v.strictObject({ jobId: handleSchema, hard: v.optional(v.boolean()) });
const ListJobsInput = v.strictObject({ projectId: v.optional(handleSchema) });
const SetSettingsInput = v.strictObject({ settings: settingsPatchSchema });
const GetSystemInfoInput = v.strictObject({
  /** Measure WebGPU against the CPU again now (seconds) and keep the result for `auto`; default: the kept measurement. */
  remeasure: v.optional(v.boolean()),
});

/** Input of `createProject`. */
export type CreateProjectRequest = v.InferOutput<typeof CreateProjectInput>;
/** Input of `openProject`. */
export type OpenProjectRequest = v.InferOutput<typeof OpenProjectInput>;
/** Input of `saveProject` and `autosaveProject`. */
export type SaveProjectRequest = v.InferOutput<typeof SaveProjectInput>;
/** Input of `saveProjectAs`: the project moves to `dir` (a new or empty folder, takes copied) and stays open. */
export type SaveProjectAsRequest = v.InferOutput<typeof SaveProjectAsInput>;
/** Input of `resolveRecovery`: take the autosave (`accept`) or throw it away. */
export type ResolveRecoveryRequest = v.InferOutput<typeof ResolveRecoveryInput>;
/** Input of `enqueueExport`. */
export type EnqueueExportRequest = v.InferOutput<typeof EnqueueExportInput>;
/** Input of `resolveAsset`. */
export type ResolveAssetRequest = v.InferOutput<typeof ResolveAssetInput>;
/** Input naming one model. */
export type ModelIdRequest = v.InferOutput<typeof ModelIdInput>;
/** Input of `installModel`. */
export type InstallModelRequest = v.InferOutput<typeof InstallModelInput>;
/** Input of `importModel`: a pack folder to copy into the models folder. */
export type ImportModelRequest = v.InferOutput<typeof ImportModelInput>;
/** Input naming one open project. */
export type ProjectIdRequest = v.InferOutput<typeof ProjectIdInput>;
/** Input of `enqueueGeneration`. */
export type EnqueueGenerationRequest = v.InferOutput<typeof EnqueueGenerationInput>;
/** Input of `cancelJob`; `hard` kills and respawns the engine instead of stopping between steps. */
export type CancelJobRequest = v.InferOutput<typeof CancelJobInput>;
/** Input of `listJobs`; all projects' jobs when `projectId` is absent. */
export type ListJobsRequest = v.InferOutput<typeof ListJobsInput>;
/** Input of `setSettings`: only the fields to change. */
export type SetSettingsRequest = v.InferOutput<typeof SetSettingsInput>;
/** Input of methods that take nothing (`{}`). */
export type NoInput = v.InferOutput<typeof noInput>;
/** Input of `getSystemInfo`. */
export type GetSystemInfoRequest = v.InferOutput<typeof GetSystemInfoInput>;

// ─── outputs ─────────────────────────────────────────────────────────────────────────────────────────────────

/** An open project: the handle later calls use, and its document. */
export interface OpenedProjectInfo {
  projectId: string;
  /** Absolute project folder. */
  dir: string;
  document: ProjectDocument;
  /** An autosave journal newer than project.json exists; the UI offers to restore it (`resolveRecovery`). */
  recoveryAvailable: boolean;
  /** When that autosave was written, ISO 8601; null without one. */
  recoverySavedAt: string | null;
  /** Things worth telling the user that did not stop the open (missing take files, a migration, …). */
  warnings: string[];
}

/** A project folder found in the projects folder. */
export interface ProjectSummary {
  name: string;
  dir: string;
  /** project.json's modification time, ISO 8601. */
  modifiedAt: string;
}

/** Where a job is in its life. */
export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** What a job does. */
export type JobKind = 'generate' | 'export';

/** One job (generation or export) as the queue shows it. */
export interface JobInfo {
  jobId: string;
  kind: JobKind;
  projectId: string;
  /** A short description for the queue ("Generate Drums", "Export WAV 24-bit"). */
  label: string;
  /** The generated track; absent for exports. */
  trackId?: TrackId;
  /** The regions asked for (empty = all of the track). */
  regionIds: RegionId[];
  state: JobState;
  /** When it was queued, started and ended, ISO 8601. */
  queuedAt: string;
  startedAt?: string;
  finishedAt?: string;
  error?: ApiError;
  /** Files an export wrote (absolute paths), in order: mixdown first, then stems. */
  files?: string[];
}

/** The licence a model pack is distributed under. */
export interface ModelLicence {
  name: string;
  url?: string;
  text?: string;
}

/** An installed model pack. */
export interface ModelInfo {
  /** Pack id (`sketch`). */
  id: string;
  name: string;
  /** Model family (`audioldm`). */
  family: string;
  version: string;
  /** Built by Tessera itself (no download, a demo or test model). */
  builtin: boolean;
  description: string;
  sampleRate: number;
  channels: number;
  /** The model's trained window, seconds; longer pieces are tiled. */
  nativeSeconds: number;
  defaultSteps: number;
  defaultGuidance: number;
  /** The samplers this model runs, its default first (generation-settings.ts: its family's samplers). */
  samplers: SamplerName[];
  licence: ModelLicence;
  /** Bytes on disk (graphs, tokenizer, manifest). */
  sizeBytes: number;
  /** Execution providers it can run on here. */
  devices: ExecutionProvider[];
}

/** Where a model of the catalog stands on this machine. */
export type CatalogStatus = 'builtin' | 'installed' | 'damaged' | 'partial' | 'available' | 'export';

/** One row of the model manager: built-in, installed, imported or known to the catalog. */
export interface CatalogModelInfo {
  id: string;
  name: string;
  family: string;
  status: CatalogStatus;
  /** Download or pack size; null when the catalog does not know it yet. */
  sizeBytes: number | null;
  sizeIsEstimate: boolean;
  /** Bytes on disk now (installed folder or partial download). */
  diskBytes: number;
  licence: { name: string; url?: string; text?: string; commercialUse?: string };
  origin: 'builtin' | 'catalog' | 'import';
  version?: string;
  /** Why it is damaged, or how to get an export-only model. */
  problem?: string;
  /** An install of it is running. */
  installing: boolean;
  /**
   * Repos whose commit the catalog does not pin: the user enters each before downloading (`installModel.revisions`).
   * `candidate` is an unchecked suggestion; `entered` the commit given for the download in progress, if any.
   */
  unpinned?: Array<{ repo: string; note?: string; candidate?: string; entered?: string }>;
}

/** Disk use of the models folder. */
export interface ModelsDiskInfo {
  dir: string;
  installedBytes: number;
  partialBytes: number;
  /** Free space on the models folder's disk; null when unknown. */
  freeBytes: number | null;
}

/** One ONNX Runtime execution provider as probed on this machine. */
export interface ProviderInfo {
  id: ExecutionProvider;
  available: boolean;
  /** Why it is not available (missing libraries, no GPU, no WebGPU adapter). */
  reason?: string;
  /** WebGPU: the adapter runs float16 kernels (shader-f16), so precision `auto` runs the denoiser in float16. */
  shaderF16?: boolean;
  /** WebGPU: the reference workload's speed as a multiple of the CPU's, measured once on this machine. */
  speedup?: { ratio: number; atMost: boolean; measuredAt: string; reason: string };
}

/** What the host runs on. */
export interface SystemInfo {
  version: string;
  platform: string;
  providers: ProviderInfo[];
  /** What device `auto` runs on here, and why WebGPU is or is not used (e.g. its measured speed). */
  auto?: { provider: ExecutionProvider; reason?: string };
}

/** An asset path resolved to a file the transport may serve. */
export interface ResolvedAsset {
  /** Absolute path of the file. */
  file: string;
  /** MIME type (`audio/wav`, `application/octet-stream`). */
  contentType: string;
  size: number;
}

/**
 * Multi-resolution peaks of a take (ARCHITECTURE.md §5 `peaks/`): for each level, samples of the take per peak
 * pair. A level file holds little-endian int16 pairs `min, max` (÷ 32767 → −1…1) of all channels together, one
 * pair per `samplesPerPeak` samples (the last pair covers what is left). A renderer picks the coarsest level that
 * still gives at least one pair per pixel at its zoom.
 */
export const PEAK_LEVELS = [32, 128, 512, 2048, 8192] as const;
/** One of {@link PEAK_LEVELS}. */
export type PeakLevel = (typeof PEAK_LEVELS)[number];

/** The asset path of a take's audio (`prj_x/takes/….wav`); transports serve it below their asset base URL. */
export function takeAssetPath(projectId: string, takeFile: string): string {
  return `${projectId}/${takeFile}`;
}

/** The asset path of one peaks level of a take (`prj_x/peaks/take_y/512.i16`). */
export function peaksAssetPath(projectId: string, takeId: TakeId, samplesPerPeak: PeakLevel): string {
  return `${projectId}/peaks/${takeId}/${samplesPerPeak}.i16`;
}

// ─── the API ─────────────────────────────────────────────────────────────────────────────────────────────────

/** The host's API; see the module comment. Methods are grouped by domain. */
export interface StudioApi {
  // projects
  /** Makes a new project folder with one empty track and opens it. */
  createProject(input: CreateProjectRequest): Promise<ApiResult<OpenedProjectInfo>>;
  /** Opens (locks, migrates, validates) an existing project folder. */
  openProject(input: OpenProjectRequest): Promise<ApiResult<OpenedProjectInfo>>;
  /** Writes the document atomically; returns the document as stored. */
  saveProject(input: SaveProjectRequest): Promise<ApiResult<ProjectDocument>>;
  /** Copies the project (document, takes, peaks) to a new folder and continues there; the old one is unlocked. */
  saveProjectAs(input: SaveProjectAsRequest): Promise<ApiResult<OpenedProjectInfo>>;
  /** Writes the autosave journal (not project.json). */
  autosaveProject(input: SaveProjectRequest): Promise<ApiResult<null>>;
  /** Accepts (returns the autosaved document, not yet saved) or discards (returns the saved one) a recovery. */
  resolveRecovery(input: ResolveRecoveryRequest): Promise<ApiResult<ProjectDocument>>;
  /** Project folders in the projects folder, newest first. */
  listProjects(input: NoInput): Promise<ApiResult<ProjectSummary[]>>;
  /** Releases the project's lock; its id becomes invalid. */
  closeProject(input: ProjectIdRequest): Promise<ApiResult<null>>;
  // generation jobs
  /** Queues generation of a track (or of the pieces holding `regionIds`). */
  enqueueGeneration(input: EnqueueGenerationRequest): Promise<ApiResult<{ jobId: string }>>;
  /** Queues an export of the mixdown and stems; `jobFinished.files` lists what it wrote. */
  enqueueExport(input: EnqueueExportRequest): Promise<ApiResult<{ jobId: string }>>;
  /** Soft: stops between steps. Hard: kills and restarts the engine process; the job fails, the queue goes on. */
  cancelJob(input: CancelJobRequest): Promise<ApiResult<null>>;
  listJobs(input: ListJobsRequest): Promise<ApiResult<JobInfo[]>>;
  // assets (take audio and peaks are files: transports serve them, RPC payloads never carry them)
  /** Checks that `path` names a take or peaks file of the open project and returns it (peaks built on demand). */
  resolveAsset(input: ResolveAssetRequest): Promise<ApiResult<ResolvedAsset>>;
  // models
  /** Installed packs that can generate (built-in, downloaded, imported). */
  listModels(input: NoInput): Promise<ApiResult<ModelInfo[]>>;
  /** The model manager's view: every catalog entry and installed pack with its status, licence and size. */
  listCatalog(input: NoInput): Promise<ApiResult<{ models: CatalogModelInfo[]; disk: ModelsDiskInfo }>>;
  /** Starts downloading a catalog model (progress: `modelProgress`, then `modelInstalled` or `modelFailed`). */
  installModel(input: InstallModelRequest): Promise<ApiResult<null>>;
  /** Stops a running install; what was downloaded stays for a later resume. */
  cancelModelInstall(input: ModelIdRequest): Promise<ApiResult<null>>;
  /** Copies and verifies a pack folder (e.g. an exported AudioLDM) into the models folder. */
  importModel(input: ImportModelRequest): Promise<ApiResult<ModelInfo>>;
  /** Deletes an installed or partial model. */
  removeModel(input: ModelIdRequest): Promise<ApiResult<{ freedBytes: number }>>;
  // settings
  getSettings(input: NoInput): Promise<ApiResult<StudioSettings>>;
  /** Applies the given fields; returns the full settings after the change. */
  setSettings(input: SetSettingsRequest): Promise<ApiResult<StudioSettings>>;
  /** Versions, the execution providers usable here and what `auto` picks (`remeasure`: measure WebGPU again first). */
  getSystemInfo(input: GetSystemInfoRequest): Promise<ApiResult<SystemInfo>>;
  // health
  /** Liveness check; `version` is the host's app version. */
  ping(input: NoInput): Promise<ApiResult<{ pong: true; version: string }>>;
}

/** The name of an API method. */
export type StudioMethod = keyof StudioApi;
/** The input object of method `K`. */
export type StudioInput<K extends StudioMethod> = Parameters<StudioApi[K]>[0];
/** The value a successful call of `K` carries. */
export type StudioOutput<K extends StudioMethod> =
  Awaited<ReturnType<StudioApi[K]>> extends ApiResult<infer T> ? T : never;

/** The schema of every method's input; a method missing here fails to compile. */
export const API_INPUT_SCHEMAS: { readonly [K in StudioMethod]: v.GenericSchema<unknown, StudioInput<K>> } = {
  createProject: CreateProjectInput,
  openProject: OpenProjectInput,
  saveProject: SaveProjectInput,
  saveProjectAs: SaveProjectAsInput,
  autosaveProject: SaveProjectInput,
  resolveRecovery: ResolveRecoveryInput,
  listProjects: noInput,
  closeProject: ProjectIdInput,
  enqueueGeneration: EnqueueGenerationInput,
  enqueueExport: EnqueueExportInput,
  cancelJob: CancelJobInput,
  listJobs: ListJobsInput,
  resolveAsset: ResolveAssetInput,
  listModels: noInput,
  listCatalog: noInput,
  installModel: InstallModelInput,
  cancelModelInstall: ModelIdInput,
  importModel: ImportModelInput,
  removeModel: ModelIdInput,
  getSettings: noInput,
  setSettings: SetSettingsInput,
  getSystemInfo: GetSystemInfoInput,
  ping: noInput,
};

/** Every method name, in declaration order. */
export const STUDIO_METHODS = Object.keys(API_INPUT_SCHEMAS) as StudioMethod[];

/** True when `name` names an API method (own key, so `toString` or `__proto__` never match). */
export function isStudioMethod(name: unknown): name is StudioMethod {
  return typeof name === 'string' && Object.hasOwn(API_INPUT_SCHEMAS, name);
}

// ─── events ──────────────────────────────────────────────────────────────────────────────────────────────────

/** Stages of a job, in order (`exporting` for exports). */
export type JobStage = 'queued' | 'loading' | 'encoding' | 'denoising' | 'decoding' | 'writing' | 'exporting';

/** Events the host pushes to every connected client, by name. */
export interface StudioEvents {
  /** Progress of a running job; `window`/`windows` for long-form tiling, `eta` in seconds. */
  jobProgress: {
    jobId: string;
    stage: JobStage;
    step: number;
    steps: number;
    window?: number;
    windows?: number;
    eta?: number;
  };
  /**
   * Finished audio of a running generation, as peaks, while it is decoded chunk by chunk: pairs `min, max`
   * (−1…1) of `samplesPerPeak` samples each, starting at `start` seconds on the timeline of `trackId`.
   */
  jobPreview: {
    jobId: string;
    projectId: string;
    trackId: TrackId;
    start: number;
    sampleRate: number;
    samplesPerPeak: number;
    peaks: number[];
  };
  /** A job was queued or changed state (the whole record, for queue views). */
  jobUpdated: { job: JobInfo };
  /** A job ended; `error` is set when `ok` is false (`cancelled` for a cancel); `files` for exports. */
  jobFinished: { jobId: string; ok: boolean; error?: ApiError; files?: string[] };
  /** A generation wrote takes (each made the region's active take); apply them to the editor's document. */
  takesAdded: { projectId: string; jobId: string; takes: { regionId: RegionId; take: TakeRef }[] };
  /** The project's saved document changed on the host side (a headless generation saved new takes). */
  projectChanged: { projectId: string };
  /** The engine process was restarted (crash or hard cancel). */
  engineRestarted: { reason: string };
  /**
   * A model download advanced (bytes, speed, ETA). `convert` (catalog entries converted on this machine): `file` is
   * the converter's stage, and the bytes count its work from 0 to its total, after the download's.
   */
  modelProgress: {
    id: string;
    phase: 'download' | 'verify' | 'convert' | 'install';
    file: string;
    bytesDone: number;
    bytesTotal: number | null;
    bytesPerSecond: number;
    etaSeconds: number | null;
  };
  /** A model finished installing (and is now in `listModels`). */
  modelInstalled: { id: string };
  /** A model install failed or was cancelled (`cancelled`); partial files stay for a resume. */
  modelFailed: { id: string; error: ApiError };
  /** A model was removed. */
  modelRemoved: { id: string };
}

/** The name of an event. */
export type StudioEventName = keyof StudioEvents;

const EVENT_NAME_SET: { readonly [K in StudioEventName]: true } = {
  jobProgress: true,
  jobPreview: true,
  jobUpdated: true,
  jobFinished: true,
  takesAdded: true,
  projectChanged: true,
  engineRestarted: true,
  modelProgress: true,
  modelInstalled: true,
  modelFailed: true,
  modelRemoved: true,
};

/** Every event name; a new event missing here fails to compile. */
export const STUDIO_EVENT_NAMES = Object.keys(EVENT_NAME_SET) as StudioEventName[];

/** True when `name` names an event. */
export function isStudioEventName(name: unknown): name is StudioEventName {
  return typeof name === 'string' && Object.hasOwn(EVENT_NAME_SET, name);
}
