/**
 * Browser mode's HTTP side over a real server (the WebSocket server's port, the real studio host): a take that is
 * a link out of the project is refused (400, the target's bytes never sent), and a malformed %-escape in a URL is
 * a 400 with a message, not a 500.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpHandler } from '../../../src-main/host/rpc/http.ts';
import { toApiError } from '../../../src-main/contract/errors.ts';
import { createRunToken, startWebSocketServer, type RunningWebSocketServer } from '../../../src-main/host/rpc/websocket.ts';
import { createStudioHost, type StudioHost } from '../../../src-main/host/studio-host.ts';
import { encodeWav } from '../../../src-main/host/wav.ts';
import { TEST_CACHE_DIR } from '../../helpers/packs.ts';

const SECRET = 'root:x:0:0:the secret outside the project';
const token = createRunToken();
let work: string;
let host: StudioHost;
let server: RunningWebSocketServer;
let projectId: string;

/** A raw GET on the server's loopback address (path sent as is, not normalised by a URL parser). */
function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('latin1') }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-http-'));
  await mkdir(join(work, 'ui'));
  await writeFile(join(work, 'ui', 'index.html'), '<!doctype html><title>Tessera</title>');
  await writeFile(join(work, 'secret.txt'), SECRET);
  host = createStudioHost({ cacheDir: TEST_CACHE_DIR, projectsDir: join(work, 'projects'), settingsFile: null, log: () => undefined, emit: () => undefined });
  const created = await host.api.createProject({ name: 'Links' });
  if (!created.ok) throw new Error(created.error.message);
  projectId = created.value.projectId;
  await writeFile(join(created.value.dir, 'takes', 'good.wav'), encodeWav([new Float32Array(800)], 16000, 'pcm16'));
  await symlink(join(work, 'secret.txt'), join(created.value.dir, 'takes', 'evil.wav'));
  server = await startWebSocketServer({
    token,
    onConnection: () => undefined,
    http: createHttpHandler({
      token,
      staticDir: join(work, 'ui'),
      resolveAsset: async (id, path) => {
        try {
          return await host.api.resolveAsset({ projectId: id, path });
        } catch (e) {
          return { ok: false, error: toApiError(e) };
        }
      },
    }),
  });
});

afterAll(async () => {
  await server?.close();
  await host?.dispose();
  await rm(work, { recursive: true, force: true });
});

describe('assets over HTTP', () => {
  it('serves a take of the project', async () => {
    const good = await get(`/assets/${projectId}/takes/good.wav?token=${token}`);
    expect(good.status).toBe(200);
    expect(good.body.startsWith('RIFF')).toBe(true);
  });

  it('refuses a take that links out of the project with 400, never sending the target', async () => {
    const evil = await get(`/assets/${projectId}/takes/evil.wav?token=${token}`);
    expect(evil.status).toBe(400);
    expect(evil.body).toMatch(/takes\/evil\.wav.*symbolic link.*secret\.txt.*outside the project folder/s);
    expect(evil.body).not.toContain(SECRET);
  });

  it('answers a malformed %-escape with 400 and a message, for assets and for the UI', async () => {
    const asset = await get(`/assets/${projectId}/takes/%E0%A4%A?token=${token}`);
    expect(asset.status).toBe(400);
    expect(asset.body).toMatch(/malformed %-escape/);
    expect(asset.body).toContain('%E0%A4%A');
    const page = await get('/%E0%A4%A');
    expect(page.status).toBe(400);
    expect(page.body).toMatch(/malformed %-escape/);
  });
});
