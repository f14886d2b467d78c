/**
 * Main's side of the processes utility processes ask for in the app (host/engine-worker/broker-protocol.ts): the
 * engine host's generation workers, and the WebGPU probes of the engine host and its workers. A utility process
 * cannot spawn processes that Electron manages, and a packaged app cannot run its binary as Node (the `runAsNode`
 * fuse is off), so the requester asks main: main forks the module as another utility process, hands each side one end
 * of a MessageChannelMain (main stays out of the data path), kills it on request, reports its exit (with its stderr's
 * tail where piped), and kills what a process asked for when that process exits. Electron objects are injected.
 */
import { join } from 'node:path';
import { errorMessage } from '../contract/errors.ts';
import { isEngineToMain, type BrokeredModule, type MainToEngine } from '../host/engine-worker/broker-protocol.ts';

export { isEngineToMain, type EngineToMain, type MainToEngine } from '../host/engine-worker/broker-protocol.ts';

/** What the broker uses of a forked UtilityProcess. */
export interface WorkerChild {
  readonly pid: number | undefined;
  /** The child's stderr when it was forked with stderr piped (the probe): its tail goes with the exit report. */
  readonly stderr?: NodeJS.ReadableStream | null;
  postMessage(message: unknown, transfer?: unknown[]): void;
  on(event: 'exit', listener: (code: number) => void): unknown;
  kill(): boolean;
}

/** What the broker uses of a requester (the engine UtilityProcess, or a worker that asks for a probe). */
export interface EngineLike {
  postMessage(message: MainToEngine, transfer?: unknown[]): void;
}

/** Dependencies: `fork` starts `module` with `args` (see {@link forkBrokered}); `channel` makes a MessageChannelMain. */
export interface WorkerBrokerDeps<C extends WorkerChild> {
  fork(module: BrokeredModule, args: string[]): C;
  channel(): { port1: unknown; port2: unknown };
}

/** Characters of a child's stderr kept for its exit report (its last line names a native crash). */
const STDERR_TAIL = 2000;
/** How long an exit report waits for the rest of a piped stderr (it may still be in flight when 'exit' comes). */
const STDERR_DRAIN_MS = 500;

/** Handles the requests of every requester; `dispose` kills every process it started. */
export function createWorkerBroker<C extends WorkerChild>(deps: WorkerBrokerDeps<C>) {
  // Per requester, so two processes' ids never meet, and what a process asked for dies with it.
  const byRequester = new Map<object, Map<string, C>>();
  const release = (requester: object): void => {
    const children = byRequester.get(requester);
    if (!children) return;
    byRequester.delete(requester); // first: the exits of these kills go nowhere (their requester is gone)
    for (const child of children.values()) child.kill();
  };

  const start = (requester: EngineLike, id: string, module: BrokeredModule, args: string[]): void => {
    let child: C;
    try {
      child = deps.fork(module, args);
    } catch (e) {
      // A fork that throws (a missing bundle) is an exit like any other for the requester, not an error in main.
      requester.postMessage({ type: 'worker-exit', id, how: `could not start: ${errorMessage(e)}` });
      return;
    }
    let children = byRequester.get(requester);
    if (!children) byRequester.set(requester, (children = new Map()));
    children.set(id, child);
    let stderr: string | undefined;
    let stderrEnded = true;
    let onStderrEnd = (): void => undefined;
    if (child.stderr) {
      stderr = '';
      stderrEnded = false;
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string | Buffer) => {
        stderr = ((stderr ?? '') + String(chunk)).slice(-STDERR_TAIL);
      });
      const ended = (): void => {
        stderrEnded = true;
        onStderrEnd();
      };
      child.stderr.on('end', ended);
      child.stderr.on('error', ended);
    }
    child.on('exit', (code) => {
      const how = code === 0 ? 'exit code 0' : `exit code ${code} (killed or crashed)`;
      let reported = false;
      const report = (): void => {
        if (reported) return;
        reported = true;
        release(child); // a worker's probes go with it
        const current = byRequester.get(requester);
        if (current?.get(id) !== child) return; // released: its requester is gone
        current.delete(id);
        if (current.size === 0) byRequester.delete(requester);
        requester.postMessage({ type: 'worker-exit', id, how, ...(stderr === undefined ? {} : { stderr }) });
      };
      if (stderrEnded) return report();
      const timer = setTimeout(report, STDERR_DRAIN_MS);
      onStderrEnd = () => {
        clearTimeout(timer);
        report();
      };
    });
    const { port1, port2 } = deps.channel();
    child.postMessage({ type: 'port' }, [port1]);
    requester.postMessage({ type: 'worker-port', id, pid: child.pid }, [port2]);
  };

  return {
    /** Feeds one message from a requester; ignores anything that is not a broker request. */
    handle(requester: EngineLike, message: unknown): boolean {
      if (!isEngineToMain(message)) return false;
      const child = byRequester.get(requester)?.get(message.id);
      if (message.type === 'kill-worker') child?.kill();
      else if (!child) start(requester, message.id, message.module ?? 'worker', message.args ?? []);
      return true;
    },
    /** Processes alive now. */
    get size(): number {
      let n = 0;
      for (const children of byRequester.values()) n += children.size;
      return n;
    },
    /** Kills every process `requester` asked for (it is gone). */
    release,
    dispose(): void {
      for (const requester of [...byRequester.keys()]) release(requester);
    },
  };
}

/** How main forks each module: its bundle in dist/app, its name among the app's processes, its stdio. */
export const BROKERED_BUNDLES: Readonly<Record<BrokeredModule, { file: string; serviceName: string; stdio: 'inherit' | ('pipe' | 'ignore' | 'inherit')[]; requests: boolean }>> = {
  // A worker probes WebGPU itself when it opens a model on a device other than cpu (host/runtime-probe.ts), so it
  // may ask for processes too.
  worker: { file: 'worker-main.cjs', serviceName: 'Tessera Generation', stdio: 'inherit', requests: true },
  // stderr piped: a driver that crashes the probe says why there, and the reason reaches the Settings view.
  'webgpu-probe': { file: 'webgpu-probe-main.cjs', serviceName: 'Tessera WebGPU Probe', stdio: ['ignore', 'inherit', 'pipe'], requests: false },
};

/** A forked UtilityProcess as {@link forkBrokered} uses it. */
export interface ForkedChild extends WorkerChild {
  on(event: 'exit', listener: (code: number) => void): unknown;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

/**
 * The broker's `fork` over `utilityProcess.fork`: the module's bundle in `bundleDir`, and the requests of a module
 * that may make them routed to `onRequest` (main feeds them to the broker with the child as requester).
 */
export function forkBrokered<C extends ForkedChild>(
  fork: (modulePath: string, args: string[], options: { serviceName: string; stdio: 'inherit' | ('pipe' | 'ignore' | 'inherit')[] }) => C,
  bundleDir: string,
  onRequest: (child: C, message: unknown) => void,
): (module: BrokeredModule, args: string[]) => C {
  return (module, args) => {
    const bundle = BROKERED_BUNDLES[module];
    const child = fork(join(bundleDir, bundle.file), args, { serviceName: bundle.serviceName, stdio: bundle.stdio });
    if (bundle.requests) child.on('message', (message) => onRequest(child, message));
    return child;
  };
}
