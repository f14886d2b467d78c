/**
 * The sandboxed preload (bundled to CommonJS by `npm start`; a sandboxed preload may require only `electron`).
 * Exposes `window.studio` (a marker and the progress hook) and forwards the engine port; see port-bridge.ts.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { installPortBridge, type PageWindowLike } from './port-bridge.ts';

contextBridge.exposeInMainWorld('studio', installPortBridge(ipcRenderer, globalThis as unknown as PageWindowLike));
