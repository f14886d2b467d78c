import { describe, expect, it, vi } from 'vitest';
import type { BrowserWindowConstructorOptions } from 'electron';
import {
  APP_ORIGIN,
  CONTENT_SECURITY_POLICY,
  createMainWindow,
  isAllowedNavigation,
  isExternalLink,
  mainWindowOptions,
  type SessionLike,
  type WindowLike,
} from '../../src-main/app/window.ts';

type HeadersListener = Parameters<SessionLike['webRequest']['onHeadersReceived']>[0];
type PermissionHandler = Parameters<SessionLike['setPermissionRequestHandler']>[0];
type NavigateListener = (event: { preventDefault(): void }, url: string) => void;
type OpenHandler = (details: { url: string }) => { action: 'deny' };

/** A fake BrowserWindow that records what the window code installs. */
function fakeElectron() {
  const installed: {
    options?: BrowserWindowConstructorOptions;
    headers?: HeadersListener;
    permission?: PermissionHandler;
    permissionCheck?: (webContents: unknown, permission: string) => boolean;
    navigate?: NavigateListener;
    open?: OpenHandler;
    loaded?: string;
  } = {};
  class FakeWindow implements WindowLike {
    webContents: WindowLike['webContents'];
    constructor(options: BrowserWindowConstructorOptions) {
      installed.options = options;
      this.webContents = {
        session: {
          webRequest: { onHeadersReceived: (listener) => void (installed.headers = listener) },
          setPermissionRequestHandler: (handler) => void (installed.permission = handler),
          setPermissionCheckHandler: (handler) => void (installed.permissionCheck = handler),
        },
        on: (_event, listener) => void (installed.navigate = listener),
        setWindowOpenHandler: (handler) => void (installed.open = handler),
      };
    }
    loadURL(url: string): Promise<void> {
      installed.loaded = url;
      return Promise.resolve();
    }
  }
  const shell = { openExternal: vi.fn((_url: string) => Promise.resolve()) };
  return { electron: { BrowserWindow: FakeWindow, shell }, installed, shell };
}

describe('main window', () => {
  it('sets every security flag in webPreferences', () => {
    const { electron, installed } = fakeElectron();
    createMainWindow(electron, { preloadPath: '/app/preload.js' });
    expect(installed.options?.webPreferences).toMatchObject({
      preload: '/app/preload.js',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
    });
    expect(installed.loaded).toBe(`${APP_ORIGIN}/index.html`);
  });

  it('the options builder never enables node in the renderer', () => {
    const prefs = mainWindowOptions({ preloadPath: 'p.js' }).webPreferences;
    expect(prefs?.nodeIntegration).toBe(false);
    expect(prefs?.contextIsolation).toBe(true);
  });

  it('CSP: self only, no eval, no inline scripts, no objects or frames', () => {
    const directives = CONTENT_SECURITY_POLICY.split(';').map((d) => d.trim());
    expect(directives).toContain("default-src 'self'");
    expect(directives).toContain("script-src 'self'");
    expect(directives).toContain("object-src 'none'");
    expect(directives).toContain("frame-ancestors 'none'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/'unsafe-eval'/);
    const script = directives.find((d) => d.startsWith('script-src')) ?? '';
    expect(script).not.toMatch(/unsafe-inline|\*|data:|http/);
  });

  it('adds the CSP header to every response and replaces any the response brings', () => {
    const { electron, installed } = fakeElectron();
    createMainWindow(electron, { preloadPath: 'p.js' });
    const callback = vi.fn();
    installed.headers?.({ responseHeaders: { 'content-security-policy': ['default-src *'], 'x-other': ['1'] } }, callback);
    expect(callback).toHaveBeenCalledWith({
      responseHeaders: { 'x-other': ['1'], 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] },
    });
  });

  it('denies every permission request and check', () => {
    const { electron, installed } = fakeElectron();
    createMainWindow(electron, { preloadPath: 'p.js' });
    for (const permission of ['media', 'notifications', 'geolocation', 'openExternal', 'unknown']) {
      const callback = vi.fn();
      installed.permission?.({}, permission, callback);
      expect(callback).toHaveBeenCalledWith(false);
      expect(installed.permissionCheck?.({}, permission)).toBe(false);
    }
  });

  it('blocks navigation away from the app origin', () => {
    const { electron, installed } = fakeElectron();
    createMainWindow(electron, { preloadPath: 'p.js' });
    const navigate = (url: string): boolean => {
      const preventDefault = vi.fn();
      installed.navigate?.({ preventDefault }, url);
      return preventDefault.mock.calls.length === 0;
    };
    expect(navigate(`${APP_ORIGIN}/index.html#/project`)).toBe(true);
    expect(navigate('https://example.com/')).toBe(false);
    expect(navigate('file:///etc/passwd')).toBe(false);
  });

  it('denies every new window and opens only http(s) links externally', async () => {
    const { electron, installed, shell } = fakeElectron();
    createMainWindow(electron, { preloadPath: 'p.js' });
    expect(installed.open?.({ url: 'https://huggingface.co/licence' })).toEqual({ action: 'deny' });
    expect(installed.open?.({ url: `${APP_ORIGIN}/other.html` })).toEqual({ action: 'deny' });
    expect(installed.open?.({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(installed.open?.({ url: 'javascript:alert(1)' })).toEqual({ action: 'deny' });
    await Promise.resolve();
    expect(shell.openExternal.mock.calls).toEqual([['https://huggingface.co/licence']]);
  });
});

describe('isAllowedNavigation', () => {
  it.each([
    [`${APP_ORIGIN}/index.html`, true],
    [`${APP_ORIGIN}/`, true],
    ['tessera://app.evil.com/', false],
    ['tessera://other/', false],
    ['https://app/', false],
    ['http://localhost:5173/', false],
    ['file:///app/index.html', false],
    ['javascript:alert(1)', false],
    ['not a url', false],
    ['', false],
  ])('%s → %s', (url, allowed) => {
    expect(isAllowedNavigation(url, APP_ORIGIN)).toBe(allowed);
  });

  it('compares parsed origins, not prefixes', () => {
    expect(isAllowedNavigation('http://localhost:5173.evil.com/', 'http://localhost:5173')).toBe(false);
    expect(isAllowedNavigation('http://localhost:5173/x', 'http://localhost:5173')).toBe(true);
  });
});

describe('isExternalLink', () => {
  it.each([
    ['https://example.com/a', true],
    ['http://example.com', true],
    ['file:///etc/passwd', false],
    ['smb://host/share', false],
    ['javascript:alert(1)', false],
    ['garbage', false],
  ])('%s → %s', (url, external) => {
    expect(isExternalLink(url)).toBe(external);
  });
});
