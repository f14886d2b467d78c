/**
 * The preload's whole job: get the page a MessagePort to the engine. A MessagePort cannot cross contextBridge (it
 * arrives as an inert object), so we use the pattern from Electron's docs/tutorial/message-ports.md ("Communicating
 * directly between the main process and the main world of a context-isolated page", ux.md §1.2/§1.4): the page asks
 * with `window.postMessage({type:'studio:connect', nonce})`; the preload forwards the request to main over IPC;
 * main answers with a port (engine on the other end); the preload transfers it into the page with
 * `window.postMessage({type:'studio:port', nonce}, origin, [port])`. The page asking (rather than main pushing on
 * load) means the port cannot be lost to a race with the page's listener; the nonce pairs answer and request.
 * Electron objects are parameters so tests pass fakes.
 */
import { CHOOSE_FOLDER_CHANNEL, CONNECT_CHANNEL, ENGINE_RESTARTED_CHANNEL, PORT_CHANNEL, PROGRESS_CHANNEL, isChooseFolderRequest, isNonce, type ChooseFolderRequest, type PageMessage } from '../ipc/channels.ts';

/** What the bridge uses of `ipcRenderer`. */
export interface IpcRendererLike {
  send(channel: string, ...args: unknown[]): void;
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: { ports: readonly unknown[] }, ...args: unknown[]) => void): unknown;
}

/** What the bridge uses of the page's `window`. */
export interface PageWindowLike {
  location: { origin: string };
  addEventListener(type: 'message', listener: (event: { source: unknown; data: unknown }) => void): void;
  postMessage(message: PageMessage, targetOrigin: string, transfer?: unknown[]): void;
}

/** The object exposed as `window.studio`: nothing but a marker and the progress hook. */
export interface StudioBridge {
  /** How the page reaches the StudioApi: ask for a port with a `studio:connect` window message. */
  readonly transport: 'message-port';
  /** Overall job progress 0..1 for the taskbar, or null when idle. */
  setProgress(progress: number | null): void;
  /** The native folder dialog; null when cancelled. */
  chooseFolder(request: ChooseFolderRequest): Promise<string | null>;
}

/** Installs the port forwarding and returns the object to expose on `window.studio`. */
export function installPortBridge(ipcRenderer: IpcRendererLike, page: PageWindowLike): StudioBridge {
  // NOTE: custom schemes can report an opaque "null" origin; postMessage then needs '*' (same window only anyway).
  const targetOrigin = (): string => (page.location.origin && page.location.origin !== 'null' ? page.location.origin : '*');
  page.addEventListener('message', (event) => {
    if (event.source !== page) return; // only the page itself, never a frame or opener
    const data = event.data;
    if (data === null || typeof data !== 'object' || !('type' in data) || data.type !== 'studio:connect') return;
    if (!('nonce' in data) || !isNonce(data.nonce)) return;
    ipcRenderer.send(CONNECT_CHANNEL, data.nonce);
  });
  ipcRenderer.on(PORT_CHANNEL, (event, nonce) => {
    const port = event.ports[0];
    if (port === undefined || !isNonce(nonce)) return;
    page.postMessage({ type: 'studio:port', nonce }, targetOrigin(), [port]);
  });
  ipcRenderer.on(ENGINE_RESTARTED_CHANNEL, (_event, reason) => {
    page.postMessage({ type: 'studio:engine-restarted', reason: typeof reason === 'string' ? reason : 'restart' }, targetOrigin());
  });
  return {
    transport: 'message-port',
    setProgress(progress) {
      ipcRenderer.send(PROGRESS_CHANNEL, typeof progress === 'number' && Number.isFinite(progress) ? progress : null);
    },
    async chooseFolder(request) {
      // Copy the two fields: contextBridge hands us a page object that could carry getters or extra keys.
      const clean = { title: String(request?.title ?? ''), mode: request?.mode === 'save' ? 'save' : 'open' };
      if (!isChooseFolderRequest(clean)) return null;
      const chosen = await ipcRenderer.invoke(CHOOSE_FOLDER_CHANNEL, clean);
      return typeof chosen === 'string' ? chosen : null;
    },
  };
}
