/**
 * Entry of the engine utility process. Main sends one message per renderer connection with a MessagePort in
 * `ports[0]`; each port gets its own RPC server over one shared studio host (as cli/web.ts does per WebSocket).
 * Runs in plain Node inside Electron's utility process, so it never imports electron.
 */
import { createStudioHost } from '../host/studio-host.ts';
import { serveStudioApi, type StudioServer } from '../host/rpc/server.ts';
import { messagePortTransport, type MessagePortLike } from '../contract/rpc/transport.ts';
import { parentPortSpawner } from './worker-spawner.ts';
import type { BrokerParentPort } from '../host/engine-worker/broker-client.ts';
import { isMainToEngine } from '../host/engine-worker/broker-protocol.ts';
import { errorMessage } from '../contract/errors.ts';

/** What the entry uses of `process.parentPort` (Electron's ParentPort). */
export interface ParentPortLike {
  on(event: 'message', listener: (event: { data: unknown; ports: MessagePortLike[] }) => void): unknown;
  postMessage?(message: unknown): void;
}

/** A running engine: the servers it answers and its shutdown. */
export interface EngineEntry {
  readonly connections: number;
  dispose(): Promise<void>;
}

/** Serves the StudioApi on every port that arrives on `parentPort`. */
export function runEngine(parentPort: ParentPortLike, options: { cacheDir?: string; log?: (line: string) => void } = {}): EngineEntry {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const servers = new Set<StudioServer>();
  const spawner = parentPort.postMessage ? parentPortSpawner(parentPort as unknown as BrokerParentPort) : undefined;
  const host = createStudioHost({
    ...(options.cacheDir === undefined ? {} : { cacheDir: options.cacheDir }),
    ...(spawner ? { spawnWorker: spawner } : {}),
    emit: (name, payload) => servers.forEach((s) => s.emit(name, payload)),
  });
  parentPort.on('message', (event) => {
    const port = event.ports[0];
    // Worker and probe ports and exits belong to the broker client; every other port is a renderer (or main) connection.
    if (!port || isMainToEngine(event.data)) return;
    // One session per connection: a window's projects close (journal kept) when it reloads or closes.
    const session = host.session();
    const server = serveStudioApi(messagePortTransport(port), session.api, {
      onError: (e) => log(`engine error: ${errorMessage(e)}`),
    });
    servers.add(server);
    // NOTE: MessagePortMain emits 'close' when the renderer side goes away (reload, window closed).
    const closable = port as MessagePortLike & { on?(event: 'close', listener: () => void): unknown };
    closable.on?.('close', () => {
      server.close();
      servers.delete(server);
      session.close().catch((e: unknown) => log(`engine error: ${errorMessage(e)}`));
    });
  });
  return {
    get connections() {
      return servers.size;
    },
    async dispose() {
      servers.forEach((s) => s.close());
      servers.clear();
      await host.dispose();
    },
  };
}

/** `process.parentPort` when this file runs as a utility process; undefined under plain Node (tests import it). */
function parentPortOfProcess(): ParentPortLike | undefined {
  const candidate: unknown = Reflect.get(process, 'parentPort');
  if (candidate !== null && typeof candidate === 'object' && 'on' in candidate && typeof candidate.on === 'function') {
    return candidate as ParentPortLike;
  }
  return undefined;
}

const parentPort = parentPortOfProcess();
if (parentPort) {
  const engine = runEngine(parentPort, process.env.TESSERA_CACHE_DIR ? { cacheDir: process.env.TESSERA_CACHE_DIR } : {});
  process.once('SIGTERM', () => {
    engine.dispose().finally(() => process.exit(0));
  });
}
