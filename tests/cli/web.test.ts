/**
 * `npm run web` end to end: a real process prints `Tessera ready at <url>`, a client connects over the
 * loopback WebSocket with the token, and drives the StudioApi: ping, models, open the demo project, generate a
 * track (events until jobFinished), the takes land in the project.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StudioEvents } from '../../src-main/contract/api.ts';
import { connectStudioApi, type StudioClient } from '../../src-main/host/rpc/client.ts';
import { connectWebSocket } from '../../src-main/host/rpc/websocket.ts';
import { TEST_CACHE_DIR } from '../helpers/packs.ts';

const ROOT = join(import.meta.dirname, '..', '..');
let child: ChildProcess;
let url = '';
let work: string;
let client: StudioClient;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-web-'));
  await cp(join(ROOT, 'resources', 'examples', 'demo-project'), join(work, 'demo'), { recursive: true });
  child = spawn(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', 'web'], { cwd: ROOT, env: { ...process.env, TESSERA_CACHE_DIR: TEST_CACHE_DIR }, stdio: ['ignore', 'pipe', 'pipe'] });
  url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const line = /^Tessera ready at (\S+)$/m.exec(out);
      if (line) resolve(line[1]);
    });
    child.on('exit', (code) => reject(new Error(`web exited with ${code}`)));
  });
  client = connectStudioApi(await connectWebSocket(url));
}, 60_000);

afterAll(async () => {
  client?.close();
  child?.kill('SIGINT');
  await new Promise((r) => child?.once('exit', r));
  await rm(work, { recursive: true, force: true });
});

describe('npm run web', () => {
  it('prints one ready line with a loopback URL that carries the token', () => {
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
  });

  it('refuses a connection without the token', async () => {
    await expect(connectWebSocket(url.replace(/\?token=.*$/, ''))).rejects.toThrow();
  });

  it('serves the API: ping, models, settings', async () => {
    const ping = await client.api.ping({});
    expect(ping).toMatchObject({ ok: true, value: { pong: true } });
    const models = await client.api.listModels({});
    expect(models.ok && models.value.map((m) => m.id)).toEqual(['sketch', 'shape-s']);
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
    expect(progress.some((p) => p.stage === 'denoising' && p.steps > 0)).toBe(true);
    const jobs = await client.api.listJobs({ projectId });
    expect(jobs.ok && jobs.value[0].state).toBe('done');
    const saved = JSON.parse(await readFile(join(work, 'demo', 'project.json'), 'utf8')) as { regions: Record<string, { takes: unknown[]; trackId: string }> };
    const bells = Object.values(saved.regions).filter((r) => r.trackId === document.tracks[2].id);
    expect(bells.length).toBeGreaterThan(0);
    expect(bells.every((r) => r.takes.length === 1)).toBe(true);
    expect(await client.api.closeProject({ projectId })).toEqual({ ok: true, value: null });
    expect(await client.api.closeProject({ projectId })).toMatchObject({ ok: false, error: { code: 'not-found' } });
  });
});
