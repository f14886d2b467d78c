/**
 * Browser mode's HTTP side, on the WebSocket's port: the built renderer (`dist/renderer`, public: it is the app's
 * code) and project assets under `/assets/<projectId>/<path>` (take audio, peaks: token required, resolved by the
 * host's one asset rule, Range supported so audio elements can seek). Requests whose `Host` is not this loopback
 * address are refused, which defeats DNS rebinding; every response forbids framing and sniffing.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import type { ApiResult, ResolvedAsset } from '../../contract/api.ts';
import { allowedHosts, tokensEqual } from './websocket.ts';
import { errorMessage } from '../../contract/errors.ts';

/** Options of {@link createHttpHandler}. */
export interface HttpHandlerOptions {
  token: string;
  /** Folder of the built renderer; a page explaining how to build it is served when it is missing. */
  staticDir: string;
  resolveAsset(projectId: string, path: string): Promise<ApiResult<ResolvedAsset>>;
}

const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

const STATUS_OF: Record<string, number> = { 'not-found': 404, 'invalid-argument': 400 };

function send(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' }).end(`${text}\n`);
}

/** `decodeURIComponent`, or undefined for a malformed %-escape (which it throws on: a client error, not ours). */
function decoded(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

function malformed(response: ServerResponse, path: string): void {
  send(response, 400, `The URL path '${path.slice(0, 300)}' has a malformed %-escape (each % must start a valid UTF-8 escape like %20); fix the link.`);
}

/** The page's Content-Security-Policy: own code, the host's WebSocket and assets, no inline scripts. */
function pageCsp(port: number): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    // Svelte and wavesurfer set element styles at run time.
    "style-src 'self' 'unsafe-inline'",
    // NOTE: CSP host sources cannot be IPv6 literals (Chromium rejects `ws://[::1]:…`); browser mode binds 127.0.0.1.
    `connect-src 'self' ws://127.0.0.1:${port} ws://localhost:${port}`,
    "media-src 'self' blob:",
    "img-src 'self' data: blob:",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Streams `file` (whole, or one `bytes=a-b` range). */
function sendFile(request: IncomingMessage, response: ServerResponse, file: string, size: number, headers: Record<string, string>): void {
  const range = /^bytes=(\d*)-(\d*)$/.exec(request.headers.range ?? '');
  let start = 0;
  let end = size - 1;
  let status = 200;
  if (range && (range[1] !== '' || range[2] !== '')) {
    start = range[1] === '' ? Math.max(0, size - Number(range[2])) : Number(range[1]);
    end = range[1] !== '' && range[2] !== '' ? Math.min(Number(range[2]), size - 1) : size - 1;
    if (start > end || start >= size) {
      response.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
      return;
    }
    status = 206;
    headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  }
  response.writeHead(status, { ...headers, 'Accept-Ranges': 'bytes', 'Content-Length': String(end - start + 1) });
  if (request.method === 'HEAD' || size === 0) {
    response.end();
    return;
  }
  const stream = createReadStream(file, { start, end });
  stream.on('error', () => response.destroy());
  stream.pipe(response);
}

/** The request handler. */
export function createHttpHandler(options: HttpHandlerOptions): (request: IncomingMessage, response: ServerResponse, port: number) => void {
  const serve = async (request: IncomingMessage, response: ServerResponse, port: number): Promise<void> => {
    if (!allowedHosts(port).has(request.headers.host ?? '')) return send(response, 421, 'This server answers only on its loopback address.');
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, `Method ${request.method ?? '?'} is not allowed.`);
    const url = new URL(request.url ?? '/', `http://${request.headers.host ?? 'localhost'}`);
    const common = { 'X-Content-Type-Options': 'nosniff', 'X-Frame-Options': 'DENY', 'Referrer-Policy': 'no-referrer' };

    if (url.pathname.startsWith('/assets/')) {
      if (!tokensEqual(url.searchParams.get('token') ?? '', options.token)) return send(response, 401, 'A valid ?token= is required.');
      const segments = url.pathname.slice('/assets/'.length).split('/').map(decoded);
      if (!segments.every((s): s is string => s !== undefined)) return malformed(response, url.pathname);
      const [projectId, ...rest] = segments;
      const result = await options.resolveAsset(projectId ?? '', rest.join('/'));
      if (!result.ok) return send(response, STATUS_OF[result.error.code] ?? 500, result.error.message);
      return sendFile(request, response, result.value.file, result.value.size, { ...common, 'Content-Type': result.value.contentType, 'Cache-Control': 'private, max-age=31536000, immutable' });
    }

    const relativePath = url.pathname === '/' ? 'index.html' : decoded(url.pathname.slice(1));
    if (relativePath === undefined) return malformed(response, url.pathname);
    const file = normalize(join(options.staticDir, relativePath));
    if (!file.startsWith(options.staticDir + sep)) return send(response, 404, 'Not found.');
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) {
      if (relativePath === 'index.html') return send(response, 503, `The studio UI is not built (${options.staticDir} is missing). Run: npm run build:renderer`);
      return send(response, 404, 'Not found.');
    }
    const html = extname(file) === '.html';
    sendFile(request, response, file, info.size, {
      ...common,
      'Content-Type': STATIC_TYPES[extname(file)] ?? 'application/octet-stream',
      'Cache-Control': html ? 'no-cache' : 'public, max-age=3600',
      ...(html ? { 'Content-Security-Policy': pageCsp(port) } : {}),
    });
  };
  return (request, response, port) => {
    serve(request, response, port).catch((e: unknown) => {
      if (!response.headersSent) send(response, 500, errorMessage(e));
      else response.destroy();
    });
  };
}
