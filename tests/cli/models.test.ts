/**
 * `npm run models` end to end against a fake hub on 127.0.0.1 serving a REAL pack (the sketch files as
 * `sketch-mirror`): licence gate, a download that drops mid-file and resumes on the next run, verification, atomic
 * install, generation through `npm run generate -- --model sketch-mirror`, remove, import, and clear failures.
 */
import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../src-main/host/wav.ts';
import { FakeHub, type FakeFile } from '../host/models/fake-hub.ts';
import { MIRROR_ID, MIRROR_REPO, MIRROR_REV, mirrorEntry, sketchMirrorFiles } from '../host/models/mirror.ts';
import { runCli, type CliRun } from '../helpers/cli.ts';
import { builtinPack, TEST_CACHE_DIR } from '../helpers/packs.ts';

const UNET = 'onnx/unet.onnx';

type Run = CliRun;

const hub = new FakeHub();
let work: string;
let models: string;
let catalog: string;
let files: Record<string, FakeFile>;

function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TESSERA_')));
  return runCli(args, { ...base, TESSERA_CACHE_DIR: TEST_CACHE_DIR, TESSERA_MODELS_DIR: models, TESSERA_HUB_URL: hub.url, TESSERA_CATALOG: catalog, ...env });
}
const lastJson = (r: Run): Record<string, unknown> => JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
const exists = async (p: string): Promise<boolean> => (await stat(p).catch(() => undefined)) !== undefined;
async function status(id: string): Promise<string | undefined> {
  const r = await cli(['models', 'list', '--json']);
  return (lastJson(r).models as Array<{ id: string; status: string }>).find((m) => m.id === id)?.status;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-models-cli-'));
  models = join(work, 'models');
  await hub.start();
  files = await sketchMirrorFiles();
  hub.publish(MIRROR_REPO, MIRROR_REV, files);
  catalog = join(work, 'catalog.json');
  await writeFile(catalog, JSON.stringify({ schemaVersion: 1, entries: [mirrorEntry(files)] }));
  await builtinPack('sketch');
});
afterAll(async () => {
  await hub.close();
  await rm(work, { recursive: true, force: true });
});

describe('npm run models', () => {
  it('--help lists the subcommands and flags', async () => {
    const r = await cli(['models', '--help']);
    expect(r.code).toBe(0);
    for (const word of ['list', 'install ID', 'import DIR', 'remove ID', '--accept-licence', '--revision', 'TESSERA_HUB_URL', 'TESSERA_MODELS_DIR']) expect(r.stdout).toContain(word);
  });

  it('list shows built-in models and the catalog with size and licence', async () => {
    const r = await cli(['models', 'list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^sketch +builtin/m);
    expect(r.stdout).toMatch(/^sketch-mirror +available +audioldm +\d+(\.\d)? KB +- +CC0-1\.0$/m);
    expect(r.stdout).toContain(`Models folder ${models}:`);
  });

  it('install without --accept-licence prints the licence, says how to accept and fetches nothing', async () => {
    hub.reset();
    const r = await cli(['models', 'install', MIRROR_ID]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/distributed under the CC0-1\.0\.\n +Licence: +https:\/\/creativecommons\.org\/publicdomain\/zero\/1\.0\//);
    expect(r.stderr).toMatch(/licence not accepted[\s\S]*npm run models -- install sketch-mirror --accept-licence/);
    expect(hub.log).toEqual([]);
    expect(await exists(models)).toBe(false);
  });

  it('a connection dropped mid-file fails the run and keeps the part; the next run resumes, verifies and installs', async () => {
    hub.reset();
    hub.faults.drop.set(UNET, { after: 100_000, times: 1 });
    const first = await cli(['models', 'install', MIRROR_ID, '--accept-licence', '--retries', '0']);
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/tessera-test\/sketch-mirror\/onnx\/unet\.onnx: the connection dropped after \d+ of \d+ bytes[\s\S]*run the same install again to resume/);
    const kept = (await stat(join(models, '.staging', MIRROR_ID, 'unet.onnx.part'))).size;
    expect(kept).toBeGreaterThan(0);
    expect(await exists(join(models, MIRROR_ID))).toBe(false);
    expect(await status(MIRROR_ID)).toBe('partial');

    hub.reset();
    const second = await cli(['models', 'install', MIRROR_ID, '--accept-licence']);
    expect(second.stderr).toContain('Licence accepted: CC0-1.0');
    expect(second.code).toBe(0);
    const summary = lastJson(second);
    expect(summary).toMatchObject({ ok: true, id: MIRROR_ID, dir: join(models, MIRROR_ID), restarts: 0 });
    expect(summary.resumedBytes).toBeGreaterThanOrEqual(kept);
    expect(hub.gets(UNET)).toEqual([expect.objectContaining({ range: `bytes=${kept}-`, status: 206 })]);
    expect(await status(MIRROR_ID)).toBe('installed');
  });

  it('the installed pack generates through `npm run generate -- --model sketch-mirror`, like the sketch pack it mirrors', async () => {
    const mirrored = join(work, 'mirror.wav');
    const original = join(work, 'sketch.wav');
    const r = await cli(['generate', '--model', MIRROR_ID, '--prompt', 'bright tone', '--duration', '2', '--seed', '7', '--out', mirrored, '--device', 'cpu']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(lastJson(r)).toMatchObject({ ok: true, model: MIRROR_ID, seconds: 2, samples: 32000 });
    expect((await cli(['generate', '--model', 'sketch', '--prompt', 'bright tone', '--duration', '2', '--seed', '7', '--out', original, '--device', 'cpu'])).code).toBe(0);
    const a = decodeWav(await readFile(mirrored));
    const b = decodeWav(await readFile(original));
    expect(JSON.parse(a.tags.ICMT ?? '{}')).toMatchObject({ model: MIRROR_ID });
    expect(a.channels[0]).toEqual(b.channels[0]);
  });

  it('remove deletes it; generate then reports an unknown model', async () => {
    const r = await cli(['models', 'remove', MIRROR_ID]);
    expect(r.code).toBe(0);
    expect(lastJson(r)).toMatchObject({ ok: true, id: MIRROR_ID, removedPack: true });
    expect(await exists(join(models, MIRROR_ID))).toBe(false);
    const g = await cli(['generate', '--model', MIRROR_ID, '--prompt', 'x', '--duration', '1', '--out', join(work, 'gone.wav')]);
    expect(g.code).toBe(1);
    expect(g.stderr).toMatch(/unknown model 'sketch-mirror': not a built-in model .*not installed in /);
  });

  it('a wrong hash: clear error naming the file, its .part removed, nothing installed', async () => {
    hub.reset();
    const bad = Buffer.from(files[UNET].content);
    bad[500] ^= 0x80;
    hub.faults.lie.set(UNET, bad);
    const r = await cli(['models', 'install', MIRROR_ID, '--accept-licence']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/onnx\/unet\.onnx: the downloaded file does not match what the hub declared \(sha256 [0-9a-f]{64}, expected [0-9a-f]{64}\)[\s\S]*nothing was installed/);
    expect(await exists(join(models, '.staging', MIRROR_ID, 'unet.onnx.part'))).toBe(false);
    expect(await exists(join(models, MIRROR_ID))).toBe(false);
    expect(await status(MIRROR_ID)).toBe('partial');
  });

  it('import installs a pack folder validated like any pack', async () => {
    const dir = join(work, 'imported');
    await cp((await builtinPack('sketch')).dir, dir, { recursive: true });
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...manifest, id: 'sketch-imported' }));
    const r = await cli(['models', 'import', dir]);
    expect(r.code).toBe(0);
    expect(lastJson(r)).toMatchObject({ ok: true, id: 'sketch-imported', dir: join(models, 'sketch-imported') });
    expect(await status('sketch-imported')).toBe('installed');
    await writeFile(join(dir, 'unet.onnx'), 'damaged');
    const bad = await cli(['models', 'import', dir, '--replace']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Cannot import .*imported: [\s\S]*unet\.onnx: sha256 [0-9a-f]{64} does not match the manifest's/);
  });

  it('a models folder that cannot be created: io-error naming it', async () => {
    const blocker = join(work, 'blocker');
    await writeFile(blocker, 'a file, not a folder');
    const r = await cli(['models', 'install', MIRROR_ID, '--accept-licence'], { TESSERA_MODELS_DIR: join(blocker, 'models') });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Could not create the models folder '.*blocker\/models': .*ENOTDIR.*TESSERA_MODELS_DIR/);
  });

  it('usage errors exit 2; an unknown id lists the known ones', async () => {
    expect((await cli(['models', 'fetch'])).code).toBe(2);
    expect((await cli(['models', 'install'])).code).toBe(2);
    const r = await cli(['models', 'install', 'nope', '--accept-licence']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/'nope' is not in the model catalog; known models: sketch-mirror/);
  });
});
