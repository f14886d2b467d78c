/**
 * `studio-asset://project/<projectId>/<path>`: how the app's renderer fetches take audio and peaks (ARCHITECTURE.md
 * §1; browser mode uses `/assets/<projectId>/<path>` over HTTP). Main only parses the URL; the engine host decides
 * which file it is (StudioApi `resolveAsset`, the same rule as over HTTP), and main streams that file.
 */
import type { ApiResult, ResolvedAsset } from '../contract/api.ts';

/** The host of every asset URL. */
export const ASSET_HOST = 'project';

/** `{ projectId, path }` of an asset URL, or undefined when it is not one. */
export function parseAssetUrl(url: string, scheme: string): { projectId: string; path: string } | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== `${scheme}:` || parsed.host !== ASSET_HOST) return undefined;
  let segments: string[];
  try {
    segments = parsed.pathname.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
  const [projectId, ...rest] = segments;
  if (!projectId || rest.length === 0 || segments.some((s) => s.includes('\0'))) return undefined;
  return { projectId, path: rest.join('/') };
}

const STATUS: Record<string, number> = { 'not-found': 404, 'invalid-argument': 400 };

/** The protocol handler: parse, ask the host, stream the file (`fetchFile` is net.fetch of a file URL in the app). */
export function createAssetHandler(deps: {
  scheme: string;
  resolve(projectId: string, path: string): Promise<ApiResult<ResolvedAsset>>;
  fetchFile(file: string, request: Request): Promise<Response>;
}): (request: Request) => Promise<Response> {
  return async (request) => {
    const asset = parseAssetUrl(request.url, deps.scheme);
    if (!asset) return new Response('not an asset URL', { status: 400 });
    const result = await deps.resolve(asset.projectId, asset.path);
    if (!result.ok) return new Response(result.error.message, { status: STATUS[result.error.code] ?? 502 });
    const response = await deps.fetchFile(result.value.file, request);
    const headers = new Headers(response.headers);
    headers.set('Content-Type', result.value.contentType);
    headers.set('X-Content-Type-Options', 'nosniff');
    return new Response(response.body, { status: response.status, headers });
  };
}
