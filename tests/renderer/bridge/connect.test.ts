/**
 * connectStudio end to end: browser mode against the real RPC server over a real WebSocket on 127.0.0.1 (`ws`'s
 * client injected, a fake page location), Electron mode against a fake page whose "preload" answers port requests
 * with Node MessagePorts served by the same RPC server. The StudioApi behind is the RPC tests' fake.
 */
import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { messagePortTransport, type Transport } from '../../../src-main/contract/rpc/transport.ts';
import { serveStudioApi, type StudioServer } from '../../../src-main/host/rpc/server.ts';
import { createRunToken, startWebSocketServer, type RunningWebSocketServer } from '../../../src-main/host/rpc/websocket.ts';
import {
  connectStudio,
  type ConnectionChange,
  type PageLike,
  type PageMessageEvent,
  type Studio,
} from '../../../src-renderer/bridge/connect.ts';
import type { WebSocketConstructor } from '../../../src-renderer/bridge/ws-transport.ts';
import { createFakeStudio } from '../../host/rpc/fake-studio.ts';

const NodeWebSocket = WebSocket as unknown as WebSocketConstructor;
const job = {
  jobId: 'job_1',
  kind: 'generate' as const,
  projectId: 'prj_1',
  label: 'Generate Drones',
  regionIds: [],
  state: 'queued' as const,
  queuedAt: '2025-03-01T10:00:00.000Z',
};

/** Resolves when `predicate` holds, polling the event loop (the test timeout bounds it). */
async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((resolve) => setTimeout(resolve, 5));
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A page whose window messages are dispatched like a browser's, with `source` = the page. */
function fakePage(location: PageLike['location'], studio?: unknown) {
  const listeners = new Set<(event: PageMessageEvent) => void>();
  const posted: unknown[] = [];
  const page: PageLike & { dispatch(data: unknown, ports?: unknown[], source?: unknown): void; posted: unknown[] } = {
    location,
    studio,
    posted,
    addEventListener: (_type, listener) => listeners.add(listener),
    removeEventListener: (_type, listener) => listeners.delete(listener),
    postMessage(message) {
      posted.push(message);
      setTimeout(() => page.dispatch(message), 0);
    },
    dispatch(data, ports = [], source = page) {
      for (const listener of [...listeners]) listener({ source, data, ports });
    },
  };
  return page;
}

describe('connectStudio in browser mode', () => {
  const token = createRunToken();
  let running: RunningWebSocketServer;
  let servers: { server: StudioServer; transport: Transport }[];
  let fake: ReturnType<typeof createFakeStudio>;

  async function startHost(): Promise<void> {
    servers = [];
    fake = createFakeStudio();
    running = await startWebSocketServer({
      token,
      onConnection: (transport) => servers.push({ server: serveStudioApi(transport, fake.impl), transport }),
    });
    cleanups.push(() => running.close());
  }

  const pageFor = (search = `?token=${token}`) =>
    fakePage({ protocol: 'http:', host: `127.0.0.1:${running.port}`, search, origin: `http://127.0.0.1:${running.port}` });

  async function connect(options: Parameters<typeof connectStudio>[0] = {}): Promise<Studio> {
    const studio = await connectStudio({ page: pageFor(), WebSocket: NodeWebSocket, reconnectDelaysMs: [10], ...options });
    cleanups.push(() => studio.close());
    return studio;
  }

  it('connects over /rpc with the page token and calls the API', async () => {
    await startHost();
    const studio = await connect();
    expect(studio.platform).toBe('browser');
    expect(studio.shell).toBeNull();
    expect(studio.connection).toBe('connected');
    expect(await studio.api.ping({})).toEqual({ ok: true, value: { pong: true, version: '0.1.0' } });
    expect(fake.calls.map((c) => c.method)).toEqual(['ping']);
  });

  it('builds asset URLs on the page host with the token', async () => {
    await startHost();
    const studio = await connect();
    expect(studio.assetUrl('prj_1/takes/take_1.wav')).toBe(
      `http://127.0.0.1:${running.port}/assets/prj_1/takes/take_1.wav?token=${token}`,
    );
  });

  it('delivers host events to subscribers until they unsubscribe', async () => {
    await startHost();
    const studio = await connect();
    const seen: string[] = [];
    const off = studio.on('jobUpdated', ({ job: j }) => seen.push(j.jobId));
    servers[0].server.emit('jobUpdated', { job });
    await until(() => seen.length === 1);
    off();
    servers[0].server.emit('jobUpdated', { job: { ...job, jobId: 'job_2' } });
    await studio.api.ping({}); // the event, sent first, has arrived by the time the reply does
    expect(seen).toEqual(['job_1']);
  });

  it('reconnects after the socket closes, keeps subscriptions and reports the change', async () => {
    await startHost();
    const studio = await connect();
    const changes: ConnectionChange[] = [];
    studio.onConnectionChange((change) => changes.push(change));
    const seen: string[] = [];
    studio.on('jobUpdated', ({ job: j }) => seen.push(j.jobId));

    servers[0].transport.close();
    await until(() => changes.some((c) => c.state === 'connected'));
    expect(changes.map((c) => [c.state, c.reconnected])).toEqual([
      ['reconnecting', false],
      ['connected', true],
    ]);
    expect(changes[0].reason).toMatch(/connection to the host closed/);
    expect(servers).toHaveLength(2);
    servers[1].server.emit('jobUpdated', { job });
    await until(() => seen.length === 1);
    expect((await studio.api.ping({})).ok).toBe(true);
  });

  it('lets a call made while reconnecting wait for the new connection', async () => {
    await startHost();
    const studio = await connect({ reconnectDelaysMs: [50] });
    servers[0].transport.close();
    await until(() => studio.connection === 'reconnecting');
    expect(await studio.api.ping({})).toEqual({ ok: true, value: { pong: true, version: '0.1.0' } });
  });

  it('rejects when the host refuses the token, saying what to check', async () => {
    await startHost();
    const page = pageFor(`?token=${createRunToken()}`);
    await expect(connectStudio({ page, WebSocket: NodeWebSocket })).rejects.toThrow(
      /could not connect to the Tessera host: .*closed before it opened.*npm run web/,
    );
  });

  it('rejects a page URL without a token before dialling', async () => {
    await startHost();
    await expect(connectStudio({ page: pageFor(''), WebSocket: NodeWebSocket })).rejects.toThrow(/no \?token=/);
  });

  it('after close(), calls fail with code internal and no reconnect happens', async () => {
    await startHost();
    const studio = await connect();
    const changes: ConnectionChange[] = [];
    studio.onConnectionChange((change) => changes.push(change));
    studio.close();
    studio.close();
    expect(studio.connection).toBe('closed');
    expect(changes.map((c) => c.state)).toEqual(['closed']);
    const result = await studio.api.ping({});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatchObject({ code: 'internal', message: 'ping: the connection was closed' });
    // Give a (wrong) redial ten times its delay to happen; none may.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(servers).toHaveLength(1);
  });
});

describe('connectStudio in Electron', () => {
  const location = { protocol: 'tessera:', host: 'app', search: '', origin: 'tessera://app' };

  /** A page with the preload's `window.studio` whose "main" answers each studio:connect with a served port. */
  function electronPage(options: { answer?: boolean } = {}) {
    const fake = createFakeStudio();
    const progress: (number | null)[] = [];
    const folders: { title: string; mode: string }[] = [];
    const bridge = {
      transport: 'message-port' as const,
      setProgress: (p: number | null) => progress.push(p),
      chooseFolder: async (request: { title: string; mode: 'open' | 'save' }) => {
        folders.push(request);
        return '/home/me/Project';
      },
    };
    const page = fakePage(location, bridge);
    const servers: StudioServer[] = [];
    const nonces: string[] = [];
    page.addEventListener('message', (event) => {
      const data = event.data as { type?: string; nonce?: string };
      if (data.type !== 'studio:connect' || options.answer === false) return;
      nonces.push(data.nonce ?? '');
      const channel = new MessageChannel();
      servers.push(serveStudioApi(messagePortTransport(channel.port1), fake.impl));
      cleanups.push(() => channel.port1.close());
      // A stray answer with another nonce and one from another window come first: both must be ignored.
      page.dispatch({ type: 'studio:port', nonce: 'not-yours' }, [new MessageChannel().port1]);
      page.dispatch({ type: 'studio:port', nonce: data.nonce }, [new MessageChannel().port1], {});
      page.dispatch({ type: 'studio:port', nonce: data.nonce }, [channel.port2]);
    });
    return { page, fake, progress, folders, servers, nonces };
  }

  async function connect(page: PageLike): Promise<Studio> {
    const studio = await connectStudio({ page, reconnectDelaysMs: [5], connectTimeoutMs: 2000 });
    cleanups.push(() => studio.close());
    return studio;
  }

  it('asks the preload for a port with a fresh nonce and calls the API over it', async () => {
    const { page, fake, nonces } = electronPage();
    const studio = await connect(page);
    expect(studio.platform).toBe('electron');
    expect(page.posted).toEqual([{ type: 'studio:connect', nonce: nonces[0] }]);
    expect(nonces[0]).toMatch(/^[0-9a-f]{32}$/);
    expect(await studio.api.ping({})).toEqual({ ok: true, value: { pong: true, version: '0.1.0' } });
    expect(fake.calls.map((c) => c.method)).toEqual(['ping']);
  });

  it('maps assets to studio-asset:// and exposes the shell', async () => {
    const { page, progress, folders } = electronPage();
    const studio = await connect(page);
    expect(studio.assetUrl('prj_1/takes/take 1.wav')).toBe('studio-asset://project/prj_1/takes/take%201.wav');
    studio.shell?.setProgress(0.5);
    studio.shell?.setProgress(null);
    expect(progress).toEqual([0.5, null]);
    expect(await studio.shell?.chooseFolder({ title: 'Open project', mode: 'open' })).toBe('/home/me/Project');
    expect(folders).toEqual([{ title: 'Open project', mode: 'open' }]);
  });

  it('reconnects with a new nonce when the engine restarts, and tells engineRestarted listeners', async () => {
    const { page, nonces, servers } = electronPage();
    const studio = await connect(page);
    const changes: ConnectionChange[] = [];
    studio.onConnectionChange((change) => changes.push(change));
    const restarts: string[] = [];
    studio.on('engineRestarted', ({ reason }) => restarts.push(reason));
    const seen: string[] = [];
    studio.on('jobUpdated', ({ job: j }) => seen.push(j.jobId));

    page.dispatch({ type: 'studio:engine-restarted', reason: 'crash' }, [], {}); // another window: ignored
    page.dispatch({ type: 'studio:engine-restarted', reason: 'crash' });
    await until(() => changes.some((c) => c.state === 'connected'));
    expect(changes.map((c) => [c.state, c.reconnected])).toEqual([
      ['reconnecting', false],
      ['connected', true],
    ]);
    expect(restarts).toEqual(['the engine restarted (crash)']);
    expect(nonces).toHaveLength(2);
    expect(nonces[1]).not.toBe(nonces[0]);
    servers[1].emit('jobUpdated', { job });
    await until(() => seen.length === 1);
    expect((await studio.api.ping({})).ok).toBe(true);
  });

  it('rejects when the preload never answers', async () => {
    const { page } = electronPage({ answer: false });
    await expect(connectStudio({ page, connectTimeoutMs: 20 })).rejects.toThrow(
      /could not connect to the Tessera engine: the Electron preload sent no engine port within 20 ms/,
    );
  });

  it('treats a page without the preload marker as browser mode', async () => {
    const page = fakePage(location, { transport: 'something-else' });
    await expect(connectStudio({ page })).rejects.toThrow(/no \?token=/);
  });
});
