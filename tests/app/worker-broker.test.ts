/**
 * Engine workers in the app: main's broker (forks a utility process per request, pairs it with the engine over a
 * MessageChannelMain, kills it on request, reports its exit) and the engine's spawner over its parent port, wired
 * to each other through fakes of Electron's objects, with a fake worker that answers like worker-main.ts.
 */
import { describe, expect, it } from 'vitest';
import { createWorkerBroker, isEngineToMain, type MainToEngine, type WorkerChild } from '../../src-main/app/worker-broker.ts';
import { parentPortSpawner } from '../../src-main/app/worker-spawner.ts';
import type { BrokerParentPort as SpawnerParentPort, BrokerPortLike as WorkerPortLike } from '../../src-main/host/engine-worker/broker-client.ts';
import { isMainToEngine } from '../../src-main/host/engine-worker/broker-protocol.ts';
import type { FromWorker, ToWorker } from '../../src-main/host/engine-worker/protocol.ts';

/** A MessageChannelMain stand-in: two ports that deliver to each other (after start, asynchronously). */
function channel() {
  const make = () => {
    const listeners: ((e: { data: unknown }) => void)[] = [];
    const queue: unknown[] = [];
    let started = false;
    let closed = false;
    const port = {
      peer: null as null | { deliver(data: unknown): void },
      closed: () => closed,
      deliver(data: unknown) {
        if (closed) return;
        if (!started) queue.push(data);
        else queueMicrotask(() => listeners.forEach((l) => l({ data })));
      },
      on(_event: 'message', listener: (e: { data: unknown }) => void) {
        listeners.push(listener);
      },
      postMessage(data: unknown) {
        port.peer?.deliver(data);
      },
      start() {
        started = true;
        for (const d of queue.splice(0)) port.deliver(d);
      },
      close() {
        closed = true;
      },
    };
    return port;
  };
  const port1 = make();
  const port2 = make();
  port1.peer = port2;
  port2.peer = port1;
  return { port1, port2 };
}

type FakePort = ReturnType<typeof channel>['port1'];

/** A worker utility process that runs jobs like worker-main.ts: progress, then done. */
class FakeWorker implements WorkerChild {
  static next = 100;
  readonly pid = FakeWorker.next++;
  killed = false;
  port: FakePort | null = null;
  private exitListeners: ((code: number) => void)[] = [];
  postMessage(message: unknown, transfer?: unknown[]) {
    if ((message as { type?: string }).type !== 'port' || !transfer) throw new Error('worker expects its port first');
    this.port = transfer[0] as FakePort;
    this.port.on('message', ({ data }) => {
      const m = data as ToWorker;
      if (m.type === 'run') {
        this.port?.postMessage({ type: 'progress', jobId: m.jobId, stage: 'denoising', step: 1, steps: 2 } satisfies FromWorker);
        this.port?.postMessage({ type: 'done', jobId: m.jobId } satisfies FromWorker);
      }
    });
    this.port.start();
    this.port.postMessage({ type: 'ready' } satisfies FromWorker);
  }
  on(_event: 'exit', listener: (code: number) => void) {
    this.exitListeners.push(listener);
  }
  kill() {
    this.killed = true;
    queueMicrotask(() => this.exitListeners.forEach((l) => l(137)));
    return true;
  }
}

function wire() {
  const workers: FakeWorker[] = [];
  const broker = createWorkerBroker({
    fork: () => {
      const w = new FakeWorker();
      workers.push(w);
      return w;
    },
    channel,
  });
  const engineListeners: ((e: { data: unknown; ports: WorkerPortLike[] }) => void)[] = [];
  const toEngine: MainToEngine[] = [];
  // The engine UtilityProcess as main sees it: main's postMessage lands on the engine's parent port.
  const engine = {
    postMessage(message: MainToEngine, transfer?: unknown[]) {
      toEngine.push(message);
      queueMicrotask(() => engineListeners.forEach((l) => l({ data: message, ports: (transfer ?? []) as WorkerPortLike[] })));
    },
  };
  const parentPort: SpawnerParentPort = {
    postMessage: (message) => queueMicrotask(() => broker.handle(engine, message)),
    on: (_event, listener) => void engineListeners.push(listener),
  };
  return { broker, workers, toEngine, spawn: parentPortSpawner(parentPort) };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('worker broker and spawner', () => {
  it('spawns a worker on request; messages sent before the port arrives are delivered; replies come back', async () => {
    const { spawn, workers } = wire();
    const worker = spawn();
    const received: FromWorker[] = [];
    worker.onMessage((m) => received.push(m));
    worker.send({ type: 'cancel', jobId: 'job_0' }); // queued until the port arrives
    await tick();
    expect(workers).toHaveLength(1);
    expect(worker.pid).toBe(workers[0].pid);
    expect(received).toEqual([{ type: 'ready' }]);
    worker.send({ type: 'run', jobId: 'job_1' } as ToWorker);
    await tick();
    expect(received.slice(1)).toEqual([
      { type: 'progress', jobId: 'job_1', stage: 'denoising', step: 1, steps: 2 },
      { type: 'done', jobId: 'job_1' },
    ]);
  });

  it('kill goes through main; the exit comes back to the engine once; sends after it are dropped', async () => {
    const { spawn, workers, broker } = wire();
    const worker = spawn();
    const exits: string[] = [];
    worker.onExit((how) => exits.push(how));
    await tick();
    worker.kill();
    await tick();
    await tick();
    expect(workers[0].killed).toBe(true);
    expect(exits).toEqual(['exit code 137 (killed or crashed)']);
    expect(worker.exited).toBe(true);
    expect(broker.size).toBe(0);
    worker.send({ type: 'cancel', jobId: 'x' });
    worker.kill();
    await tick();
    expect(workers).toHaveLength(1);
  });

  it('stop closes the port and resolves when main reports the exit', async () => {
    const { spawn, workers } = wire();
    const worker = spawn();
    await tick();
    const stopped = worker.stop();
    workers[0].kill(); // what the real worker does when its port closes: exit
    await expect(stopped).resolves.toBeUndefined();
  });

  it('each spawn is its own worker; dispose kills them all', async () => {
    const { spawn, workers, broker } = wire();
    spawn();
    spawn();
    await tick();
    expect(workers.map((w) => w.killed)).toEqual([false, false]);
    broker.dispose();
    expect(workers.map((w) => w.killed)).toEqual([true, true]);
  });

  it('ignores messages that are not broker requests', () => {
    const { broker } = wire();
    const engine = { postMessage: () => undefined };
    for (const bad of [null, 'spawn-worker', { type: 'spawn-worker' }, { type: 'spawn-worker', id: '' }, { type: 'connect' }, { type: 'kill-worker', id: 'x'.repeat(65) }]) {
      expect(broker.handle(engine, bad)).toBe(false);
      expect(isEngineToMain(bad)).toBe(false);
    }
    expect(isMainToEngine({ type: 'worker-exit', id: 'w1', how: 'x' })).toBe(true);
    expect(isMainToEngine({ type: 'connect' })).toBe(false);
    expect(broker.size).toBe(0);
  });
});
