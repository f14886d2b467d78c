/**
 * The StudioApi: every call the renderer (or a browser, or a test) makes to the engine host, and every event the
 * host pushes back. Each method takes ONE input object and resolves to an `ApiResult`, never rejects: thrown errors
 * lose their class across IPC, so failures travel as data with a closed set of codes. Every input has a valibot
 * schema in `API_INPUT_SCHEMAS`, which the host checks before it runs anything (src-main/host/rpc/server.ts).
 */
import * as v from 'valibot';
import { ProjectDocumentSchema, isId } from './project.ts';
import type { ProjectDocument, RegionId, TrackId } from './project.ts';

// ─── results ─────────────────────────────────────────────────────────────────────────────────────────────────

/** Why a call failed. A superset of ProjectErrorCode, so project errors map one to one. */
export type ErrorCode =
  | 'invalid-argument'
  | 'not-found'
  | 'model-error'
  | 'cancelled'
  | 'io-error'
  | 'busy'
  | 'locked'
  | 'future-version'
  | 'corrupt'
  | 'internal';

/** Every error code, for exhaustive checks and for telling a coded error from an arbitrary `code` property. */
export const ERROR_CODES: readonly ErrorCode[] = [
  'invalid-argument',
  'not-found',
  'model-error',
  'cancelled',
  'io-error',
  'busy',
  'locked',
  'future-version',
  'corrupt',
  'internal',
];

/** True when `value` is one of the API's error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}

/** A failure as it crosses the process boundary; `details` is plain JSON (e.g. `{ issues: [{path, message}] }`). */
export interface ApiError {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

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

/** Compute device preference for the engine. */
export type DevicePreference = 'auto' | 'cpu' | 'cuda';

/** Settings of the app (not of a project). */
export interface StudioSettings {
  /** Where models run; `auto` takes CUDA when a usable GPU is present. */
  device: DevicePreference;
  /** ONNX Runtime intra-op threads; null lets the runtime choose. */
  intraOpThreads: number | null;
  /** Seconds between autosave journal writes; 0 turns autosave off. */
  autosaveSeconds: number;
}

const settingsPatchSchema = v.strictObject({
  device: v.optional(v.picklist(['auto', 'cpu', 'cuda'])),
  intraOpThreads: v.optional(v.nullable(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(256)))),
  autosaveSeconds: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(3600))),
});

const CreateProjectInput = v.strictObject({ dir: dirSchema, name: v.pipe(v.string(), v.minLength(1), v.maxLength(200)) });
const OpenProjectInput = v.strictObject({ dir: dirSchema });
const SaveProjectInput = v.strictObject({ projectId: handleSchema, document: ProjectDocumentSchema });
const ProjectIdInput = v.strictObject({ projectId: handleSchema });
const EnqueueGenerationInput = v.strictObject({
  projectId: handleSchema,
  trackId: trackIdSchema,
  /** Only these regions (and the pieces they belong to); all of the track when absent. */
  regionIds: v.optional(v.pipe(v.array(regionIdSchema), v.minLength(1), v.maxLength(10_000))),
});
const CancelJobInput = v.strictObject({ jobId: handleSchema, hard: v.optional(v.boolean()) });
const ListJobsInput = v.strictObject({ projectId: v.optional(handleSchema) });
const SetSettingsInput = v.strictObject({ settings: settingsPatchSchema });

/** Input of `createProject`. */
export type CreateProjectRequest = v.InferOutput<typeof CreateProjectInput>;
/** Input of `openProject`. */
export type OpenProjectRequest = v.InferOutput<typeof OpenProjectInput>;
/** Input of `saveProject` and `autosaveProject`. */
export type SaveProjectRequest = v.InferOutput<typeof SaveProjectInput>;
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

// ─── outputs ─────────────────────────────────────────────────────────────────────────────────────────────────

/** An open project: the handle later calls use, and its document. */
export interface OpenedProjectInfo {
  projectId: string;
  /** Absolute project folder. */
  dir: string;
  document: ProjectDocument;
  /** An autosave journal newer than project.json exists; the UI offers to restore it. */
  recoveryAvailable: boolean;
}

/** Where a job is in its life. */
export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** One generation job as the queue shows it. */
export interface JobInfo {
  jobId: string;
  projectId: string;
  trackId: TrackId;
  regionIds: RegionId[];
  state: JobState;
  /** When it was queued, ISO 8601. */
  queuedAt: string;
  error?: ApiError;
}

/** An installed model pack. */
export interface ModelInfo {
  /** Pack id (`sketch`). */
  id: string;
  name: string;
  sampleRate: number;
  /** Devices it can run on here. */
  devices: ('cpu' | 'cuda')[];
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
  /** Writes the autosave journal (not project.json). */
  autosaveProject(input: SaveProjectRequest): Promise<ApiResult<null>>;
  /** Releases the project's lock; its id becomes invalid. */
  closeProject(input: ProjectIdRequest): Promise<ApiResult<null>>;
  // generation jobs
  /** Queues generation of a track (or of the pieces holding `regionIds`). */
  enqueueGeneration(input: EnqueueGenerationRequest): Promise<ApiResult<{ jobId: string }>>;
  cancelJob(input: CancelJobRequest): Promise<ApiResult<null>>;
  listJobs(input: ListJobsRequest): Promise<ApiResult<JobInfo[]>>;
  // models
  listModels(input: NoInput): Promise<ApiResult<ModelInfo[]>>;
  // settings
  getSettings(input: NoInput): Promise<ApiResult<StudioSettings>>;
  /** Applies the given fields; returns the full settings after the change. */
  setSettings(input: SetSettingsRequest): Promise<ApiResult<StudioSettings>>;
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
  autosaveProject: SaveProjectInput,
  closeProject: ProjectIdInput,
  enqueueGeneration: EnqueueGenerationInput,
  cancelJob: CancelJobInput,
  listJobs: ListJobsInput,
  listModels: noInput,
  getSettings: noInput,
  setSettings: SetSettingsInput,
  ping: noInput,
};

/** Every method name, in declaration order. */
export const STUDIO_METHODS = Object.keys(API_INPUT_SCHEMAS) as StudioMethod[];

/** True when `name` names an API method (own key, so `toString` or `__proto__` never match). */
export function isStudioMethod(name: unknown): name is StudioMethod {
  return typeof name === 'string' && Object.hasOwn(API_INPUT_SCHEMAS, name);
}

// ─── events ──────────────────────────────────────────────────────────────────────────────────────────────────

/** Stages of a generation job, in order. */
export type JobStage = 'queued' | 'loading' | 'encoding' | 'denoising' | 'decoding' | 'writing';

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
  /** A job ended; `error` is set when `ok` is false (`cancelled` for a cancel). */
  jobFinished: { jobId: string; ok: boolean; error?: ApiError };
  /** The project's document changed on the host side (e.g. a take was added). */
  projectChanged: { projectId: string };
  /** The engine process was restarted (crash or hard cancel). */
  engineRestarted: { reason: string };
}

/** The name of an event. */
export type StudioEventName = keyof StudioEvents;

const EVENT_NAME_SET: { readonly [K in StudioEventName]: true } = {
  jobProgress: true,
  jobFinished: true,
  projectChanged: true,
  engineRestarted: true,
};

/** Every event name; a new event missing here fails to compile. */
export const STUDIO_EVENT_NAMES = Object.keys(EVENT_NAME_SET) as StudioEventName[];

/** True when `name` names an event. */
export function isStudioEventName(name: unknown): name is StudioEventName {
  return typeof name === 'string' && Object.hasOwn(EVENT_NAME_SET, name);
}
