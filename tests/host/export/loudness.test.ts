/**
 * The BS.1770 meter against FFmpeg's ebur128 filter (Debian package `ffmpeg`), and the normaliser against the
 * loudness FFmpeg measures in its output (handed over as raw float samples; export.test.ts measures real files).
 * Set TESSERA_REPORT=1 to print the agreement table.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integratedLoudness, kWeighting, measureLoudness, normalise, normalisationGain, truePeak } from '../../../src-main/host/export/loudness.ts';
import { ffmpegLoudnessOf, hasTool, pinkNoise, seeded, sine } from './helpers.ts';

const hasFfmpeg = hasTool('ffmpeg', ['-version']);
const report: string[] = [];
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-loudness-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
  if (process.env.TESSERA_REPORT !== undefined && report.length > 0) console.info(report.join('\n'));
});

describe('K-weighting', () => {
  it('reproduces the 48 kHz coefficients of BS.1770-4 Tables 1 and 2', () => {
    const [pre, rlb] = kWeighting(48000);
    const table1 = { b0: 1.53512485958697, b1: -2.69169618940638, b2: 1.19839281085285, a1: -1.69065929318241, a2: 0.73248077421585 };
    const table2 = { b0: 1, b1: -2, b2: 1, a1: -1.99004745483398, a2: 0.99007225036621 };
    for (const key of ['b0', 'b1', 'b2', 'a1', 'a2'] as const) {
      expect(Math.abs(pre[key] - table1[key])).toBeLessThan(1e-12);
      expect(Math.abs(rlb[key] - table2[key])).toBeLessThan(1e-12);
    }
  });
});

describe('integrated loudness and true peak', () => {
  it('a 1 kHz sine at -20 dBFS (one channel, 48 kHz) reads about -23 LUFS and peaks at -20 dBTP', () => {
    const tone = sine(48000 * 5, 48000, 1000, 0.1);
    expect(integratedLoudness([tone], 48000)).toBeCloseTo(-23.0, 1);
    expect(20 * Math.log10(truePeak([tone], 48000))).toBeCloseTo(-20, 1);
  });

  it('is -Infinity for silence and for audio shorter than one 400 ms block', () => {
    expect(integratedLoudness([new Float32Array(48000)], 48000)).toBe(-Infinity);
    expect(integratedLoudness([sine(19000, 48000, 1000, 0.5)], 48000)).toBe(-Infinity);
    expect(measureLoudness([new Float32Array(100)], 48000).truePeakDbtp).toBe(-Infinity);
  });

  it('finds inter-sample peaks: a sine at fs/4 sampled off its crests reads +3 dB over its samples', () => {
    // x[n] = sin(π n/2 + π/4): every sample is ±0.7071·a, the waveform reaches ±a between them. Raised-cosine
    // edges keep the onset's ringing (a band-limited step overshoots) out of the measurement.
    const frames = 48000;
    const edge = 2000;
    const envelope = (n: number): number => (n < edge ? 0.5 - 0.5 * Math.cos((Math.PI * n) / edge) : n >= frames - edge ? envelope(frames - 1 - n) : 1);
    const tone = Float32Array.from({ length: frames }, (_, n) => 0.5 * envelope(n) * Math.sin((Math.PI * n) / 2 + Math.PI / 4));
    const measured = measureLoudness([tone], 48000);
    expect(measured.samplePeakDbfs).toBeCloseTo(20 * Math.log10(0.5 * Math.SQRT1_2), 3);
    expect(measured.truePeakDbtp).toBeGreaterThan(20 * Math.log10(0.5) - 0.1);
    expect(measured.truePeakDbtp).toBeLessThan(20 * Math.log10(0.5) + 0.05);
  });

  const signals: Array<[string, number, () => Float32Array[]]> = [
    ['1 kHz sine at -20 dBFS, mono 48 kHz', 48000, () => [sine(48000 * 6, 48000, 1000, 0.1)]],
    ['pink-ish noise, stereo 48 kHz', 48000, () => [pinkNoise(48000 * 8, 1, 0.5), pinkNoise(48000 * 8, 2, 0.5)]],
    ['stereo mix with a quiet part and silence (gating), 48 kHz', 48000, () => gatedMix(48000)],
    ['pink-ish noise, mono 16 kHz', 16000, () => [pinkNoise(16000 * 8, 3, 0.7)]],
    ['stereo mix with a quiet part and silence, 16 kHz', 16000, () => gatedMix(16000)],
    ['1 kHz sine at -20 dBFS + pink noise, stereo 44.1 kHz', 44100, () => {
      const n = 44100 * 6;
      const noise = pinkNoise(n, 4, 0.2);
      return [sine(n, 44100, 1000, 0.1).map((x, i) => x + noise[i]), sine(n, 44100, 1000, 0.1, 1)];
    }],
  ];

  it.skipIf(!hasFfmpeg).each(signals)('agrees with FFmpeg ebur128 within 0.1 LU: %s', async (label, rate, make) => {
    const channels = make();
    const ours = measureLoudness(channels, rate);
    const theirs = await ffmpegLoudnessOf(channels, rate, work, label.replace(/\W+/g, '_'));
    report.push(
      `${label}: ours I=${ours.integratedLufs.toFixed(3)} TP=${ours.truePeakDbtp.toFixed(3)}; ` +
        `ffmpeg I=${theirs.integrated} (${theirs.integratedFine}) TP=${theirs.truePeak}`,
    );
    expect(Math.abs(ours.integratedLufs - theirs.integrated)).toBeLessThanOrEqual(0.1);
    expect(Math.abs(ours.integratedLufs - theirs.integratedFine)).toBeLessThanOrEqual(0.05);
    expect(Math.abs(ours.truePeakDbtp - theirs.truePeak)).toBeLessThanOrEqual(0.2);
  });
});

describe('normalise', () => {
  it('applies one gain, reports the constraint and the measurements', () => {
    const noise = [pinkNoise(48000 * 4, 5, 0.25), pinkNoise(48000 * 4, 6, 0.25)];
    const result = normalise(noise, 48000, -23);
    expect(result.limitedBy).toBe('loudness');
    expect(result.after.integratedLufs).toBeCloseTo(-23, 2);
    expect(result.channels[0][1000] / noise[0][1000]).toBeCloseTo(result.gain, 5);
    expect(normalisationGain({ integratedLufs: -Infinity, truePeakDbtp: -Infinity }, -14)).toEqual({ gain: 1, gainDb: 0, limitedBy: 'silence' });
    expect(() => normalisationGain({ integratedLufs: -20, truePeakDbtp: -3 }, NaN)).toThrow(/target loudness/);
  });

  it.skipIf(!hasFfmpeg).each([-14, -16, -23])('hits %d LUFS within 0.1 LU as FFmpeg measures it', async (target) => {
    const rate = 48000;
    const channels = gatedMix(rate).map((channel) => channel.map((x) => x * 0.3));
    const result = normalise(channels, rate, target, -1);
    expect(result.limitedBy).toBe('loudness');
    const theirs = await ffmpegLoudnessOf(result.channels, rate, work, `normalised${target}`);
    report.push(`normalise to ${target}: gain ${result.gainDb.toFixed(2)} dB, ffmpeg I=${theirs.integrated} (${theirs.integratedFine}) TP=${theirs.truePeak}`);
    expect(Math.abs(theirs.integrated - target)).toBeLessThanOrEqual(0.1);
    expect(Math.abs(theirs.integratedFine - target)).toBeLessThanOrEqual(0.1);
    expect(theirs.truePeak).toBeLessThanOrEqual(-1 + 0.2);
  });

  it.skipIf(!hasFfmpeg)('stops at the true-peak ceiling when the target would push peaks over it', async () => {
    // Quiet noise with sparse full-scale clicks: a high crest factor, so -14 LUFS would need > 0 dBTP.
    const rate = 48000;
    const random = seeded(9);
    const channel = pinkNoise(rate * 6, 7, 0.05);
    for (let i = 1000; i < channel.length; i += 12000) channel[i] = random() < 0.5 ? 0.9 : -0.9;
    const result = normalise([channel, channel.slice()], rate, -14, -1);
    expect(result.limitedBy).toBe('true-peak');
    expect(result.after.truePeakDbtp).toBeCloseTo(-1, 3);
    expect(result.after.integratedLufs).toBeLessThan(-14);
    const theirs = await ffmpegLoudnessOf(result.channels, rate, work, 'ceiling');
    report.push(`ceiling: ours TP=${result.after.truePeakDbtp.toFixed(3)} I=${result.after.integratedLufs.toFixed(3)}, ffmpeg TP=${theirs.truePeak} I=${theirs.integrated}`);
    expect(Math.abs(theirs.truePeak - -1)).toBeLessThanOrEqual(0.2);
    expect(Math.abs(theirs.integratedFine - result.after.integratedLufs)).toBeLessThanOrEqual(0.1);
  });
});

/** 4 s of loud stereo material, 4 s 30 dB quieter, 2 s of silence, 2 s loud again: exercises both gates. */
function gatedMix(rate: number): Float32Array[] {
  const frames = rate * 12;
  const left = pinkNoise(frames, 11, 0.6);
  const right = pinkNoise(frames, 12, 0.4);
  const tone = sine(frames, rate, 440, 0.2);
  return [left, right].map((channel, c) =>
    channel.map((x, i) => {
      const t = i / rate;
      const level = t < 4 ? 1 : t < 8 ? 10 ** (-30 / 20) : t < 10 ? 0 : 1;
      return (x + (c === 0 ? tone[i] : 0)) * level;
    }),
  );
}
