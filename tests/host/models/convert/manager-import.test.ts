/**
 * The Models view's import of a diffusers AudioLDM folder, at the manager (studio host → ModelManager.import →
 * importPack): the conversion reports `progress` events in the `convert` phase (the view's bar), is listed by
 * `installing()` while it runs, installs the pack, and `cancel(id)` stops it with nothing left in the models folder.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelsError } from '../../../../src-main/host/models/errors.ts';
import { ModelManager, type ModelEvents } from '../../../../src-main/host/models/manager.ts';
import type { InstallProgress } from '../../../../src-main/host/models/progress.ts';
import { checkPackLoads } from '../../../../src-main/host/packs/check.ts';
import { verifyPack } from '../../../../src-main/host/packs/load.ts';
import { copyTiny, tempDir } from './golden.ts';

let work: string;
beforeAll(async () => {
  work = await tempDir('tessera-manager-import-');
});
afterAll(async () => rm(work, { recursive: true, force: true }));

/** The models folder's entries besides dot-folders, and what is left in staging. */
async function contents(modelsDir: string): Promise<{ packs: string[]; staging: string[] }> {
  const packs = (await readdir(modelsDir).catch(() => [])).filter((n) => !n.startsWith('.'));
  const staging = await readdir(join(modelsDir, '.staging')).catch(() => []);
  return { packs, staging };
}

describe('ModelManager.import of a diffusers folder', () => {
  it('reports convert progress as events, lists it as installing, and installs the pack', async () => {
    const dir = await copyTiny(work, 'tiny-ok');
    const modelsDir = join(work, 'models-ok');
    const manager = new ModelManager({ modelsDir, cacheDir: join(work, 'cache'), checkPack: checkPackLoads });
    const events: InstallProgress[] = [];
    const installed: Array<ModelEvents['installed']> = [];
    const busy: string[][] = [];
    manager.on('progress', (p) => {
      events.push(p);
      busy.push(manager.installing());
    });
    manager.on('installed', (e) => installed.push(e));
    const callbacks: InstallProgress[] = [];
    const r = await manager.import(dir, { id: 'tiny-import', heads: 'config', onProgress: (p) => callbacks.push(p) });
    expect(r.id).toBe('tiny-import');
    expect((await verifyPack(r.dir)).manifest.id).toBe('tiny-import');
    expect(installed).toEqual([{ id: 'tiny-import', dir: r.dir }]);
    expect(events.length).toBeGreaterThan(1);
    expect(callbacks).toEqual(events);
    expect(new Set(events.map((p) => p.phase))).toEqual(new Set(['convert']));
    expect(new Set(events.map((p) => p.id))).toEqual(new Set(['tiny-import']));
    expect(events.at(-1)?.file).toBe('write');
    // The bar only moves forward, over a known total.
    const converting = events.filter((p) => p.file !== 'write');
    expect(converting.every((p) => p.bytesTotal !== null && p.bytesTotal > 0)).toBe(true);
    expect(converting.map((p) => p.bytesDone)).toEqual([...converting.map((p) => p.bytesDone)].sort((a, b) => a - b));
    expect(busy.every((ids) => ids.includes('tiny-import'))).toBe(true);
    expect(manager.installing()).toEqual([]);
    expect(await contents(modelsDir)).toEqual({ packs: ['tiny-import'], staging: [] });
  }, 60_000);

  it('cancel(id) stops the conversion: a cancelled error and failed event, nothing installed', async () => {
    const dir = await copyTiny(work, 'tiny-cancel');
    const modelsDir = join(work, 'models-cancel');
    const manager = new ModelManager({ modelsDir, cacheDir: join(work, 'cache'), checkPack: checkPackLoads });
    const failed: Array<ModelEvents['failed']> = [];
    manager.on('failed', (e) => failed.push(e));
    let cancelled: boolean | undefined;
    manager.on('progress', (p) => {
      if (p.file === 'unet' && cancelled === undefined) cancelled = manager.cancel(p.id);
    });
    const error = await manager.import(dir, { heads: 'config' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(cancelled).toBe(true);
    expect(error).toBeInstanceOf(ModelsError);
    expect((error as ModelsError).code).toBe('cancelled');
    expect((error as Error).message).toMatch(/nothing was installed/);
    expect(failed).toEqual([{ id: 'tiny-cancel', code: 'cancelled', message: (error as Error).message }]);
    expect(manager.installing()).toEqual([]);
    expect(await contents(modelsDir)).toEqual({ packs: [], staging: [] });
  }, 60_000);

  it('forwards --fp16 (unetFp16) to the converter', async () => {
    const dir = await copyTiny(work, 'tiny-fp16');
    const manager = new ModelManager({ modelsDir: join(work, 'models-fp16'), cacheDir: join(work, 'cache'), checkPack: checkPackLoads });
    const r = await manager.import(dir, { heads: 'config', unetFp16: true });
    expect(r.manifest.name).toMatch(/\(fp16 UNet\)$/);
    expect(r.manifest.description).toContain('The UNet was converted to float16');
  }, 60_000);

  it('refuses a second import of the same id while one runs', async () => {
    const dir = await copyTiny(work, 'tiny-busy');
    const manager = new ModelManager({ modelsDir: join(work, 'models-busy'), cacheDir: join(work, 'cache'), checkPack: checkPackLoads });
    let second: Promise<unknown> | undefined;
    manager.on('progress', () => {
      second ??= manager.import(dir, { heads: 'config' }).then(
        () => undefined,
        (e: unknown) => e,
      );
    });
    const first = await manager.import(dir, { heads: 'config' });
    const error = await second;
    expect(error).toBeInstanceOf(ModelsError);
    expect((error as ModelsError).code).toBe('busy');
    expect((error as Error).message).toContain("'tiny-busy' is already being installed or imported");
    expect(first.id).toBe('tiny-busy');
  }, 60_000);
});
