/**
 * The main window and its security policy (Electron security checklist, ux.md §1.1): isolated, sandboxed preload,
 * strict CSP, no navigation away from the app, no new windows, no permissions. Electron objects are parameters, so
 * tests pass fakes; main.ts passes the real module.
 */
import type { BrowserWindowConstructorOptions } from 'electron';
import { originOf } from '../ipc/sender.ts';
import { CONTENT_SECURITY_POLICY } from './csp.ts';

/** The scheme the renderer is served from (a custom protocol, not file://, per the checklist's rule 18). */
export const APP_SCHEME = 'tessera';
/** The app's own origin; the only one that may navigate, load or send IPC. */
export const APP_ORIGIN = `${APP_SCHEME}://app`;
export { ASSET_SCHEME, CONTENT_SECURITY_POLICY } from './csp.ts';

/** Options of `createMainWindow`. */
export interface MainWindowOptions {
  /** Absolute path of the bundled preload script. */
  preloadPath: string;
  /** Origin the renderer is served from; APP_ORIGIN unless a dev server is used. */
  appOrigin?: string;
  /** Page to load; `${appOrigin}/index.html` by default. */
  url?: string;
  title?: string;
}

/** What the window code uses of a session. */
export interface SessionLike {
  webRequest: {
    onHeadersReceived(
      listener: (
        details: { responseHeaders?: Record<string, string[]> },
        callback: (response: { responseHeaders?: Record<string, string[] | string> }) => void,
      ) => void,
    ): void;
  };
  setPermissionRequestHandler(handler: (webContents: unknown, permission: string, callback: (granted: boolean) => void) => void): void;
  setPermissionCheckHandler(handler: (webContents: unknown, permission: string) => boolean): void;
}

/** What the window code uses of a BrowserWindow. */
export interface WindowLike {
  webContents: {
    session: SessionLike;
    on(event: 'will-navigate', listener: (event: { preventDefault(): void }, url: string) => void): unknown;
    setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
  };
  loadURL(url: string): Promise<void>;
}

/** The parts of the electron module this file needs. */
export interface WindowElectron {
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => WindowLike;
  shell: { openExternal(url: string): Promise<void> };
}

/** The BrowserWindow options: every security flag set explicitly, whatever Electron's defaults. */
export function mainWindowOptions(options: MainWindowOptions): BrowserWindowConstructorOptions {
  return {
    width: 1400,
    height: 900,
    minWidth: 900,
    minHeight: 600,
    title: options.title ?? 'Tessera',
    show: true,
    webPreferences: {
      preload: options.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      spellcheck: false,
    },
  };
}

/** True when the window may navigate to `url`: only pages of the app's own origin. */
export function isAllowedNavigation(url: string, appOrigin: string): boolean {
  return originOf(url) === appOrigin;
}

/** True for URLs handed to the system browser: http(s) only, never file:, javascript:, custom schemes. */
export function isExternalLink(url: string): boolean {
  try {
    const { protocol, host } = new URL(url);
    return (protocol === 'https:' || protocol === 'http:') && host !== '';
  } catch {
    return false;
  }
}

/**
 * Adds the CSP header to every response of `session`. The built page also carries the policy in a meta tag
 * (csp.ts, vite.config.ts), for responses this hook does not see.
 */
export function installContentSecurityPolicy(session: SessionLike, policy: string = CONTENT_SECURITY_POLICY): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    const headers: Record<string, string[] | string> = {};
    for (const [name, value] of Object.entries(details.responseHeaders ?? {})) {
      // Drop any policy a response brings so ours is the only one.
      if (name.toLowerCase() !== 'content-security-policy') headers[name] = value;
    }
    headers['Content-Security-Policy'] = [policy];
    callback({ responseHeaders: headers });
  });
}

/** Denies every permission request and check (mic, camera, notifications, …): the app needs none. */
export function denyAllPermissions(session: SessionLike): void {
  session.setPermissionRequestHandler((_webContents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}

/** Blocks navigation away from the app and every new window; http(s) links go to the system browser. */
export function lockNavigation(window: WindowLike, shell: WindowElectron['shell'], appOrigin: string): void {
  window.webContents.on('will-navigate', (event, url) => {
    if (!isAllowedNavigation(url, appOrigin)) event.preventDefault();
  });
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (isExternalLink(url)) {
      shell.openExternal(url).catch(() => {
        // No system browser, or it refused: nothing the app can do.
      });
    }
    return { action: 'deny' };
  });
}

/** Creates the main window with the whole policy installed, then loads the app. */
export function createMainWindow<W extends WindowLike>(
  electron: { BrowserWindow: new (options: BrowserWindowConstructorOptions) => W; shell: WindowElectron['shell'] },
  options: MainWindowOptions,
): W {
  const appOrigin = options.appOrigin ?? APP_ORIGIN;
  const window = new electron.BrowserWindow(mainWindowOptions(options));
  const { session } = window.webContents;
  installContentSecurityPolicy(session);
  denyAllPermissions(session);
  lockNavigation(window, electron.shell, appOrigin);
  window.loadURL(options.url ?? `${appOrigin}/index.html`).catch(() => {
    // A missing renderer build shows as a blank window; main.ts logs load failures via 'did-fail-load'.
  });
  return window;
}
