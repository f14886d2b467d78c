import { describe, expect, it } from 'vitest';
import { spectralFeatures } from '../../../src-main/engine/audio/spectral.ts';

/** e^−γ: the expected flatness of a spectrum whose bin powers are exponentially distributed (white noise). */
const WHITE_NOISE_FLATNESS = Math.exp(-0.5772156649015329);

function sine(frequency: number, sampleRate: number, seconds: number, amplitude = 0.5): Float32Array {
  const length = Math.round(sampleRate * seconds);
  return Float32Array.from({ length }, (_, n) => amplitude * Math.sin((2 * Math.PI * frequency * n) / sampleRate));
}

/** Uniform white noise in [−1, 1) from a 32-bit LCG (Numerical Recipes constants): the same numbers every run. */
function whiteNoise(length: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state / 2 ** 32) * 2 - 1;
  }
  return out;
}

describe('spectralFeatures', () => {
  it.each([16_000, 44_100, 48_000])('puts a 440 Hz sine at 440 Hz and calls it tonal (sr %i)', (sampleRate) => {
    const features = spectralFeatures(sine(440, sampleRate, 2), sampleRate);
    expect(features.centroidHz).toBeGreaterThan(437);
    expect(features.centroidHz).toBeLessThan(443);
    expect(features.flatness).toBeLessThan(0.01);
    expect(features.rms).toBeCloseTo(0.5 / Math.SQRT2, 4);
    expect(features.frames).toBe(Math.floor((2 * sampleRate - 2048) / 1024) + 1);
  });

  it('puts a 3 kHz sine at 3 kHz', () => {
    const features = spectralFeatures(sine(3000, 44_100, 2), 44_100);
    expect(Math.abs(features.centroidHz - 3000)).toBeLessThan(3);
    expect(features.flatness).toBeLessThan(0.01);
  });

  it.each([
    [16_000, 1],
    [44_100, 2],
  ])('finds white noise flat (e^−γ) with its centroid at sr/4 (sr %i, seed %i)', (sampleRate, seed) => {
    const features = spectralFeatures(whiteNoise(sampleRate * 4, seed), sampleRate);
    expect(Math.abs(features.flatness - WHITE_NOISE_FLATNESS)).toBeLessThan(0.05);
    expect(Math.abs(features.centroidHz - sampleRate / 4) / (sampleRate / 4)).toBeLessThan(0.02);
    expect(features.rms).toBeCloseTo(1 / Math.sqrt(3), 2);
  });

  it('orders a low tone, a high tone and noise by brightness and flatness', () => {
    const sampleRate = 16_000;
    const low = spectralFeatures(sine(200, sampleRate, 1), sampleRate);
    const high = spectralFeatures(sine(2000, sampleRate, 1), sampleRate);
    const noise = spectralFeatures(whiteNoise(sampleRate, 7), sampleRate);
    expect(low.centroidHz).toBeLessThan(high.centroidHz);
    expect(high.centroidHz).toBeLessThan(noise.centroidHz);
    expect(Math.max(low.flatness, high.flatness)).toBeLessThan(noise.flatness / 50);
  });

  it('does not depend on the signal level', () => {
    const loud = spectralFeatures(whiteNoise(32_768, 3), 16_000);
    const quiet = spectralFeatures(whiteNoise(32_768, 3).map((x) => x * 1e-6), 16_000);
    expect(quiet.flatness).toBeCloseTo(loud.flatness, 6);
    expect(quiet.centroidHz).toBeCloseTo(loud.centroidHz, 3);
  });

  it('skips digital silence and weights the centroid by power', () => {
    const sampleRate = 16_000;
    const tone = sine(1000, sampleRate, 1);
    const padded = new Float32Array(tone.length * 3);
    padded.set(tone, tone.length); // silence, tone, silence
    const alone = spectralFeatures(tone, sampleRate);
    const withSilence = spectralFeatures(padded, sampleRate);
    // The frames across the tone's abrupt start and end splatter a little; silence itself adds nothing.
    expect(Math.abs(withSilence.centroidHz - alone.centroidHz)).toBeLessThan(1);
    expect(withSilence.flatness).toBeLessThan(0.01);
    // Only frames that touch the tone count: those starting in (16 000 − 2048, 32 000).
    let touching = 0;
    for (let start = 0; start + 2048 <= padded.length; start += 1024) {
      if (start + 2048 > tone.length && start < 2 * tone.length) touching++;
    }
    expect(withSilence.frames).toBe(touching);
    expect(withSilence.rms).toBeCloseTo(alone.rms / Math.sqrt(3), 6);

    // A quiet noise floor next to a loud tone barely moves the centroid.
    const mixed = new Float32Array(tone.length * 2);
    mixed.set(tone, 0);
    mixed.set(whiteNoise(tone.length, 5).map((x) => x * 1e-3), tone.length);
    expect(Math.abs(spectralFeatures(mixed, sampleRate).centroidHz - 1000)).toBeLessThan(5);
  });

  it('returns zeros for empty and all-silent input', () => {
    expect(spectralFeatures(new Float32Array(0), 16_000)).toEqual({ centroidHz: 0, flatness: 0, rms: 0, frames: 0 });
    expect(spectralFeatures(new Float32Array(10_000), 16_000)).toEqual({ centroidHz: 0, flatness: 0, rms: 0, frames: 0 });
  });

  it('analyses a signal shorter than a frame as one zero-padded frame', () => {
    const features = spectralFeatures(sine(440, 16_000, 0.0625), 16_000);
    expect(features.frames).toBe(1);
    expect(Math.abs(features.centroidHz - 440)).toBeLessThan(10);
  });

  it('honours frameSize and hop', () => {
    const features = spectralFeatures(sine(1000, 16_000, 1), 16_000, { frameSize: 512, hop: 512 });
    expect(features.frames).toBe(Math.floor(16_000 / 512));
    expect(Math.abs(features.centroidHz - 1000)).toBeLessThan(5);
  });

  it('rejects bad arguments with messages that name the value', () => {
    const tone = sine(440, 16_000, 0.5);
    expect(() => spectralFeatures(tone, 0)).toThrow(/sampleRate must be a positive number of Hz, got 0/);
    expect(() => spectralFeatures(tone, Number.NaN)).toThrow(/got NaN/);
    expect(() => spectralFeatures(tone, 16_000, { frameSize: 1000 })).toThrow(/power of two ≥ 4.*got 1000/);
    expect(() => spectralFeatures(tone, 16_000, { hop: 0 })).toThrow(/hop must be a positive whole number.*got 0/);
    const broken = tone.slice();
    broken[123] = Number.NaN;
    expect(() => spectralFeatures(broken, 16_000)).toThrow(/sample 123 is NaN/);
  });
});
