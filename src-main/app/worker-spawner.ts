/**
 * The engine host's `SpawnWorker` inside Electron's utility process: asks main (worker-broker.ts) over the parent
 * port for a worker utility process and talks to it over the MessagePort main hands back. Messages sent before the
 * port arrives are queued. Plain Node; never imports electron.
 */
import type { SpawnWorker, WorkerProcess } from '../host/engine-worker/engine-worker.ts';
import type { FromWorker, ToWorker } from '../host/engine-worker/protocol.ts';
import type { EngineToMain, MainToEngine } from './worker-broker.ts';

/** The MessagePortMain methods used here. */
export interface WorkerPortLike {
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  postMessage(message: unknown): void;
  start(): void;
  close(): void;
}

/** What the spawner uses of `process.parentPort`. */
export interface SpawnerParentPort {
  postMessage(message: EngineToMain): void;
  on(event: 'message', listener: (event: { data: unknown; ports: WorkerPortLike[] }) => void): unknown;
}

/** True for a message main sends about workers. */
export function isMainToEngine(value: unknown): value is MainToEngine {
  if (value === null || typeof value !== 'object') return false;
  const m = value as Record<string, unknown>;
  return (m.type === 'worker-port' || m.type === 'worker-exit') && typeof m.id === 'string';
}

/** A SpawnWorker over `parentPort`. */
export function parentPortSpawner(parentPort: SpawnerParentPort): SpawnWorker {
  const live = new Map<string, { attach(port: WorkerPortLike, pid: number | undefined): void; exit(how: string): void }>();
  let next = 0;
  parentPort.on('message', ({ data, ports }) => {
    if (!isMainToEngine(data)) return;
    const entry = live.get(data.id);
    if (!entry) return;
    if (data.type === 'worker-port' && ports[0]) entry.attach(ports[0], data.pid);
    else if (data.type === 'worker-exit') entry.exit(data.how);
  });
  return () => {
    const id = `w${++next}`;
    let port: WorkerPortLike | null = null;
    let pid: number | undefined;
    let exited = false;
    const queued: ToWorker[] = [];
    const messageListeners = new Set<(m: FromWorker) => void>();
    const exitListeners = new Set<(how: string) => void>();
    live.set(id, {
      attach(p, workerPid) {
        port = p;
        pid = workerPid;
        p.on('message', ({ data }) => messageListeners.forEach((l) => l(data as FromWorker)));
        p.start();
        for (const m of queued.splice(0)) p.postMessage(m);
      },
      exit(how) {
        exited = true;
        live.delete(id);
        exitListeners.forEach((l) => l(how));
      },
    });
    parentPort.postMessage({ type: 'spawn-worker', id });
    const worker: WorkerProcess = {
      get pid() {
        return pid;
      },
      get exited() {
        return exited;
      },
      send(message) {
        if (exited) return;
        if (port) port.postMessage(message);
        else queued.push(message);
      },
      onMessage(listener) {
        messageListeners.add(listener);
        return () => messageListeners.delete(listener);
      },
      onExit(listener) {
        exitListeners.add(listener);
        return () => exitListeners.delete(listener);
      },
      kill() {
        if (!exited) parentPort.postMessage({ type: 'kill-worker', id });
      },
      stop() {
        return new Promise<void>((resolve) => {
          if (exited) return resolve();
          exitListeners.add(() => resolve());
          // Closing our end makes the worker exit (worker-main.ts); main's kill is the fallback.
          const current: WorkerPortLike | null = port;
          if (current) current.close();
          setTimeout(() => worker.kill(), 5000).unref();
        });
      },
    };
    return worker;
  };
}
