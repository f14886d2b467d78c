/**
 * The Hugging Face hub's file layout and how it declares a file's hash, read the way huggingface_hub's
 * `get_hf_file_metadata` does: HEAD `{hub}/{repo}/resolve/{revision}/{path}` without following the redirect to the
 * CDN (relative redirects, e.g. a renamed repo, are followed), then
 * - `X-Linked-Etag` (LFS files: the sha256 of the content) or else `ETag` (regular files: the git blob sha1),
 *   quotes and `W/` stripped;
 * - `X-Linked-Size` or else, on a 2xx answer, `Content-Length` (a redirect's Content-Length is its own body);
 * - `X-Repo-Commit`: the commit the revision resolved to.
 * A mirror (TESSERA_HUB_URL) must answer the same way; one that declares no recognisable hash is refused, because
 * nothing is installed unverified.
 */
import { ModelsError } from './errors.ts';

/** Default hub; `TESSERA_HUB_URL` replaces it (mirrors, tests). */
export const DEFAULT_HUB_URL = 'https://huggingface.co';

/** The hub base URL from the environment, without a trailing slash. */
export function hubUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return (env.TESSERA_HUB_URL || DEFAULT_HUB_URL).replace(/\/+$/, '');
}

/** `{hub}/{repo}/resolve/{revision}/{path}` with each path segment encoded. */
export function resolveUrl(hubUrl: string, repo: string, revision: string, path: string): string {
  const segments = path.split('/').map(encodeURIComponent).join('/');
  return `${hubUrl}/${repo}/resolve/${encodeURIComponent(revision)}/${segments}`;
}

/** What the hub declares about one file. */
export interface RemoteFileInfo {
  /** The resolve URL to download from (it may redirect to a CDN). */
  url: string;
  /** Declared size, when the answer carries one. */
  size?: number;
  /** LFS files: the sha256 of the content. */
  sha256?: string;
  /** Regular (non-LFS) files: the git blob id, sha1("blob <size>\0" + content). */
  gitSha1?: string;
  /** The commit the revision resolved to (`X-Repo-Commit`), when sent. */
  commit?: string;
}

/** `"abc"`, `W/"abc"` → `abc`. */
export function normalizeEtag(raw: string | null): string | undefined {
  if (raw === null) return undefined;
  const tag = raw.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
  return tag === '' ? undefined : tag;
}

const HEX64 = /^[0-9a-f]{64}$/;
const HEX40 = /^[0-9a-f]{40}$/;

/** Reads a resolve answer's headers into what the hub declares. */
export function readFileHeaders(headers: Headers, status: number, url: string): RemoteFileInfo {
  const linked = normalizeEtag(headers.get('x-linked-etag'))?.toLowerCase();
  const etag = normalizeEtag(headers.get('etag'))?.toLowerCase();
  const info: RemoteFileInfo = { url };
  const tag = linked ?? etag;
  if (tag !== undefined && HEX64.test(tag)) info.sha256 = tag;
  else if (tag !== undefined && HEX40.test(tag)) info.gitSha1 = tag;
  const sizeHeader = headers.get('x-linked-size') ?? (status >= 200 && status < 300 ? headers.get('content-length') : null);
  if (sizeHeader !== null && /^\d+$/.test(sizeHeader.trim())) info.size = Number(sizeHeader.trim());
  const commit = headers.get('x-repo-commit');
  if (commit) info.commit = commit.trim();
  return info;
}

/** Options shared by the network calls. */
export interface NetOptions {
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

/** Maps a non-success HTTP status to a ModelsError naming the URL, the hub's own error text and the fix. */
export function httpError(res: Response, label: string, url: string): ModelsError {
  const hubCode = res.headers.get('x-error-code');
  const hubMessage = res.headers.get('x-error-message');
  const said = hubCode || hubMessage ? ` (${[hubCode, hubMessage].filter(Boolean).join(': ')})` : '';
  const status = `${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
  if (res.status === 404) {
    return new ModelsError('not-found', `${label}: the hub answered ${status}${said} for ${url}. The repo, the revision or the file does not exist there: check the catalog entry's repo, revision and path (or the mirror in TESSERA_HUB_URL).`);
  }
  if (res.status === 401 || res.status === 403) {
    return new ModelsError('io-error', `${label}: the hub answered ${status}${said} for ${url}. The repo is gated or private and Tessera sends no Hugging Face credentials: accept its terms on the hub, download the files yourself and use \`npm run models -- import DIR\`.`);
  }
  const transient = res.status >= 500 || res.status === 429 || res.status === 408;
  return new ModelsError('io-error', `${label}: the hub answered ${status}${said} for ${url}.${transient ? ' The server is busy or failing; try again later.' : ''}`, { transient });
}

/** Wraps a fetch failure (no answer at all) as a transient io-error that names the host and the cause. */
export function networkError(e: unknown, label: string, url: string): ModelsError {
  const cause = e instanceof Error && e.cause instanceof Error ? e.cause : e;
  const reason = cause instanceof Error ? `${(cause as NodeJS.ErrnoException).code ? `${(cause as NodeJS.ErrnoException).code}: ` : ''}${cause.message}` : String(cause);
  return new ModelsError('io-error', `${label}: could not reach ${new URL(url).origin} (${reason}). Check the network connection, or the mirror in TESSERA_HUB_URL.`, { cause: e, transient: true });
}

/** HEADs a file's resolve URL and reads what the hub declares about it. */
export async function fetchFileInfo(hubUrl: string, repo: string, revision: string, path: string, o: NetOptions = {}): Promise<RemoteFileInfo> {
  const doFetch = o.fetch ?? fetch;
  const url = resolveUrl(hubUrl, repo, revision, path);
  const label = `${repo}/${path}@${revision.slice(0, 12)}`;
  let current = url;
  for (let hop = 0; hop < 5; hop++) {
    let res: Response;
    try {
      res = await doFetch(current, { method: 'HEAD', redirect: 'manual', headers: { 'accept-encoding': 'identity' }, ...(o.signal ? { signal: o.signal } : {}) });
    } catch (e) {
      if (o.signal?.aborted) throw e;
      throw networkError(e, label, current);
    }
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location !== null) {
      const next = new URL(location, current);
      // A relative redirect stays on the hub (renamed repo, revision alias): follow it. An absolute one goes to the
      // CDN, and this answer already carries the X-Linked-* headers.
      if (location.startsWith('/') && next.origin === new URL(current).origin) {
        current = next.href;
        continue;
      }
      return { ...readFileHeaders(res.headers, res.status, url) };
    }
    if (!res.ok) throw httpError(res, label, current);
    return readFileHeaders(res.headers, res.status, url);
  }
  throw new ModelsError('io-error', `${label}: more than 5 redirects inside the hub from ${url}; check TESSERA_HUB_URL.`);
}
