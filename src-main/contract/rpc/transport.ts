/**
 * The byte-level channel the RPC layer runs over. A Transport carries strings only: the RPC layer serializes every
 * message with JSON (server.ts/client.ts), so the same messages cross an in-memory pair, a MessagePort and a
 * WebSocket unchanged, and nothing depends on structured clone (which drops class prototypes and refuses Svelte
 * `$state` proxies). Delivery is in order and asynchronous on every transport.
 */

/** A bidirectional, ordered string channel. */
export interface Transport {
  /** Sends one message; dropped silently once the transport is closed. */
  post(data: string): void;
  /** Listens for messages; returns the unsubscribe. */
  on(handler: (data: string) => void): () => void;
  /** Closes this end (and, for channels that have one, the peer's); idempotent. */
  close(): void;
}

/** A set of message handlers that survives a handler unsubscribing or throwing during dispatch. */
export class HandlerSet {
  private readonly handlers = new Set<(data: string) => void>();

  add(handler: (data: string) => void): () => void {
    // NOTE: wrap so that subscribing the same function twice gives two independent subscriptions.
    const entry = (data: string): void => handler(data);
    this.handlers.add(entry);
    return () => {
      this.handlers.delete(entry);
    };
  }

  dispatch(data: string): void {
    for (const handler of [...this.handlers]) {
      try {
        handler(data);
      } catch (e) {
        // A faulty listener must not stop delivery to the others; surface it like an uncaught error would.
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }

  clear(): void {
    this.handlers.clear();
  }
}

/**
 * Two connected in-memory ends (tests, or host and client in one process). Each message is delivered in a later
 * microtask, in order, like a real channel; closing either end closes both.
 */
export function createMemoryTransportPair(): [Transport, Transport] {
  const handlers = [new HandlerSet(), new HandlerSet()] as const;
  let closed = false;
  const end = (own: HandlerSet, peer: HandlerSet): Transport => ({
    post(data) {
      if (closed) return;
      queueMicrotask(() => {
        if (!closed) peer.dispatch(data);
      });
    },
    on: (handler) => own.add(handler),
    close() {
      closed = true;
      own.clear();
      peer.clear();
    },
  });
  return [end(handlers[0], handlers[1]), end(handlers[1], handlers[0])];
}

/**
 * What `messagePortTransport` needs of a port. Matches Node's `worker_threads` MessagePort (`on('message', value)`),
 * Electron's MessagePortMain (`on('message', {data})`, queues until `start()`) and the DOM MessagePort
 * (`addEventListener('message', {data})`).
 */
export interface MessagePortLike {
  postMessage(message: unknown): void;
  on?(event: 'message', listener: (message: unknown) => void): unknown;
  off?(event: 'message', listener: (message: unknown) => void): unknown;
  addEventListener?(event: 'message', listener: (message: unknown) => void): unknown;
  removeEventListener?(event: 'message', listener: (message: unknown) => void): unknown;
  start?(): void;
  close(): void;
}

/** The string a port delivered: Node passes the value itself, Electron and the DOM wrap it in `{ data }`. */
function messageText(message: unknown): string | undefined {
  if (typeof message === 'string') return message;
  if (message !== null && typeof message === 'object' && 'data' in message && typeof message.data === 'string') {
    return message.data;
  }
  return undefined;
}

/** A Transport over one end of a MessageChannel; anything but a string arriving on the port is ignored. */
export function messagePortTransport(port: MessagePortLike): Transport {
  const handlers = new HandlerSet();
  let closed = false;
  const listener = (message: unknown): void => {
    const text = messageText(message);
    if (text !== undefined) handlers.dispatch(text);
  };
  if (port.on) port.on('message', listener);
  else if (port.addEventListener) port.addEventListener('message', listener);
  else throw new TypeError('messagePortTransport: the port has neither on() nor addEventListener()');
  // Electron's MessagePortMain and DOM ports queue messages until started; Node's start on the first listener.
  port.start?.();
  return {
    post(data) {
      if (!closed) port.postMessage(data);
    },
    on: (handler) => handlers.add(handler),
    close() {
      if (closed) return;
      closed = true;
      handlers.clear();
      if (port.off) port.off('message', listener);
      else port.removeEventListener?.('message', listener);
      port.close();
    },
  };
}
