/**
 * `npm run generate` with the stable-audio-3 stand-in: a real process writes a 3-minute 44.1 kHz stereo WAV with
 * two regions, taking the model's defaults (8 ping-pong steps, CFG off).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../src-main/host/wav.ts';
import { runCli, type CliRun } from '../helpers/cli.ts';
import { builtinPack, TEST_CACHE_DIR } from '../helpers/packs.ts';

const cli = (args: string[]): Promise<CliRun> => runCli(args, { ...process.env, TESSERA_CACHE_DIR: TEST_CACHE_DIR });

const rms = (a: Float32Array, from: number, to: number): number => {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i] * a[i];
  return Math.sqrt(s / (to - from));
};

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-cli-sa3-'));
  await builtinPack('stable-audio-3-standin');
});
afterAll(async () => rm(work, { recursive: true, force: true }));

describe('generate --model stable-audio-3-standin', () => {
  it('--duration 180 with two regions writes a 180 s 44.1 kHz stereo WAV, left then right as prompted', async () => {
    const out = join(work, 'piece.wav');
    const r = await cli([
      'generate', '--model', 'stable-audio-3-standin', '--duration', '180',
      '--region', '0:90:low drone on the left', '--region', '90:180:bright hiss on the right',
      '--out', out, '--seed', '11', '--device', 'cpu', '--format', 'pcm16',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as Record<string, unknown>;
    expect(summary).toMatchObject({ ok: true, model: 'stable-audio-3-standin', seconds: 180, samples: 180 * 44100, sampleRate: 44100, channels: 2, steps: 8, guidance: 1, sampler: 'pingpong', seed: 11 });
    const wav = decodeWav(await readFile(out));
    expect(wav.sampleRate).toBe(44100);
    expect(wav.format).toBe('pcm16');
    expect(wav.channels).toHaveLength(2);
    const [left, right] = wav.channels;
    expect(left).toHaveLength(180 * 44100);
    expect(right).toHaveLength(180 * 44100);
    expect(rms(left, 5 * 44100, 85 * 44100)).toBeGreaterThan(0.1);
    expect(rms(right, 5 * 44100, 85 * 44100)).toBe(0);
    expect(rms(right, 95 * 44100, 175 * 44100)).toBeGreaterThan(0.1);
    expect(rms(left, 95 * 44100, 175 * 44100)).toBe(0);
    const params = JSON.parse(wav.tags.ICMT ?? '{}') as Record<string, unknown>;
    expect(params).toMatchObject({ model: 'stable-audio-3-standin', sampler: 'pingpong', steps: 8, regions: [{ prompt: 'low drone on the left' }, { prompt: 'bright hiss on the right' }] });
  });

  it('refuses a sampler that does not fit the model before loading it', async () => {
    const out = join(work, 'bad.wav');
    const r = await cli(['generate', '--model', 'stable-audio-3-standin', '--prompt', 'rain', '--duration', '5', '--sampler', 'ddim', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/sampler 'ddim' does not fit model 'stable-audio-3-standin' \(stable-audio-3\); use pingpong/);
  });
});
