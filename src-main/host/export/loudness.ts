/**
 * ITU-R BS.1770-4 / EBU R128 integrated loudness, BS.1770 true peak, and a one-gain loudness normaliser.
 *
 * Hand-written on purpose: the only BS.1770 package on npm (`ebur128-wasm`) ships a bundler-only WASM build that
 * plain Node cannot load without a loader (research/ux.md §5). Tests compare this meter with FFmpeg's `ebur128`
 * filter (tests/host/export/loudness.test.ts).
 *
 * Integrated loudness (BS.1770-4 §2, EBU Tech 3341):
 * 1. K-weighting per channel: a high-shelf "pre-filter" then the RLB high-pass, two biquads (below).
 * 2. Mean square per 400 ms block, blocks every 100 ms (75 % overlap); a block is z_j = Σ_c G_c·ms_{c,j} with
 *    G_c = 1.0 for left, right and mono (surround weights are not needed: exports are mono or stereo).
 * 3. Block loudness l_j = −0.691 + 10·log10(z_j). Absolute gate: keep l_j > −70 LUFS. Relative gate: keep
 *    l_j > Γ_r = L(mean of the absolute-gated z) − 10 LU. Integrated loudness = L(mean of the doubly gated z).
 *    No block survives (silence, or audio shorter than 400 ms) → −Infinity.
 *
 * K-weighting at any sample rate. BS.1770-4 Tables 1 and 2 give the biquads only at 48 kHz. They are the
 * bilinear transforms (pre-warped at f0) of two analog sections whose parameters were recovered from the
 * 48 kHz coefficients — the same re-derivation libebur128 and FFmpeg use:
 *   pre-filter (high shelf): f0 = 1681.974450955533 Hz, G = 3.999843853973347 dB, Q = 0.7071752369554196,
 *     K = tan(π·f0/fs), Vh = 10^(G/20), Vb = Vh^0.4996667741545416, a0 = 1 + K/Q + K²,
 *     b = [Vh + Vb·K/Q + K², 2(K² − Vh), Vh − Vb·K/Q + K²]/a0, a = [1, 2(K² − 1)/a0, (1 − K/Q + K²)/a0]
 *   RLB (high-pass): f0 = 38.13547087602444 Hz, Q = 0.5003270373238773, K = tan(π·f0/fs),
 *     b = [1, −2, 1], a = [1, 2(K² − 1)/(1 + K/Q + K²), (1 − K/Q + K²)/(1 + K/Q + K²)]
 * At fs = 48 kHz these reproduce the standard's 14-digit tables to within 1e-15 (tested to 1e-12).
 *
 * True peak (BS.1770-4 Annex 2): oversample by F = max(4, ⌈192 kHz / fs⌉) with a polyphase Kaiser-windowed sinc
 * (Z = 16 zero crossings, ρ = 0.97 as FFmpeg's swresample defaults to) and take the largest absolute value of the
 * original and interpolated samples. Points that provably cannot beat the peak found so far are skipped (see
 * interpolatedPeak); the result is the same as computing every phase.
 */
import { windowedSinc } from './resample.ts';

/** Coefficients of y[n] = b0·x[n] + b1·x[n−1] + b2·x[n−2] − a1·y[n−1] − a2·y[n−2]. */
export interface Biquad {
  b0: number;
  b1: number;
  b2: number;
  a1: number;
  a2: number;
}

/** Measurements of one signal. */
export interface LoudnessMeasurement {
  /** LUFS; −Infinity when every block is gated out. */
  integratedLufs: number;
  /** dBTP; −Infinity for digital silence. */
  truePeakDbtp: number;
  /** dBFS of the largest absolute sample; −Infinity for digital silence. */
  samplePeakDbfs: number;
}

/** The gain {@link normalisationGain} chose and why. */
export interface NormalisationGain {
  /** Linear gain to multiply every sample by. */
  gain: number;
  gainDb: number;
  /** `loudness`: the target is reached; `true-peak`: the ceiling stopped the gain; `silence`: gain 1. */
  limitedBy: 'loudness' | 'true-peak' | 'silence';
}

const ABSOLUTE_GATE_LUFS = -70;
const RELATIVE_GATE_LU = -10;
const BLOCK_SEGMENTS = 4;
const TRUE_PEAK_RATE = 192_000;
const TRUE_PEAK_ZERO_CROSSINGS = 16;
const TRUE_PEAK_PASSBAND = 0.97;
const TRUE_PEAK_BETA = 9;
const TRUE_PEAK_BLOCK = 1024;

/** The two K-weighting biquads (pre-filter, RLB high-pass) for `sampleRate` Hz. */
export function kWeighting(sampleRate: number): [Biquad, Biquad] {
  checkRate(sampleRate);
  let f0 = 1681.974450955533;
  const gainDb = 3.999843853973347;
  let q = 0.7071752369554196;
  let k = Math.tan((Math.PI * f0) / sampleRate);
  const vh = 10 ** (gainDb / 20);
  const vb = vh ** 0.4996667741545416;
  const a0 = 1 + k / q + k * k;
  const pre: Biquad = {
    b0: (vh + (vb * k) / q + k * k) / a0,
    b1: (2 * (k * k - vh)) / a0,
    b2: (vh - (vb * k) / q + k * k) / a0,
    a1: (2 * (k * k - 1)) / a0,
    a2: (1 - k / q + k * k) / a0,
  };
  f0 = 38.13547087602444;
  q = 0.5003270373238773;
  k = Math.tan((Math.PI * f0) / sampleRate);
  const d = 1 + k / q + k * k;
  const rlb: Biquad = { b0: 1, b1: -2, b2: 1, a1: (2 * (k * k - 1)) / d, a2: (1 - k / q + k * k) / d };
  return [pre, rlb];
}

/** BS.1770-4 gated integrated loudness of `channels` in LUFS (−Infinity when every block is gated out). */
export function integratedLoudness(channels: Float32Array[], sampleRate: number): number {
  checkRate(sampleRate);
  const frames = channels[0]?.length ?? 0;
  // Segment j spans [bounds[j], bounds[j+1]); a block is four consecutive segments (400 ms, hop 100 ms).
  const bounds: number[] = [0];
  for (let j = 1; Math.round((j * sampleRate) / 10) <= frames; j++) bounds.push(Math.round((j * sampleRate) / 10));
  const segments = bounds.length - 1;
  if (segments < BLOCK_SEGMENTS) return -Infinity;
  const energy = new Float64Array(segments);
  const [pre, rlb] = kWeighting(sampleRate);
  for (const channel of channels) accumulateWeightedSquares(channel, pre, rlb, bounds, energy);

  const blockPowers: number[] = [];
  for (let j = 0; j + BLOCK_SEGMENTS <= segments; j++) {
    let sum = 0;
    for (let s = j; s < j + BLOCK_SEGMENTS; s++) sum += energy[s];
    blockPowers.push(sum / (bounds[j + BLOCK_SEGMENTS] - bounds[j]));
  }
  const absoluteGated = blockPowers.filter((z) => lufsOfPower(z) > ABSOLUTE_GATE_LUFS);
  if (absoluteGated.length === 0) return -Infinity;
  const relativeGate = lufsOfPower(mean(absoluteGated)) + RELATIVE_GATE_LU;
  const gated = absoluteGated.filter((z) => lufsOfPower(z) > relativeGate);
  return gated.length === 0 ? -Infinity : lufsOfPower(mean(gated));
}

/** BS.1770-4 Annex 2 true peak of `channels` as a linear value (the largest over channels). */
export function truePeak(channels: Float32Array[], sampleRate: number): number {
  checkRate(sampleRate);
  const factor = Math.max(4, Math.ceil(TRUE_PEAK_RATE / sampleRate));
  const filter = truePeakFilter(factor);
  let peak = 0;
  for (const channel of channels) for (let i = 0; i < channel.length; i++) peak = Math.max(peak, Math.abs(channel[i]));
  for (const channel of channels) peak = Math.max(peak, interpolatedPeak(channel, filter, peak));
  return peak;
}

/** Integrated loudness, true peak and sample peak of `channels`. */
export function measureLoudness(channels: Float32Array[], sampleRate: number): LoudnessMeasurement {
  let samplePeak = 0;
  for (const channel of channels) for (let i = 0; i < channel.length; i++) samplePeak = Math.max(samplePeak, Math.abs(channel[i]));
  return {
    integratedLufs: integratedLoudness(channels, sampleRate),
    truePeakDbtp: gainToDb(truePeak(channels, sampleRate)),
    samplePeakDbfs: gainToDb(samplePeak),
  };
}

/**
 * The one gain that brings `measured` to `targetLufs`, reduced when it would push the true peak over
 * `truePeakCeilingDbtp`. Gain only: no limiter, so the result's peak-to-loudness ratio is the input's.
 */
export function normalisationGain(
  measured: Pick<LoudnessMeasurement, 'integratedLufs' | 'truePeakDbtp'>,
  targetLufs: number,
  truePeakCeilingDbtp = -1,
): NormalisationGain {
  if (!Number.isFinite(targetLufs)) throw new RangeError(`target loudness must be a finite LUFS value, got ${targetLufs}`);
  if (!Number.isFinite(truePeakCeilingDbtp)) {
    throw new RangeError(`true-peak ceiling must be a finite dBTP value, got ${truePeakCeilingDbtp}`);
  }
  if (!Number.isFinite(measured.integratedLufs)) return { gain: 1, gainDb: 0, limitedBy: 'silence' };
  const loudnessGainDb = targetLufs - measured.integratedLufs;
  const headroomDb = truePeakCeilingDbtp - measured.truePeakDbtp;
  const gainDb = Math.min(loudnessGainDb, headroomDb);
  return { gain: 10 ** (gainDb / 20), gainDb, limitedBy: headroomDb < loudnessGainDb ? 'true-peak' : 'loudness' };
}

/**
 * Applies one gain to `channels` (returned as new arrays) so their integrated loudness hits `targetLufs`, or as
 * close as the true-peak ceiling allows; reports the gain, which constraint won, and the measurements.
 */
export function normalise(
  channels: Float32Array[],
  sampleRate: number,
  targetLufs: number,
  truePeakCeilingDbtp = -1,
): NormalisationGain & { channels: Float32Array[]; before: LoudnessMeasurement; after: LoudnessMeasurement } {
  const before = measureLoudness(channels, sampleRate);
  const chosen = normalisationGain(before, targetLufs, truePeakCeilingDbtp);
  const out = channels.map((channel) => channel.map((x) => x * chosen.gain));
  return { ...chosen, channels: out, before, after: measureLoudness(out, sampleRate) };
}

/** Linear amplitude → dB (−Infinity for 0). */
export function gainToDb(gain: number): number {
  return 20 * Math.log10(gain);
}

function lufsOfPower(power: number): number {
  return -0.691 + 10 * Math.log10(power);
}

function mean(values: number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

function checkRate(sampleRate: number): void {
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) {
    throw new RangeError(`sample rate must be a positive whole number of Hz, got ${sampleRate}`);
  }
}

/** K-weights `channel` (two cascaded biquads in float64) and adds each segment's sum of squares to `energy`. */
function accumulateWeightedSquares(channel: Float32Array, pre: Biquad, rlb: Biquad, bounds: number[], energy: Float64Array): void {
  let x1 = 0, x2 = 0, m1 = 0, m2 = 0, y1 = 0, y2 = 0;
  let segment = 0;
  let sum = 0;
  const end = bounds[bounds.length - 1];
  for (let i = 0; i < end; i++) {
    const x = channel[i];
    const m = pre.b0 * x + pre.b1 * x1 + pre.b2 * x2 - pre.a1 * m1 - pre.a2 * m2;
    const y = rlb.b0 * m + rlb.b1 * m1 + rlb.b2 * m2 - rlb.a1 * y1 - rlb.a2 * y2;
    x2 = x1;
    x1 = x;
    m2 = m1;
    m1 = m;
    y2 = y1;
    y1 = y;
    sum += y * y;
    if (i + 1 === bounds[segment + 1]) {
      energy[segment] += sum;
      sum = 0;
      segment++;
    }
  }
}

interface PolyphaseFilter {
  /** phases[p − 1][j]: coefficient of x[n − half + 1 + j] for the point p/F past x[n], p = 1 … F − 1; zero-padded. */
  phases: Float64Array[];
  half: number;
  /** max over phases of |h_p| on the two samples around the point (x[n], x[n+1]). */
  near: number;
  /** max over phases of Σ|h_p| over the other taps. */
  far: number;
}

function truePeakFilter(factor: number): PolyphaseFilter {
  const fc = 0.5 * TRUE_PEAK_PASSBAND;
  const halfWidth = TRUE_PEAK_ZERO_CROSSINGS / (2 * fc);
  const half = Math.ceil(halfWidth);
  const phases: Float64Array[] = [];
  let near = 0;
  let far = 0;
  for (let p = 1; p < factor; p++) {
    const h = new Float64Array(2 * half);
    let total = 0;
    for (let j = 0; j < h.length; j++) {
      h[j] = windowedSinc(p / factor + half - 1 - j, fc, halfWidth, TRUE_PEAK_BETA);
      total += h[j];
    }
    let absolute = 0;
    for (let j = 0; j < h.length; j++) {
      h[j] /= total;
      absolute += Math.abs(h[j]);
    }
    const nearPair = Math.abs(h[half - 1]) + Math.abs(h[half]);
    near = Math.max(near, nearPair);
    far = Math.max(far, absolute - nearPair);
    phases.push(h);
  }
  while (phases.length % 4 !== 0) phases.push(new Float64Array(2 * half));
  return { phases, half, near, far };
}

/**
 * The largest interpolated |value| of `channel` if it beats `floor`, else `floor`. Points are skipped when a
 * bound proves they cannot beat the peak so far: |y| ≤ near·max(|x[n]|, |x[n+1]|) + far·(largest |x| within
 * reach of the block). Loudest blocks go first so the peak rises early and most points are skipped.
 */
function interpolatedPeak(channel: Float32Array, filter: PolyphaseFilter, floor: number): number {
  const { phases, half, near, far } = filter;
  const length = channel.length;
  const blocks = Math.ceil(length / TRUE_PEAK_BLOCK);
  // A float64 copy with `half` zeros on each side: every point reads all its taps without bounds checks.
  const padded = new Float64Array(length + 2 * half);
  padded.set(channel, half);
  const blockMax = new Float64Array(blocks);
  for (let i = 0; i < length; i++) {
    const b = Math.floor(i / TRUE_PEAK_BLOCK);
    blockMax[b] = Math.max(blockMax[b], Math.abs(channel[i]));
  }
  // Interpolated points of block b read samples up to `half` outside it: take the neighbours' maxima too.
  const reach = Math.ceil(half / TRUE_PEAK_BLOCK);
  const nearby = Array.from({ length: blocks }, (_, b) => {
    let m = 0;
    for (let o = Math.max(0, b - reach); o <= Math.min(blocks - 1, b + reach); o++) m = Math.max(m, blockMax[o]);
    return { b, m };
  }).sort((p, q) => q.m - p.m);
  let peak = floor;
  const taps = 2 * half;
  for (const { b, m } of nearby) {
    if ((near + far) * m <= peak) break;
    const end = Math.min(length, (b + 1) * TRUE_PEAK_BLOCK);
    for (let n = b * TRUE_PEAK_BLOCK; n < end; n++) {
      // x[n] is padded[n + half], so tap j (x[n − half + 1 + j]) is padded[n + 1 + j].
      const local = Math.max(Math.abs(padded[n + half]), Math.abs(padded[n + half + 1]));
      if (near * local + far * m <= peak) continue;
      // Four phases per pass share each load of x (phases are padded with zero filters to a multiple of 4).
      for (let g = 0; g < phases.length; g += 4) {
        const h0 = phases[g], h1 = phases[g + 1], h2 = phases[g + 2], h3 = phases[g + 3];
        let y0 = 0, y1 = 0, y2 = 0, y3 = 0;
        for (let j = 0; j < taps; j++) {
          const x = padded[n + 1 + j];
          y0 += h0[j] * x;
          y1 += h1[j] * x;
          y2 += h2[j] * x;
          y3 += h3[j] * x;
        }
        peak = Math.max(peak, Math.abs(y0), Math.abs(y1), Math.abs(y2), Math.abs(y3));
      }
    }
  }
  return peak;
}
