/**
 * Peaks of takes (pure, Node-tested). The host writes, per take and level, little-endian int16 pairs `min, max`
 * of all channels together, one pair per `samplesPerPeak` samples (contract/api.ts `PEAK_LEVELS`); generation
 * previews send the same pairs as numbers (−1…1). Here: which level a zoom needs, decoding a level file, cutting
 * the part a region shows, and the two arrays wavesurfer v8 draws.
 */
import { PEAK_LEVELS, type PeakLevel } from '../../src-main/contract/api.ts';

/** Interleaved peak pairs `min0, max0, min1, max1, …` in −1…1. */
export type PeakPairs = Float32Array | readonly number[];

/**
 * The coarsest level that still gives at least one pair per pixel at `pxPerSecond` (the finest level when even
 * that gives fewer, i.e. zoomed in past `sampleRate / 32` px/s).
 */
export function pickPeakLevel(sampleRate: number, pxPerSecond: number): PeakLevel {
  if (!(sampleRate > 0) || !(pxPerSecond > 0)) {
    throw new RangeError(`pickPeakLevel: sampleRate and pxPerSecond must be > 0, got ${sampleRate} and ${pxPerSecond}`);
  }
  const maxSamplesPerPeak = sampleRate / pxPerSecond;
  let level: PeakLevel = PEAK_LEVELS[0];
  for (const candidate of PEAK_LEVELS) if (candidate <= maxSamplesPerPeak) level = candidate;
  return level;
}

/** Decodes a level file (int16 LE pairs) into interleaved pairs ÷ 32767, clamped to −1…1. */
export function decodePeaks(buffer: ArrayBuffer): Float32Array {
  if (buffer.byteLength % 4 !== 0) {
    throw new RangeError(
      `decodePeaks: a peaks file holds int16 min/max pairs (4 bytes each), got ${buffer.byteLength} bytes`,
    );
  }
  const view = new DataView(buffer);
  const out = new Float32Array(buffer.byteLength / 2);
  for (let i = 0; i < out.length; i++) out[i] = Math.max(-1, view.getInt16(i * 2, true) / 32767);
  return out;
}

/** Number of pairs in `pairs`. */
export function pairCount(pairs: PeakPairs): number {
  return Math.floor(pairs.length / 2);
}

/**
 * The pairs covering `seconds` of a take from `startSeconds` (a region's `takeOffset` and length), at
 * `samplesPerPeak` samples per pair of a `sampleRate` take. Past the take's end the result holds silence (0, 0),
 * so the drawing lines up with the region.
 */
export function slicePeaks(
  pairs: PeakPairs,
  samplesPerPeak: number,
  sampleRate: number,
  startSeconds: number,
  seconds: number,
): Float32Array {
  if (!(samplesPerPeak > 0) || !(sampleRate > 0)) {
    throw new RangeError(`slicePeaks: samplesPerPeak and sampleRate must be > 0, got ${samplesPerPeak} and ${sampleRate}`);
  }
  const perSecond = sampleRate / samplesPerPeak;
  const first = Math.max(0, Math.floor(startSeconds * perSecond));
  const count = Math.max(0, Math.ceil((startSeconds + seconds) * perSecond) - first);
  return peakRange(pairs, first, count);
}

/** Pairs `first … first + count − 1` of `pairs`; silence (0, 0) where that runs past either end. */
export function peakRange(pairs: PeakPairs, first: number, count: number): Float32Array {
  const out = new Float32Array(Math.max(0, count) * 2);
  const from = Math.max(first, 0);
  const to = Math.min(first + count, pairCount(pairs));
  for (let p = from; p < to; p++) {
    out[(p - first) * 2] = pairs[p * 2];
    out[(p - first) * 2 + 1] = pairs[p * 2 + 1];
  }
  return out;
}

/**
 * A slice of a region's waveform: seconds `from … to` of the region (0 = its start; `from` may be a little below 0
 * and `to` a little past its end, since a slice holds whole pairs), drawn from pairs `first … first + count − 1`
 * of the source.
 */
export interface WaveformSlice {
  from: number;
  to: number;
  first: number;
  count: number;
}

/**
 * The slice of a region that shows `visibleFrom … visibleTo` (seconds from the region's start, clipped to
 * `0 … duration`) plus `margin` seconds each side, widened to whole pairs of a source with `perSecond` pairs per
 * second that the region reads from `sourceOffset` seconds on (a take's `takeOffset`). Whole pairs put every pair
 * at its true time, so neighbouring slices and the region's edges line up to the pixel. Null when nothing of the
 * region is within reach.
 */
export function planSlice(
  duration: number,
  visibleFrom: number,
  visibleTo: number,
  margin: number,
  perSecond: number,
  sourceOffset = 0,
): WaveformSlice | null {
  if (!(perSecond > 0)) throw new RangeError(`planSlice: perSecond must be > 0, got ${perSecond}`);
  const from = Math.max(0, visibleFrom - margin);
  const to = Math.min(duration, visibleTo + margin);
  if (!(to > from)) return null;
  const first = Math.floor((sourceOffset + from) * perSecond + 1e-9);
  const last = Math.max(first + 1, Math.ceil((sourceOffset + to) * perSecond - 1e-9));
  return { from: first / perSecond - sourceOffset, to: last / perSecond - sourceOffset, first, count: last - first };
}

/** Whether `outer` holds all of `inner` (a null inner is held by anything). */
export function sliceCovers(outer: WaveformSlice | null, inner: WaveformSlice | null): boolean {
  if (inner === null) return true;
  return outer !== null && outer.first <= inner.first && outer.first + outer.count >= inner.first + inner.count;
}

/**
 * The two channels wavesurfer v8 draws from interleaved pairs: `[tops, bottoms]`. Without `splitChannels`,
 * wavesurfer draws channel 0 above the centre line and channel 1 below it, each as |value|, so the tops are the
 * maxima and the bottoms the minima, each clamped to its own side of zero (a pair entirely below zero draws no top).
 * Always at least one pair, since wavesurfer refuses empty channels.
 */
export function toWaveSurferPeaks(pairs: PeakPairs): [Float32Array, Float32Array] {
  const count = Math.max(1, pairCount(pairs));
  const tops = new Float32Array(count);
  const bottoms = new Float32Array(count);
  for (let i = 0; i < pairCount(pairs); i++) {
    bottoms[i] = Math.min(0, pairs[2 * i]);
    tops[i] = Math.max(0, pairs[2 * i + 1]);
  }
  return [tops, bottoms];
}
