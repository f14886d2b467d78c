/**
 * The conversion in a worker process (engine-worker.ts `convertInWorker`), as the studio host injects it into the
 * ModelManager: the real forked worker converts the fixture with its progress relayed and the pack installed while
 * the host's event loop keeps turning; a converter error arrives with the code and message the in-process converter
 * throws; cancel kills the worker and installs nothing.
 */
import { readdir, rm, stat, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CodedError } from '../../../../src-main/contract/errors.ts';
import { convertInWorker, forkWorker, type WorkerProcess } from '../../../../src-main/host/engine-worker/engine-worker.ts';
import { convertDiffusersAudioLdm, type ConvertOptions } from '../../../../src-main/host/models/convert/audioldm.ts';
import { ConvertError } from '../../../../src-main/host/models/convert/errors.ts';
import { ModelsError } from '../../../../src-main/host/models/errors.ts';
import { ModelManager, type ModelEvents } from '../../../../src-main/host/models/manager.ts';
import type { InstallProgress } from '../../../../src-main/host/models/progress.ts';
import { checkPackLoads } from '../../../../src-main/host/packs/check.ts';
import { verifyPack } from '../../../../src-main/host/packs/load.ts';
import { parseCatalog } from '../../../../src-main/contract/catalog.ts';
import { TINY_ID, TINY_REPO, TINY_REV, tinyEntry, tinyRepoFiles } from '../audioldm-hub.ts';
import { FakeHub } from '../fake-hub.ts';
import { copyTiny, tempDir } from './golden.ts';

let work: string;
beforeAll(async () => {
  work = await tempDir('tessera-convert-worker-');
});
afterAll(async () => rm(work, { recursive: true, force: true }));

/** A manager whose conversions run in forked workers; `workers` collects each one spawned. */
function workerManager(modelsDir: string): { manager: ModelManager; workers: WorkerProcess[] } {
  const workers: WorkerProcess[] = [];
  const spawn = (): WorkerProcess => {
    const w = forkWorker();
    workers.push(w);
    return w;
  };
  const manager = new ModelManager({ modelsDir, cacheDir: join(work, 'cache'), checkPack: checkPackLoads, convert: (s, o, options) => convertInWorker(spawn, s, o, options) });
  return { manager, workers };
}

async function contents(modelsDir: string): Promise<{ packs: string[]; staging: string[] }> {
  const packs = (await readdir(modelsDir).catch(() => [])).filter((n) => !n.startsWith('.'));
  const staging = await readdir(join(modelsDir, '.staging')).catch(() => []);
  return { packs, staging };
}

describe('conversion in a worker process', () => {
  it('converts in a worker: progress relayed, the pack installed, the event loop free meanwhile', async () => {
    const dir = await copyTiny(work, 'tiny-ok');
    const modelsDir = join(work, 'models-ok');
    const { manager, workers } = workerManager(modelsDir);
    const events: InstallProgress[] = [];
    const installed: Array<ModelEvents['installed']> = [];
    manager.on('progress', (p) => events.push(p));
    manager.on('installed', (e) => installed.push(e));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    let r;
    try {
      r = await manager.import(dir, { id: 'tiny-worker', heads: 'config' });
    } finally {
      clearInterval(timer);
    }
    expect(workers).toHaveLength(1);
    expect(workers[0]?.pid).not.toBe(process.pid);
    expect(ticks).toBeGreaterThan(0);
    expect(r.id).toBe('tiny-worker');
    expect((await verifyPack(r.dir)).manifest.id).toBe('tiny-worker');
    expect(installed).toEqual([{ id: 'tiny-worker', dir: r.dir }]);
    expect(new Set(events.map((p) => p.phase))).toEqual(new Set(['convert']));
    expect(events.map((p) => p.file)).toContain('unet');
    expect(events.at(-1)?.file).toBe('write');
    expect(await contents(modelsDir)).toEqual({ packs: ['tiny-worker'], staging: [] });
  }, 60_000);

  it("a converter error arrives with the converter's code and message", async () => {
    const dir = await copyTiny(work, 'tiny-truncated');
    const path = join(dir, 'unet', 'diffusion_pytorch_model.safetensors');
    await truncate(path, (await stat(path)).size - 1000);
    const options: ConvertOptions = { id: 'tiny-truncated', name: 'Tiny', heads: 'config' };
    const local = await convertDiffusersAudioLdm(dir, join(work, 'out-local'), options).then(
      () => undefined,
      (e: unknown) => e,
    );
    const remote = await convertInWorker(forkWorker, dir, join(work, 'out-worker'), options).then(
      () => undefined,
      (e: unknown) => e,
    );
    // The converter throws its checkpoint reader's CheckpointError here; the worker's side rethrows it as a ConvertError.
    expect(local).toBeInstanceOf(CodedError);
    expect((local as CodedError).code).not.toBe('internal');
    expect(remote).toBeInstanceOf(ConvertError);
    expect((remote as ConvertError).code).toBe((local as CodedError).code);
    expect((remote as Error).message).toBe((local as Error).message);

    // Through the manager, the user sees that code.
    const { manager } = workerManager(join(work, 'models-truncated'));
    const error = await manager.import(dir, { heads: 'config' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModelsError);
    expect((error as ModelsError).code).toBe((local as CodedError).code);
    expect((error as Error).message).toContain((local as Error).message);
  }, 60_000);

  it('cancel kills the worker mid-conversion and installs nothing', async () => {
    const dir = await copyTiny(work, 'tiny-cancel');
    const modelsDir = join(work, 'models-cancel');
    const { manager, workers } = workerManager(modelsDir);
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
    expect(workers).toHaveLength(1);
    expect(workers[0]?.exited).toBe(true);
    expect(manager.installing()).toEqual([]);
    expect(await contents(modelsDir)).toEqual({ packs: [], staging: [] });
  }, 60_000);

  it('an already-aborted signal starts no worker', async () => {
    const abort = new AbortController();
    abort.abort();
    let spawned = 0;
    const error = await convertInWorker(
      () => {
        spawned++;
        return forkWorker();
      },
      join(work, 'nowhere'),
      join(work, 'out-aborted'),
      { id: 'x', name: 'X', signal: abort.signal },
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(spawned).toBe(0);
    expect((error as ConvertError).code).toBe('cancelled');
  });
});

describe('a convert entry installed with the conversion in a worker', () => {
  const hub = new FakeHub();
  beforeAll(() => hub.start());
  afterAll(() => hub.close());

  it('downloads, converts in a worker (progress in the convert phase), installs; a cancel there keeps the download', async () => {
    const files = await tinyRepoFiles('safetensors');
    hub.publish(TINY_REPO, TINY_REV, files);
    const catalog = parseCatalog({ schemaVersion: 1, entries: [tinyEntry(files)] }, 'test catalog');
    const workers: WorkerProcess[] = [];
    const spawn = (): WorkerProcess => {
      const w = forkWorker();
      workers.push(w);
      return w;
    };
    const modelsDir = join(work, 'models-install');
    const m = new ModelManager({ modelsDir, cacheDir: join(work, 'cache'), hubUrl: hub.url, catalog, retryDelayMs: 0, retries: 0, checkPack: checkPackLoads, convert: (s, o, options) => convertInWorker(spawn, s, o, options) });

    let cancelled = false;
    const error = await m
      .install(TINY_ID, {
        acceptLicence: true,
        onProgress: (p) => {
          if (p.phase === 'convert' && p.file === 'unet' && !cancelled) cancelled = m.cancel(TINY_ID);
        },
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toMatchObject({ code: 'cancelled', message: expect.stringMatching(/cancelled while converting; nothing was installed/) });
    expect(workers).toHaveLength(1);
    expect(workers[0]?.exited).toBe(true);
    expect(await contents(modelsDir)).toEqual({ packs: [], staging: [TINY_ID] });
    expect(await readdir(join(modelsDir, '.staging', TINY_ID))).not.toContain('.convert');

    const progress: InstallProgress[] = [];
    const r = await m.install(TINY_ID, { acceptLicence: true, onProgress: (p) => progress.push(p) });
    expect(workers).toHaveLength(2);
    expect((await verifyPack(r.dir)).manifest.id).toBe(TINY_ID);
    expect(new Set(progress.filter((p) => p.phase === 'convert').map((p) => p.file))).toEqual(new Set(['', 'textEncoder', 'unet', 'vaeDecoder', 'vocoder', 'write']));
    // The second install only converted: the download was kept.
    expect(r.downloadedBytes).toBe(0);
  }, 60_000);
});
