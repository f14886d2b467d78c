/**
 * Short-time spectral features of a mono signal: spectral centroid, spectral flatness and RMS. Used to tell tones
 * from noise textures and bright from dark audio in tests and benchmarks (e.g. "does the sketch model's prompt
 * change the sound", "does a seam change the timbre").
 *
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
