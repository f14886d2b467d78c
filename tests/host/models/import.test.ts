/**
 * Importing a pack folder with symbolic links in it: a linked file is refused up front with a message that says it
 * is a link and what to do (not "the folder changed during the import"), and nothing is installed; a pack folder
 * that is itself reached through a link imports normally.
 */
import { cp, mkdir, mkdtemp, readdir, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelsError } from '../../../src-main/host/models/errors.ts';
import { importPack } from '../../../src-main/host/models/import.ts';
import { builtinPack } from '../../helpers/packs.ts';

let work: string;
let source: string;
beforeAll(async () => {
  work = await realpath(await mkdtemp(join(tmpdir(), 'tessera-import-')));
  source = (await builtinPack('sketch')).dir;
}, 120_000);
afterAll(async () => rm(work, { recursive: true, force: true }));

/** A copy of the sketch pack under a new id in `work/<name>`. */
async function packCopy(name: string): Promise<string> {
  const dir = join(work, name);
  await cp(source, dir, { recursive: true });
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, id: `sketch-${name}` }));
  return dir;
}

describe('pack import and symbolic links', () => {
  it('refuses a pack folder holding a linked file, saying it is a link and what to do; nothing is installed', async () => {
    const dir = await packCopy('linked');
    const elsewhere = join(work, 'elsewhere');
    await mkdir(elsewhere);
    await cp(join(dir, 'unet.onnx'), join(elsewhere, 'unet.onnx'));
    await rm(join(dir, 'unet.onnx'));
    await symlink(join(elsewhere, 'unet.onnx'), join(dir, 'unet.onnx'));
    const modelsDir = join(work, 'models-a');
    const error = await importPack(dir, { modelsDir }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ModelsError);
    expect((error as ModelsError).code).toBe('invalid-argument');
    const message = (error as ModelsError).message;
    expect(message).toContain("'unet.onnx'");
    expect(message).toContain('is a symbolic link');
    expect(message).toContain(join(elsewhere, 'unet.onnx'));
    expect(message).toMatch(/cp -L/);
    expect(message).not.toMatch(/change/);
    expect((await readdir(modelsDir).catch(() => [])).filter((n) => !n.startsWith('.'))).toEqual([]);
  });

  it('imports a pack folder that is itself reached through a link', async () => {
    const dir = await packCopy('plain');
    const via = join(work, 'via');
    await symlink(dir, via);
    const result = await importPack(via, { modelsDir: join(work, 'models-b') });
    expect(result.id).toBe('sketch-plain');
    expect((await readdir(result.dir)).sort()).toContain('unet.onnx');
  });
});
