/**
 * The WebSocket transport of browser mode: the host listens on loopback only, on a random port, and accepts a
 * connection only on `/rpc`, with a loopback `Host` on its own port (against DNS rebinding, as the HTTP routes),
 * with the per-run token (`?token=` in the URL, compared in constant time) and with no `Origin` (Node clients) or a
 * loopback origin on the server's own port. Anything else is refused during the handshake (421 for the Host, 404
 * for the path, 401 for the token, 403 for the origin), before a socket exists.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { HandlerSet } from '../../contract/rpc/transport.ts';
import type { Transport } from '../../contract/rpc/transport.ts';

/** Hosts the server may bind: loopback only. */
export type LoopbackHost = '127.0.0.1' | '::1' | 'localhost';

/** Options of `startWebSocketServer`. */
export interface WebSocketServerOptions {
  /** Interface to bind (default `127.0.0.1`); anything but loopback is refused. */
  host?: LoopbackHost;
  /** Port (default 0: the OS picks a free one). */
  port?: number;
  /** The per-run secret clients must present; at least 16 characters (see `createRunToken`). */
  token: string;
  /** Largest accepted message, bytes (default 16 MiB); audio travels by URL, never through RPC. */
  maxPayload?: number;
  /** Called with each accepted connection. */
  onConnection(transport: Transport, request: IncomingMessage): void;
  /** Called once when an accepted connection closes (page reloaded or closed, client gone). */
  onDisconnect?(transport: Transport): void;
  /** Answers plain HTTP requests on the same port (browser mode: the renderer and assets); 426 when absent. */
  http?: (request: IncomingMessage, response: ServerResponse, port: number) => void;
}

/** A listening server. */
export interface RunningWebSocketServer {
  /** `ws://host:port/?token=…`: what a client connects to. */
  url: string;
  /** `http://host:port/?token=…`: the page a browser opens. */
  httpUrl: string;
  port: number;
  /** Closes every connection and stops listening. */
  close(): Promise<void>;
}

const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', '::1', 'localhost'];

/** A fresh per-run token: 32 random bytes, base64url. */
export function createRunToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time comparison of two strings of any length (compares their SHA-256 digests). */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The path the StudioApi's WebSocket is served on; an upgrade anywhere else is refused. */
export const RPC_PATH = '/rpc';

/**
 * The `Host` headers a request to this server may carry: its loopback names on its own port. Anything else is a
 * page on a foreign name that resolves to 127.0.0.1 (DNS rebinding), refused with 421 like the HTTP routes do.
 */
export function allowedHosts(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
}

/** The origins a browser page served by this host sends. */
export function allowedOrigins(port: number): Set<string> {
  return new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`]);
}

/** Starts listening; resolves once the port is bound. */
export function startWebSocketServer(options: WebSocketServerOptions): Promise<RunningWebSocketServer> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK_HOSTS.includes(host)) {
    return Promise.reject(new Error(`startWebSocketServer: host '${String(host)}' is not loopback; use 127.0.0.1, ::1 or localhost`));
  }
  if (options.token.length < 16) {
    return Promise.reject(new Error('startWebSocketServer: the token must be at least 16 characters; use createRunToken()'));
  }
  let boundPort = -1;
  const httpServer = createServer((request, response) => {
    if (options.http) options.http(request, response, boundPort);
    else response.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8' }).end('This port speaks WebSocket only.\n');
  });
  const server = new WebSocketServer({
    server: httpServer,
    maxPayload: options.maxPayload ?? 16 * 1024 * 1024,
    verifyClient: (info: { origin?: string; req: IncomingMessage }, accept: (ok: boolean, code?: number, reason?: string) => void) => {
      if (!allowedHosts(boundPort).has(info.req.headers.host ?? '')) {
        accept(false, 421, 'Misdirected Request');
        return;
      }
      // NOTE: the raw request path, not a URL parsed from it: `//rpc` would parse as a host named `rpc`.
      const [path = '', query = ''] = (info.req.url ?? '').split(/\?(.*)/s, 2);
      if (path !== RPC_PATH) {
        accept(false, 404, 'Not Found');
        return;
      }
      const token = new URLSearchParams(query).get('token') ?? '';
      if (!tokensEqual(token, options.token)) {
        accept(false, 401, 'Unauthorized');
        return;
      }
      const origin = info.origin;
      if (origin !== undefined && origin !== '' && !allowedOrigins(boundPort).has(origin)) {
        accept(false, 403, 'Forbidden');
        return;
      }
      accept(true);
    },
  });
  server.on('connection', (socket, request) => {
    const transport = webSocketTransport(socket);
    options.onConnection(transport, request);
    socket.once('close', () => options.onDisconnect?.(transport));
  });
  // NOTE: a listening server's later errors (a client's bad handshake) must not crash the host.
  server.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port ?? 0, host, () => {
      httpServer.off('error', reject);
      httpServer.on('error', () => undefined);
      boundPort = (httpServer.address() as AddressInfo).port;
      const urlHost = host === '::1' ? '[::1]' : host;
      const token = encodeURIComponent(options.token);
      resolve({
        url: `ws://${urlHost}:${boundPort}/rpc?token=${token}`,
        httpUrl: `http://${urlHost}:${boundPort}/?token=${token}`,
        port: boundPort,
        close: () =>
          new Promise<void>((done) => {
            for (const client of server.clients) client.terminate();
            server.close(() => {
              httpServer.closeAllConnections();
              httpServer.close(() => done());
            });
          }),
      });
    });
  });
}

/** The text of a received frame. */
function frameText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/** A Transport over a `ws` socket (either end); text frames only, messages posted while connecting are queued. */
export function webSocketTransport(socket: WebSocket): Transport {
  const handlers = new HandlerSet();
  const queued: string[] = [];
  socket.on('message', (data, isBinary) => {
    if (!isBinary) handlers.dispatch(frameText(data));
  });
  socket.on('open', () => {
    for (const data of queued.splice(0)) socket.send(data);
  });
  // A socket 'error' without a listener would throw; the close that follows ends the transport.
  socket.on('error', () => undefined);
  socket.on('close', () => handlers.clear());
  return {
    post(data) {
      if (socket.readyState === WebSocket.OPEN) socket.send(data);
      else if (socket.readyState === WebSocket.CONNECTING) queued.push(data);
    },
    on: (handler) => handlers.add(handler),
    close() {
      handlers.clear();
      queued.length = 0;
      if (socket.readyState === WebSocket.OPEN || socket.readyState === WebSocket.CONNECTING) socket.close();
    },
  };
}

/**
 * Opens a client connection (Node; tests and tools); rejects with the HTTP status when the server refuses.
 * `headers` adds request headers (tests send a foreign `Host` with it).
 */
export function connectWebSocket(url: string, options: { origin?: string; headers?: Record<string, string> } = {}): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { ...(options.origin === undefined ? {} : { origin: options.origin }), ...(options.headers ? { headers: options.headers } : {}) });
    const onError = (error: Error): void => reject(error);
    socket.on('error', onError);
    socket.once('open', () => {
      socket.off('error', onError);
      resolve(webSocketTransport(socket));
    });
  });
}
