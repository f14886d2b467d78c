/**
 * WAV files checked by an independent reader: SoX (Debian package `sox`, installed by .ci/run). Catches header
 * mistakes our own decoder would share with our encoder.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav, type WavFormat } from '../../src-main/host/wav.ts';

const hasSox = spawnSync('soxi', ['--version']).status === 0 || spawnSync('sox', ['--version']).status === 0;
// CI installs sox (.ci/run), so there a missing sox is a failure. On a developer machine without it these
// cases are skipped with this reason: "SoX is not installed: apt-get install sox".
const required = process.env.CI !== undefined;
if (required && !hasSox) throw new Error('SoX is required in CI (apt-get install sox); .ci/run should have installed it');

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-sox-'));
});
afterAll(async () => rm(work, { recursive: true, force: true }));

const signal = (n: number, phase: number): Float32Array => Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin(0.01 * i + phase));

describe.skipIf(!hasSox)('SoX reads what encodeWav writes', () => {
  it.each([
    ['float32', 'Floating Point PCM', 32],
    ['pcm16', 'Signed Integer PCM', 16],
    ['pcm24', 'Signed Integer PCM', 24],
  ] as Array<[WavFormat, string, number]>)('%s: rate, channels, length, encoding, no warnings', async (format, encoding, bits) => {
    const path = join(work, `${format}.wav`);
    const frames = 16001; // odd: exercises RIFF padding for 24-bit mono-like layouts
    await writeFile(path, encodeWav([signal(frames, 0), signal(frames, 1)], 16000, format, { ICMT: JSON.stringify({ prompt: 'ünïcode' }) }));
    const info = spawnSync('soxi', [path], { encoding: 'utf8' });
    expect(info.status).toBe(0);
    expect(info.stderr).not.toMatch(/WARN|FAIL/);
    expect(execFileSync('soxi', ['-r', path], { encoding: 'utf8' }).trim()).toBe('16000');
    expect(execFileSync('soxi', ['-c', path], { encoding: 'utf8' }).trim()).toBe('2');
    expect(execFileSync('soxi', ['-s', path], { encoding: 'utf8' }).trim()).toBe(String(frames));
    expect(execFileSync('soxi', ['-b', path], { encoding: 'utf8' }).trim()).toBe(String(bits));
    expect(execFileSync('soxi', ['-e', path], { encoding: 'utf8' })).toContain(encoding);
  });

  it("float32 samples read back by SoX agree to SoX's 25-bit internal precision", async () => {
    const path = join(work, 'exact.wav');
    const left = signal(1000, 0);
    await writeFile(path, encodeWav([left], 16000, 'float32'));
    const raw = execFileSync('sox', [path, '-t', 'f32', '-']);
    const back = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
    expect(back).toHaveLength(left.length);
    // SoX converts to 32-bit integers internally (soxi reports "Precision: 25-bit" for float files).
    let worst = 0;
    for (let i = 0; i < left.length; i++) worst = Math.max(worst, Math.abs(back[i] - left[i]));
    expect(worst).toBeLessThan(2 ** -24);
  });
});
