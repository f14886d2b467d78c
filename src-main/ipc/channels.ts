/**
 * The few IPC channels between main and the preload. The StudioApi itself never crosses ipcMain: the renderer gets
 * a MessagePort to the engine utility process and talks to it directly (ux.md §1.4), so these only set that up.
 */

/** Preload → main: the page asks for a port to the engine; the payload is the page's nonce. */
export const CONNECT_CHANNEL = 'studio:connect';
/** Main → preload: the port to the engine (in `event.ports[0]`), with the nonce it answers. */
export const PORT_CHANNEL = 'studio:port';
/** Main → preload: the engine restarted (crash or hard cancel); the page's port is dead, connect again. */
export const ENGINE_RESTARTED_CHANNEL = 'studio:engine-restarted';
/** Preload → main: overall job progress 0..1 for the taskbar/dock, or null when no job runs. */
export const PROGRESS_CHANNEL = 'studio:progress';

/** Renderer → main (invoke): pick a folder with the native dialog; resolves to its path or null when cancelled. */
export const CHOOSE_FOLDER_CHANNEL = 'studio:choose-folder';

/** What the page may ask the folder dialog for. */
export interface ChooseFolderRequest {
  title: string;
  /** `open`: an existing project folder; `save`: where to put a project (may create the folder). */
  mode: 'open' | 'save';
}

/** Validates a folder-dialog request from the page (anything else is dropped). */
export function isChooseFolderRequest(value: unknown): value is ChooseFolderRequest {
  if (value === null || typeof value !== 'object') return false;
  const r = value as Record<string, unknown>;
  return typeof r.title === 'string' && r.title.length <= 200 && (r.mode === 'open' || r.mode === 'save') && Object.keys(r).length === 2;
}

/** Messages the preload and the page exchange with `window.postMessage` (the page side of the bridge). */
export type PageMessage =
  | { type: 'studio:connect'; nonce: string }
  | { type: 'studio:port'; nonce: string }
  | { type: 'studio:engine-restarted'; reason: string };

/** A nonce as the page sends it: 1–128 printable ASCII characters. */
export function isNonce(value: unknown): value is string {
  return typeof value === 'string' && /^[\x21-\x7e]{1,128}$/.test(value);
}

/** Maps job progress to `BrowserWindow.setProgressBar`'s value: 0..1 while running, -1 (bar removed) otherwise. */
export function progressBarValue(progress: unknown): number {
  if (typeof progress !== 'number' || !Number.isFinite(progress)) return -1;
  return Math.min(1, Math.max(0, progress));
}
