/**
 * Messages between the studio host and its engine worker process (engine-worker.ts ↔ worker-main.ts). The worker
 * owns the ONNX sessions and runs one generation at a time; the host keeps the queue, so killing the worker (hard
 * cancel, crash) loses one job and nothing else. Messages travel over Node's IPC channel (advanced serialization).
 */
import type { ApiError, ErrorCode, JobStage } from '../../contract/api.ts';
import type { NewTake } from '../../contract/takes.ts';
import type { DevicePreference, ExecutionProvider, PrecisionPreference } from '../../contract/generation-settings.ts';
import type { PieceJob } from '../generation/plan.ts';
import type { ConvertOptions, ConvertResult, ConvertStage } from '../models/convert/audioldm.ts';

/** Generate the planned pieces (generation/plan.ts), writing their takes into the project at `projectDir`. */
export interface RunMessage {
  type: 'run';
  jobId: string;
  projectDir: string;
  /** Each piece with the device its model runs on (settings: the model's remembered device, else the default). */
  pieces: { job: PieceJob; device: DevicePreference }[];
  intraOpThreads: number | null;
  /** The denoiser's precision per provider (settings `devicePrecision`; `auto` when absent). */
  devicePrecision?: Partial<Record<ExecutionProvider, PrecisionPreference>>;
  cacheDir?: string;
  /** The models folder where installed packs are found by id. */
  modelsDir?: string;
  /** Resolution of preview peaks (samples per min/max pair). */
  previewSamplesPerPeak: number;
}

/** Stop the running job between steps. */
export interface CancelMessage {
  type: 'cancel';
  jobId: string;
}

/** Open every graph of the pack in `dir` once (the install check) and report whether it loads. */
export interface CheckPackMessage {
  type: 'check-pack';
  checkId: string;
  dir: string;
}

/**
 * Convert the diffusers AudioLDM folder `sourceDir` into a pack at `outDir` (models/convert/audioldm.ts), in a worker
 * of its own: building the graphs takes the CPU for many seconds, which would stall the host's event loop. There is
 * no cancel message: the host kills the worker (the converter checks its signal only between tensors).
 */
export interface ConvertAudioLdmMessage {
  type: 'convert-audioldm';
  convertId: string;
  sourceDir: string;
  outDir: string;
  /** The converter's options less the callbacks, which cannot cross the process boundary. */
  options: Omit<ConvertOptions, 'onProgress' | 'signal'>;
}

/** Host → worker. */
export type ToWorker = RunMessage | CancelMessage | CheckPackMessage | ConvertAudioLdmMessage;

/** Worker → host. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'progress'; jobId: string; stage: JobStage; step: number; steps: number; window?: number; windows?: number; eta?: number }
  | { type: 'preview'; jobId: string; start: number; sampleRate: number; samplesPerPeak: number; peaks: number[] }
  /** One piece is done: its takes are on disk (and its peaks). */
  | { type: 'piece'; jobId: string; takes: NewTake[] }
  | { type: 'done'; jobId: string }
  | { type: 'failed'; jobId: string; error: ApiError }
  /** The pack check's outcome: no error means every graph loaded. */
  | { type: 'pack-checked'; checkId: string; error?: ApiError }
  /** Conversion progress, as the converter's `onProgress(stage, done, total)`. */
  | { type: 'convert-progress'; convertId: string; stage: ConvertStage; done: number; total: number }
  /**
   * The conversion's outcome: its result, or its error (`code` only when the converter threw a coded error, so the
   * host rethrows what the converter threw: a ConvertError with that code, else a plain Error).
   */
  | { type: 'converted'; convertId: string; result: ConvertResult; error?: undefined }
  | { type: 'converted'; convertId: string; result?: undefined; error: { code?: ErrorCode; message: string } };

/** Worker → host messages that belong to no generation job. */
export type NonJobMessage = Extract<FromWorker, { type: 'ready' | 'pack-checked' | 'convert-progress' | 'converted' }>;
