/**
 * Waveform peaks: min/max pairs over fixed blocks of samples, all channels together. The host caches them per
 * take at several resolutions (ARCHITECTURE.md §5 `peaks/`, levels in contract/api.ts `PEAK_LEVELS`) and streams
 * them as generation previews, so the renderer draws waveforms at the zoom's resolution without ever decoding
 * full-rate audio (ux.md §2.2).
 */

/**
 * Interleaved `[min0, max0, min1, max1, …]` of `channels` over blocks of `samplesPerPeak` samples; the last block
 * covers what is left. An empty input gives an empty array.
 */
export function computePeaks(channels: readonly Float32Array[], samplesPerPeak: number): Float32Array {
  if (!Number.isInteger(samplesPerPeak) || samplesPerPeak < 1) {
    throw new RangeError(`computePeaks: samplesPerPeak ${samplesPerPeak} must be a positive whole number`);
  }
  const length = channels.reduce((n, c) => Math.max(n, c.length), 0);
  const pairs = Math.ceil(length / samplesPerPeak);
  const out = new Float32Array(2 * pairs);
  for (let p = 0; p < pairs; p++) {
    const from = p * samplesPerPeak;
    const to = Math.min(length, from + samplesPerPeak);
    let lo = Infinity;
    let hi = -Infinity;
    for (const channel of channels) {
      const end = Math.min(to, channel.length);
      for (let i = from; i < end; i++) {
        const x = channel[i];
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
    }
    out[2 * p] = lo === Infinity ? 0 : lo;
    out[2 * p + 1] = hi === -Infinity ? 0 : hi;
  }
  return out;
}

/** Coarser peaks from finer ones: `factor` consecutive pairs merged (exact: min of mins, max of maxes). */
export function coarsenPeaks(peaks: Float32Array, factor: number): Float32Array {
  if (!Number.isInteger(factor) || factor < 1) throw new RangeError(`coarsenPeaks: factor ${factor} must be a positive whole number`);
  const pairs = peaks.length / 2;
  const outPairs = Math.ceil(pairs / factor);
  const out = new Float32Array(2 * outPairs);
  for (let p = 0; p < outPairs; p++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let q = p * factor; q < Math.min(pairs, (p + 1) * factor); q++) {
      if (peaks[2 * q] < lo) lo = peaks[2 * q];
      if (peaks[2 * q + 1] > hi) hi = peaks[2 * q + 1];
    }
    out[2 * p] = lo;
    out[2 * p + 1] = hi;
  }
  return out;
}

/** Peaks as little-endian int16 (value · 32767, clamped to ±1 first): the `peaks/` file format. */
export function peaksToInt16(peaks: Float32Array): Int16Array {
  const out = new Int16Array(peaks.length);
  for (let i = 0; i < peaks.length; i++) out[i] = Math.round(Math.max(-1, Math.min(1, peaks[i])) * 32767);
  return out;
}
