/**
 * Project writers stay inside the project's real folder: take files, peaks and the sweep of partial takes never
 * create, overwrite or delete anything a symbolic link points to outside; links inside the project are fine.
 */
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PEAK_LEVELS } from '../../../src-main/contract/api.ts';
import { ProjectError } from '../../../src-main/contract/project.ts';
import { confinedPath } from '../../../src-main/host/projects/confine.ts';
import { projectPaths } from '../../../src-main/host/projects/layout.ts';
import { writeTakePeaks } from '../../../src-main/host/projects/peaks.ts';
import { closeProject, createProject, saveProjectAs } from '../../../src-main/host/projects/project-store.ts';
import { removePartialTakes, writeTakeFile } from '../../../src-main/host/projects/takes.ts';

let work: string;
let count = 0;
beforeAll(async () => {
  work = await realpath(await mkdtemp(join(tmpdir(), 'tessera-confine-')));
});
afterAll(async () => rm(work, { recursive: true, force: true }));

/** A project folder and a folder outside it. */
async function fixture(): Promise<{ dir: string; outside: string }> {
  const n = count++;
  const dir = join(work, `project${n}`);
  const outside = join(work, `outside${n}`);
  await mkdir(join(dir, 'takes'), { recursive: true });
  await mkdir(join(dir, 'peaks'));
  await mkdir(outside);
  return { dir, outside };
}

const refusal = async (promise: Promise<unknown>): Promise<ProjectError> => {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ProjectError);
  expect((error as ProjectError).code).toBe('invalid-argument');
  return error as ProjectError;
};
const channels = [Float32Array.from({ length: 5000 }, (_, i) => Math.sin(i / 7))];

describe('writers stay inside the project', () => {
  it('writes no take into a takes/ that links outside', async () => {
    const { dir, outside } = await fixture();
    await rm(join(dir, 'takes'), { recursive: true });
    await symlink(outside, join(dir, 'takes'));
    const error = await refusal(writeTakeFile(projectPaths(dir), 'take_1.wav', new Uint8Array([1, 2, 3])));
    expect(error.message).toContain(outside);
    expect(await readdir(outside)).toEqual([]);
  });

  it('writes no peaks into a peaks/ that links outside, and never through a peaks file linked outside', async () => {
    const { dir, outside } = await fixture();
    await rm(join(dir, 'peaks'), { recursive: true });
    await symlink(outside, join(dir, 'peaks'));
    await refusal(writeTakePeaks(projectPaths(dir), 'take_1', channels));
    expect(await readdir(outside)).toEqual([]);

    const other = await fixture();
    await writeFile(join(other.outside, 'precious.txt'), 'keep me');
    await mkdir(join(other.dir, 'peaks', 'take_2'));
    await symlink(join(other.outside, 'precious.txt'), join(other.dir, 'peaks', 'take_2', '2048.i16'));
    await refusal(writeTakePeaks(projectPaths(other.dir), 'take_2', channels));
    expect(await readFile(join(other.outside, 'precious.txt'), 'utf8')).toBe('keep me');
  });

  it('sweeps no partial files through a takes/ that links outside', async () => {
    const { dir, outside } = await fixture();
    await writeFile(join(outside, '.mine.partial'), 'not Tessera’s');
    await rm(join(dir, 'takes'), { recursive: true });
    await symlink(outside, join(dir, 'takes'));
    await removePartialTakes(projectPaths(dir));
    expect(await readdir(outside)).toEqual(['.mine.partial']);
  });

  it('save-as copies nothing from a takes/ that links outside', async () => {
    const { outside } = await fixture();
    await writeFile(join(outside, 'private.wav'), 'not project content');
    const dir = join(work, `saveas${count++}`);
    const { handle } = await createProject(dir, 'Song');
    await rm(join(dir, 'takes'), { recursive: true });
    await symlink(outside, join(dir, 'takes'));
    const copy = await saveProjectAs(handle, join(work, `saveas-copy${count++}`));
    expect(await readdir(join(copy.handle.dir, 'takes'))).toEqual([]);
    await closeProject(copy.handle);
  });

  it('writes takes and peaks through links that stay inside the project', async () => {
    const { dir } = await fixture();
    await mkdir(join(dir, 'media', 'peaks'), { recursive: true });
    await rm(join(dir, 'peaks'), { recursive: true });
    await symlink('media/peaks', join(dir, 'peaks'));
    await writeTakePeaks(projectPaths(dir), 'take_3', channels);
    expect((await readdir(join(dir, 'media', 'peaks', 'take_3'))).sort()).toEqual(PEAK_LEVELS.map((l) => `${l}.i16`).sort());
    expect(await writeTakeFile(projectPaths(dir), 'take_3.wav', new Uint8Array([4]))).toBe('takes/take_3.wav');
  });

  it('confinedPath follows dangling links to where a write would land, and names link loops', async () => {
    const { dir, outside } = await fixture();
    await symlink(join(outside, 'not-yet.wav'), join(dir, 'takes', 'dangling.wav'));
    const error = await refusal(confinedPath(dir, join(dir, 'takes', 'dangling.wav'), 'takes/dangling.wav'));
    expect(error.message).toContain(join(outside, 'not-yet.wav'));
    expect(await confinedPath(dir, join(dir, 'takes', 'new', 'file.wav'))).toBe(join(dir, 'takes', 'new', 'file.wav'));
    await symlink('loop-b', join(dir, 'takes', 'loop-a'));
    await symlink('loop-a', join(dir, 'takes', 'loop-b'));
    await expect(confinedPath(dir, join(dir, 'takes', 'loop-a'))).rejects.toThrow(/loop-a/);
  });
});
