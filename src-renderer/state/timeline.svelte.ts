/**
 * The timeline's view state: zoom, horizontal scroll, the lane viewport, ruler mode, snapping and the live
 * gesture preview. Scrolling is native (the lane container scrolls), so `scrollSeconds` only follows it for the
 * ruler; zoom changes ask the container to scroll through `scrollRequest`.
 */
import { clampZoom, fitView, gridStep, zoomAt, type View } from '../model/time.ts';
import type { RegionId, TrackId } from '../../src-main/contract/project.ts';
import type { Span } from './drag.ts';

/** Height of one track row, px. */
export const TRACK_HEIGHT = 88;
/** Width of the track header column, px. */
export const HEADER_WIDTH = 236;
/** Height of the ruler, px. */
export const RULER_HEIGHT = 36;
/** Seconds of empty timeline kept after the last region so there is room to draw. */
export const TAIL_SECONDS = 60;
/** The timeline is at least this long, so an empty project still has room (10 minutes). */
export const MIN_TIMELINE_SECONDS = 600;
/** Zoom factor of one button press or key. */
export const ZOOM_STEP = 1.5;
/** Quiet time after the last zoom step before waveforms are redrawn at the new zoom, ms. */
export const ZOOM_SETTLE_MS = 120;

/** What a drag shows before it is committed as one edit. */
export type DragPreview =
  | { kind: 'move'; ids: ReadonlySet<RegionId>; delta: number; trackShift: number; valid: boolean }
  | { kind: 'trim'; id: RegionId; edge: 'start' | 'end'; time: number }
  | { kind: 'draw'; trackId: TrackId; start: number; end: number }
  | { kind: 'marquee'; fromRow: number; toRow: number; start: number; end: number }
  | { kind: 'loop'; start: number; end: number };

/** Where the lane geometry is, supplied by the mounted Timeline component. */
export interface LaneGeometry {
  /** Client x of timeline second 0. */
  originX(): number;
  /** Client y of the first track row's top. */
  originY(): number;
}

/** The timeline view. */
export class TimelineState {
  pxPerSecond = $state(12);
  /**
   * The zoom waveforms are drawn at: follows `pxPerSecond` once zooming pauses (ZOOM_SETTLE_MS), so a burst of
   * Ctrl+wheel steps only stretches the drawn waveforms (a CSS scale) and redraws them once at the end.
   */
  renderPxPerSecond = $state(12);
  /** Seconds at the left edge of the lane viewport (follows the native scroll). */
  scrollSeconds = $state(0);
  /** Width of the lane viewport, px (without the track headers). */
  viewportWidth = $state(900);
  snapEnabled = $state(true);
  rulerMode = $state<'time' | 'bars'>('time');
  /** Where the snap indicator line is, seconds (null = hidden). */
  snapAt = $state<number | null>(null);
  drag = $state.raw<DragPreview | null>(null);
  /** A scroll position the Timeline component applies after the DOM has the new width. */
  scrollRequest = $state.raw<{ seconds: number; serial: number } | null>(null);
  /** Whether the view follows the playhead while playing. */
  followPlayhead = $state(true);
  geometry: LaneGeometry | null = null;

  view: View = $derived({ pxPerSecond: this.pxPerSecond, scrollSeconds: this.scrollSeconds });
  visibleSeconds = $derived(this.viewportWidth / this.pxPerSecond);
  #serial = 0;
  #settle: ReturnType<typeof setTimeout> | undefined;

  /** Zooms by `factor` keeping `anchorSeconds` (default: the viewport's centre) where it is on screen. */
  zoomBy(factor: number, anchorSeconds?: number): void {
    const anchorPx =
      anchorSeconds === undefined ? this.viewportWidth / 2 : (anchorSeconds - this.scrollSeconds) * this.pxPerSecond;
    const anchor = anchorSeconds ?? this.scrollSeconds + this.visibleSeconds / 2;
    const next = zoomAt(this.view, factor, anchor, anchorPx);
    this.#apply(next);
  }

  /** Zooms by `factor` at the playhead when it is on screen (as Reaper does), else at the viewport's centre. */
  zoomAround(factor: number, playhead: number): void {
    const onScreen = playhead >= this.scrollSeconds && playhead <= this.scrollSeconds + this.visibleSeconds;
    this.zoomBy(factor, onScreen ? playhead : undefined);
  }

  /** Zooms so that `seconds` of timeline fill the viewport, starting at 0 (`immediate`: redraw at once). */
  fit(seconds: number, immediate = false): void {
    this.#apply(fitView(Math.max(1, seconds), Math.max(100, this.viewportWidth)));
    if (immediate) this.#settleNow();
  }

  /** Scrolls so that `t` is visible, paging like a DAW when it leaves the right edge. */
  reveal(t: number, page = true): void {
    const left = this.scrollSeconds;
    const right = left + this.visibleSeconds;
    if (t >= left && t <= right - 0.02 * this.visibleSeconds) return;
    const target = page && t > right - 0.02 * this.visibleSeconds ? t - 0.05 * this.visibleSeconds : t - 0.3 * this.visibleSeconds;
    this.scrollTo(Math.max(0, target));
  }

  scrollTo(seconds: number): void {
    this.scrollRequest = { seconds: Math.max(0, seconds), serial: ++this.#serial };
  }

  /** The grid step at this zoom and tempo, seconds. */
  grid(tempo: number): number {
    return gridStep(this.view, tempo).seconds;
  }

  /** Timeline seconds under a client x (needs a mounted Timeline). */
  timeAt(clientX: number): number {
    const origin = this.geometry?.originX() ?? 0;
    return Math.max(0, (clientX - origin) / this.pxPerSecond);
  }

  /** Row offset (px from the first track's top) under a client y. */
  rowOffsetAt(clientY: number): number {
    return clientY - (this.geometry?.originY() ?? 0);
  }

  #apply(next: View): void {
    const pps = clampZoom(next.pxPerSecond);
    this.pxPerSecond = pps;
    this.scrollSeconds = Math.max(0, next.scrollSeconds);
    this.scrollTo(this.scrollSeconds);
    clearTimeout(this.#settle);
    this.#settle = setTimeout(() => this.#settleNow(), ZOOM_SETTLE_MS);
  }

  #settleNow(): void {
    clearTimeout(this.#settle);
    this.renderPxPerSecond = this.pxPerSecond;
  }
}

/** Whether `t` falls inside a span (inclusive start). */
export function inSpan(span: Span | null, t: number): boolean {
  return span !== null && t >= span.start && t < span.end;
}
