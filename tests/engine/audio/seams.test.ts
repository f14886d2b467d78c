import FFT from 'fft.js';
import { describe, expect, it } from 'vitest';
import {
  SEAM_FLAGS,
  hfRetentionDb,
  lsdDb,
  maxAbsDiff,
  seamFluxZ,
  seamReport,
  seamsClean,
  seamStepZ,
  snrDb,
  type SeamReport,
} from '../../../src-main/engine/audio/seams.ts';
import { logMel } from '../../../src-main/engine/audio/spectral.ts';
import { createRng } from '../../../src-main/engine/tensor/rng.ts';

const SR = 16_000;

/** 1/√f ("pink") noise: seeded white noise shaped in one FFT of the next power of two, then cut to `length`. */
function pinkNoise(length: number, seed: number): Float64Array {
  const size = 2 ** Math.ceil(Math.log2(length));
  const fft = new FFT(size);
  const white = Float64Array.from(createRng(seed).normals(size));
  const spectrum = new Float64Array(2 * size);
  fft.realTransform(spectrum, white);
  fft.completeSpectrum(spectrum);
  for (let k = 0; k < size; k++) {
    const scale = 1 / Math.sqrt(Math.max(1, Math.min(k, size - k)));
    spectrum[2 * k] *= scale;
    spectrum[2 * k + 1] *= scale;
  }
  const complex = new Float64Array(2 * size);
  fft.inverseTransform(complex, spectrum);
  return Float64Array.from({ length }, (_, n) => complex[2 * n]);
}

/** Keeps 10 % of the amplitude above `size`/8 bins (2 kHz at 16 kHz) in `size` samples centred on `centre`. */
function lowPassAround(x: Float64Array, centre: number, size: number): void {
  const start = centre - size / 2;
  const fft = new FFT(size);
  const spectrum = new Float64Array(2 * size);
  fft.realTransform(spectrum, x.slice(start, start + size));
  fft.completeSpectrum(spectrum);
  for (let k = 0; k < size; k++) {
    if (Math.min(k, size - k) < size / 8) continue;
    spectrum[2 * k] *= 0.1;
    spectrum[2 * k + 1] *= 0.1;
  }
  const complex = new Float64Array(2 * size);
  fft.inverseTransform(complex, spectrum);
  for (let n = 0; n < size; n++) x[start + n] = complex[2 * n];
}

/** The calibration signals of research/seam_metrics.py: 40 s pink noise + chirp, seams every 10 s, five cases. */
function calibrationCases(): { seams: number[]; clean: Float32Array; cases: Record<string, Float32Array> } {
  const length = SR * 40;
  const seams = [SR * 10, SR * 20, SR * 30];
  const base = pinkNoise(length, 1);
  let peak = 0;
  for (const v of base) peak = Math.max(peak, Math.abs(v));
  const signal = Float64Array.from(base, (v, n) => {
    const t = n / SR;
    return v / (2 * peak) + 0.3 * Math.sin(2 * Math.PI * (220 + 5 * t) * t);
  });

  const gain = signal.slice();
  seams.forEach((s, k) => {
    const factor = 10 ** ((k % 2 === 0 ? 1 : -1) / 20);
    for (let n = s; n < length; n++) gain[n] *= factor;
  });
  const dropout = signal.slice();
  for (const s of seams) dropout.fill(0, s, s + (SR / 1000) * 20);
  const splice = signal.slice();
  for (const s of seams) {
    splice.copyWithin(s, s + 37);
    splice.fill(0, length - 37);
  }
  const blur = signal.slice();
  for (const s of seams) lowPassAround(blur, s, 16_384);

  const f32 = (x: Float64Array): Float32Array => Float32Array.from(x);
  return {
    seams,
    clean: f32(signal),
    cases: { clean: f32(signal), gain: f32(gain), dropout: f32(dropout), splice: f32(splice), blur: f32(blur) },
  };
}

function sine(frequency: number, seconds: number, amplitude = 0.5): Float32Array {
  return Float32Array.from({ length: Math.round(SR * seconds) }, (_, n) =>
    amplitude * Math.sin((2 * Math.PI * frequency * n) / SR),
  );
}

describe('logMel', () => {
  it('has 1 + ⌊len/hop⌋ frames (reflect padding by n_fft/2) and 64 bins by default', () => {
    for (const length of [1, 100, 159, 160, 161, 1000, 16_000]) {
      const S = logMel(sine(440, length / SR), SR);
      expect(S.bins).toBe(64);
      expect(S.frames).toBe(1 + Math.floor(length / 160));
      expect(S.data.length).toBe(S.frames * 64);
    }
    const custom = logMel(new Float32Array(44_100).fill(0.1), 44_100, { nFft: 2048, hop: 441, bins: 80 });
    expect(custom.frames).toBe(1 + Math.floor(44_100 / 441));
    expect(custom.bins).toBe(80);
    expect(logMel(new Float32Array(0), SR).frames).toBe(0);
  });

  it('puts a 1 kHz sine into the mel bin whose triangle peaks nearest 1 kHz', () => {
    const S = logMel(sine(1000, 1), SR);
    const melOf = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
    // Filter f peaks at mel (f + 1)·mel(8 kHz)/65.
    const expected = Math.round((melOf(1000) / melOf(8000)) * 65) - 1;
    for (let n = 10; n < S.frames - 10; n++) {
      const row = S.data.subarray(n * 64, (n + 1) * 64);
      let best = 0;
      for (let f = 1; f < 64; f++) if (row[f] > row[best]) best = f;
      expect(best).toBe(expected);
    }
  });

  it('gives the power floor (−100 dB) for silence and rejects non-finite samples', () => {
    const S = logMel(new Float32Array(1600), SR);
    for (const v of S.data) expect(v).toBeCloseTo(-100, 4);
    expect(() => logMel(Float32Array.of(0, NaN), SR)).toThrow(/samples\[1\] is NaN/);
    expect(() => logMel(new Float32Array(10), SR, { nFft: 1000 })).toThrow(/power of two/);
  });
});

describe('seam metrics on the seam_metrics.py calibration signals', () => {
  const { seams, clean, cases } = calibrationCases();
  const seamSeconds = seams.map((s) => s / SR);
  const reports: Record<string, SeamReport> = Object.fromEntries(
    Object.entries(cases).map(([name, x]) => [name, seamReport(x, SR, seamSeconds)]),
  );
  const metric = (name: string, key: keyof SeamReport): number => {
    const value = reports[name][key];
    if (value === null) throw new Error(`${name}.${key} is null`);
    return value;
  };

  // Seed 1 gives clean SSZ 2.96, SFZ 1.67, HFR +0.07 dB. The noise draw matters: over seeds 1–12 clean SSZ spans
  // −0.19 … 2.96 here and 0.04 … 3.02 with the reference's own numpy generator, so [1, 3.5] holds for this seed only.
  it('passes the clean signal with numbers near the table (SSZ 2.24, SFZ 2.10, HFR −0.02 dB)', () => {
    expect(seamsClean(reports.clean)).toBe(true);
    expect(metric('clean', 'ssz')).toBeGreaterThan(1);
    expect(metric('clean', 'ssz')).toBeLessThan(SEAM_FLAGS.ssz);
    expect(metric('clean', 'sfz')).toBeGreaterThan(0.5);
    expect(metric('clean', 'sfz')).toBeLessThan(SEAM_FLAGS.sfz);
    expect(Math.abs(metric('clean', 'hfrDb'))).toBeLessThan(0.3);
  });

  it('flags ±1 dB gain steps by SSZ (table 4.43)', () => {
    expect(metric('gain', 'ssz')).toBeGreaterThan(SEAM_FLAGS.ssz);
    expect(seamsClean(reports.gain)).toBe(false);
  });

  it('flags a 20 ms dropout by SFZ (table 10.26)', () => {
    expect(metric('dropout', 'sfz')).toBeGreaterThan(SEAM_FLAGS.sfz);
    expect(seamsClean(reports.dropout)).toBe(false);
  });

  // NOTE: the thinnest margin of the table. Seed 1 gives SFZ 5.06, but over seeds 1–12 the splice SFZ spans
  // 2.48 … 5.88 (5 of 12 below 4) here and 3.45 … 7.73 (4 of 12 below 4) with the reference's numpy generator:
  // whether a 37-sample splice clicks depends on the waveform at the cut, so SFZ misses some splices.
  it('flags a 2.3 ms splice by SFZ (table 4.39)', () => {
    expect(metric('splice', 'sfz')).toBeGreaterThan(SEAM_FLAGS.sfz);
    expect(seamsClean(reports.splice)).toBe(false);
  });

  it('flags a 1 s low-passed overlap by HFR (table −17.6 dB) and nothing else', () => {
    expect(metric('blur', 'hfrDb')).toBeLessThan(SEAM_FLAGS.hfrDb);
    expect(metric('blur', 'hfrDb')).toBeGreaterThan(-25);
    expect(metric('blur', 'ssz')).toBeLessThan(SEAM_FLAGS.ssz);
    expect(metric('blur', 'sfz')).toBeLessThan(SEAM_FLAGS.sfz);
  });

  it('reproduces the table’s LSD and SNR against the clean signal', () => {
    // Half of the signal is 1 dB louder: LSD ≈ 0.5 dB and SNR = −10·log10(½·(10^(1/20) − 1)²) ≈ 21.3 dB.
    expect(lsdDb(clean, cases.gain, SR)).toBeCloseTo(0.5, 1);
    expect(snrDb(clean, cases.gain)).toBeGreaterThan(20.3);
    expect(snrDb(clean, cases.gain)).toBeLessThan(22.3);
    expect(lsdDb(clean, cases.dropout, SR)).toBeLessThan(0.05);
    expect(snrDb(clean, cases.splice)).toBeLessThan(3);
    expect(lsdDb(clean, cases.blur, SR)).toBeGreaterThan(0.5);
  });

  it('stays clean at seam-free positions of the clean signal', () => {
    const S = logMel(clean, SR);
    const rng = createRng(7);
    for (let draw = 0; draw < 20; draw++) {
      const frames = [0, 1, 2].map(() => 200 + Math.floor(rng.uniform() * (S.frames - 400)));
      expect(seamStepZ(S, frames) ?? 0).toBeLessThan(SEAM_FLAGS.ssz);
      expect(seamFluxZ(S, frames) ?? 0).toBeLessThan(SEAM_FLAGS.sfz);
      expect(hfRetentionDb(S, frames) ?? 0).toBeGreaterThan(SEAM_FLAGS.hfrDb);
    }
  });
});

describe('seam positions', () => {
  const S = logMel(sine(440, 2), SR);

  it('skips seams within reach of the ends and reports null when none is left', () => {
    expect(seamStepZ(S, [])).toBeNull();
    expect(seamStepZ(S, [10, S.frames - 5])).toBeNull();
    expect(seamFluxZ(S, [0, 1, S.frames - 1, S.frames + 100])).toBeNull();
    expect(hfRetentionDb(S, [-3, 49, S.frames - 50])).toBeNull();
    expect(seamReport(sine(440, 2), SR, [])).toEqual({ ssz: null, sfz: null, hfrDb: null });
    expect(seamsClean({ ssz: null, sfz: null, hfrDb: null })).toBe(true);
  });

  it('rejects seams that are not whole frames', () => {
    expect(() => seamStepZ(S, [100.5])).toThrow(/whole frame/);
    expect(() => seamReport(sine(440, 2), SR, [NaN])).toThrow(/seamSeconds\[0\]/);
  });
});

describe('equivalence metrics (M4)', () => {
  const x = Float32Array.from(pinkNoise(SR * 2, 3));

  it('gives LSD 0, SNR Infinity and max |Δ| 0 for identical signals', () => {
    expect(lsdDb(x, x.slice(), SR)).toBe(0);
    expect(snrDb(x, x.slice())).toBe(Infinity);
    expect(maxAbsDiff(x, x.slice())).toBe(0);
  });

  it('gives 20 dB SNR for x vs 0.9·x and LSD ≈ 20·log10(1/0.9) dB', () => {
    const scaled = x.map((v) => 0.9 * v);
    expect(snrDb(x, scaled)).toBeCloseTo(20, 4);
    expect(lsdDb(x, scaled, SR)).toBeCloseTo(-20 * Math.log10(0.9), 3);
    let peak = 0;
    for (const v of x) peak = Math.max(peak, Math.abs(v));
    expect(maxAbsDiff(x, scaled)).toBeCloseTo(0.1 * peak, 6);
  });

  it('rejects signals of different lengths', () => {
    expect(() => snrDb(x, x.subarray(1))).toThrow(/differ in length/);
    expect(() => lsdDb(x, x.subarray(1), SR)).toThrow(/differ in length/);
    expect(() => maxAbsDiff(x, x.subarray(1))).toThrow(/differ in length/);
  });
});
