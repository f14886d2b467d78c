/**
 * A utility process's side of main's process broker (broker-protocol.ts): asks main over `process.parentPort` to fork
 * a module, then talks to the child over the MessagePort main hands back (main stays out of the data path). The engine
 * host's generation workers (app/worker-spawner.ts) and the WebGPU probe (host/webgpu-probe-launch.ts) both go
 * through it. Plain Node; never imports electron.
 */
import { isMainToEngine, type BrokeredModule, type EngineToMain } from './broker-protocol.ts';

/** The MessagePortMain methods used here. */
export interface BrokerPortLike {
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  /** The child's end is gone (MessagePortMain emits it after the messages the child sent). */
  on(event: 'close', listener: () => void): unknown;
  postMessage(message: unknown): void;
  start(): void;
  close(): void;
}

/** What the client uses of `process.parentPort`. */
export interface BrokerParentPort {
  postMessage(message: EngineToMain): void;
  on(event: 'message', listener: (event: { data: unknown; ports: BrokerPortLike[] }) => void): unknown;
}

/** A process main forked for this one. */
export interface BrokeredChild {
  readonly pid: number | undefined;
  readonly exited: boolean;
  /** Sends over the child's port; queued until main hands the port over, dropped once the child exited. */
  send(message: unknown): void;
  /** Subscribes to the child's messages; returns the unsubscribe. */
  onMessage(listener: (data: unknown) => void): () => void;
  /** Called once when main reports the child gone: how it ended, and its stderr's tail where main collected it. */
  onExit(listener: (how: string, stderr: string | undefined) => void): () => void;
  /** Asks main to kill it at once (nothing once it exited). */
  kill(): void;
  /** Closes this end of the channel (a child that watches its port exits); false before main handed it over. */
  closePort(): boolean;
}

/** Asks main for a process of `module` started with `args` (BROKERED_ARGS lists what main accepts). */
export type SpawnBrokered = (module: BrokeredModule, args?: readonly string[]) => BrokeredChild;

interface Pending {
  attach(port: BrokerPortLike, pid: number | undefined): void;
  exit(how: string, stderr: string | undefined): void;
}

// One client per parent port, so the engine's workers and its probes share one listener.
const clients = new WeakMap<BrokerParentPort, SpawnBrokered>();
// Ids count per process, not per client: main keys them per requester process.
let next = 0;

/**
 * How long an exit report waits for the child's end of the port to close. NOTE: the exit comes from main and the
 * messages straight from the child, on two channels: a child that exits (or crashes) right after its last message
 * could be reported gone before that message arrives. The port closes after the messages it carried.
 */
const PORT_DRAIN_MS = 500;

/** The client over `parentPort` (one per port). */
export function brokerClient(parentPort: BrokerParentPort): SpawnBrokered {
  const existing = clients.get(parentPort);
  if (existing) return existing;
  const live = new Map<string, Pending>();
  parentPort.on('message', ({ data, ports }) => {
    if (!isMainToEngine(data)) return;
    const entry = live.get(data.id);
    if (!entry) return;
    if (data.type === 'worker-port' && ports[0]) entry.attach(ports[0], data.pid);
    else if (data.type === 'worker-exit') entry.exit(data.how, data.stderr);
  });
  const spawn: SpawnBrokered = (module, args = []) => {
    const id = `${module}-${++next}`;
    let port: BrokerPortLike | null = null;
    let pid: number | undefined;
    let exited = false;
    let portClosed = false;
    let exitPending: (() => void) | null = null;
    const queued: unknown[] = [];
    const messageListeners = new Set<(data: unknown) => void>();
    const exitListeners = new Set<(how: string, stderr: string | undefined) => void>();
    live.set(id, {
      attach(p, childPid) {
        port = p;
        pid = childPid;
        p.on('message', ({ data }) => messageListeners.forEach((l) => l(data)));
        p.on('close', () => {
          portClosed = true;
          exitPending?.();
        });
        p.start();
        for (const m of queued.splice(0)) p.postMessage(m);
      },
      exit(how, stderr) {
        live.delete(id);
        const report = (): void => {
          if (exited) return;
          exited = true;
          exitListeners.forEach((l) => l(how, stderr));
        };
        if (!port || portClosed) return report();
        const timer = setTimeout(report, PORT_DRAIN_MS);
        exitPending = () => {
          clearTimeout(timer);
          report();
        };
      },
    });
    parentPort.postMessage({ type: 'spawn-worker', id, ...(module === 'worker' ? {} : { module }), ...(args.length === 0 ? {} : { args: [...args] }) });
    return {
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
      closePort() {
        const current: BrokerPortLike | null = port;
        if (!current) return false;
        current.close();
        return true;
      },
    };
  };
  clients.set(parentPort, spawn);
  return spawn;
}
