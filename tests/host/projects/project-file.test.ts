/**
 * `project.json` that is a folder: opening and saving say so (which folder, what is expected, what to do) instead
 * of leaking EISDIR, and nothing is changed; the lock is given back after a failed open. `project.json` that is a
 * link out of the project is neither read nor written through.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectError } from '../../../src-main/contract/project.ts';
import { closeProject, createProject, openProject, saveProject } from '../../../src-main/host/projects/project-store.ts';
import { counterIds, sampleProject } from '../../contract/project-fixtures.ts';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-project-file-'));
});
afterAll(async () => rm(work, { recursive: true, force: true }));

const options = { newId: counterIds(), createdWith: 'Tessera 0.1.0' };

async function refusal(promise: Promise<unknown>): Promise<ProjectError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ProjectError);
  expect((error as ProjectError).code).toBe('invalid-argument');
  return error as ProjectError;
}

describe('project.json is a folder', () => {
  it('opening says so, names the folder and what to do, and leaves it as it was', async () => {
    const dir = join(work, 'open');
    await mkdir(join(dir, 'project.json'), { recursive: true });
    await writeFile(join(dir, 'project.json', 'inside.txt'), 'x');
    const error = await refusal(openProject(dir));
    expect(error.message).toContain(`project.json in ${dir} is a folder, not a file`);
    expect(error.message).toMatch(/Rename or move that folder/);
    expect(error.message).not.toMatch(/EISDIR/);
    expect(await readdir(join(dir, 'project.json'))).toEqual(['inside.txt']);
    // The lock was given back: once the folder is gone, the project is no longer blocked by this failed open.
    await rm(join(dir, 'project.json'), { recursive: true });
    await expect(openProject(dir)).rejects.toMatchObject({ code: 'not-found' });
  });

  it('saving says so and leaves the folder alone', async () => {
    const dir = join(work, 'save');
    const { handle } = await createProject(dir, 'Song', options);
    await rm(join(dir, 'project.json'));
    await mkdir(join(dir, 'project.json'));
    const error = await refusal(saveProject(handle, sampleProject()));
    expect(error.message).toContain(`project.json in ${dir} is a folder, not a file`);
    expect(error.message).not.toMatch(/EISDIR/);
    expect(await readdir(join(dir, 'project.json'))).toEqual([]);
    await closeProject(handle);
  });
});

describe('project.json linked out of the project', () => {
  it('is neither opened nor saved through; the file it points to is untouched', async () => {
    const outside = join(work, 'elsewhere.json');
    await writeFile(outside, JSON.stringify(sampleProject()));
    const dir = join(work, 'linked');
    await mkdir(dir);
    await symlink(outside, join(dir, 'project.json'));
    const opened = await refusal(openProject(dir));
    expect(opened.message).toContain(outside);
    expect(opened.message).toMatch(/outside the project folder/);

    const saved = join(work, 'saved');
    const { handle } = await createProject(saved, 'Song', options);
    await rm(join(saved, 'project.json'));
    await symlink(outside, join(saved, 'project.json'));
    const before = await readFile(outside, 'utf8');
    await refusal(saveProject(handle, { ...sampleProject(), name: 'Overwritten?' }));
    expect(await readFile(outside, 'utf8')).toBe(before);
    await closeProject(handle);
  });
});
