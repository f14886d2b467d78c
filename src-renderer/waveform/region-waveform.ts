/**
 * Draws one region's waveform with wavesurfer.js v8 from precomputed peaks (research/ux.md §2.2–2.3): wavesurfer is
 * only the painter inside a region box the timeline renders. No URL, no media loading, no decoding (wavesurfer gets
 * `peaks` + `duration`), no interaction, no cursor, no normalisation (the height shows the real level).
 */
import WaveSurfer from 'wavesurfer.js';
import { toWaveSurferPeaks, type PeakPairs } from './peaks.ts';

/** What a region waveform shows. */
export interface WaveformOptions {
  /** Interleaved `min, max` pairs (−1…1) spread evenly over `duration` (see `slicePeaks`). */
  peaks: PeakPairs;
  /** Seconds the peaks cover; the drawing fills the container's width. */
  duration: number;
  /** Waveform colour (any CSS colour). */
  colour: string;
  /** Colour of the part before the progress point; `colour` when absent (no progress is ever set). */
  progressColour?: string;
  /** Height in px. */
  height: number;
}

/** A mounted waveform. */
export interface MountedWaveform {
  /** Changes what is shown; peaks/duration changes redraw from the new data. */
  update(options: Partial<WaveformOptions>): void;
  /** Removes the drawing and frees wavesurfer's resources; idempotent. */
  destroy(): void;
}

/** Duration given to wavesurfer when there is none: it refuses 0. */
const MIN_DURATION = 1e-3;

/** Mounts a waveform into `container` (which sets the width). */
export function mountWaveform(container: HTMLElement, options: WaveformOptions): MountedWaveform {
  let current: WaveformOptions = { ...options };
  const duration = (): number => Math.max(MIN_DURATION, current.duration);
  const wavesurfer = WaveSurfer.create({
    container,
    height: current.height,
    waveColor: current.colour,
    progressColor: current.progressColour ?? current.colour,
    cursorWidth: 0,
    interact: false,
    dragToSeek: false,
    normalize: false,
    fillParent: true,
    minPxPerSec: 0,
    autoScroll: false,
    autoCenter: false,
    hideScrollbar: true,
    // NOTE: peaks + duration and no url: wavesurfer draws without fetching or decoding anything.
    peaks: toWaveSurferPeaks(current.peaks),
    duration: duration(),
  });
  let destroyed = false;

  return {
    update(next) {
      if (destroyed) return;
      const previous = current;
      current = { ...current, ...next };
      if (current.peaks !== previous.peaks || current.duration !== previous.duration) {
        // NOTE: setOptions({ peaks }) re-renders the previous data in v8.0.1; load('', peaks, duration) redraws.
        void wavesurfer.load('', toWaveSurferPeaks(current.peaks), duration()).catch(() => undefined);
      }
      if (
        current.colour !== previous.colour ||
        current.progressColour !== previous.progressColour ||
        current.height !== previous.height
      ) {
        wavesurfer.setOptions({
          waveColor: current.colour,
          progressColor: current.progressColour ?? current.colour,
          height: current.height,
        });
      }
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      wavesurfer.destroy();
    },
  };
}
