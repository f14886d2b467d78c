/**
 * The renderer's one way to the engine host (ARCHITECTURE.md §1–2): `connectStudio()` finds the platform, opens
 * the StudioApi over its transport and keeps it open across engine restarts.
 *
 * - Electron: the preload exposes `window.studio` (`transport: 'message-port'`); the page asks for a port with a
 *   `studio:connect` window message carrying a fresh nonce and receives `studio:port` with the port in
 *   `event.ports[0]` (src-main/preload/port-bridge.ts). Assets are `studio-asset://project/<path>`. When the engine
 *   restarts, main posts `studio:engine-restarted`; the old port is dead and a new one is requested.
 * - Browser (`npm run web`): a WebSocket to `ws(s)://<page host>/rpc?token=…` (token from the page URL); assets are
 *   `/assets/<path>?token=…` on the same host. A closed socket is redialled with backoff.
 *
 * `api` and `on` stay valid across reconnects (they follow the current connection), but host-side handles do not:
 * after `onConnectionChange` reports `reconnected: true` the project must be opened again.
 */
import { connectStudioApi, type StudioClient } from '../../src-main/contract/rpc/client.ts';
import { messagePortTransport, type MessagePortLike, type Transport } from '../../src-main/contract/rpc/transport.ts';
import { STUDIO_EVENT_NAMES, STUDIO_METHODS } from '../../src-main/contract/api.ts';
import type { ApiResult, StudioApi, StudioEventName, StudioEvents, StudioMethod } from '../../src-main/contract/api.ts';
import { openWebSocketTransport, redact, type WebSocketConstructor } from './ws-transport.ts';
import { browserEndpoints, electronAssetUrl, type LocationLike } from './urls.ts';
import { errorMessage } from '../../src-main/contract/errors.ts';

/** Where the renderer runs. */
export type Platform = 'electron' | 'browser';

/** The Electron shell's extras (absent in browser mode, where the UI shows its own folder field). */
export interface ShellApi {
  /** The native folder dialog; null when the user cancels. */
  chooseFolder(options: { title: string; mode: 'open' | 'save' }): Promise<string | null>;
  /** Overall job progress 0..1 for the taskbar/dock, or null when idle. */
  setProgress(progress: number | null): void;
}

/** The connection's life: `connecting` (first dial), `connected`, `reconnecting` (lost, redialling), `closed`. */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** A change of {@link ConnectionState}. */
export interface ConnectionChange {
  state: ConnectionState;
  /**
   * With `connected`: this connection replaced a lost one. The host side may be a new process (engine restart):
   * project handles and job ids from before are gone; open the project again and re-read jobs.
   */
  reconnected: boolean;
  /** Why the connection was lost (with `reconnecting`, and with the `connected` that follows it). */
  reason?: string;
}

/** A connected studio: the API, its events, asset URLs and the platform's extras. */
export interface Studio {
  /** The StudioApi; calls made while reconnecting wait for the connection (up to the call timeout). */
  readonly api: StudioApi;
  /** Subscribes to a host event; survives reconnects; returns the unsubscribe. */
  on<K extends StudioEventName>(name: K, handler: (payload: StudioEvents[K]) => void): () => void;
  /** The URL the page fetches an asset path from (`takeAssetPath`, `peaksAssetPath` of contract/api.ts). */
  assetUrl(path: string): string;
  readonly platform: Platform;
  /** Native dialogs and the taskbar progress in Electron; null in browser mode. */
  readonly shell: ShellApi | null;
  /** The current connection state. */
  readonly connection: ConnectionState;
  /** Subscribes to connection changes (lost, reconnected, closed); returns the unsubscribe. */
  onConnectionChange(handler: (change: ConnectionChange) => void): () => void;
  /** Closes the connection for good; pending and later calls fail with code `internal`. */
  close(): void;
}

/** A message event as the page's `window` delivers it. */
export interface PageMessageEvent {
  source: unknown;
  data: unknown;
  ports?: readonly unknown[];
}

/** What the bridge uses of the page's `window` (injectable for tests). */
export interface PageLike {
  location: LocationLike & { origin: string };
  addEventListener(type: 'message', listener: (event: PageMessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (event: PageMessageEvent) => void): void;
  postMessage(message: unknown, targetOrigin: string): void;
  /** What the Electron preload exposes (src-main/preload/port-bridge.ts); absent in a browser. */
  studio?: unknown;
}

/** Options of {@link connectStudio}; every field has a default for the real page. */
export interface ConnectOptions {
  /** The page (`globalThis`). */
  page?: PageLike;
  /** The WebSocket constructor for browser mode (`globalThis.WebSocket`). */
  WebSocket?: WebSocketConstructor;
  /** How long one API call may wait for its reply, ms (default 60 000). */
  timeoutMs?: number;
  /** How long one connection attempt may take (socket open, or the preload's port), ms (default 10 000). */
  connectTimeoutMs?: number;
  /** Waits between redial attempts, ms; the last one repeats (default 250, 500, 1000, 2000, 5000). */
  reconnectDelaysMs?: readonly number[];
  /** Makes the nonce of a port request (default: 128 random bits, hex). */
  nonce?: () => string;
}

/** A live link to the host: its transport, and how the bridge learns that it died. */
interface Link {
  transport: Transport;
  /** Registers the one callback to run when the link dies; returns the unsubscribe. */
  onLost(callback: (reason: string) => void): () => void;
}

const DEFAULT_RECONNECT_DELAYS_MS = [250, 500, 1000, 2000, 5000] as const;

/** The object the Electron preload exposes on `window.studio`, as far as the bridge relies on it. */
interface PreloadBridge {
  transport: 'message-port';
  setProgress(progress: number | null): void;
  chooseFolder?(options: { title: string; mode: 'open' | 'save' }): Promise<string | null>;
}

/** True when the page runs inside the Electron shell (the preload exposed its marker). */
function preloadBridge(page: PageLike): PreloadBridge | null {
  const exposed = page.studio;
  if (exposed === null || typeof exposed !== 'object') return null;
  const bridge = exposed as Partial<PreloadBridge>;
  return bridge.transport === 'message-port' && typeof bridge.setProgress === 'function' ? (bridge as PreloadBridge) : null;
}

/** 128 random bits as hex: a nonce the preload accepts (1–128 printable ASCII characters). */
function randomNonce(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Connects to the host for this page; rejects when the first connection cannot be made. */
export async function connectStudio(options: ConnectOptions = {}): Promise<Studio> {
  const page = options.page ?? (globalThis as unknown as PageLike);
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const bridge = preloadBridge(page);
  if (bridge !== null) {
    const nonce = options.nonce ?? randomNonce;
    const restarts = new Set<(reason: string) => void>();
    const onRestart = (event: PageMessageEvent): void => {
      if (event.source !== page || !isRecord(event.data) || event.data.type !== 'studio:engine-restarted') return;
      const reason = typeof event.data.reason === 'string' ? event.data.reason : 'restart';
      for (const callback of [...restarts]) callback(`the engine restarted (${reason})`);
    };
    page.addEventListener('message', onRestart);
    let warned = false;
    const shell: ShellApi = {
      setProgress: (progress) => bridge.setProgress(progress),
      chooseFolder: (request) => {
        if (typeof bridge.chooseFolder === 'function') return bridge.chooseFolder(request);
        if (!warned) console.warn('Tessera: this shell has no folder dialog (window.studio.chooseFolder missing)');
        warned = true;
        return Promise.resolve(null);
      },
    };
    const dial = async (): Promise<Link> => {
      const port = await requestPort(page, nonce(), connectTimeoutMs);
      return {
        transport: messagePortTransport(port),
        onLost(callback) {
          restarts.add(callback);
          return () => restarts.delete(callback);
        },
      };
    };
    return createStudio({
      platform: 'electron',
      shell,
      assetUrl: electronAssetUrl,
      dial,
      synthesizeRestartEvent: true,
      dispose: () => page.removeEventListener('message', onRestart),
      options,
    });
  }

  const endpoints = browserEndpoints(page.location);
  const dial = async (): Promise<Link> => {
    const transport = openWebSocketTransport(endpoints.rpcUrl, { WebSocket: options.WebSocket });
    try {
      await withTimeout(transport.opened, connectTimeoutMs, `WebSocket ${redact(endpoints.rpcUrl)} did not open`);
    } catch (e) {
      transport.close();
      throw e;
    }
    return {
      transport,
      onLost: (callback) =>
        transport.onClose((info) => {
          if (!info.byClient) callback(`the connection to the host closed (code ${info.code}${info.reason ? `, ${info.reason}` : ''})`);
        }),
    };
  };
  return createStudio({ platform: 'browser', shell: null, assetUrl: endpoints.assetUrl, dial, options });
}

/** Asks the preload for a MessagePort to the engine and waits for the answer carrying our nonce. */
function requestPort(page: PageLike, nonce: string, timeoutMs: number): Promise<MessagePortLike> {
  return new Promise((resolve, reject) => {
    const listener = (event: PageMessageEvent): void => {
      if (event.source !== page || !isRecord(event.data)) return;
      if (event.data.type !== 'studio:port' || event.data.nonce !== nonce) return;
      const port = event.ports?.[0];
      if (!isMessagePort(port)) return;
      cleanup();
      resolve(port);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`the Electron preload sent no engine port within ${timeoutMs} ms (studio:connect ${nonce})`));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      page.removeEventListener('message', listener);
    };
    page.addEventListener('message', listener);
    // NOTE: custom schemes can report an opaque "null" origin; the message goes to this same window either way.
    const origin = page.location.origin && page.location.origin !== 'null' ? page.location.origin : '*';
    page.postMessage({ type: 'studio:connect', nonce }, origin);
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object';
}

function isMessagePort(value: unknown): value is MessagePortLike {
  return isRecord(value) && typeof value.postMessage === 'function' && typeof value.close === 'function';
}

/** `promise`, or a rejection with `message` after `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

interface StudioParts {
  platform: Platform;
  shell: ShellApi | null;
  assetUrl(path: string): string;
  dial(): Promise<Link>;
  /** Electron: tell `engineRestarted` listeners, since the dead engine cannot. */
  synthesizeRestartEvent?: boolean;
  dispose?(): void;
  options: ConnectOptions;
}

/** The reconnecting core shared by both platforms: one client at a time, listeners kept across clients. */
async function createStudio(parts: StudioParts): Promise<Studio> {
  const { options } = parts;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const delays = options.reconnectDelaysMs?.length ? options.reconnectDelaysMs : DEFAULT_RECONNECT_DELAYS_MS;
  const eventListeners = new Map<StudioEventName, Set<(payload: unknown) => void>>();
  const connectionListeners = new Set<(change: ConnectionChange) => void>();
  let state: ConnectionState = 'connecting';
  let client: StudioClient | null = null;
  let dropLink: (() => void) | null = null;
  let redialTimer: ReturnType<typeof setTimeout> | undefined;
  /** Callers waiting for the next connection (or for close). */
  let waiters: ((connected: boolean) => void)[] = [];

  const notify = (change: ConnectionChange): void => {
    state = change.state;
    for (const handler of [...connectionListeners]) {
      try {
        handler(change);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  };
  const dispatch = (name: StudioEventName, payload: unknown): void => {
    for (const handler of [...(eventListeners.get(name) ?? [])]) {
      try {
        handler(payload);
      } catch (e) {
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  };
  const wake = (connected: boolean): void => {
    const waiting = waiters;
    waiters = [];
    for (const resolve of waiting) resolve(connected);
  };

  const attach = (link: Link, reconnected: boolean, reason?: string): void => {
    const next = connectStudioApi(link.transport, { timeoutMs });
    for (const name of STUDIO_EVENT_NAMES) next.on(name, (payload) => dispatch(name, payload));
    client = next;
    const unsubscribe = link.onLost((why) => lose(next, why));
    dropLink = unsubscribe;
    notify({ state: 'connected', reconnected, ...(reason === undefined ? {} : { reason }) });
    wake(true);
  };

  const lose = (lost: StudioClient, reason: string): void => {
    if (client !== lost || state === 'closed') return;
    dropLink?.();
    dropLink = null;
    client = null;
    lost.close();
    notify({ state: 'reconnecting', reconnected: false, reason });
    if (parts.synthesizeRestartEvent) dispatch('engineRestarted', { reason });
    redial(0, reason);
  };

  const redial = (attempt: number, reason: string): void => {
    const delay = delays[Math.min(attempt, delays.length - 1)];
    redialTimer = setTimeout(() => {
      redialTimer = undefined;
      parts.dial().then(
        (link) => {
          if (state === 'closed') {
            link.transport.close();
            return;
          }
          attach(link, true, reason);
        },
        () => {
          if (state !== 'closed') redial(attempt + 1, reason);
        },
      );
    }, delay);
  };

  /** The client to call, waiting for a reconnect up to the call timeout; null when there is none. */
  const currentClient = async (): Promise<StudioClient | null> => {
    if (client !== null) return client;
    if (state === 'closed') return null;
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        waiters = waiters.filter((w) => w !== done);
        resolve(false);
      }, timeoutMs);
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        resolve(ok);
      };
      waiters.push(done);
    });
    return connected ? client : null;
  };

  const call = async (method: StudioMethod, input: unknown): Promise<ApiResult<unknown>> => {
    const target = await currentClient();
    if (target === null) {
      const why = state === 'closed' ? 'the connection was closed' : `not connected to the host (${state})`;
      return { ok: false, error: { code: 'internal', message: `${method}: ${why}` } };
    }
    const fn = target.api[method] as (input: unknown) => Promise<ApiResult<unknown>>;
    return fn(input);
  };
  const api: Record<string, (input: unknown) => Promise<ApiResult<unknown>>> = {};
  for (const method of STUDIO_METHODS) api[method] = (input) => call(method, input);

  try {
    attach(await parts.dial(), false);
  } catch (e) {
    state = 'closed';
    parts.dispose?.();
    const detail = errorMessage(e);
    throw new Error(
      parts.platform === 'browser'
        ? `could not connect to the Tessera host: ${detail}. Is \`npm run web\` still running, and is this the URL it printed?`
        : `could not connect to the Tessera engine: ${detail}`,
      { cause: e },
    );
  }

  return {
    api: api as unknown as StudioApi,
    on(name, handler) {
      let set = eventListeners.get(name);
      if (!set) {
        set = new Set();
        eventListeners.set(name, set);
      }
      const entry = (payload: unknown): void => handler(payload as StudioEvents[typeof name]);
      set.add(entry);
      return () => {
        eventListeners.get(name)?.delete(entry);
      };
    },
    assetUrl: parts.assetUrl,
    platform: parts.platform,
    shell: parts.shell,
    get connection() {
      return state;
    },
    onConnectionChange(handler) {
      const entry = (change: ConnectionChange): void => handler(change);
      connectionListeners.add(entry);
      return () => {
        connectionListeners.delete(entry);
      };
    },
    close() {
      if (state === 'closed') return;
      if (redialTimer !== undefined) clearTimeout(redialTimer);
      dropLink?.();
      dropLink = null;
      const last = client;
      client = null;
      notify({ state: 'closed', reconnected: false });
      wake(false);
      last?.close();
      parts.dispose?.();
      eventListeners.clear();
      connectionListeners.clear();
    },
  };
}
