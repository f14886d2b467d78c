/**
 * A fake Hugging Face hub on 127.0.0.1 (node:http) for the model-manager tests, answering like the real one:
 * - `HEAD|GET /{owner}/{name}/resolve/{revision}/{path}`:
 *   - LFS files: 302 to `/cdn/<sha256>` with `X-Linked-Etag: "<sha256>"`, `X-Linked-Size`, `X-Repo-Commit`;
 *   - regular files: 200 with `ETag: "<git blob sha1>"`, `Content-Length`, `X-Repo-Commit`;
 *   - unknown repo, revision or file: 404 with `X-Error-Code` (RepoNotFound, RevisionNotFound, EntryNotFound);
 * - `GET /cdn/<sha256>`: the bytes, `ETag: "<sha256>"`, `Accept-Ranges: bytes`, `Range: bytes=N-` → 206 with
 *   Content-Range, `If-Range` not matching → 200 (whole file), N ≥ size → 416.
 * Faults, per repo path: drop the connection after N body bytes (once or always), ignore Range, serve other bytes than
 * declared, declare no hash, change the file (new content, new hash), report another commit, send more bytes than
 * declared (overrun), declare no size. Every request is logged.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One file of a fake repo. */
export interface FakeFile {
  content: Buffer;
  /** Stored through LFS: served by a redirect to the CDN, hash in X-Linked-Etag. */
  lfs: boolean;
}

/** A logged request. */
export interface HubRequest {
  method: string;
  path: string;
  range?: string;
  ifRange?: string;
  status: number;
  /** Body bytes handed to the socket (GETs of file bytes). */
  sentBytes?: number;
}

/** Faults to inject, keyed by the file's repo path (e.g. `onnx/unet.onnx`). */
export interface Faults {
  /** Send the headers and this many body bytes, then destroy the socket; `times` downloads in a row (default 1). */
  drop: Map<string, { after: number; times: number }>;
  /** Answer every GET with 200 and the whole file, whatever the Range. */
  ignoreRange: Set<string>;
  /** Serve these bytes while declaring the real file's hash and size. */
  lie: Map<string, Buffer>;
  /** Declare no ETag / X-Linked-Etag for the file. */
  noHash: Set<string>;
  /** Report this commit in X-Repo-Commit instead of the requested revision. */
  commit?: string;
  /**
   * Keep sending this many bytes past the file's end, without a Content-Length (chunked), while declaring the real
   * size: a server that would fill the disk. Stops early when the client goes away.
   */
  overrun?: Map<string, number>;
  /** Declare no size for the file (no X-Linked-Size, no Content-Length on HEAD). */
  noSize?: Set<string>;
}

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
export const gitSha1 = (b: Buffer): string => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

/** Files large enough to arrive in several chunks are written in pieces of this size. */
const PIECE = 16 * 1024;

export class FakeHub {
  readonly log: HubRequest[] = [];
  faults: Faults = { drop: new Map(), ignoreRange: new Set(), lie: new Map(), noHash: new Set() };
  private readonly repos = new Map<string, Map<string, FakeFile>>();
  private server: Server | undefined;
  url = '';

  /** Publishes `files` (repo path → file) as `repo` at `revision`. */
  publish(repo: string, revision: string, files: Record<string, FakeFile>): void {
    this.repos.set(`${repo}@${revision}`, new Map(Object.entries(files)));
  }

  /** Replaces one file's content in every revision that has it (the hub now declares the new hash). */
  change(path: string, content: Buffer): void {
    for (const files of this.repos.values()) {
      const file = files.get(path);
      if (file) files.set(path, { ...file, content });
    }
  }

  /** Clears the log and the faults. */
  reset(): void {
    this.log.length = 0;
    this.faults = { drop: new Map(), ignoreRange: new Set(), lie: new Map(), noHash: new Set() };
  }

  /** GETs that served a file's bytes (from the CDN or a regular file's resolve URL; not the redirects), in order. */
  gets(path: string): HubRequest[] {
    const file = this.find(path);
    const cdn = file ? `/cdn/${sha256(file.content)}` : '\0';
    return this.log.filter((r) => r.method === 'GET' && r.status !== 302 && (r.path.endsWith(`/${path}`) || r.path === cdn));
  }

  async start(): Promise<string> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private find(path: string): FakeFile | undefined {
    for (const files of this.repos.values()) if (files.has(path)) return files.get(path);
    return undefined;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const entry: HubRequest = { method: req.method ?? '?', path: decodeURIComponent(url.pathname), status: 0 };
    if (typeof req.headers.range === 'string') entry.range = req.headers.range;
    if (typeof req.headers['if-range'] === 'string') entry.ifRange = req.headers['if-range'];
    this.log.push(entry);
    const send = (status: number, headers: Record<string, string | number> = {}, body?: Buffer): void => {
      entry.status = status;
      res.writeHead(status, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
    };

    const cdn = /^\/cdn\/([0-9a-f]{64})$/.exec(url.pathname);
    if (cdn) {
      for (const files of this.repos.values()) {
        for (const [path, file] of files) if (sha256(file.content) === cdn[1]) return this.serveBytes(req, res, entry, path, file, `"${cdn[1]}"`);
      }
      return send(404, { 'x-error-code': 'EntryNotFound' });
    }
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (!resolve) return send(404);
    const [, repo, revision, rawPath] = resolve;
    const path = decodeURIComponent(rawPath);
    if (![...this.repos.keys()].some((k) => k.startsWith(`${repo}@`))) return send(404, { 'x-error-code': 'RepoNotFound', 'x-error-message': 'Repository not found' });
    const files = this.repos.get(`${repo}@${decodeURIComponent(revision)}`);
    if (!files) return send(404, { 'x-error-code': 'RevisionNotFound', 'x-error-message': 'Invalid rev id' });
    const file = files.get(path);
    if (!file) return send(404, { 'x-error-code': 'EntryNotFound', 'x-error-message': 'Entry not found' });
    const commit = this.faults.commit ?? decodeURIComponent(revision);
    if (file.lfs) {
      const hash = sha256(file.content);
      return send(302, {
        location: `${this.url}/cdn/${hash}`,
        'x-repo-commit': commit,
        ...(this.faults.noSize?.has(path) ? {} : { 'x-linked-size': file.content.length }),
        ...(this.faults.noHash.has(path) ? {} : { 'x-linked-etag': `"${hash}"`, etag: `"${gitSha1(Buffer.from('pointer'))}"` }),
        'content-length': 0,
      });
    }
    res.setHeader('x-repo-commit', commit);
    this.serveBytes(req, res, entry, path, file, this.faults.noHash.has(path) ? undefined : `"${gitSha1(file.content)}"`);
  }

  private serveBytes(req: IncomingMessage, res: ServerResponse, entry: HubRequest, path: string, file: FakeFile, etag: string | undefined): void {
    const body = this.faults.lie.get(path) ?? file.content;
    const size = body.length;
    let start = 0;
    let status = 200;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const ifRange = req.headers['if-range'];
    if (range && !this.faults.ignoreRange.has(path) && (ifRange === undefined || ifRange === etag)) {
      start = Number(range[1]);
      if (start >= size) {
        entry.status = 416;
        res.writeHead(416, { 'content-range': `bytes */${size}` });
        res.end();
        return;
      }
      status = 206;
    }
    entry.status = status;
    const overrun = req.method === 'GET' ? this.faults.overrun?.get(path) : undefined;
    if (overrun !== undefined) return this.serveOverrun(res, entry, body, start, status, overrun, etag);
    res.writeHead(status, {
      ...(this.faults.noSize?.has(path) && req.method === 'HEAD' ? {} : { 'content-length': size - start }),
      'accept-ranges': 'bytes',
      'content-type': 'application/octet-stream',
      ...(etag ? { etag } : {}),
      ...(status === 206 ? { 'content-range': `bytes ${start}-${size - 1}/${size}` } : {}),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const drop = this.faults.drop.get(path);
    const stopAt = drop && drop.times > 0 ? Math.min(size, start + drop.after) : size;
    if (drop && drop.times > 0) drop.times--;
    let at = start;
    const pump = (): void => {
      if (at >= stopAt) {
        if (stopAt < size) res.socket?.destroy();
        else res.end();
        return;
      }
      const end = Math.min(stopAt, at + PIECE);
      const piece = body.subarray(at, end);
      at = end;
      res.write(piece, () => setImmediate(pump));
    };
    pump();
  }

  /** The file from `start`, then `extra` filler bytes, chunked (no Content-Length); stops when the client leaves. */
  private serveOverrun(res: ServerResponse, entry: HubRequest, body: Buffer, start: number, status: number, extra: number, etag: string | undefined): void {
    res.writeHead(status, {
      'accept-ranges': 'bytes',
      'content-type': 'application/octet-stream',
      ...(etag ? { etag } : {}),
      ...(status === 206 ? { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` } : {}),
    });
    const filler = Buffer.alloc(PIECE, 0x5a);
    const total = body.length - start + extra;
    entry.sentBytes = 0;
    let closed = false;
    res.on('close', () => (closed = true));
    const pump = (): void => {
      const sent = entry.sentBytes ?? 0;
      if (closed) return;
      if (sent >= total) {
        res.end();
        return;
      }
      const at = start + sent;
      const piece = at < body.length ? body.subarray(at, Math.min(body.length, at + PIECE)) : filler.subarray(0, Math.min(PIECE, total - sent));
      entry.sentBytes = sent + piece.length;
      res.write(piece, (error) => {
        if (!error) setImmediate(pump);
      });
    };
    pump();
  }
}
