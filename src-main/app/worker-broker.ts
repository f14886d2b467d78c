/**
 * Main's side of engine workers in the app. The engine host (a utility process) cannot spawn processes that
 * Electron manages, and a packaged app cannot run its binary as Node (the `runAsNode` fuse is off), so the host asks
 * main: main forks the worker as another utility process, hands each side one end of a MessageChannelMain (main
 * stays out of the data path), kills it on request and reports its exit. Electron objects are injected for tests.
 */

/** Engine → main. */
export type EngineToMain = { type: 'spawn-worker'; id: string } | { type: 'kill-worker'; id: string };
/** Main → engine (`worker-port` carries the host's end of the channel in `ports[0]`). */
export type MainToEngine = { type: 'worker-port'; id: string; pid: number | undefined } | { type: 'worker-exit'; id: string; how: string };

/** What the broker uses of a worker UtilityProcess. */
export interface WorkerChild {
  readonly pid: number | undefined;
  postMessage(message: unknown, transfer?: unknown[]): void;
  on(event: 'exit', listener: (code: number) => void): unknown;
  kill(): boolean;
}

/** What the broker uses of the engine UtilityProcess. */
export interface EngineLike {
  postMessage(message: MainToEngine, transfer?: unknown[]): void;
}

/** Dependencies: `fork` spawns the worker module; `channel` makes a MessageChannelMain. */
export interface WorkerBrokerDeps<C extends WorkerChild> {
  fork(): C;
  channel(): { port1: unknown; port2: unknown };
}

/** True for a well-formed engine request. */
export function isEngineToMain(value: unknown): value is EngineToMain {
  if (value === null || typeof value !== 'object') return false;
  const m = value as Record<string, unknown>;
  return (m.type === 'spawn-worker' || m.type === 'kill-worker') && typeof m.id === 'string' && /^[\x21-\x7e]{1,64}$/.test(m.id);
}

/** Handles one engine's worker requests; `dispose` kills every worker it started. */
export function createWorkerBroker<C extends WorkerChild>(deps: WorkerBrokerDeps<C>) {
  const workers = new Map<string, C>();
  return {
    /** Feeds one message from the engine; ignores anything that is not a broker request. */
    handle(engine: EngineLike, message: unknown): boolean {
      if (!isEngineToMain(message)) return false;
      if (message.type === 'kill-worker') {
        workers.get(message.id)?.kill();
        return true;
      }
      if (workers.has(message.id)) return true;
      const child = deps.fork();
      workers.set(message.id, child);
      child.on('exit', (code) => {
        workers.delete(message.id);
        engine.postMessage({ type: 'worker-exit', id: message.id, how: code === 0 ? 'exit code 0' : `exit code ${code} (killed or crashed)` });
      });
      const { port1, port2 } = deps.channel();
      child.postMessage({ type: 'port' }, [port1]);
      engine.postMessage({ type: 'worker-port', id: message.id, pid: child.pid }, [port2]);
      return true;
    },
    /** Workers alive now. */
    get size(): number {
      return workers.size;
    },
    dispose(): void {
      for (const child of workers.values()) child.kill();
      workers.clear();
    },
  };
}
