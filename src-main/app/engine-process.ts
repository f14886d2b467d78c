/**
 * Lifecycle of the engine utility process (issue 4 §3, §6): spawn, restart after a crash with exponential back-off,
 * hard restart (kill + respawn: how a hard cancel stops a job mid-step), clean shutdown. Pure logic over an injected
 * `fork` and clock, so tests drive it with a fake child and fake timers; main.ts passes `utilityProcess.fork`.
 */

/** What the supervisor uses of Electron's UtilityProcess. */
export interface EngineChild {
  on(event: 'exit', listener: (code: number) => void): unknown;
  kill(): boolean;
}

/** Why the engine was (re)started. */
export type RestartReason = { kind: 'crash'; exitCode: number; delayMs: number } | { kind: 'hard'; reason: string };

/** Events of the supervisor. */
export interface EngineSupervisorEvents<C> {
  /** A child was spawned (the first one too); hand it a port before anything else talks to it. */
  spawned: { child: C };
  /** A child replaced one that crashed or was killed on purpose; clients must reconnect. */
  restarted: { child: C; cause: RestartReason };
  /** The current child exited on its own; a restart is scheduled after `delayMs`. */
  crashed: { exitCode: number; delayMs: number };
}

/** Options of `createEngineSupervisor`. */
export interface EngineSupervisorOptions<C extends EngineChild> {
  /** Spawns the engine (`utilityProcess.fork` in the app). */
  fork: (modulePath: string) => C;
  modulePath: string;
  /** Milliseconds clock. */
  now?: () => number;
  setTimeout?: (callback: () => void, ms: number) => unknown;
  clearTimeout?: (handle: unknown) => void;
  /** First restart delay; doubles per consecutive crash. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** A child that ran this long before crashing resets the back-off. */
  stableUptimeMs?: number;
  /** How long shutdown waits for the child's exit after kill(). */
  shutdownGraceMs?: number;
}

/** A running supervisor. */
export interface EngineSupervisor<C extends EngineChild> {
  /** The live child, undefined between a crash and its restart and after shutdown. */
  readonly child: C | undefined;
  /** Spawns the first child; a no-op when already started. */
  start(): C;
  /** Kills the engine and spawns a fresh one at once (hard cancel); a no-op after shutdown. */
  hardRestart(reason: string): C | undefined;
  /** Stops the engine for good; resolves once it exited (or after the grace period). */
  shutdown(): Promise<void>;
  /** Subscribes to an event; returns the unsubscribe. */
  on<K extends keyof EngineSupervisorEvents<C>>(event: K, listener: (payload: EngineSupervisorEvents<C>[K]) => void): () => void;
}

/** Restart delay after `failures` consecutive crashes: initial·2^failures, capped at max. */
export function backoffDelay(failures: number, initialDelayMs: number, maxDelayMs: number): number {
  return Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(failures, 30));
}

/** Creates the supervisor; call `start()` to spawn the engine. */
export function createEngineSupervisor<C extends EngineChild>(options: EngineSupervisorOptions<C>): EngineSupervisor<C> {
  const now = options.now ?? Date.now;
  const schedule = options.setTimeout ?? ((callback: () => void, ms: number): unknown => setTimeout(callback, ms));
  const cancel = options.clearTimeout ?? ((handle: unknown): void => clearTimeout(handle as ReturnType<typeof setTimeout>));
  const initialDelayMs = options.initialDelayMs ?? 500;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const stableUptimeMs = options.stableUptimeMs ?? 60_000;
  const shutdownGraceMs = options.shutdownGraceMs ?? 5_000;

  const listeners: { [K in keyof EngineSupervisorEvents<C>]: Set<(payload: EngineSupervisorEvents<C>[K]) => void> } = {
    spawned: new Set(),
    restarted: new Set(),
    crashed: new Set(),
  };
  const emit = <K extends keyof EngineSupervisorEvents<C>>(event: K, payload: EngineSupervisorEvents<C>[K]): void => {
    for (const listener of [...listeners[event]]) {
      try {
        listener(payload);
      } catch (e) {
        // A failing listener must not stop the supervisor; surface it like an uncaught error.
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  };

  let current: C | undefined;
  let startedAt = 0;
  let failures = 0;
  let started = false;
  let stopped = false;
  let pending: unknown;
  let hasPending = false;
  let exitWaiter: (() => void) | undefined;

  const clearPending = (): void => {
    if (hasPending) cancel(pending);
    hasPending = false;
  };

  const spawn = (): C => {
    const child = options.fork(options.modulePath);
    current = child;
    startedAt = now();
    child.on('exit', (code) => onExit(child, code));
    emit('spawned', { child });
    return child;
  };

  const onExit = (child: C, code: number): void => {
    if (child !== current) return; // an old child killed by hardRestart: already replaced
    current = undefined;
    if (stopped) {
      exitWaiter?.();
      return;
    }
    if (now() - startedAt >= stableUptimeMs) failures = 0;
    const delayMs = backoffDelay(failures, initialDelayMs, maxDelayMs);
    failures += 1;
    emit('crashed', { exitCode: code, delayMs });
    hasPending = true;
    pending = schedule(() => {
      hasPending = false;
      if (stopped || current) return;
      const next = spawn();
      emit('restarted', { child: next, cause: { kind: 'crash', exitCode: code, delayMs } });
    }, delayMs);
  };

  return {
    get child() {
      return current;
    },
    start() {
      if (current) return current;
      if (stopped) throw new Error('engine supervisor: start() after shutdown(); create a new supervisor');
      started = true;
      return spawn();
    },
    hardRestart(reason) {
      if (stopped || !started) return undefined;
      clearPending();
      const old = current;
      current = undefined; // so the old child's exit is not taken for a crash
      old?.kill();
      const next = spawn();
      emit('restarted', { child: next, cause: { kind: 'hard', reason } });
      return next;
    },
    shutdown() {
      if (stopped) return Promise.resolve();
      stopped = true;
      clearPending();
      const child = current;
      if (!child) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const timer = schedule(() => {
          exitWaiter = undefined;
          current = undefined;
          resolve();
        }, shutdownGraceMs);
        exitWaiter = () => {
          exitWaiter = undefined;
          cancel(timer);
          resolve();
        };
        child.kill();
      });
    },
    on(event, listener) {
      listeners[event].add(listener);
      return () => {
        listeners[event].delete(listener);
      };
    },
  };
}
