/**
 * Messages between the studio host and its engine worker process (engine-worker.ts ↔ worker-main.ts). The worker
 * owns the ONNX sessions and runs one generation at a time; the host keeps the queue, so killing the worker (hard
 * cancel, crash) loses one job and nothing else. Messages travel over Node's IPC channel (advanced serialization).
 */
import type { ApiError, JobStage } from '../../contract/api.ts';
import type { NewTake } from '../../contract/takes.ts';
import type { DevicePreference } from '../../contract/generation-settings.ts';
import type { PieceJob } from '../generation/plan.ts';

/** Generate the planned pieces (generation/plan.ts), writing their takes into the project at `projectDir`. */
export interface RunMessage {
  type: 'run';
  jobId: string;
  projectDir: string;
  /** Each piece with the device its model runs on (settings: the model's remembered device, else the default). */
  pieces: { job: PieceJob; device: DevicePreference }[];
  intraOpThreads: number | null;
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

/** Host → worker. */
export type ToWorker = RunMessage | CancelMessage | CheckPackMessage;

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
  | { type: 'pack-checked'; checkId: string; error?: ApiError };
