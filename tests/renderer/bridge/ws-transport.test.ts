/** The browser WebSocket transport against a real `ws` server on 127.0.0.1 (`ws`'s client injected). */
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import {
  openWebSocketTransport,
  type WebSocketCloseInfo,
  type WebSocketConstructor,
} from '../../../src-renderer/bridge/ws-transport.ts';

const NodeWebSocket = WebSocket as unknown as WebSocketConstructor;

let server: WebSocketServer;
let url: string;
/** Server-side sockets in connection order, with what each received. */
let peers: { socket: ServerSocket; received: string[] }[];
let connected: Promise<void>;
let onConnected: () => void;

beforeEach(async () => {
  peers = [];
  connected = new Promise((resolve) => {
    onConnected = resolve;
  });
  server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    verifyClient: (info: { req: { url?: string } }) => !(info.req.url ?? '').includes('refuse'),
  });
  server.on('connection', (socket) => {
    const peer = { socket, received: [] as string[] };
    socket.on('message', (data, isBinary) => {
      if (!isBinary) peer.received.push(data.toString());
    });
    peers.push(peer);
    onConnected();
  });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/rpc`;
});

afterEach(async () => {
  for (const client of server.clients) client.terminate();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Resolves when `predicate` holds, polling the event loop (no timing thresholds: the test timeout bounds it). */
async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise((resolve) => setTimeout(resolve, 5));
}

function closeInfo(transport: ReturnType<typeof openWebSocketTransport>): Promise<WebSocketCloseInfo> {
  return new Promise((resolve) => transport.onClose(resolve));
}

describe('openWebSocketTransport', () => {
  it('queues posts made while connecting and sends them in order once open', async () => {
    const transport = openWebSocketTransport(url, { WebSocket: NodeWebSocket });
    expect(transport.isOpen).toBe(false);
    transport.post('one');
    transport.post('two');
    await transport.opened;
    expect(transport.isOpen).toBe(true);
    transport.post('three');
    await until(() => (peers[0]?.received.length ?? 0) === 3);
    expect(peers[0].received).toEqual(['one', 'two', 'three']);
    transport.close();
  });

  it('delivers text frames to every handler and ignores binary frames', async () => {
    const transport = openWebSocketTransport(url, { WebSocket: NodeWebSocket });
    const a: string[] = [];
    const b: string[] = [];
    transport.on((data) => a.push(data));
    const offB = transport.on((data) => b.push(data));
    await transport.opened;
    await connected;
    peers[0].socket.send(Buffer.from([1, 2, 3]), { binary: true });
    peers[0].socket.send('hello');
    await until(() => a.length === 1);
    offB();
    peers[0].socket.send('again');
    await until(() => a.length === 2);
    expect(a).toEqual(['hello', 'again']);
    expect(b).toEqual(['hello']);
    transport.close();
  });

  it('close() is idempotent, reports once with byClient, and drops later posts', async () => {
    const transport = openWebSocketTransport(url, { WebSocket: NodeWebSocket });
    const closes: WebSocketCloseInfo[] = [];
    transport.onClose((info) => closes.push(info));
    await transport.opened;
    await connected;
    transport.close();
    transport.close();
    transport.post('late');
    expect(transport.isOpen).toBe(false);
    await until(() => closes.length === 1);
    await until(() => peers[0].socket.readyState === WebSocket.CLOSED);
    expect(closes).toEqual([{ code: 1000, reason: 'client closed', wasOpen: true, byClient: true }]);
    expect(peers[0].received).toEqual([]);
  });

  it('reports a close by the server with its code and reason', async () => {
    const transport = openWebSocketTransport(url, { WebSocket: NodeWebSocket });
    const closed = closeInfo(transport);
    await transport.opened;
    await connected;
    peers[0].socket.close(4001, 'host stopping');
    expect(await closed).toEqual({ code: 4001, reason: 'host stopping', wasOpen: true, byClient: false });
    expect(transport.isOpen).toBe(false);
  });

  it('rejects `opened` when the server refuses the handshake, without leaking the query', async () => {
    const transport = openWebSocketTransport(`${url}?token=refuse-secret`, { WebSocket: NodeWebSocket });
    const closed = closeInfo(transport);
    await expect(transport.opened).rejects.toThrow(/closed before it opened/);
    await expect(transport.opened).rejects.not.toThrow(/secret/);
    expect((await closed).wasOpen).toBe(false);
    expect(peers).toEqual([]);
  });

  it('rejects `opened` when closed by the client while connecting', async () => {
    const transport = openWebSocketTransport(url, { WebSocket: NodeWebSocket });
    transport.close();
    await expect(transport.opened).rejects.toThrow(/closed by the client before it opened/);
  });

  it('tells a late onClose subscriber that the socket is already closed', async () => {
    const transport = openWebSocketTransport(url, { WebSocket: NodeWebSocket });
    await transport.opened;
    await connected;
    const first = closeInfo(transport);
    peers[0].socket.close(1000, 'bye');
    await first;
    expect((await closeInfo(transport)).reason).toBe('already closed');
  });

  it('needs a WebSocket constructor when the runtime has none', () => {
    vi.stubGlobal('WebSocket', undefined);
    try {
      expect(() => openWebSocketTransport(url)).toThrow(/this runtime has no WebSocket; pass one as options.WebSocket/);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
