/** Mix rendering: placement, gains, fades, pan law, mute/solo, resampling, names and input errors. */
import { describe, expect, it } from 'vitest';
import { isAudible, panMatrix, planMix, renderMix, renderTrack, stemBaseName } from '../../../src-main/host/export/mix.ts';
import { Resampler } from '../../../src-main/host/export/resample.ts';
import { ExportError, type ExportTrack } from '../../../src-main/host/export/types.ts';
import { region, sine, track } from './helpers.ts';

const RATE = 48000;
const ones = (n: number) => new Float32Array(n).fill(1);
const maxAbs = (a: Float32Array) => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);

describe('placement and length', () => {
  it('starts every render at 0 and ends all of them at the end of the last region on any track', () => {
    const tracks = [
      track('a', [region([ones(4800)], RATE, 1)]),
      track('b', [region([ones(9600)], RATE, 0.5)], { mute: true }),
    ];
    const plan = planMix(tracks);
    expect(plan).toMatchObject({ sampleRate: RATE, audible: [true, false] });
    const [left] = renderTrack(tracks[0], plan);
    expect(left).toHaveLength(plan.frames);
    expect(maxAbs(left.subarray(0, RATE))).toBe(0);
    expect(left[RATE]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(left[RATE + 4799]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(plan.frames).toBe(Math.round(1.1 * RATE));
  });

  it('plays silence where a region reaches past the end of its take, at the take rate and resampled', () => {
    const t = track('a', [region([ones(100)], RATE, 0, { takeOffset: 50 / RATE, duration: 200 / RATE })], { pan: -1 });
    const [left] = renderTrack(t, planMix([t]));
    expect(left.length).toBe(200);
    expect(Math.min(...left.subarray(0, 50))).toBeGreaterThan(0.5);
    expect(maxAbs(left.subarray(50))).toBe(0);
    const low = track('b', [region([ones(1600)], 16000, 0, { duration: 0.2 })], { pan: -1 });
    const [resampled] = renderTrack(low, planMix([low], RATE));
    expect(resampled.length).toBe(0.2 * RATE);
    expect(maxAbs(resampled.subarray(0.1 * RATE + 200))).toBeLessThan(1e-3);
    expect(Math.abs(resampled[0.05 * RATE])).toBeGreaterThan(0.5);
  });

  it('plays the take from takeOffset', () => {
    const ramp = Float32Array.from({ length: 1000 }, (_, i) => i / 1000);
    const t = track('r', [region([ramp], RATE, 0, { takeOffset: 100 / RATE, duration: 500 / RATE })], { pan: -1 });
    const [left] = renderTrack(t, planMix([t]));
    expect(left).toHaveLength(500);
    expect(left[0]).toBeCloseTo(0.1, 6);
    expect(left[499]).toBeCloseTo(0.599, 6);
  });

  it('uses the takes’ common rate by default, 48 kHz when they differ, or the rate asked for', () => {
    const at16 = track('a', [region([ones(1600)], 16000)]);
    const at44 = track('b', [region([ones(4410)], 44100)]);
    expect(planMix([at16]).sampleRate).toBe(16000);
    expect(planMix([at16, at44]).sampleRate).toBe(48000);
    expect(planMix([at16, at44], 44100).sampleRate).toBe(44100);
  });
});

describe('gain, fades and pan', () => {
  it('-6.02 dB of volume (20·log10 ½) halves the amplitude within 1e-6; region gain multiplies with it', () => {
    const half = 20 * Math.log10(0.5);
    const loud = track('x', [region([ones(100)], RATE)], { pan: -1 });
    const quiet = track('x', [region([ones(100)], RATE, 0, { gainDb: half })], { pan: -1, volumeDb: half });
    const [a] = renderTrack(loud, planMix([loud]));
    const [b] = renderTrack(quiet, planMix([quiet]));
    const [c] = renderTrack({ ...loud, volumeDb: half }, planMix([loud]));
    for (let i = 0; i < 100; i++) {
      expect(Math.abs(c[i] - a[i] / 2)).toBeLessThan(1e-6);
      expect(Math.abs(b[i] - a[i] / 4)).toBeLessThan(1e-6);
    }
    expect(maxAbs(renderTrack({ ...loud, volumeDb: -Infinity }, planMix([loud]))[0])).toBe(0);
  });

  it('mono: hard left puts the signal only in L, hard right only in R, centre is -3 dB on both', () => {
    const t = (pan: number) => track('m', [region([ones(10)], RATE)], { pan });
    const render = (pan: number) => renderTrack(t(pan), planMix([t(pan)]));
    expect(Array.from(render(-1)[0])).toEqual(Array(10).fill(1));
    expect(maxAbs(render(-1)[1])).toBe(0);
    expect(maxAbs(render(1)[0])).toBe(0);
    expect(render(1)[1][5]).toBe(1);
    expect(render(0)[0][5]).toBeCloseTo(Math.SQRT1_2, 7);
    expect(render(0)[1][5]).toBeCloseTo(Math.SQRT1_2, 7);
    // Equal power everywhere: L² + R² = 1.
    for (const pan of [-0.7, -0.2, 0.3, 0.9]) {
      const [[l], [r]] = panMatrix(pan, 1);
      expect(l * l + r * r).toBeCloseTo(1, 12);
    }
  });

  it('stereo: unity at centre, hard left folds R into L (StereoPannerNode)', () => {
    const l = Float32Array.from([0.5, 0.25]);
    const r = Float32Array.from([0.125, -0.5]);
    const t = (pan: number) => track('s', [region([l, r], RATE)], { pan });
    const render = (pan: number) => renderTrack(t(pan), planMix([t(pan)]));
    expect(Array.from(render(0)[0])).toEqual([0.5, 0.25]);
    expect(Array.from(render(0)[1])).toEqual([0.125, -0.5]);
    expect(Array.from(render(-1)[0])).toEqual([0.625, -0.25]);
    expect(maxAbs(render(-1)[1])).toBe(0);
    expect(maxAbs(render(1)[0])).toBe(0);
    expect(Array.from(render(1)[1])).toEqual([0.625, -0.25]);
  });

  it('fades are linear ramps from 0 at the region start and to 0 at its end; crossfades sum to one', () => {
    const fade = 100 / RATE;
    const a = region([ones(400)], RATE, 0, { fadeOut: fade });
    const b = region([ones(400)], RATE, 300 / RATE, { fadeIn: fade });
    const t = track('f', [a, b], { pan: -1 });
    const [left] = renderTrack(t, planMix([t]));
    expect(left[0]).toBe(1);
    expect(left[350]).toBeCloseTo(1, 6);
    for (let i = 300; i < 400; i++) expect(left[i]).toBeCloseTo(1, 6);
    const solo = track('f', [region([ones(400)], RATE, 0, { fadeIn: fade, fadeOut: fade })], { pan: -1 });
    const [s] = renderTrack(solo, planMix([solo]));
    expect(s[0]).toBe(0);
    expect(s[50]).toBeCloseTo(0.5, 6);
    expect(s[200]).toBe(1);
    expect(s[399]).toBeCloseTo(0.01, 6);
  });
});

describe('mute and solo', () => {
  const make = (flags: Array<Partial<ExportTrack>>) => flags.map((f, i) => track(`t${i}`, [region([ones(10)], RATE)], { pan: -1, ...f }));

  it('a soloed track silences the others; mute wins over solo', () => {
    expect(isAudible({ mute: false, solo: false }, false)).toBe(true);
    expect(isAudible({ mute: true, solo: false }, false)).toBe(false);
    expect(isAudible({ mute: false, solo: false }, true)).toBe(false);
    expect(isAudible({ mute: false, solo: true }, true)).toBe(true);
    expect(isAudible({ mute: true, solo: true }, true)).toBe(false);
    const soloed = make([{}, { solo: true }, {}]);
    expect(planMix(soloed).audible).toEqual([false, true, false]);
    expect(renderMix(soloed, planMix(soloed))[0][3]).toBe(1);
    // A muted soloed track is silent and still silences the non-soloed ones.
    const mutedSolo = make([{ solo: true, mute: true }, {}]);
    expect(planMix(mutedSolo).audible).toEqual([false, false]);
    expect(maxAbs(renderMix(mutedSolo, planMix(mutedSolo))[0])).toBe(0);
    const muted = make([{ mute: true }, {}, {}]);
    expect(renderMix(muted, planMix(muted))[0][3]).toBe(2);
  });
});

describe('resampling', () => {
  const snrDb = (got: Float32Array, want: Float32Array, from: number, to: number) => {
    let noise = 0;
    let signal = 0;
    for (let i = from; i < to; i++) {
      noise += (got[i] - want[i]) ** 2;
      signal += want[i] ** 2;
    }
    return 10 * Math.log10(signal / noise);
  };

  it.each([
    [16000, 48000, 1000],
    [44100, 48000, 5000],
    [48000, 44100, 3000],
    [48000, 16000, 1000],
    [22050, 48000, 7000],
  ])('%d → %d Hz: a %d Hz sine comes out at the right time within -80 dB', (from, to, hz) => {
    const input = sine(from, from, hz, 0.5);
    const out = new Resampler(from, to).read(input, 0.25 * from, to / 2);
    const want = Float32Array.from({ length: to / 2 }, (_, k) => 0.5 * Math.sin((2 * Math.PI * hz * (0.25 + k / to))));
    expect(snrDb(out, want, 0, to / 2)).toBeGreaterThan(80);
  });

  it('removes content above the new Nyquist frequency when downsampling (≥ 85 dB)', () => {
    const input = sine(48000, 48000, 10000, 0.5);
    const out = new Resampler(48000, 16000).read(input, 0, 16000);
    expect(20 * Math.log10(maxAbs(out.subarray(2000, 14000)) / 0.5)).toBeLessThan(-85);
  });

  it('a 16 kHz take in a 48 kHz export lands on the timeline with its offset', () => {
    const take = sine(16000, 16000, 500, 0.5);
    const other = track('b', [region([ones(4800)], RATE)]);
    const t = track('a', [region([take], 16000, 0.1, { takeOffset: 0.2, duration: 0.5 })], { pan: -1 });
    const plan = planMix([t, other]);
    expect(plan.sampleRate).toBe(48000);
    const [left] = renderTrack(t, plan);
    const want = Float32Array.from({ length: plan.frames }, (_, i) => {
      const time = i / RATE;
      return time >= 0.1 && time < 0.6 ? 0.5 * Math.sin(2 * Math.PI * 500 * (time - 0.1 + 0.2)) : 0;
    });
    expect(snrDb(left, want, 0.15 * RATE, 0.55 * RATE)).toBeGreaterThan(80);
  });

  it.each([
    [16000, 48000],
    [44100, 48000],
    [48000, 44100],
  ])('%d → %d Hz: adjacent regions cut from one take sum to the whole take resampled (no click at the join)', (from, to) => {
    // A piece cut into three takes at region joins, as a generated run is; each region resampled on its own.
    const piece = sine(from, from, 700, 0.5, 0.3);
    const cuts = [0, Math.round(0.3 * from), Math.round(0.65 * from), from];
    const parts = cuts.slice(1).map((end, k) => region([piece.slice(cuts[k], end)], from, cuts[k] / from));
    const other = track('rate', [region([ones(to)], to)], { mute: true });
    const plan = planMix([track('whole', [region([piece], from)]), other], to);
    const [whole] = renderTrack(track('whole', [region([piece], from)]), plan);
    const [split] = renderTrack(track('split', parts), plan);
    let worst = 0;
    for (let i = 0; i < plan.frames; i++) worst = Math.max(worst, Math.abs(split[i] - whole[i]));
    // Before: each region's edge lost half its kernel: the sum dipped by half the amplitude at each join.
    expect(worst).toBeLessThan(1e-5);
  });
});

describe('stem names', () => {
  it('NN_Name with characters file systems reject replaced', () => {
    expect(stemBaseName(0, 'Rain')).toBe('01_Rain');
    expect(stemBaseName(11, 'a/b\\c:d*e?f"g<h>i|j')).toBe('12_a_b_c_d_e_f_g_h_i_j');
    expect(stemBaseName(2, '  ..Drums  \t take 2..  ')).toBe('03_Drums take 2');
    expect(stemBaseName(3, '')).toBe('04_Track');
    expect(stemBaseName(4, 'x\u0000y\nz')).toBe('05_x_y z');
    expect(stemBaseName(99, 'Ω')).toBe('100_Ω');
    expect(stemBaseName(0, 'n'.repeat(300))).toHaveLength(3 + 80);
  });
});

describe('input errors name the bad value', () => {
  const good = () => track('ok', [region([ones(100)], RATE)]);
  const expectInvalid = (tracks: ExportTrack[], message: RegExp) => {
    let caught: unknown;
    try {
      planMix(tracks);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ExportError);
    expect((caught as ExportError).code).toBe('invalid-argument');
    expect((caught as ExportError).message).toMatch(message);
  };

  it('rejects empty projects, NaN gains, bad pans, bad takes and regions beyond their take', () => {
    expectInvalid([], /no tracks/);
    expectInvalid([track('a', [])], /none of the 1 tracks has a region/);
    expectInvalid([{ ...good(), volumeDb: NaN }], /tracks\[0\]\.volumeDb .* got NaN/);
    expectInvalid([good(), track('b', [region([ones(10)], RATE, 0, { gainDb: NaN })])], /tracks\[1\]\.regions\[0\]\.gainDb/);
    expectInvalid([{ ...good(), pan: 2 }], /tracks\[0\]\.pan must be a number from -1/);
    expectInvalid([track('a', [region([ones(10)], RATE, -1)])], /regions\[0\]\.start must be a finite number of seconds ≥ 0, got -1/);
    expectInvalid([track('a', [region([ones(10)], RATE, 0, { fadeIn: Infinity })])], /fadeIn/);
    expectInvalid([track('a', [region([ones(10), ones(10), ones(10)], RATE)])], /1 \(mono\) or 2 \(stereo\)/);
    expectInvalid([track('a', [region([ones(10), ones(9)], RATE)])], /channels\[1\] has 9 samples/);
    expectInvalid([track('a', [region([ones(10)], 0, 0, { duration: 0.1 })])], /regions\[0\]\.audio\.sampleRate/);
    expect(() => planMix([good()], 0)).toThrow(/sampleRate must be a whole number/);
  });
});
