/**
 * `npm run web` end to end: a real process prints `Tessera ready at <url>`, a client connects over the
 * loopback WebSocket with the token, and drives the StudioApi: ping, models, open the demo project, generate a
 * track (events until jobFinished), the takes land in the project; the same port serves the renderer and the
 * take audio and peaks over HTTP (token required, loopback Host only, no way out of the project).
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StudioEvents } from '../../src-main/contract/api.ts';
import { connectStudioApi, type StudioClient } from '../../src-main/contract/rpc/client.ts';
import { connectWebSocket } from '../../src-main/host/rpc/websocket.ts';
import { startWebServer, type WebServer } from '../../tools/web-server.ts';
import { TEST_CACHE_DIR } from '../helpers/packs.ts';

const ROOT = join(import.meta.dirname, '..', '..');
let server: WebServer | undefined;
let url = '';
let wsUrl = '';
let work: string;
let client: StudioClient;

/** A raw GET (fetch cannot set Host). */
function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: Buffer; headers: Record<string, unknown> }> {
  const base = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: base.hostname, port: base.port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks), headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-web-'));
  await cp(join(ROOT, 'resources', 'examples', 'demo-project'), join(work, 'demo'), { recursive: true });
  await mkdir(join(work, 'ui'));
  await writeFile(join(work, 'ui', 'index.html'), '<!doctype html><title>Tessera</title>');
  server = await startWebServer({ projectsDir: join(work, 'projects'), rendererDir: join(work, 'ui'), env: { TESSERA_CACHE_DIR: TEST_CACHE_DIR } });
  url = server.url;
  const page = new URL(url);
  wsUrl = `ws://${page.host}/rpc${page.search}`;
  client = connectStudioApi(await connectWebSocket(wsUrl));
}, 60_000);

afterAll(async () => {
  client?.close();
  await server?.stop();
  await rm(work, { recursive: true, force: true });
});

describe('npm run web', () => {
  it('prints one ready line with a loopback URL that carries the token', () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
  });

  it('refuses a connection without the token or from a foreign origin', async () => {
    await expect(connectWebSocket(wsUrl.replace(/\?token=.*$/, ''))).rejects.toThrow();
    await expect(connectWebSocket(wsUrl, { origin: 'http://evil.example' })).rejects.toThrow();
  });

  it('serves the renderer with a CSP, and only to its own loopback Host', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.type).toContain('text/html');
    expect(page.body.toString()).toContain('<title>Tessera</title>');
    expect(String(page.headers['content-security-policy'])).toContain("script-src 'self'");
    expect((await get('/', { Host: 'evil.example' })).status).toBe(421);
    expect((await get('/../../package.json')).status).toBe(404);
    expect((await get('/nothing.js')).status).toBe(404);
  });

  it('serves the API: ping, models, settings', async () => {
    const ping = await client.api.ping({});
    expect(ping).toMatchObject({ ok: true, value: { pong: true } });
    const models = await client.api.listModels({});
    expect(models.ok && models.value.map((m) => m.id)).toEqual(['sketch', 'shape-s', 'stable-audio-3-standin']);
    const bad = await client.api.openProject({ dir: 42 } as unknown as { dir: string });
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid-argument' } });
  });

  it('generates a track of the demo project with progress events, and saves the takes', async () => {
    const opened = await client.api.openProject({ dir: join(work, 'demo') });
    if (!opened.ok) throw new Error(opened.error.message);
    const { projectId, document } = opened.value;
    const progress: StudioEvents['jobProgress'][] = [];
    const offProgress = client.on('jobProgress', (p) => progress.push(p));
    const finished = new Promise<StudioEvents['jobFinished']>((resolve) => client.on('jobFinished', resolve));
    const job = await client.api.enqueueGeneration({ projectId, trackId: document.tracks[2].id });
    if (!job.ok) throw new Error(job.error.message);
    const done = await finished;
    offProgress();
    expect(done).toEqual({ jobId: job.value.jobId, ok: true });
    expect(progress.every((p) => p.jobId === job.value.jobId)).toBe(true);
    expect(progress.some((p) => p.stage === 'denoising' && p.steps > 0)).toBe(true);
    const jobs = await client.api.listJobs({ projectId });
    expect(jobs.ok && jobs.value[0].state).toBe('done');
    const saved = JSON.parse(await readFile(join(work, 'demo', 'project.json'), 'utf8')) as { regions: Record<string, { takes: unknown[]; trackId: string }> };
    const bells = Object.values(saved.regions).filter((r) => r.trackId === document.tracks[2].id);
    expect(bells.length).toBeGreaterThan(0);
    expect(bells.every((r) => r.takes.length === 1)).toBe(true);
    // Take audio and peaks over HTTP: token required, only takes/ and peaks/ of the open project.
    const token = new URL(url).searchParams.get('token') ?? '';
    const region = bells[0] as unknown as { takes: { id: string; file: string; seconds: number; sampleRate: number }[] };
    const take = region.takes[0];
    const audio = await get(`/assets/${projectId}/${take.file}?token=${token}`);
    expect(audio.status).toBe(200);
    expect(audio.type).toBe('audio/wav');
    expect(audio.body.equals(await readFile(join(work, 'demo', take.file)))).toBe(true);
    const ranged = await get(`/assets/${projectId}/${take.file}?token=${token}`, { Range: 'bytes=0-3' });
    expect(ranged.status).toBe(206);
    expect(ranged.body.toString()).toBe('RIFF');
    const peaks = await get(`/assets/${projectId}/peaks/${take.id}/512.i16?token=${token}`);
    expect(peaks.status).toBe(200);
    expect(peaks.body.length).toBe(Math.ceil((take.seconds * take.sampleRate) / 512) * 2 * 2);
    expect((await get(`/assets/${projectId}/${take.file}`)).status).toBe(401);
    expect((await get(`/assets/${projectId}/project.json?token=${token}`)).status).toBe(400);
    expect((await get(`/assets/${projectId}/takes/..%2Fproject.json?token=${token}`)).status).toBeGreaterThanOrEqual(400);
    expect((await get(`/assets/prj_nope/${take.file}?token=${token}`)).status).toBe(404);

    expect(await client.api.closeProject({ projectId })).toEqual({ ok: true, value: null });
    expect(await client.api.closeProject({ projectId })).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });

  it('a page that reloads can open its project again: the old connection releases its projects', async () => {
    const first = connectStudioApi(await connectWebSocket(wsUrl));
    const opened = await first.api.openProject({ dir: join(work, 'demo') });
    if (!opened.ok) throw new Error(opened.error.message);
    const other = connectStudioApi(await connectWebSocket(wsUrl));
    expect(await other.api.openProject({ dir: join(work, 'demo') })).toMatchObject({ ok: false, error: { code: 'locked' } });
    // Nor can it act on the first page's project by its id.
    expect(await other.api.saveProject({ projectId: opened.value.projectId, document: opened.value.document })).toMatchObject({ ok: false, error: { code: 'not-found', message: expect.stringContaining('is not open in this window') } });
    first.close(); // the page reloads
    await expect.poll(async () => (await other.api.openProject({ dir: join(work, 'demo') })).ok, { timeout: 10_000, interval: 100 }).toBe(true);
    other.close();
  });
});
