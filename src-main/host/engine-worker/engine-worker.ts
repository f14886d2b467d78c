/**
 * The host's handle on its engine worker process (worker-main.ts): spawned on first use, one job at a time, soft
 * cancel by message, hard cancel by killing the process. A worker that dies during a job (hard cancel, native
 * crash, out of memory) fails that job only; the next job spawns a fresh worker (ARCHITECTURE.md §1: a crash in
 * ONNX Runtime must not take the host, its queue or the open projects with it).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ApiError } from '../../contract/api.ts';
import type { FromWorker, RunMessage } from './protocol.ts';

/** Callbacks of one job run. */
export interface RunHandlers {
  onMessage(message: Exclude<FromWorker, { type: 'ready' | 'done' | 'failed' }>): void;
}

/** Why a run ended without `done`. */
export class EngineRunError extends Error {
  constructor(
    readonly error: ApiError,
    /** True when the worker process died (it will be respawned for the next job). */
    readonly workerDied: boolean,
  ) {
    super(error.message);
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

/** One engine worker (respawned as needed). */
export class EngineWorker {
  private child: ChildProcess | null = null;
  private running: { jobId: string; reject: (e: EngineRunError) => void; killReason: ApiError | null } | null = null;

  constructor(private readonly options: { log?: (line: string) => void } = {}) {}

  /** Process id of the live worker, if any (tests kill it to simulate a crash). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Runs one job; resolves on `done`, rejects with EngineRunError on failure, cancel or worker death. */
  run(message: RunMessage, handlers: RunHandlers): Promise<void> {
    if (this.running) return Promise.reject(new EngineRunError({ code: 'busy', message: `the engine is running job ${this.running.jobId}` }, false));
    const child = this.spawn();
    return new Promise<void>((resolve, reject) => {
      const cleanup = (): void => {
        child.off('message', onMessage);
        child.off('exit', onExit);
        this.running = null;
      };
      const onMessage = (m: FromWorker): void => {
        if (m.type === 'ready' || m.jobId !== message.jobId) return;
        if (m.type === 'done') {
          cleanup();
          resolve();
        } else if (m.type === 'failed') {
          cleanup();
          reject(new EngineRunError(m.error, false));
        } else handlers.onMessage(m);
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
        const reason = this.running?.killReason;
        cleanup();
        reject(
          new EngineRunError(
            reason ?? { code: 'model-error', message: `the engine process stopped during the job (${signal ?? `exit code ${code}`}); it restarts for the next job` },
            true,
          ),
        );
      };
      this.running = { jobId: message.jobId, reject, killReason: null };
      child.on('message', onMessage);
      child.on('exit', onExit);
      child.send(message);
    });
  }

  /** Soft cancel: the worker stops the job between steps. */
  cancel(jobId: string): void {
    if (this.running?.jobId === jobId) this.child?.send({ type: 'cancel', jobId });
  }

  /** Hard cancel: kills the worker; the running job fails with `error`, the next job gets a fresh worker. */
  kill(jobId: string, error: ApiError): boolean {
    if (this.running?.jobId !== jobId || !this.child) return false;
    this.running.killReason = error;
    this.child.kill('SIGKILL');
    return true;
  }

  /** Stops the worker (no job may be running). */
  async dispose(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.disconnect();
      // A worker stuck in native code would ignore the disconnect.
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  }

  private spawn(): ChildProcess {
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) return this.child;
    const { file, execArgv } = workerCommand();
    // NOTE: inside Electron (utility process) process.execPath is the Electron binary; run it as plain Node.
    const env = process.versions.electron ? { ...process.env, ELECTRON_RUN_AS_NODE: '1' } : process.env;
    const child = fork(file, [], { execArgv, env, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child = child;
    child.on('exit', (code, signal) => {
      if (this.child === child) {
        this.child = null;
        this.options.log?.(`engine worker ${child.pid ?? '?'} exited (${signal ?? `code ${code}`})`);
      }
    });
    child.on('error', (e) => this.options.log?.(`engine worker error: ${e.message}`));
    return child;
  }
}
