/** `npm run generate` end to end: a real process, real sessions, a real WAV; bad input leaves nothing behind. */
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../src-main/host/wav.ts';
import { builtinPack, TEST_CACHE_DIR } from '../helpers/packs.ts';

const ROOT = join(import.meta.dirname, '..', '..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src-main/cli/main.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, TESSERA_CACHE_DIR: TEST_CACHE_DIR },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const exists = async (path: string): Promise<boolean> => (await stat(path).catch(() => undefined)) !== undefined;

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-cli-'));
  await builtinPack('sketch');
});
afterAll(async () => rm(work, { recursive: true, force: true }));

describe('generate', () => {
  it('writes an 8.0 s 16 kHz mono WAV with its parameters and prints a JSON summary', async () => {
    const out = join(work, 'bright.wav');
    const r = await cli(['generate', '--prompt', 'bright tone', '--duration', '8', '--out', out, '--seed', '42']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
    expect(summary).toMatchObject({ ok: true, seed: 42, seconds: 8, samples: 128000, sampleRate: 16000, model: 'sketch', device: 'cpu', steps: 10, guidance: 2.5, sampler: 'ddim' });
    expect(Object.keys(summary.stages as object)).toEqual(['load', 'encode', 'denoise', 'decode', 'vocode', 'write']);
    const wav = decodeWav(await readFile(out));
    expect(wav.sampleRate).toBe(16000);
    expect(wav.channels).toHaveLength(1);
    expect(wav.channels[0]).toHaveLength(128000);
    expect(wav.format).toBe('float32');
    let energy = 0;
    for (const x of wav.channels[0]) energy += x * x;
    expect(Math.sqrt(energy / 128000)).toBeGreaterThan(0.05);
    const params = JSON.parse(wav.tags.ICMT ?? '{}') as Record<string, unknown>;
    expect(params).toMatchObject({ prompt: 'bright tone', seed: 42, steps: 10, guidance: 2.5, sampler: 'ddim', model: 'sketch', modelVersion: '1.0.0' });
  });

  it('is reproducible from the printed seed: identical bytes', async () => {
    const a = join(work, 'a.wav');
    const b = join(work, 'b.wav');
    const first = await cli(['generate', '--prompt', 'rain', '--duration', '2', '--out', a, '--device', 'cpu', '--format', 'pcm24']);
    const seed = String((JSON.parse(first.stdout.trim()) as { seed: number }).seed);
    const second = await cli(['generate', '--prompt', 'rain', '--duration', '2', '--out', b, '--device', 'cpu', '--format', 'pcm24', '--seed', seed]);
    expect(second.code).toBe(0);
    expect((await readFile(a)).equals(await readFile(b))).toBe(true);
    expect(decodeWav(await readFile(a)).format).toBe('pcm24');
  });

  it('--help documents every flag', async () => {
    const r = await cli(['generate', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--prompt', '--duration', '--out', '--model', '--seed', '--steps', '--guidance', '--sampler', '--device', '--format']) expect(r.stdout).toContain(flag);
  });
});

describe('bad input: clear message, non-zero exit, nothing at --out', () => {
  const cases: Array<[string, string[], RegExp, number]> = [
    ['zero duration', ['--duration', '0'], /--duration "0" is not valid: expected a number of seconds greater than 0/, 2],
    ['NaN duration', ['--duration', 'abc'], /--duration "abc" is not valid/, 2],
    ['duration beyond the limit', ['--duration', '1201'], /duration 1201 s is longer than the maximum of 1200 s/, 1],
    ['steps < 1', ['--steps', '0'], /--steps "0" is not valid: expected a whole number from 1 to 1000/, 2],
    ['steps > 1000', ['--steps', '1001'], /--steps "1001"/, 2],
    ['negative guidance', ['--guidance', '-1'], /--guidance "-1" is not valid/, 2],
    ['unknown sampler', ['--sampler', 'euler'], /--sampler 'euler' is not one of: ddim, dpmpp-2m/, 2],
    ['unknown device', ['--device', 'tpu'], /--device 'tpu' is not one of: auto, cpu, cuda, dml, coreml/, 2],
    ['unknown model', ['--model', 'nope'], /unknown model 'nope': not a built-in model/, 1],
    ['unknown flag', ['--colour', 'red'], /Unknown option '--colour'/, 2],
  ];
  it.each(cases)('%s', async (_name, extra, message, code) => {
    const out = join(work, `bad-${_name.replace(/\W+/g, '-')}.wav`);
    const r = await cli(['generate', '--prompt', 'low drone', '--duration', '1', '--out', out, ...extra]);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(code);
    expect(await exists(out)).toBe(false);
  });

  it('damaged pack: truncated graph', async () => {
    const dir = join(work, 'damaged');
    await cp((await builtinPack('sketch')).dir, dir, { recursive: true });
    await truncate(join(dir, 'vocoder.onnx'), 64);
    const out = join(work, 'damaged.wav');
    const r = await cli(['generate', '--prompt', 'low drone', '--duration', '1', '--out', out, '--model', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/vocoder\.onnx: sha256 .* \(64 bytes; truncated or modified\?\)/);
    expect(await exists(out)).toBe(false);
  });

  it.each([
    ['a folder that does not exist', (w: string) => join(w, 'no', 'such', 'dir', 'x.wav'), /folder .* does not exist; create it first/],
    ['a folder instead of a file', (w: string) => join(w, 'isdir.wav'), /is a folder; give a file name/],
    ['a parent that is a file', (w: string) => join(w, 'file.txt', 'x.wav'), /does not exist; create it first/],
    ['not a .wav name', (w: string) => join(w, 'x.mp3'), /must end in \.wav/],
  ])('unwritable --out: %s', async (_name, path, message) => {
    await rm(join(work, 'isdir.wav'), { recursive: true, force: true });
    await cp(join(ROOT, 'package.json'), join(work, 'file.txt'));
    await mkdir(join(work, 'isdir.wav'));
    const out = path(work);
    const r = await cli(['generate', '--prompt', 'low drone', '--duration', '1', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    if (!_name.includes('folder instead')) expect(await exists(out)).toBe(false);
  });

  it('a write that fails at the end leaves no partial file', async () => {
    // /proc accepts no new files even for root: the check passes, the atomic write fails, nothing remains.
    const out = '/proc/tessera-test.wav';
    const r = await cli(['generate', '--prompt', 'low drone', '--duration', '1', '--out', out, '--device', 'cpu']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: /);
    expect(await exists(out)).toBe(false);
  });
});
