/**
 * A Transport over a browser WebSocket (browser mode, ARCHITECTURE.md §1): text frames only, posts made while the
 * socket is still connecting are queued and sent on open, `close()` is idempotent. The WebSocket constructor is
 * injectable so Node tests can pass `ws`'s (Node 20 has no global WebSocket).
 */
import { HandlerSet, type Transport } from '../../src-main/contract/rpc/transport.ts';

/** What the transport uses of a WebSocket: the DOM WebSocket and `ws`'s both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'close' | 'error' | 'message', listener: (event: WebSocketEventLike) => void): void;
}

/** The fields of WebSocket events the transport reads (`data` of message, `code`/`reason` of close). */
export interface WebSocketEventLike {
  data?: unknown;
  code?: number;
  reason?: string;
}

/** A WebSocket constructor (`globalThis.WebSocket` in a browser, `ws`'s `WebSocket` in Node). */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

/** How a socket ended. */
export interface WebSocketCloseInfo {
  /** The close code (1000 normal, 1006 dropped or refused during the handshake, …). */
  code: number;
  reason: string;
  /** The socket had opened before it closed (false: the connection was refused or never came up). */
  wasOpen: boolean;
  /** `close()` was called on this transport. */
  byClient: boolean;
}

/** A Transport over one WebSocket, with its life cycle exposed for connection handling. */
export interface WebSocketTransport extends Transport {
  /** Resolves when the socket opens; rejects when it closes first (or `close()` is called first). */
  readonly opened: Promise<void>;
  /** True while the socket is open and `close()` has not been called. */
  readonly isOpen: boolean;
  /** Called once when the socket ends, whichever side ended it; returns the unsubscribe. */
  onClose(handler: (info: WebSocketCloseInfo) => void): () => void;
}

/** Options of {@link openWebSocketTransport}. */
export interface WebSocketTransportOptions {
  /** The constructor to use; `globalThis.WebSocket` when absent. */
  WebSocket?: WebSocketConstructor;
}

const CONNECTING = 0;
const OPEN = 1;

/** The global WebSocket constructor, if this runtime has one. */
function globalWebSocket(): WebSocketConstructor | undefined {
  return (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
}

/** Opens `url` (`ws://…` or `wss://…`) and returns its transport at once; messages posted before open are queued. */
export function openWebSocketTransport(url: string, options: WebSocketTransportOptions = {}): WebSocketTransport {
  const Socket = options.WebSocket ?? globalWebSocket();
  if (Socket === undefined) {
    throw new TypeError('openWebSocketTransport: this runtime has no WebSocket; pass one as options.WebSocket');
  }
  const socket = new Socket(url);
  const handlers = new HandlerSet();
  const closeHandlers = new Set<(info: WebSocketCloseInfo) => void>();
  const queued: string[] = [];
  let closedByClient = false;
  let ended = false;
  let wasOpen = false;
  let settleOpened: { resolve: () => void; reject: (error: Error) => void } | undefined;
  const opened = new Promise<void>((resolve, reject) => {
    settleOpened = { resolve, reject };
  });
  // Nobody has to wait for `opened`; a connection that never comes up must not be an unhandled rejection.
  opened.catch(() => undefined);

  const end = (code: number, reason: string): void => {
    if (ended) return;
    ended = true;
    handlers.clear();
    queued.length = 0;
    settleOpened?.reject(new Error(`WebSocket ${redact(url)} closed before it opened (code ${code}${reason ? `, ${reason}` : ''})`));
    const info: WebSocketCloseInfo = { code, reason, wasOpen, byClient: closedByClient };
    for (const handler of [...closeHandlers]) {
      try {
        handler(info);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
    closeHandlers.clear();
  };

  socket.addEventListener('open', () => {
    if (closedByClient) return;
    wasOpen = true;
    for (const data of queued.splice(0)) socket.send(data);
    settleOpened?.resolve();
  });
  socket.addEventListener('message', (event) => {
    if (!closedByClient && typeof event.data === 'string') handlers.dispatch(event.data);
  });
  // An 'error' is always followed by 'close', which ends the transport; listening keeps Node's `ws` from throwing.
  socket.addEventListener('error', () => undefined);
  socket.addEventListener('close', (event) => end(event.code ?? 1006, event.reason ?? ''));

  return {
    opened,
    get isOpen() {
      return !ended && !closedByClient && socket.readyState === OPEN;
    },
    post(data) {
      if (ended || closedByClient) return;
      if (socket.readyState === OPEN) socket.send(data);
      else if (socket.readyState === CONNECTING) queued.push(data);
    },
    on: (handler) => handlers.add(handler),
    onClose(handler) {
      if (ended) {
        // Already over: tell the late subscriber once, asynchronously like a real close event.
        queueMicrotask(() => handler({ code: 1006, reason: 'already closed', wasOpen, byClient: closedByClient }));
        return () => undefined;
      }
      const entry = (info: WebSocketCloseInfo): void => handler(info);
      closeHandlers.add(entry);
      return () => {
        closeHandlers.delete(entry);
      };
    },
    close() {
      if (closedByClient) return;
      closedByClient = true;
      handlers.clear();
      queued.length = 0;
      if (socket.readyState === CONNECTING || socket.readyState === OPEN) socket.close(1000, 'client closed');
      // Settle `opened` now: a caller closing a socket that is still connecting is done waiting for it.
      settleOpened?.reject(new Error(`WebSocket ${redact(url)} was closed by the client before it opened`));
      settleOpened = undefined;
    },
  };
}

/** The URL without its query (which carries the per-run token), for messages. */
export function redact(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : `${url.slice(0, query)}?…`;
}
