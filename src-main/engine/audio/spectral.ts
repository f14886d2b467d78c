/**
 * Short-time spectral analysis of a mono signal: summary features (spectral centroid, spectral flatness and RMS)
 * and the log-mel spectrogram the seam metrics (seams.ts) work on. The features tell tones from noise textures and
 * bright from dark audio in tests and benchmarks (e.g. "does the sketch model's prompt change the sound", "does a
 * seam change the timbre").
 *
 * Summary features ({@link spectralFeatures}):
 * Method (all frames are `frameSize`-point periodic Hann windows, `hop` samples apart, power P[k] = |X[k]|² for the
 * bins k = 0 … frameSize/2, bin frequency f_k = k·sampleRate/frameSize):
 * - Frames that are digital silence (every sample exactly 0, or zero power after windowing) are skipped: they have
 *   no spectrum to describe. `frames` counts the frames that were analysed.
 * - Centroid: power-weighted over frames, i.e. Σ_frames Σ_k f_k·P[k] / Σ_frames Σ_k P[k], which is the centroid
 *   of the summed power spectrum. Loud frames count more, so a near-silent tail (dither, reverb floor) cannot drag
 *   the figure towards its own noise.
 * - Flatness: per frame, geometric mean / arithmetic mean of P[k] over all bins (Wiener entropy; 1 for flat
 *   spectra, → 0 for tones), then the plain mean over analysed frames. The log uses P[k] + ε with ε = 1e-12 × the
 *   frame's mean power: scale-invariant like the ratio itself, and it keeps exactly-zero bins finite. White noise
 *   gives ≈ e^−γ ≈ 0.56 (each bin's power is exponentially distributed), a pure tone < 0.01.
 * - RMS: over every input sample, silent frames and the unframed tail included.
 * Frames start at 0, hop, 2·hop, … and must fit inside the signal; the tail shorter than a frame is not analysed.
 * A signal shorter than one frame is analysed as a single zero-padded frame (an approximation: its end is cut
 * without a taper). An empty or all-silent signal gives zeros.
 *
 * Log-mel spectrogram ({@link logMel}, research/seam_metrics.py's `logmel`): S[f, n] = 10·log10(melfb·|STFT|² +
 * 1e−10) dB with n_fft 1024, hop 160, periodic Hann window, signal reflect-padded by n_fft/2 at both ends (so frame n
 * is centred on sample n·hop and there are 1 + ⌊len/hop⌋ frames), 64 triangular mel filters (HTK mel scale,
 * unnormalised peaks of 1) spaced from 0 Hz to sampleRate/2. The defaults are calibrated for 16 kHz (10 ms frames).
 */
import FFT from 'fft.js';

/** Framing of {@link spectralFeatures}. */
export interface SpectralOptions {
  /** Frame length in samples; a power of two ≥ 4. Default 2048. */
  frameSize?: number;
  /** Samples between frame starts; a positive integer. Default 1024 (50 % overlap). */
  hop?: number;
}

/** Summary features of a signal; see the module comment for the exact definitions. */
export interface SpectralFeatures {
  /** Power-weighted spectral centroid in Hz (0 when no frame was analysed). */
  centroidHz: number;
  /** Mean spectral flatness over analysed frames, in [0, 1] (0 when no frame was analysed). */
  flatness: number;
  /** Root mean square of all samples (0 for an empty signal). */
  rms: number;
  /** Number of non-silent frames analysed. */
  frames: number;
}

const DEFAULT_FRAME_SIZE = 2048;
const DEFAULT_HOP = 1024;
/** ε inside the flatness log, relative to the frame's mean power. */
const RELATIVE_POWER_FLOOR = 1e-12;

/** Centroid, flatness and RMS of `samples` (mono, any scale) at `sampleRate` Hz. */
export function spectralFeatures(
  samples: Float32Array,
  sampleRate: number,
  options: SpectralOptions = {},
): SpectralFeatures {
  const frameSize = options.frameSize ?? DEFAULT_FRAME_SIZE;
  const hop = options.hop ?? DEFAULT_HOP;
  checkArguments(sampleRate, frameSize, hop);
  const rms = rootMeanSquare(samples);

  const starts: number[] = [];
  if (samples.length > 0 && samples.length < frameSize) starts.push(0);
  for (let start = 0; start + frameSize <= samples.length; start += hop) starts.push(start);

  const window = periodicHann(frameSize);
  const fft = new FFT(frameSize);
  const frame = new Float64Array(frameSize);
  const spectrum = new Float64Array(2 * frameSize);
  const bins = frameSize / 2 + 1;
  const binHz = sampleRate / frameSize;

  let frames = 0;
  let powerSum = 0;
  let weightedFrequencySum = 0;
  let flatnessSum = 0;
  for (const start of starts) {
    const end = Math.min(start + frameSize, samples.length);
    if (isDigitalSilence(samples, start, end)) continue;
    frame.fill(0);
    for (let i = start; i < end; i++) frame[i - start] = samples[i] * window[i - start];
    fft.realTransform(spectrum, frame);

    let framePower = 0;
    let frameWeightedFrequency = 0;
    for (let k = 0; k < bins; k++) {
      const power = spectrum[2 * k] ** 2 + spectrum[2 * k + 1] ** 2;
      framePower += power;
      frameWeightedFrequency += k * binHz * power;
    }
    if (framePower === 0) continue;

    const meanPower = framePower / bins;
    const floor = RELATIVE_POWER_FLOOR * meanPower;
    let logSum = 0;
    for (let k = 0; k < bins; k++) {
      logSum += Math.log(spectrum[2 * k] ** 2 + spectrum[2 * k + 1] ** 2 + floor);
    }
    flatnessSum += Math.min(1, Math.exp(logSum / bins) / meanPower);
    powerSum += framePower;
    weightedFrequencySum += frameWeightedFrequency;
    frames++;
  }

  if (frames === 0) return { centroidHz: 0, flatness: 0, rms, frames: 0 };
  return { centroidHz: weightedFrequencySum / powerSum, flatness: flatnessSum / frames, rms, frames };
}

function checkArguments(sampleRate: number, frameSize: number, hop: number): void {
  if (!Number.isFinite(sampleRate) || sampleRate <= 0) {
    throw new RangeError(`sampleRate must be a positive number of Hz, got ${sampleRate}`);
  }
  if (!Number.isInteger(frameSize) || frameSize < 4 || (frameSize & (frameSize - 1)) !== 0) {
    throw new RangeError(`frameSize must be a power of two ≥ 4 (e.g. 1024, 2048, 4096), got ${frameSize}`);
  }
  if (!Number.isInteger(hop) || hop < 1) {
    throw new RangeError(`hop must be a positive whole number of samples (e.g. frameSize / 2), got ${hop}`);
  }
}

/** RMS of all samples; rejects NaN and ±Infinity, naming the first bad index. */
function rootMeanSquare(samples: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const x = samples[i];
    if (!Number.isFinite(x)) throw new RangeError(`sample ${i} is ${x}; spectral features need finite samples`);
    sum += x * x;
  }
  return samples.length === 0 ? 0 : Math.sqrt(sum / samples.length);
}

function isDigitalSilence(samples: Float32Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (samples[i] !== 0) return false;
  return true;
}

/** w[n] = 0.5 − 0.5·cos(2πn/N): the periodic Hann window, the usual choice for spectral analysis. */
function periodicHann(size: number): Float64Array {
  const window = new Float64Array(size);
  for (let n = 0; n < size; n++) window[n] = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / size);
  return window;
}

// ─── log-mel spectrogram ─────────────────────────────────────────────────────────────────────────────────────────

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

const DEFAULT_N_FFT = 1024;
const DEFAULT_MEL_HOP = 160;
const DEFAULT_BINS = 64;
/** Added to the mel power before the log (reference: 1e−10, i.e. a −100 dB floor). */
const POWER_FLOOR = 1e-10;
/** Filterbanks kept; one per (sampleRate, nFft, bins) in use, and a process rarely uses more than two. */
const FILTERBANK_CACHE_SIZE = 8;

/** Log-mel spectrogram of `samples` (mono) in dB, framed and filtered like seam_metrics.py's `logmel`. */
export function logMel(samples: Float32Array, sampleRate: number, options: LogMelOptions = {}): LogMel {
  const nFft = options.nFft ?? DEFAULT_N_FFT;
  const hop = options.hop ?? DEFAULT_MEL_HOP;
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

  const window = periodicHann(nFft);
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

function checkMelArguments(sampleRate: number, nFft: number, hop: number, bins: number): void {
  if (!Number.isFinite(sampleRate) || sampleRate <= 0) {
    throw new RangeError(`sampleRate must be a positive number of Hz (e.g. 16000), got ${sampleRate}`);
  }
  if (!Number.isInteger(nFft) || nFft < 4 || (nFft & (nFft - 1)) !== 0) {
    throw new RangeError(`nFft must be a power of two ≥ 4 (e.g. 1024 at 16 kHz, 2048 at 44.1 kHz), got ${nFft}`);
  }
  checkFrameCount(hop, 'hop', 1);
  checkFrameCount(bins, 'bins', 1);
}

function checkFrameCount(value: number, name: string, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${name} must be a whole number of frames ≥ ${min}, got ${value}`);
  }
}

function checkFinite(samples: Float32Array, name: string): void {
  for (let i = 0; i < samples.length; i++) {
    if (!Number.isFinite(samples[i])) {
      throw new RangeError(`${name}[${i}] is ${samples[i]}; a log-mel spectrogram needs finite samples`);
    }
  }
}
