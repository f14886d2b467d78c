/**
 * Draws one slice of a region's waveform from precomputed peaks (research/ux.md §2.2–2.3) into one canvas of the
 * slice's size, with wavesurfer.js v8's own line geometry (`calculateLinePaths`, the path its `renderLineWaveform`
 * fills): the same look as a `WaveSurfer` instance without its costs. A `WaveSurfer` instance copies every canvas
 * into a "progress" canvas (`renderSingleCanvas`: `cloneNode`, `drawImage`, a `source-in` fill) that no option
 * turns off, re-renders from its own ResizeObserver timer outside the redraw queue, and draws the whole width it
 * is given; here a draw happens only when `update` is called (from the redraw queue), once, at the given width.
 * No URL, no media, no decoding, no normalisation (the height shows the real level).
 *
 * The canvas sits in an open shadow root on a child of the container, where wavesurfer kept its canvases, so tools
 * that count waveform canvases (tools/bench-ui.ts) find it at the same place.
 */
import { calculateLinePaths } from 'wavesurfer.js/dist/renderer-utils.js';
import { toWaveSurferPeaks, type PeakPairs } from './peaks.ts';

/** What a waveform slice shows. */
export interface WaveformOptions {
  /** Interleaved `min, max` pairs (−1…1) spread evenly over `width` (see `slicePeaks`). */
  peaks: PeakPairs;
  /** Width to draw at, CSS px (the slice's span at the drawing zoom). */
  width: number;
  /** Waveform colour (any CSS colour). */
  colour: string;
  /** Height in CSS px. */
  height: number;
}

/** A mounted waveform. */
export interface MountedWaveform {
  /** Changes what is shown and redraws now (callers queue this: redraw-queue.ts). */
  update(options: Partial<WaveformOptions>): void;
  /** Removes the drawing; idempotent. */
  destroy(): void;
}

/** Canvas pixels never exceed this per side (browsers refuse larger canvases; slices are far smaller). */
const MAX_CANVAS_PX = 16_384;

/** Mounts a waveform slice into `container` and draws it once. */
export function mountWaveform(container: HTMLElement, options: WaveformOptions): MountedWaveform {
  let current: WaveformOptions = { ...options };
  const host = document.createElement('div');
  host.style.cssText = 'position:absolute;inset:0;pointer-events:none';
  const root = host.attachShadow({ mode: 'open' });
  const canvas = document.createElement('canvas');
  canvas.style.cssText = 'display:block;position:absolute;left:0;top:0';
  root.appendChild(canvas);
  container.appendChild(host);
  let destroyed = false;

  const draw = (): void => {
    const ratio = Math.max(1, globalThis.devicePixelRatio || 1);
    const cssWidth = Math.max(1, current.width);
    const width = Math.max(1, Math.min(MAX_CANVAS_PX, Math.round(cssWidth * ratio)));
    const height = Math.max(1, Math.min(MAX_CANVAS_PX, Math.round(current.height * ratio)));
    canvas.style.width = `${cssWidth}px`;
    canvas.style.height = `${current.height}px`;
    const ctx = canvas.getContext('2d');
    if (canvas.width !== width || canvas.height !== height) {
      // Resizing clears the canvas.
      canvas.width = width;
      canvas.height = height;
    } else {
      ctx?.clearRect(0, 0, width, height);
    }
    if (ctx === null) return;
    const paths = calculateLinePaths({ channelData: toWaveSurferPeaks(current.peaks), width, height, vScale: 1 });
    ctx.fillStyle = current.colour;
    ctx.beginPath();
    for (const path of paths) {
      const first = path[0];
      if (first === undefined) continue;
      ctx.moveTo(first.x, first.y);
      for (let i = 1; i < path.length; i++) ctx.lineTo(path[i].x, path[i].y);
    }
    ctx.fill();
  };
  draw();

  return {
    update(next) {
      if (destroyed) return;
      current = { ...current, ...next };
      draw();
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      host.remove();
      // Frees the backing store now rather than at garbage collection.
      canvas.width = 0;
      canvas.height = 0;
    },
  };
}
