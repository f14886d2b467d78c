/** The project lock: one process at a time, released on close and on exit, taken over when stale. */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectError } from '../../../src-main/contract/project.ts';
import { closeProject, createProject, openProject } from '../../../src-main/host/projects/project-store.ts';
import { counterIds } from '../../contract/project-fixtures.ts';
import { exited, firstLine, killChildren, runJson, startChild } from './child.ts';

let work: string;
let dir: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-lock-'));
  dir = join(work, 'project');
  const { handle } = await createProject(dir, 'Locked', { newId: counterIds(), createdWith: 'Tessera 0.1.0' });
  await closeProject(handle);
});
afterAll(async () => {
  await killChildren();
  await rm(work, { recursive: true, force: true });
});

async function lockedError(promise: Promise<unknown>): Promise<ProjectError> {
  const e = await promise.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ProjectError);
  expect((e as ProjectError).code).toBe('locked');
  return e as ProjectError;
}

describe('project lock', () => {
  it('blocks a second open in the same process, naming the folder, until the first closes', async () => {
    const first = await openProject(dir);
    const error = await lockedError(openProject(dir));
    expect(error.message).toContain(`'${dir}' is already open in another Tessera window or process`);
    await closeProject(first.handle);
    const second = await openProject(dir);
    await closeProject(second.handle);
    await closeProject(second.handle); // idempotent
  });

  it('blocks another process while open here, and lets it in after close', async () => {
    const here = await openProject(dir);
    const blocked = await runJson('open-project.ts', [dir, 'try']);
    expect(blocked).toMatchObject({ ok: false, code: 'locked' });
    expect(blocked.message).toContain(dir);
    await closeProject(here.handle);
    expect(await runJson('open-project.ts', [dir, 'try'])).toEqual({ ok: true });
    expect(await readdir(join(dir, '.tessera'))).toEqual([]);
  });

  it('blocks this process while another holds it; released when that process is terminated or exits', async () => {
    const holder = startChild('open-project.ts', [dir, 'hold']);
    expect(JSON.parse(await firstLine(holder))).toEqual({ ok: true });
    await lockedError(openProject(dir));
    holder.kill('SIGTERM');
    await exited(holder);
    const after = await openProject(dir);
    expect(after.staleLockReplaced).toBe(false);
    await closeProject(after.handle);

    expect(await runJson('open-project.ts', [dir, 'exit'])).toEqual({ ok: true });
    const afterExit = await openProject(dir);
    await closeProject(afterExit.handle);
  });

  it('takes over the lock of a killed process once it is stale', async () => {
    const stale = 2000; // proper-lockfile's minimum; every process must agree on it
    const holder = startChild('open-project.ts', [dir, 'hold', String(stale)]);
    expect(JSON.parse(await firstLine(holder))).toEqual({ ok: true });
    holder.kill('SIGKILL');
    await exited(holder);
    const killedAt = Date.now();
    await lockedError(openProject(dir, { lockStaleMs: stale }));
    let opened;
    while (!opened) {
      opened = await openProject(dir, { lockStaleMs: stale }).catch((e: unknown) => {
        if (!(e instanceof ProjectError) || e.code !== 'locked' || Date.now() - killedAt > 4 * stale) throw e;
        return new Promise<undefined>((r) => setTimeout(() => r(undefined), 200));
      });
    }
    expect(opened.staleLockReplaced).toBe(true);
    expect(Date.now() - killedAt).toBeLessThan(4 * stale);
    await closeProject(opened.handle);
  });
});
