/**
 * Cheap deterministic seam metrics for long-form audio (research/longform.md §7; reference implementation and
 * calibration: research/seam_metrics.py). They need no reference model, only the waveform and where the seams are
 * (window edges of the tiling schedule, chunk joins of the decoder or vocoder).
 *
 * Features: S[f, n] = 10·log10(melfb·|STFT|² + 1e−10) dB, as in the reference: n_fft 1024, hop 160, periodic Hann
 * window, signal reflect-padded by n_fft/2 at both ends (so frame n is centred on sample n·hop and there are
 * 1 + ⌊len/hop⌋ frames), 64 triangular mel filters (HTK mel scale, unnormalised peaks of 1) spaced from 0 Hz to
 * sampleRate/2. The defaults are calibrated for 16 kHz (10 ms frames); at 44.1 kHz scale n_fft and hop by ≈ 2.76
 * (e.g. 2048 and 441) so the frame-based K, r and exclusion widths below keep their meaning in milliseconds.
 *
 * Metrics (robust z: z(v) = (v − median(B)) / (1.4826·MAD(B)) over a background B of frames away from every seam):
 * - M1 SSZ (seam step z): level/timbre step. D_K[n] = mean_f |mean S[f, n−K … n−1] − mean S[f, n … n+K−1]|;
 *   SSZ = max over seams s of z(max_{|n−s|≤2} D_K[n]), B = frames with D_K defined and > `exclude` from every seam.
 * - M2 SFZ (seam flux z): clicks, dropouts, splices. d[n] = mean_f |S[f, n] − S[f, n−1]|;
 *   SFZ = max over seams of z(max_{|n−s|≤r} d[n]), B = frames n ≥ 1 more than `exclude` (default r, as in the
 *   reference's flux_z) from every seam.
 * - M3 HFR (HF retention, dB): over-smoothing in overlaps. e[n] = mean over the top third of mel bins of 10^(S/10);
 *   HFR = 10·log10(mean of e over frames within K of a seam / median of e over all frames).
 * - M4 equivalence of a chunked run against the untiled one: log-mel LSD, SNR and max |Δ|.
 * Calibration (reference, 40 s pink noise + chirp, seams every 10 s): clean SSZ 2.24, SFZ 2.10, HFR −0.02 dB;
 * ±1 dB steps SSZ 4.43; 20 ms dropout SFZ 10.26; 2.3 ms splice SFZ 4.39; 1 s low-passed overlap HFR −17.6 dB. Hence
 * the flags in {@link SEAM_FLAGS}.
 *
 * Cost: O(frames·bins) after the STFT; 600 s at 16 kHz (60 001 frames) takes ≈ 1.1–2.5 s for seamReport on a
 * busy 2-core host, most of it the 60 001 fft.js transforms.
 *
 * Seams are frame indices (seamReport converts seconds with round(seconds·sampleRate/hop)). A seam closer to either
 * end than the metric's reach (K for SSZ and HFR, r for SFZ) is skipped; when no seam is left, or the background is
 * empty, the metric is null. Small differences from the reference: exclusion and HFR neighbourhoods are symmetric
 * (±w inclusive, the reference uses [s−w, s+w)), and HFR averages the union of seam neighbourhoods (no double count).
 */
import FFT from 'fft.js';

/** A log-mel spectrogram in dB, frame-major: the value of mel bin f in frame n is data[n·bins + f]. */
export interface LogMel {
  /** Number of mel bins per frame. */
  bins: number;
  /** Number of frames: 1 + ⌊samples/hop⌋ (0 for an empty signal). */
  frames: number;
  /** frames × bins values in dB, frame-major. */
  data: Float32Array;
  /** Samples between frames; frame n is centred on sample n·hop. */
  hop: number;
  /** Sample rate of the analysed signal in Hz. */
  sampleRate: number;
}

/** Analysis settings of {@link logMel}; the defaults match seam_metrics.py at 16 kHz. */
export interface LogMelOptions {
  /** FFT and window length in samples, a power of two ≥ 4. Default 1024. */
  nFft?: number;
  /** Samples between frames, a positive integer. Default 160 (10 ms at 16 kHz). */
  hop?: number;
  /** Number of mel bins, a positive integer. Default 64. */
  bins?: number;
}

/** Options of {@link seamStepZ}. */
export interface SeamStepOptions {
  /** Frames averaged on each side of the step. Default 25 (250 ms at hop 10 ms). */
  K?: number;
  /** Background frames within this many frames of any seam are left out. Default 50 (0.5 s). */
  exclude?: number;
}

/** Options of {@link seamFluxZ}. */
export interface SeamFluxOptions {
  /** Frames either side of the seam searched for the flux peak. Default 2. */
  r?: number;
  /** Background frames within this many frames of any seam are left out. Default r (as the reference). */
  exclude?: number;
}

/** Options of {@link hfRetentionDb}. */
export interface HfRetentionOptions {
  /** Frames either side of each seam that count as its neighbourhood. Default 50 (0.5 s). */
  K?: number;
  /** Fraction of the mel bins, from the top, that count as high frequency; in (0, 1]. Default 1/3. */
  top?: number;
}

/** The three seam metrics of one signal; null where no seam was analysable (see the module comment). */
export interface SeamReport {
  /** M1 seam step z-score; flag above {@link SEAM_FLAGS}.ssz. */
  ssz: number | null;
  /** M2 seam flux z-score; flag above {@link SEAM_FLAGS}.sfz. */
  sfz: number | null;
  /** M3 HF retention in dB; flag below {@link SEAM_FLAGS}.hfrDb. */
  hfrDb: number | null;
}

/** Flag thresholds from the §7 calibration: clean seams keep ssz < 3.5, sfz < 4 and hfrDb > −1 dB. */
export const SEAM_FLAGS = { ssz: 3.5, sfz: 4, hfrDb: -1 } as const;

const DEFAULT_N_FFT = 1024;
const DEFAULT_HOP = 160;
const DEFAULT_BINS = 64;
/** Added to the mel power before the log (reference: 1e−10, i.e. a −100 dB floor). */
const POWER_FLOOR = 1e-10;
/** MAD → σ for Gaussian data. */
const MAD_TO_SIGMA = 1.4826;
/** Smallest robust σ in dB: a constant background (digital silence) gives a huge finite z instead of ∞ or NaN. */
const SIGMA_FLOOR_DB = 1e-6;
/** Frames either side of a seam searched for the D_K peak (§7 M1: |n − s| ≤ 2). */
const STEP_SEARCH = 2;
/** Filterbanks kept; one per (sampleRate, nFft, bins) in use, and a process rarely uses more than two. */
const FILTERBANK_CACHE_SIZE = 8;

/** Log-mel spectrogram of `samples` (mono) in dB, framed and filtered like seam_metrics.py's `logmel`. */
export function logMel(samples: Float32Array, sampleRate: number, options: LogMelOptions = {}): LogMel {
  const nFft = options.nFft ?? DEFAULT_N_FFT;
  const hop = options.hop ?? DEFAULT_HOP;
  const bins = options.bins ?? DEFAULT_BINS;
  checkMelArguments(sampleRate, nFft, hop, bins);
  checkFinite(samples, 'samples');
  const length = samples.length;
  if (length === 0) return { bins, frames: 0, data: new Float32Array(0), hop, sampleRate };

  const bank = filterbank(sampleRate, nFft, bins);
  const frames = 1 + Math.floor(length / hop);
  const data = new Float32Array(frames * bins);
  const fft = new FFT(nFft);
  const frame = new Float64Array(nFft);
  const spectrum = new Float64Array(2 * nFft);
  const power = new Float64Array(nFft / 2 + 1);
  const half = nFft / 2;
  for (let n = 0; n < frames; n++) {
    const start = n * hop - half;
    if (start >= 0 && start + nFft <= length) {
      for (let j = 0; j < nFft; j++) frame[j] = samples[start + j] * bank.window[j];
    } else {
      for (let j = 0; j < nFft; j++) frame[j] = samples[reflect(start + j, length)] * bank.window[j];
    }
    fft.realTransform(spectrum, frame);
    for (let k = 0; k <= half; k++) power[k] = spectrum[2 * k] ** 2 + spectrum[2 * k + 1] ** 2;
    const row = n * bins;
    for (let f = 0; f < bins; f++) {
      const weights = bank.weights[f];
      const first = bank.first[f];
      let sum = 0;
      for (let i = 0; i < weights.length; i++) sum += weights[i] * power[first + i];
      data[row + f] = 10 * Math.log10(sum + POWER_FLOOR);
    }
  }
  return { bins, frames, data, hop, sampleRate };
}

/** M1 seam step z-score: how far the level/timbre step at the worst seam stands above the background steps. */
export function seamStepZ(S: LogMel, seamFrames: readonly number[], options: SeamStepOptions = {}): number | null {
  const K = options.K ?? 25;
  const exclude = options.exclude ?? 50;
  checkCount(K, 'K', 1);
  checkCount(exclude, 'exclude', 0);
  checkSeamFrames(seamFrames);
  const { frames, bins, data } = S;
  // D_K[n] is defined for K ≤ n < frames − K; both side means come from one cumulative sum per bin (O(F·N)).
  const lo = K;
  const hi = frames - K;
  if (hi <= lo) return null;
  const step = new Float64Array(frames);
  const cumulative = new Float64Array(frames + 1);
  for (let f = 0; f < bins; f++) {
    for (let n = 0; n < frames; n++) cumulative[n + 1] = cumulative[n] + data[n * bins + f];
    for (let n = lo; n < hi; n++) {
      const left = cumulative[n] - cumulative[n - K];
      const right = cumulative[n + K] - cumulative[n];
      step[n] += Math.abs(left - right);
    }
  }
  for (let n = lo; n < hi; n++) step[n] /= K * bins;

  const peaks: number[] = [];
  for (const s of seamFrames) {
    if (s < K || s > frames - 1 - K) continue;
    let peak = -Infinity;
    for (let n = Math.max(lo, s - STEP_SEARCH); n <= Math.min(hi - 1, s + STEP_SEARCH); n++) {
      peak = Math.max(peak, step[n]);
    }
    peaks.push(peak);
  }
  const background = backgroundValues(step, lo, hi, seamFrames, exclude);
  return maxRobustZ(peaks, background);
}

/** M2 seam flux z-score: how far the frame-to-frame change at the worst seam stands above the background. */
export function seamFluxZ(S: LogMel, seamFrames: readonly number[], options: SeamFluxOptions = {}): number | null {
  const r = options.r ?? 2;
  const exclude = options.exclude ?? r;
  checkCount(r, 'r', 0);
  checkCount(exclude, 'exclude', 0);
  checkSeamFrames(seamFrames);
  const { frames, bins, data } = S;
  if (frames < 2) return null;
  // d[0] has no predecessor: it is neither a seam candidate nor background (reference: d[0] = 0, masked out).
  const flux = new Float64Array(frames);
  for (let n = 1; n < frames; n++) {
    let sum = 0;
    const row = n * bins;
    for (let f = 0; f < bins; f++) sum += Math.abs(data[row + f] - data[row - bins + f]);
    flux[n] = sum / bins;
  }

  const peaks: number[] = [];
  for (const s of seamFrames) {
    if (s - r < 1 || s + r > frames - 1) continue;
    let peak = -Infinity;
    for (let n = s - r; n <= s + r; n++) peak = Math.max(peak, flux[n]);
    peaks.push(peak);
  }
  const background = backgroundValues(flux, 1, frames, seamFrames, exclude);
  return maxRobustZ(peaks, background);
}

/** M3 HF retention in dB: high-band energy near the seams relative to the median frame; negative = dulled. */
export function hfRetentionDb(
  S: LogMel,
  seamFrames: readonly number[],
  options: HfRetentionOptions = {},
): number | null {
  const K = options.K ?? 50;
  const top = options.top ?? 1 / 3;
  checkCount(K, 'K', 0);
  if (!(top > 0 && top <= 1)) {
    throw new RangeError(`top must be a fraction of the mel bins in (0, 1] (e.g. 1/3), got ${top}`);
  }
  checkSeamFrames(seamFrames);
  const { frames, bins, data } = S;
  const firstBin = Math.min(bins - 1, Math.floor(bins * (1 - top)));
  const bandBins = bins - firstBin;
  const energy = new Float64Array(frames);
  // 10^(v/10) as exp(v·ln10/10): the same value, and for 60 000 frames ≈ 30 ms instead of ≈ 150 ms with ** in V8.
  const dbToNeper = Math.LN10 / 10;
  for (let n = 0; n < frames; n++) {
    let sum = 0;
    const row = n * bins;
    for (let f = firstBin; f < bins; f++) sum += Math.exp(data[row + f] * dbToNeper);
    energy[n] = sum / bandBins;
  }

  const near = new Uint8Array(frames);
  let analysable = 0;
  for (const s of seamFrames) {
    if (s < K || s > frames - 1 - K) continue;
    near.fill(1, s - K, s + K + 1);
    analysable++;
  }
  if (analysable === 0) return null;
  let nearSum = 0;
  let nearCount = 0;
  for (let n = 0; n < frames; n++) {
    if (near[n] === 1) {
      nearSum += energy[n];
      nearCount++;
    }
  }
  return 10 * Math.log10(nearSum / nearCount / median(energy));
}

/** M4 log-spectral distance in dB between two equally long signals: mean over frames of the RMS mel-bin difference. */
export function lsdDb(a: Float32Array, b: Float32Array, sampleRate: number, options: LogMelOptions = {}): number {
  checkSameLength(a, b);
  const A = logMel(a, sampleRate, options);
  const B = logMel(b, sampleRate, options);
  if (A.frames === 0) return 0;
  let total = 0;
  for (let n = 0; n < A.frames; n++) {
    let sum = 0;
    const row = n * A.bins;
    for (let f = 0; f < A.bins; f++) sum += (A.data[row + f] - B.data[row + f]) ** 2;
    total += Math.sqrt(sum / A.bins);
  }
  return total / A.frames;
}

/** M4 SNR in dB of `est` against `ref`: Infinity for an exact copy, −Infinity when `ref` is silent but `est` is not. */
export function snrDb(ref: Float32Array, est: Float32Array): number {
  checkSameLength(ref, est);
  let signal = 0;
  let error = 0;
  for (let i = 0; i < ref.length; i++) {
    signal += ref[i] * ref[i];
    error += (ref[i] - est[i]) ** 2;
  }
  if (error === 0) return Infinity;
  return 10 * Math.log10(signal / error);
}

/** M4 largest absolute sample difference (NaN if either signal holds NaN); §7: chunked vocoder ≤ 1e−5 in fp32. */
export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  checkSameLength(a, b);
  let max = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return NaN;
    if (d > max) max = d;
  }
  return max;
}

/** SSZ, SFZ and HFR of `samples` with seams at `seamSeconds`, from one log-mel analysis. */
export function seamReport(
  samples: Float32Array,
  sampleRate: number,
  seamSeconds: readonly number[],
  options: LogMelOptions = {},
): SeamReport {
  const S = logMel(samples, sampleRate, options);
  const seamFrames = seamSeconds.map((seconds, i) => {
    if (!Number.isFinite(seconds)) {
      throw new RangeError(`seamSeconds[${i}] is ${seconds}; seams must be finite times in seconds`);
    }
    return Math.round((seconds * sampleRate) / S.hop);
  });
  return { ssz: seamStepZ(S, seamFrames), sfz: seamFluxZ(S, seamFrames), hfrDb: hfRetentionDb(S, seamFrames) };
}

/** True when no metric crosses its {@link SEAM_FLAGS} threshold; a null metric (nothing to judge) passes. */
export function seamsClean(report: SeamReport): boolean {
  return (
    (report.ssz === null || report.ssz < SEAM_FLAGS.ssz) &&
    (report.sfz === null || report.sfz < SEAM_FLAGS.sfz) &&
    (report.hfrDb === null || report.hfrDb > SEAM_FLAGS.hfrDb)
  );
}

// ─── helpers ─────────────────────────────────────────────────────────────────────────────────────────────────────

interface Filterbank {
  /** Periodic Hann window of length nFft: 0.5 − 0.5·cos(2πn/N), numpy's hanning(N+1)[:-1]. */
  window: Float64Array;
  /** First FFT bin of each filter's support. */
  first: Int32Array;
  /** Non-zero weights of each filter, from its first bin on (sparse: ≈ 2 weights per FFT bin in all). */
  weights: Float64Array[];
}

const filterbanks = new Map<string, Filterbank>();

/** The cached window and mel filters for (sampleRate, nFft, bins); the oldest entry goes when the cache is full. */
function filterbank(sampleRate: number, nFft: number, bins: number): Filterbank {
  const key = `${sampleRate}/${nFft}/${bins}`;
  const cached = filterbanks.get(key);
  if (cached !== undefined) return cached;

  const window = new Float64Array(nFft);
  for (let n = 0; n < nFft; n++) window[n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / nFft);
  // bins + 2 points equally spaced on the HTK mel scale from 0 Hz to Nyquist: filter i rises from edge i to i+1
  // and falls to i+2. The 1e−9 in the slopes is the reference's, kept so the weights match it.
  const hzToMel = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
  const melToHz = (mel: number): number => 700 * (10 ** (mel / 2595) - 1);
  const topMel = hzToMel(sampleRate / 2);
  const edges = Float64Array.from({ length: bins + 2 }, (_, i) => melToHz((topMel * i) / (bins + 1)));
  const fftBins = nFft / 2 + 1;
  const first = new Int32Array(bins);
  const weights: Float64Array[] = [];
  for (let f = 0; f < bins; f++) {
    const [left, centre, right] = [edges[f], edges[f + 1], edges[f + 2]];
    const row = new Float64Array(fftBins);
    let start = fftBins;
    let end = 0;
    for (let k = 0; k < fftBins; k++) {
      const hz = (k * sampleRate) / nFft;
      const w = Math.max(0, Math.min((hz - left) / (centre - left + 1e-9), (right - hz) / (right - centre + 1e-9)));
      row[k] = w;
      if (w > 0) {
        start = Math.min(start, k);
        end = k + 1;
      }
    }
    first[f] = Math.min(start, fftBins - 1);
    weights.push(row.slice(first[f], Math.max(end, first[f])));
  }

  const bank = { window, first, weights };
  if (filterbanks.size >= FILTERBANK_CACHE_SIZE) {
    const oldest = filterbanks.keys().next();
    if (oldest.done !== true) filterbanks.delete(oldest.value);
  }
  filterbanks.set(key, bank);
  return bank;
}

/** numpy's 'reflect' padding: mirror about the end samples without repeating them, as often as needed. */
function reflect(index: number, length: number): number {
  if (length === 1) return 0;
  const period = 2 * (length - 1);
  const m = ((index % period) + period) % period;
  return m < length ? m : period - m;
}

/** Values of `series` in [lo, hi) that lie more than `exclude` frames from every seam. */
function backgroundValues(
  series: Float64Array,
  lo: number,
  hi: number,
  seamFrames: readonly number[],
  exclude: number,
): Float64Array {
  const masked = new Uint8Array(series.length);
  for (const s of seamFrames) {
    const a = Math.max(lo, s - exclude);
    const b = Math.min(hi, s + exclude + 1);
    if (a < b) masked.fill(1, a, b);
  }
  const out: number[] = [];
  for (let n = lo; n < hi; n++) if (masked[n] === 0) out.push(series[n]);
  return Float64Array.from(out);
}

/** max over `values` of (v − median(B)) / (1.4826·MAD(B)); null when either set is empty. */
function maxRobustZ(values: readonly number[], background: Float64Array): number | null {
  if (values.length === 0 || background.length === 0) return null;
  const centre = median(background);
  const sigma = Math.max(SIGMA_FLOOR_DB, MAD_TO_SIGMA * median(background.map((v) => Math.abs(v - centre))));
  return (Math.max(...values) - centre) / sigma;
}

/** Median (mean of the middle two for an even count); the input is not modified. */
function median(values: Float64Array): number {
  const sorted = values.slice().sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function checkMelArguments(sampleRate: number, nFft: number, hop: number, bins: number): void {
  if (!Number.isFinite(sampleRate) || sampleRate <= 0) {
    throw new RangeError(`sampleRate must be a positive number of Hz (e.g. 16000), got ${sampleRate}`);
  }
  if (!Number.isInteger(nFft) || nFft < 4 || (nFft & (nFft - 1)) !== 0) {
    throw new RangeError(`nFft must be a power of two ≥ 4 (e.g. 1024 at 16 kHz, 2048 at 44.1 kHz), got ${nFft}`);
  }
  checkCount(hop, 'hop', 1);
  checkCount(bins, 'bins', 1);
}

function checkCount(value: number, name: string, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${name} must be a whole number of frames ≥ ${min}, got ${value}`);
  }
}

function checkSeamFrames(seamFrames: readonly number[]): void {
  seamFrames.forEach((s, i) => {
    if (!Number.isInteger(s)) {
      throw new RangeError(`seamFrames[${i}] is ${s}; seams are whole frame indices (round(seconds·sampleRate/hop))`);
    }
  });
}

function checkFinite(samples: Float32Array, name: string): void {
  for (let i = 0; i < samples.length; i++) {
    if (!Number.isFinite(samples[i])) {
      throw new RangeError(`${name}[${i}] is ${samples[i]}; seam metrics need finite samples`);
    }
  }
}

function checkSameLength(a: Float32Array, b: Float32Array): void {
  if (a.length !== b.length) {
    throw new RangeError(`signals differ in length (${a.length} vs ${b.length} samples); compare equal-length runs`);
  }
}
