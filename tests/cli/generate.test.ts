/** `npm run generate` end to end: a real process, real sessions, a real WAV; bad input leaves nothing behind. */
import { cp, mkdir, mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../src-main/host/wav.ts';
import { sketchPackVersion } from '../../src-main/packs/sketch/index.ts';
import { ROOT, runCli, type CliRun } from '../helpers/cli.ts';
import { builtinPack, TEST_CACHE_DIR } from '../helpers/packs.ts';

const cli = (args: string[]): Promise<CliRun> => runCli(args, { ...process.env, TESSERA_CACHE_DIR: TEST_CACHE_DIR });

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
    expect(params).toMatchObject({ prompt: 'bright tone', seed: 42, steps: 10, guidance: 2.5, sampler: 'ddim', model: 'sketch', modelVersion: sketchPackVersion() });
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

  it('--region pieces: duration from the last region, method and regions in the summary and the WAV metadata', async () => {
    const out = join(work, 'piece.wav');
    const r = await cli(['generate', '--region', '0:12:low drone', '--region', '12:30:noise: with a colon', '--method', 'spotdiffusion', '--steps', '3', '--out', out, '--seed', '5']);
    expect(r.stderr).toContain("does not know: colon");
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
    expect(summary).toMatchObject({ seconds: 30, samples: 480000, method: 'spotdiffusion', regions: [{ start: 0, end: 12, prompt: 'low drone' }, { start: 12, end: 30, prompt: 'noise: with a colon' }] });
    const params = JSON.parse(decodeWav(await readFile(out)).tags.ICMT ?? '{}') as Record<string, unknown>;
    expect(params).toMatchObject({ method: 'spotdiffusion', regions: [{ prompt: 'low drone' }, { prompt: 'noise: with a colon' }] });
  });

  it('--request file.json, with flags overriding its fields', async () => {
    const file = join(work, 'request.json');
    await writeFile(file, JSON.stringify({ duration: 20, regions: [{ start: 0, end: 10, prompt: 'rain' }, { start: 10, end: 20, prompt: 'wind', guidance: 4 }], steps: 2, seed: 9, method: 'multidiffusion', transition: 1 }));
    const out = join(work, 'request.wav');
    const r = await cli(['generate', '--request', file, '--out', out, '--seed', '10']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toMatchObject({ seconds: 20, seed: 10, steps: 2, method: 'multidiffusion' });
  });

  it('--help documents every flag', async () => {
    const r = await cli(['generate', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--prompt', '--region', '--request', '--duration', '--out', '--model', '--seed', '--steps', '--guidance', '--sampler', '--method', '--transition', '--stride', '--window-batch', '--vae-decode', '--max-duration', '--device', '--format']) {
      expect(r.stdout).toContain(flag);
    }
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
    ['unknown method', ['--method', 'tiles'], /--method 'tiles' is not one of: multidiffusion, spotdiffusion, auto/, 2],
    ['stride out of range', ['--stride', '1.5'], /--stride "1.5" is not valid: expected a fraction of the window in \(0, 1\]/, 2],
    ['hex duration', ['--duration', '0x10'], /--duration "0x10" is not valid: expected a number of seconds greater than 0, written in plain decimal .*, e\.g\. --duration 8/, 2],
    ['exponent steps', ['--steps', '1e1'], /--steps "1e1" is not valid: expected a whole number from 1 to 1000, written in plain decimal/, 2],
    ['infinite max duration', ['--max-duration', 'Infinity'], /--max-duration "Infinity" is not valid: .*plain decimal/, 2],
  ];
  it.each(cases)('%s', async (_name, extra, message, code) => {
    const out = join(work, `bad-${_name.replace(/\W+/g, '-')}.wav`);
    const r = await cli(['generate', '--prompt', 'low drone', '--duration', '1', '--out', out, ...extra]);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(code);
    expect(await exists(out)).toBe(false);
  });

  it.each([
    ['malformed region', ['--region', '0-60:drone'], /--region #1 "0-60:drone" is not START:END:PROMPT/, 2],
    ['region numbers', ['--region', 'a:b:drone'], /START and END must be numbers of seconds, got "a" and "b"/, 2],
    ['region end before its start', ['--region', '5:0:x'], /--region #1 "5:0:x": its end \(0 s\) is not after its start \(5 s\); write START:END:PROMPT in seconds with END after START, e\.g\. --region "0:60:low drone"/, 2],
    ['hex region edge', ['--region', '0:0x10:x'], /--region #1 "0:0x10:x": START and END must be numbers of seconds, got "0" and "0x10"/, 2],
    ['overlapping regions', ['--region', '0:10:a', '--region', '8:20:b'], /regions\[1\]\.start 8 s overlaps regions\[0\], which ends at 10 s/, 1],
    ['gap between regions', ['--region', '0:10:a', '--region', '11:20:b'], /gap between regions\[0\] \(ends 10 s\) and regions\[1\] \(starts 11 s\)/, 1],
    ['transition longer than a region', ['--region', '0:1:a', '--region', '1:20:b', '--transition', '3'], /transition 3 s is longer than regions\[0\] \(1 s\)/, 1],
    ['prompt and regions', ['--prompt', 'x', '--region', '0:5:a'], /give either --prompt or --region/, 2],
  ])('regions: %s', async (_name, args, message, code) => {
    const out = join(work, `bad-region-${_name.replace(/\W+/g, '-')}.wav`);
    const r = await cli(['generate', '--out', out, ...args]);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(code);
    expect(await exists(out)).toBe(false);
  });

  it.each([
    ['not JSON', '{ nope', /--request .* is not valid JSON/],
    ['wrong types', JSON.stringify({ duration: 'long', steps: 2.5, regions: [{ start: 0, end: 5 }] }), /- duration: Invalid type: Expected number[\s\S]*- regions\.0\.prompt: [\s\S]*- steps: Invalid integer: Received 2\.5/],
    ['unknown field', JSON.stringify({ duration: 5, prompt: 'a', colour: 'red' }), /- colour: /],
    ['a region whose end is before its start', JSON.stringify({ regions: [{ start: 5, end: 0, prompt: 'x' }] }), /--request .*: regions\[0\] ends \(0 s\) not after its start \(5 s\); give each region an end after its start/],
  ])('request file: %s', async (_name, text, message) => {
    const file = join(work, `bad-${_name.replace(/\W+/g, '-')}.json`);
    await writeFile(file, text);
    const out = join(work, `bad-request-${_name.replace(/\W+/g, '-')}.wav`);
    const r = await cli(['generate', '--request', file, '--out', out]);
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
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
