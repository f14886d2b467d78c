/**
 * The engine host's `SpawnWorker` inside Electron's utility process: asks main (worker-broker.ts) for a worker
 * utility process through the broker client (host/engine-worker/broker-client.ts) and talks to it over the
 * MessagePort main hands back. Messages sent before the port arrives are queued. Plain Node; never imports electron.
 */
import { brokerClient, type BrokerParentPort } from '../host/engine-worker/broker-client.ts';
import type { SpawnWorker, WorkerProcess } from '../host/engine-worker/engine-worker.ts';
import type { FromWorker } from '../host/engine-worker/protocol.ts';

/** A SpawnWorker over `parentPort`. */
export function parentPortSpawner(parentPort: BrokerParentPort): SpawnWorker {
  const spawn = brokerClient(parentPort);
  return () => {
    const child = spawn('worker');
    const worker: WorkerProcess = {
      get pid() {
        return child.pid;
      },
      get exited() {
        return child.exited;
      },
      send: (message) => child.send(message),
      onMessage: (listener) => child.onMessage((data) => listener(data as FromWorker)),
      onExit: (listener) => child.onExit((how) => listener(how)),
      kill: () => child.kill(),
      stop() {
        return new Promise<void>((resolve) => {
          if (child.exited) return resolve();
          child.onExit(() => resolve());
          // Closing our end makes the worker exit (worker-main.ts); main's kill is the fallback.
          child.closePort();
          setTimeout(() => worker.kill(), 5000).unref();
        });
      },
    };
    return worker;
  };
}
