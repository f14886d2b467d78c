/**
 * The one asset rule (host/assets.ts) on real project folders with real symbolic links: a link that leads out of
 * the project is refused with a coded error naming the path and where it leads; a link that stays inside, and a
 * project folder reached through a linked parent (like /tmp on macOS), still work; peaks are never rebuilt from, or
 * written to, a place outside the project.
 */
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectError, type TakeRef } from '../../src-main/contract/project.ts';
import { resolveProjectAsset } from '../../src-main/host/assets.ts';
import { projectPaths } from '../../src-main/host/projects/layout.ts';
import { encodeWav } from '../../src-main/host/wav.ts';

let work: string;
let outside: string;
let count = 0;
const wav = encodeWav([Float32Array.from({ length: 4000 }, (_, i) => Math.sin(i / 10) / 2)], 16000, 'float32');

beforeAll(async () => {
  work = await realpath(await mkdtemp(join(tmpdir(), 'tessera-assets-')));
  outside = join(work, 'outside');
  await mkdir(outside);
  await writeFile(join(outside, 'secret.txt'), 'root:x:0:0:secret');
  await writeFile(join(outside, 'take.wav'), wav);
});
afterAll(async () => rm(work, { recursive: true, force: true }));

/** A project folder with takes/good.wav (a real take) and an empty peaks/. */
async function project(): Promise<string> {
  const dir = join(work, `project${count++}`);
  await mkdir(join(dir, 'takes'), { recursive: true });
  await mkdir(join(dir, 'peaks'));
  await writeFile(join(dir, 'project.json'), '{}');
  await writeFile(join(dir, 'takes', 'good.wav'), wav);
  return dir;
}

const takeRef = (id: TakeRef['id'], file: string): Pick<TakeRef, 'id' | 'file'> => ({ id, file });
const refused = async (promise: Promise<unknown>): Promise<ProjectError> => {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ProjectError);
  return error as ProjectError;
};

describe('assets stay inside their project', () => {
  it('refuses a take that is a link to a file outside the project, naming the path, the target and what to do', async () => {
    const dir = await project();
    await symlink(join(outside, 'secret.txt'), join(dir, 'takes', 'evil.wav'));
    const error = await refused(resolveProjectAsset(projectPaths(dir), 'takes/evil.wav', () => undefined));
    expect(error.code).toBe('invalid-argument');
    expect(error.message).toContain('takes/evil.wav');
    expect(error.message).toContain(join(outside, 'secret.txt'));
    expect(error.message).toMatch(/outside the project folder .*project\d/);
    expect(error.message).toMatch(/symbolic link/);
    expect(error.message).toMatch(/copy of the file/);
  });

  it('refuses takes/ itself linked to a folder outside, and a relative link that climbs out', async () => {
    const dir = await project();
    await symlink('../../outside/secret.txt', join(dir, 'takes', 'climb.wav'));
    expect((await refused(resolveProjectAsset(projectPaths(dir), 'takes/climb.wav', () => undefined))).code).toBe('invalid-argument');
    const other = await project();
    await rm(join(other, 'takes'), { recursive: true });
    await symlink(outside, join(other, 'takes'));
    const error = await refused(resolveProjectAsset(projectPaths(other), 'takes/take.wav', () => undefined));
    expect(error.message).toContain(join(outside, 'take.wav'));
  });

  it('refuses a peaks file linked outside, and never rebuilds peaks from a take outside or into a peaks/ outside', async () => {
    const dir = await project();
    await mkdir(join(dir, 'peaks', 'take_a'));
    await symlink(join(outside, 'secret.txt'), join(dir, 'peaks', 'take_a', '512.i16'));
    expect((await refused(resolveProjectAsset(projectPaths(dir), 'peaks/take_a/512.i16', () => undefined))).code).toBe('invalid-argument');

    await symlink(join(outside, 'take.wav'), join(dir, 'takes', 'far.wav'));
    const far = await refused(resolveProjectAsset(projectPaths(dir), 'peaks/take_b/512.i16', () => takeRef('take_b', 'takes/far.wav')));
    expect(far.message).toContain('takes/far.wav');
    expect(await readdir(join(dir, 'peaks'))).toEqual(['take_a']);

    const linked = await project();
    await rm(join(linked, 'peaks'), { recursive: true });
    const sink = join(outside, `peaks-sink${count}`);
    await mkdir(sink);
    await symlink(sink, join(linked, 'peaks'));
    const into = await refused(resolveProjectAsset(projectPaths(linked), 'peaks/take_c/512.i16', () => takeRef('take_c', 'takes/good.wav')));
    expect(into.code).toBe('invalid-argument');
    expect(into.message).toContain(sink);
    expect(await readdir(sink)).toEqual([]);
  });

  it('names a damaged take that peaks cannot be rebuilt from (corrupt, not a decoder crash)', async () => {
    const dir = await project();
    await writeFile(join(dir, 'takes', 'cut.wav'), wav.subarray(0, 3000));
    await writeFile(join(dir, 'takes', 'junk.wav'), 'no audio here, only text of some length');
    for (const [id, file, reason] of [['take_e', 'takes/cut.wav', /truncated/], ['take_f', 'takes/junk.wav', /not a WAV file/]] as const) {
      const error = await refused(resolveProjectAsset(projectPaths(dir), `peaks/${id}/512.i16`, () => takeRef(id, file)));
      expect(error.code).toBe('corrupt');
      expect(error.message).toContain(file);
      expect(error.message).toMatch(reason);
    }
  });

  it('serves a link that stays inside the project, as its real file', async () => {
    const dir = await project();
    await mkdir(join(dir, 'media'));
    await writeFile(join(dir, 'media', 'kept.wav'), wav);
    await symlink('../media/kept.wav', join(dir, 'takes', 'alias.wav'));
    const asset = await resolveProjectAsset(projectPaths(dir), 'takes/alias.wav', () => undefined);
    expect(asset).toEqual({ file: join(dir, 'media', 'kept.wav'), contentType: 'audio/wav', size: wav.length });
  });

  it('works for a project folder reached through a linked parent folder', async () => {
    const dir = await project();
    const via = join(work, `via${count++}`);
    await symlink(work, via);
    const paths = projectPaths(join(via, dir.slice(work.length + 1)));
    const audio = await resolveProjectAsset(paths, 'takes/good.wav', () => undefined);
    expect(audio).toMatchObject({ file: join(dir, 'takes', 'good.wav'), size: wav.length });
    const peaks = await resolveProjectAsset(paths, 'peaks/take_d/512.i16', () => takeRef('take_d', 'takes/good.wav'));
    expect(peaks.file).toBe(join(dir, 'peaks', 'take_d', '512.i16'));
    expect((await readFile(peaks.file)).length).toBe(peaks.size);
  });
});
