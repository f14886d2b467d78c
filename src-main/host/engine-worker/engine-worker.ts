/**
 * The host's handle on its engine worker process (worker-main.ts): spawned on first use, one job at a time, soft
 * cancel by message, hard cancel by killing the process. A worker that dies during a job (hard cancel, native
 * crash, out of memory) fails that job only; the next job spawns a fresh worker (ARCHITECTURE.md §1: a crash in
 * ONNX Runtime must not take the host, its queue or the open projects with it).
 */
import { fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ApiError } from '../../contract/api.ts';
import { CodedError } from '../../contract/errors.ts';
import { ConvertError } from '../models/convert/errors.ts';
import type { ConvertOptions, ConvertResult } from '../models/convert/audioldm.ts';
import type { FromWorker, NonJobMessage, RunMessage, ToWorker } from './protocol.ts';

/**
 * A running worker process as the host sees it. Plain Node forks a child process (`forkWorker`); the Electron
 * engine asks main for a utility process connected by a MessagePort (app/engine-entry.ts), because a packaged app
 * cannot run its binary as Node (the `runAsNode` fuse is off).
 */
export interface WorkerProcess {
  readonly pid: number | undefined;
  send(message: ToWorker): void;
  /** Subscribes to the worker's messages; returns the unsubscribe. */
  onMessage(listener: (message: FromWorker) => void): () => void;
  /** Called once when the process is gone, with how it ended (`SIGKILL`, `exit code 1`). */
  onExit(listener: (how: string) => void): () => void;
  /** Kills it at once. */
  kill(): void;
  /** Asks it to exit (its sessions are released); kills it if it does not within a few seconds. */
  stop(): Promise<void>;
  readonly exited: boolean;
}

/** Starts a worker process. */
export type SpawnWorker = () => WorkerProcess;

/** Callbacks of one job run. */
export interface RunHandlers {
  onMessage(message: Exclude<FromWorker, NonJobMessage | { type: 'done' | 'failed' }>): void;
}

/** Why a run ended without `done`. */
export class EngineRunError extends CodedError {
  override name = 'EngineRunError';
  constructor(
    readonly error: ApiError,
    /** True when the worker process died (it will be respawned for the next job). */
    readonly workerDied: boolean,
  ) {
    super(error.code, error.message);
  }
}

/** How to start the worker: the bundled `.cjs` next to this module in the app, else the TypeScript source via tsx. */
export function workerCommand(): { file: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const bundled = join(dirname(here), 'worker-main.cjs');
  if (here.endsWith('.cjs') && existsSync(bundled)) return { file: bundled, execArgv: [] };
  const require = createRequire(import.meta.url);
  const tsxDir = dirname(require.resolve('tsx/package.json'));
  const exportsField = (JSON.parse(readFileSync(join(tsxDir, 'package.json'), 'utf8')) as { exports: Record<string, unknown> }).exports['.'];
  if (typeof exportsField !== 'string') throw new Error('tsx has no loader entry; reinstall dependencies (npm install)');
  return { file: fileURLToPath(new URL('./worker-main.ts', import.meta.url)), execArgv: ['--import', pathToFileURL(join(tsxDir, exportsField)).href] };
}

/** Forks the worker as a Node child process (browser mode, CLI, tests). */
export function forkWorker(): WorkerProcess {
  const { file, execArgv } = workerCommand();
  const child = fork(file, [], { execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let exited = false;
  const exitListeners = new Set<(how: string) => void>();
  child.on('exit', (code, signal) => {
    exited = true;
    for (const l of [...exitListeners]) l(signal ?? `exit code ${code}`);
  });
  // NOTE: a failed spawn emits 'error' (and maybe no 'exit'); without a listener it would crash the host.
  child.on('error', (e) => {
    if (exited) return;
    exited = true;
    for (const l of [...exitListeners]) l(`could not start: ${e.message}`);
  });
  return {
    get pid() {
      return child.pid;
    },
    get exited() {
      return exited;
    },
    send: (message) => {
      if (!exited && child.connected) child.send(message);
    },
    onMessage: (listener) => {
      const wrapped = (m: unknown): void => listener(m as FromWorker);
      child.on('message', wrapped);
      return () => child.off('message', wrapped);
    },
    onExit: (listener) => {
      exitListeners.add(listener);
      return () => exitListeners.delete(listener);
    },
    kill: () => {
      if (!exited) child.kill('SIGKILL');
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        exitListeners.add(() => resolve());
        if (child.connected) child.disconnect();
        // A worker stuck in native code would ignore the disconnect.
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/**
 * Opens every graph of the pack in `dir` in a worker process of its own (the install check): a graph that crashes
 * ONNX Runtime takes that process down, not the host, and a running generation keeps its worker. Rejects with the
 * reason the pack does not load.
 */
export function checkPackInWorker(spawn: SpawnWorker, dir: string): Promise<void> {
  const worker = spawn();
  const checkId = `check_${process.pid}_${Date.now().toString(36)}`;
  return new Promise<void>((resolve, reject) => {
    const offMessage = worker.onMessage((m) => {
      if (m.type !== 'pack-checked' || m.checkId !== checkId) return;
      done();
      if (m.error) reject(new Error(m.error.message));
      else resolve();
    });
    const offExit = worker.onExit((how) => {
      done();
      reject(new Error(`the engine process stopped while opening the model's graphs (${how}); the pack does not load on this machine`));
    });
    const done = (): void => {
      offMessage();
      offExit();
      void worker.stop();
    };
    worker.send({ type: 'check-pack', checkId, dir });
  });
}

let conversions = 0;

/**
 * Runs the AudioLDM converter (models/convert/audioldm.ts `convertDiffusersAudioLdm`, same contract) in a worker
 * process of its own, so that building the graphs (CPU-bound for many seconds) does not stall the host's event loop:
 * RPC, saves and job progress go on meanwhile. Progress is relayed to `options.onProgress`; the converter's error
 * arrives with its code and message. `options.signal` kills the worker, and the promise rejects with a `cancelled`
 * ConvertError only once the process is gone, so the caller's removal of `outDir` cannot race a late write.
 */
export function convertInWorker(spawn: SpawnWorker, sourceDir: string, outDir: string, options: ConvertOptions): Promise<ConvertResult> {
  const { onProgress, signal, ...plain } = options;
  const cancelled = (): ConvertError => new ConvertError('cancelled', 'Conversion cancelled; nothing was installed.');
  if (signal?.aborted) return Promise.reject(cancelled());
  const worker = spawn();
  const convertId = `convert_${process.pid}_${Date.now().toString(36)}_${++conversions}`;
  return new Promise<ConvertResult>((resolve, reject) => {
    let killed = false;
    const offMessage = worker.onMessage((m) => {
      if (m.type === 'convert-progress' && m.convertId === convertId) {
        if (!killed) onProgress?.(m.stage, m.done, m.total);
        return;
      }
      if (m.type !== 'converted' || m.convertId !== convertId) return;
      done();
      void worker.stop();
      if (m.error) reject(m.error.code ? new ConvertError(m.error.code, m.error.message) : new Error(m.error.message));
      else resolve(m.result);
    });
    const offExit = worker.onExit((how) => {
      done();
      reject(
        killed
          ? cancelled()
          : new ConvertError('model-error', `the conversion process stopped (${how}) before it finished; it may have run out of memory. Close other programs and try again.`),
      );
    });
    const onAbort = (): void => {
      killed = true;
      worker.kill();
    };
    const done = (): void => {
      offMessage();
      offExit();
      signal?.removeEventListener('abort', onAbort);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.send({ type: 'convert-audioldm', convertId, sourceDir, outDir, options: plain });
  });
}

/** One engine worker (respawned as needed). */
export class EngineWorker {
  private worker: WorkerProcess | null = null;
  private running: { jobId: string; killReason: ApiError | null } | null = null;

  constructor(private readonly options: { spawn?: SpawnWorker; log?: (line: string) => void } = {}) {}

  /** Process id of the live worker, if any (tests kill it to simulate a crash). */
  get pid(): number | undefined {
    return this.worker?.pid;
  }

  /** Runs one job; resolves on `done`, rejects with EngineRunError on failure, cancel or worker death. */
  run(message: RunMessage, handlers: RunHandlers): Promise<void> {
    if (this.running) return Promise.reject(new EngineRunError({ code: 'busy', message: `the engine is running job ${this.running.jobId}` }, false));
    const worker = this.ensureWorker();
    return new Promise<void>((resolve, reject) => {
      const offMessage = worker.onMessage((m) => {
        if (!('jobId' in m) || m.jobId !== message.jobId) return;
        if (m.type === 'done') {
          cleanup();
          resolve();
        } else if (m.type === 'failed') {
          cleanup();
          reject(new EngineRunError(m.error, false));
        } else handlers.onMessage(m);
      });
      const offExit = worker.onExit((how) => {
        const reason = this.running?.killReason;
        cleanup();
        reject(new EngineRunError(reason ?? { code: 'model-error', message: `the engine process stopped during the job (${how}); it restarts for the next job` }, true));
      });
      const cleanup = (): void => {
        offMessage();
        offExit();
        this.running = null;
      };
      this.running = { jobId: message.jobId, killReason: null };
      worker.send(message);
    });
  }

  /** Soft cancel: the worker stops the job between steps. */
  cancel(jobId: string): void {
    if (this.running?.jobId === jobId) this.worker?.send({ type: 'cancel', jobId });
  }

  /** Hard cancel: kills the worker; the running job fails with `error`, the next job gets a fresh worker. */
  kill(jobId: string, error: ApiError): boolean {
    if (this.running?.jobId !== jobId || !this.worker) return false;
    this.running.killReason = error;
    this.worker.kill();
    return true;
  }

  /** Stops the worker (no job may be running). */
  async dispose(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    await worker?.stop();
  }

  private ensureWorker(): WorkerProcess {
    if (this.worker && !this.worker.exited) return this.worker;
    const worker = (this.options.spawn ?? forkWorker)();
    this.worker = worker;
    worker.onExit((how) => {
      if (this.worker === worker) this.worker = null;
      this.options.log?.(`engine worker ${worker.pid ?? '?'} exited (${how})`);
    });
    return worker;
  }
}
