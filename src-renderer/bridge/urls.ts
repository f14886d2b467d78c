/**
 * Where the renderer finds the host: the RPC endpoint and asset URLs for browser mode (same host as the page,
 * per-run token from the page URL) and Electron (the `studio-asset://` protocol). Pure string work.
 */

/** What URL building reads of the page's location. */
export interface LocationLike {
  /** `http:` or `https:` (or `tessera:` in Electron). */
  protocol: string;
  /** `host[:port]`. */
  host: string;
  /** The query string, `?token=…`. */
  search: string;
}

/** The host's endpoints in browser mode. */
export interface BrowserEndpoints {
  /** `ws(s)://<host>/rpc?token=…`. */
  rpcUrl: string;
  /** `http(s)://<host>/assets/<path>?token=…` for an asset path (`prj_x/takes/take_y.wav`). */
  assetUrl(path: string): string;
}

/** The scheme and host Electron serves take and peaks files from (src-main/app, ASSET_SCHEME). */
export const ELECTRON_ASSET_BASE = 'studio-asset://project/';

/** Raised when the page URL does not say how to reach the host. */
export class BridgeConfigError extends Error {
  override name = 'BridgeConfigError';
}

/** Percent-encodes each segment of a relative asset path, keeping the slashes (`a b/c#d` → `a%20b/c%23d`). */
export function encodeAssetPath(path: string): string {
  if (path === '' || path.startsWith('/') || path.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    throw new BridgeConfigError(
      `asset path '${path}' must be relative, without empty, "." or ".." segments (e.g. "prj_x/takes/take_y.wav")`,
    );
  }
  return path.split('/').map(encodeURIComponent).join('/');
}

/** The per-run token from the page's query string; throws when it is missing. */
export function tokenFrom(search: string): string {
  const token = new URLSearchParams(search).get('token');
  if (token === null || token === '') {
    throw new BridgeConfigError(
      'the page URL has no ?token=…: open the exact URL that `npm run web` printed ("Tessera ready at …")',
    );
  }
  return token;
}

/** The RPC and asset URLs of browser mode, from the page's location. */
export function browserEndpoints(location: LocationLike): BrowserEndpoints {
  const token = encodeURIComponent(tokenFrom(location.search));
  const secure = location.protocol === 'https:';
  const http = `${secure ? 'https:' : 'http:'}//${location.host}`;
  return {
    rpcUrl: `${secure ? 'wss:' : 'ws:'}//${location.host}/rpc?token=${token}`,
    assetUrl: (path) => `${http}/assets/${encodeAssetPath(path)}?token=${token}`,
  };
}

/** The URL of an asset in Electron (`studio-asset://project/<path>`). */
export function electronAssetUrl(path: string): string {
  return `${ELECTRON_ASSET_BASE}${encodeAssetPath(path)}`;
}
