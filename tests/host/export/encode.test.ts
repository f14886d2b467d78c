/**
 * Encoders checked by independent tools: `flac -t` (with the MD5 we patch in), `flac -d`, `metaflac`, `soxi`/`sox`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeAudio } from '../../../src-main/host/export/encode.ts';
import { ExportError, type ExportFormat } from '../../../src-main/host/export/types.ts';
import { decodeWav } from '../../../src-main/host/wav.ts';
import { hasTool, pinkNoise, sine } from './helpers.ts';

const hasFlac = hasTool('flac') && hasTool('metaflac');
const hasSox = hasTool('sox');
const RATE = 48000;
const FRAMES = RATE * 2 + 123;
const PARAMS = JSON.stringify({ model: 'sketch', seed: '42', prompt: 'rain on a tin roof, "close" — ünïcode' });

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-encode-'));
});
afterAll(async () => rm(work, { recursive: true, force: true }));

/** Stereo test audio that reaches both clip limits and has quiet detail. */
function audio(): Float32Array[] {
  const left = sine(FRAMES, RATE, 440, 0.8).map((x, i) => x + (i % 1000 === 0 ? 0.15 : 0));
  left[10] = 1;
  left[11] = -1;
  left[12] = 1.5; // clipped
  const right = pinkNoise(FRAMES, 2, 0.3);
  return [left, right];
}

/** The integer each float becomes: clip, ×2^(bits−1) below 0 and ×(2^(bits−1)−1) above, round (as wav.ts). */
function quantise(x: number, bits: number): number {
  const c = Math.max(-1, Math.min(1, x));
  return Math.round(c < 0 ? c * 2 ** (bits - 1) : c * (2 ** (bits - 1) - 1)) + 0; // + 0 turns −0 into 0
}

describe.skipIf(!hasFlac)('FLAC', () => {
  it.each([16, 24] as const)('%d-bit: passes flac -t with its MD5, decodes to the expected samples, carries the tags', async (bits) => {
    const channels = audio();
    const bytes = await encodeAudio(channels, RATE, `flac${bits}`, { title: 'Rain – Mix', comment: PARAMS });
    const path = join(work, `test${bits}.flac`);
    await writeFile(path, bytes);

    const test = spawnSync('flac', ['-t', path], { encoding: 'utf8' });
    expect(test.status).toBe(0);
    expect(test.stderr).toMatch(/ok/);
    expect(test.stderr).not.toMatch(/WARNING|ERROR|MD5 signature mismatch/);
    const info = execFileSync('metaflac', ['--show-bps', '--show-sample-rate', '--show-channels', '--show-total-samples', path], { encoding: 'utf8' });
    expect(info.trim().split('\n')).toEqual([String(bits), String(RATE), '2', String(FRAMES)]);

    const tags = execFileSync('metaflac', ['--export-tags-to=-', path], { encoding: 'utf8' }).trim().split('\n');
    expect(tags).toContain('TITLE=Rain – Mix');
    expect(tags).toContain(`COMMENT=${PARAMS}`);
    expect(tags).toContain(`DESCRIPTION=${PARAMS}`);
    expect(tags).toContain('ENCODER=Tessera');

    const raw = execFileSync('flac', ['-d', '-c', '-s', '--force-raw-format', '--endian=little', '--sign=signed', path], { maxBuffer: 64 << 20 });
    const bytesPerSample = bits / 8;
    expect(raw.length).toBe(FRAMES * 2 * bytesPerSample);
    let worst = 0;
    let mismatches = 0;
    for (let i = 0; i < FRAMES; i++) {
      for (let c = 0; c < 2; c++) {
        const at = (i * 2 + c) * bytesPerSample;
        const value = bits === 16 ? raw.readInt16LE(at) : raw.readIntLE(at, 3);
        if (value !== quantise(channels[c][i], bits)) mismatches++;
        const x = Math.max(-1, Math.min(1, channels[c][i]));
        worst = Math.max(worst, Math.abs(value / (value < 0 ? 2 ** (bits - 1) : 2 ** (bits - 1) - 1) - x));
      }
    }
    expect(mismatches).toBe(0);
    // Within half a quantisation step of the (clipped) float input.
    expect(worst).toBeLessThanOrEqual(0.5 / (2 ** (bits - 1) - 1) + 1e-9);
  });

  it('rejects a sample rate the encoder does not support, naming the allowed ones', async () => {
    await expect(encodeAudio([sine(100, 11025, 100, 0.1)], 11025, 'flac16', { title: 'x' })).rejects.toThrow(/supports sample rates 8000, 16000.* got 11025/);
  });

  it('stops between chunks when the signal fires, with a cancelled error', async () => {
    const controller = new AbortController();
    const long = [pinkNoise(RATE * 30, 3, 0.5), pinkNoise(RATE * 30, 4, 0.5)];
    const pending = encodeAudio(long, RATE, 'flac24', { title: 'x' }, controller.signal);
    setTimeout(() => controller.abort(), 20);
    const error = await pending.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ExportError);
    expect((error as ExportError).code).toBe('cancelled');
  });
});

describe.skipIf(!hasSox)('WAV', () => {
  it.each([
    ['wav16', 16, 'Signed Integer PCM'],
    ['wav24', 24, 'Signed Integer PCM'],
    ['wav32f', 32, 'Floating Point PCM'],
  ] as Array<[ExportFormat, number, string]>)('%s: soxi reads it without warnings; tags are RIFF INFO', async (format, bits, encoding) => {
    const channels = audio();
    const path = join(work, `${format}.wav`);
    await writeFile(path, await encodeAudio(channels, RATE, format, { title: 'Rain', comment: PARAMS }));
    const info = spawnSync('soxi', [path], { encoding: 'utf8' });
    expect(info.status).toBe(0);
    expect(info.stderr).not.toMatch(/WARN|FAIL/);
    expect(execFileSync('soxi', ['-b', path], { encoding: 'utf8' }).trim()).toBe(String(bits));
    expect(execFileSync('soxi', ['-e', path], { encoding: 'utf8' })).toContain(encoding);
    expect(execFileSync('soxi', ['-s', path], { encoding: 'utf8' }).trim()).toBe(String(FRAMES));
    const decoded = decodeWav(new Uint8Array(await readFile(path)));
    expect(decoded.tags).toMatchObject({ INAM: 'Rain', ICMT: PARAMS, ISFT: 'Tessera' });
    if (format !== 'wav32f') {
      const raw = execFileSync('sox', [path, '-t', `s${bits}`, '-'], { maxBuffer: 64 << 20 });
      const at = 200 * 2;
      const value = bits === 16 ? raw.readInt16LE(at * 2) : raw.readIntLE(at * 3, 3);
      expect(value).toBe(quantise(channels[0][200], bits));
    }
  });
});
