/**
 * tools/web-server.ts when the server does not come up: a process that exits before its ready line, and one that
 * prints none in time, reject with a message that names the command and carries the server's stderr. (A server that
 * starts is covered by tests/cli/web.test.ts and the e2e tests, which start theirs through it.)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebServer } from '../../tools/web-server.ts';

let work = '';

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-web-server-'));
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('startWebServer', () => {
  it('rejects with the stderr of a server that exits before its ready line', async () => {
    const missing = join(work, 'no-such-preload.cjs');
    const start = startWebServer({ projectsDir: join(work, 'projects'), rendererDir: join(work, 'ui'), env: { NODE_OPTIONS: `--require ${missing}` } });
    await expect(start).rejects.toThrow(/web --projects .* exited \(code 1\) before it printed "Tessera ready at <url>"; its stderr:\n[\s\S]*no-such-preload\.cjs/);
  });

  it('rejects, naming the wait, when no ready line comes in time', async () => {
    const start = startWebServer({ projectsDir: join(work, 'projects'), rendererDir: join(work, 'ui'), readyTimeoutMs: 50 });
    await expect(start).rejects.toThrow('printed no "Tessera ready at <url>" line within 0.05 s');
  });
});
