/**
 * The timeline's units in one place: seconds (documents) ↔ pixels (the view), zoom limits, time and bar/beat text,
 * the musical grid and the ruler's ticks. Pure functions over a plain `View`, so the state layer can keep the view
 * in `$state` and tests can check the arithmetic in Node.
 */

/** What part of the timeline is on screen: its scale and the time at the left edge (≥ 0). */
export interface View {
  pxPerSecond: number;
  scrollSeconds: number;
}

/** Most zoomed out: a 10-minute piece fits in about 900–1000 px. */
export const MIN_PX_PER_SECOND = 1.5;
/** Most zoomed in: about 24 samples per pixel at 48 kHz, enough to place an edge on a transient. */
export const MAX_PX_PER_SECOND = 2000;
/** What `fitView` shows of an empty project: room to draw the first regions without zooming. */
export const EMPTY_FIT_SECONDS = 60;

/** `pxPerSecond` held within MIN…MAX (NaN and ≤ 0 give the minimum, so a bad width never blanks the view). */
export function clampZoom(pxPerSecond: number): number {
  if (Number.isNaN(pxPerSecond) || pxPerSecond < MIN_PX_PER_SECOND) return MIN_PX_PER_SECOND;
  return Math.min(pxPerSecond, MAX_PX_PER_SECOND);
}

/** Horizontal position of time `t` relative to the left edge of the timeline area. */
export function secondsToPx(view: View, t: number): number {
  return (t - view.scrollSeconds) * view.pxPerSecond;
}

/** The time under horizontal position `x` (the inverse of `secondsToPx`). */
export function pxToSeconds(view: View, x: number): number {
  return view.scrollSeconds + x / view.pxPerSecond;
}

/** The span of time `widthPx` of timeline shows, for culling regions and ticks. */
export function visibleRange(view: View, widthPx: number): { start: number; end: number } {
  return { start: view.scrollSeconds, end: pxToSeconds(view, Math.max(0, widthPx)) };
}

/**
 * Zooms by `factor` keeping `anchorSeconds` at `anchorPx` (the pointer), as Ctrl+wheel does in every DAW. The
 * scale is clamped, and scroll never goes below 0: near the start the anchor then drifts towards 0 instead.
 */
export function zoomAt(view: View, factor: number, anchorSeconds: number, anchorPx: number): View {
  if (!Number.isFinite(factor) || factor <= 0) return view;
  const pxPerSecond = clampZoom(view.pxPerSecond * factor);
  const scrollSeconds = Math.max(0, anchorSeconds - anchorPx / pxPerSecond);
  return { pxPerSecond, scrollSeconds: Number.isFinite(scrollSeconds) ? scrollSeconds : 0 };
}

/** The view that shows `durationSeconds` from 0 across `widthPx` (within the zoom limits). */
export function fitView(durationSeconds: number, widthPx: number): View {
  const span = Number.isFinite(durationSeconds) && durationSeconds > 0 ? durationSeconds : EMPTY_FIT_SECONDS;
  return { pxPerSecond: clampZoom(widthPx / span), scrollSeconds: 0 };
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** `m:ss.mmm`, or `h:mm:ss.mmm` from one hour; rounded to the millisecond. */
export function formatTime(seconds: number): string {
  if (!Number.isFinite(seconds)) return '-:--.---';
  const sign = seconds < 0 ? '-' : '';
  const ms = Math.round(Math.abs(seconds) * 1000);
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor(ms / 60_000) % 60;
  const s = Math.floor(ms / 1000) % 60;
  const rest = `${pad(s, 2)}.${pad(ms % 1000, 3)}`;
  return h > 0 ? `${sign}${h}:${pad(m, 2)}:${rest}` : `${sign}${m}:${rest}`;
}

/** Seconds of one beat (a quarter note) at `tempo` BPM. */
export function secondsPerBeat(tempo: number): number {
  return 60 / tempo;
}

/** Beats in a bar: the grid is 4/4 (the document has no time signature). */
export const BEATS_PER_BAR = 4;

/** Bar and beat of `seconds` as `bar.beat`, both 1-based (0 s → `1.1`); times before 0 read as 0. */
export function formatBarsBeats(seconds: number, tempo: number): string {
  // NOTE: the epsilon keeps a beat computed as 2.9999999 (float sums) on beat 3, where the grid line is drawn.
  const beats = Math.floor(Math.max(0, seconds) / secondsPerBeat(tempo) + 1e-9);
  return `${Math.floor(beats / BEATS_PER_BAR) + 1}.${(beats % BEATS_PER_BAR) + 1}`;
}

/** One step of the musical grid. */
export interface GridStep {
  seconds: number;
  kind: 'bar' | 'beat' | 'sub';
}

/** Grid lines closer than this are noise, not help. */
export const MIN_GRID_PX = 8;

/**
 * The finest musical grid whose lines are at least MIN_GRID_PX (or `minPx`) apart: 1/4 beat, 1/2 beat, beat, then
 * 1, 2, 4, 8… bars.
 */
export function gridStep(view: View, tempo: number, minPx = MIN_GRID_PX): GridStep {
  const beat = secondsPerBeat(tempo);
  const fits = (seconds: number): boolean => seconds * view.pxPerSecond >= minPx;
  if (fits(beat / 4)) return { seconds: beat / 4, kind: 'sub' };
  if (fits(beat / 2)) return { seconds: beat / 2, kind: 'sub' };
  if (fits(beat)) return { seconds: beat, kind: 'beat' };
  let bars = beat * BEATS_PER_BAR;
  // Bounded: 2^40 bars covers any tempo at any zoom; a degenerate view must not spin forever.
  for (let i = 0; i < 40 && !fits(bars); i++) bars *= 2;
  return { seconds: bars, kind: 'bar' };
}

/** One ruler tick; major ticks carry a label. */
export interface RulerTick {
  seconds: number;
  px: number;
  major: boolean;
  label?: string;
}

/** Time steps a ruler labels; each later one is a whole multiple of the finer ones it is split into. */
export const TIME_STEPS = [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300] as const;
/** Labels need about this much room; major ticks are at least this far apart. */
export const MIN_LABEL_PX = 80;

/**
 * Ticks for the ruler across `widthPx`: labelled major ticks at least MIN_LABEL_PX apart, and unlabelled minor ticks
 * between them at least MIN_GRID_PX apart. 'time' labels clock time on TIME_STEPS; 'bars' labels bars (or
 * `bar.beat` when beats are far enough apart to carry a label each).
 */
export function rulerTicks(view: View, widthPx: number, tempo: number, mode: 'time' | 'bars'): RulerTick[] {
  if (!(widthPx > 0) || !(view.pxPerSecond > 0) || !Number.isFinite(view.pxPerSecond)) return [];
  const scale = mode === 'time' ? timeScale(view) : barScale(view, tempo);
  const ratio = Math.round(scale.major / scale.minor);
  const { start, end } = visibleRange(view, widthPx);
  const first = Math.max(0, Math.ceil(start / scale.minor - 1e-9));
  const last = Math.floor(end / scale.minor + 1e-9);
  const ticks: RulerTick[] = [];
  for (let k = first; k <= last; k++) {
    const seconds = k * scale.minor;
    const major = k % ratio === 0;
    const tick: RulerTick = { seconds, px: secondsToPx(view, seconds), major };
    if (major) tick.label = scale.label(seconds);
    ticks.push(tick);
  }
  return ticks;
}

interface Scale {
  major: number;
  /** Equal to `major` when no finer tick fits. */
  minor: number;
  label: (seconds: number) => string;
}

function timeScale(view: View): Scale {
  const px = view.pxPerSecond;
  const major = TIME_STEPS.find((s) => s * px >= MIN_LABEL_PX) ?? TIME_STEPS[TIME_STEPS.length - 1];
  const divides = (s: number): boolean => Math.abs(major / s - Math.round(major / s)) < 1e-6;
  const minor = TIME_STEPS.find((s) => s < major && s * px >= MIN_GRID_PX && divides(s)) ?? major;
  const decimals = major >= 1 ? 0 : major >= 0.1 ? 1 : 2;
  return { major, minor, label: (t) => formatClock(t, decimals) };
}

function barScale(view: View, tempo: number): Scale {
  const beat = secondsPerBeat(tempo);
  const labelled = gridStep(view, tempo, MIN_LABEL_PX);
  // Sub-beat steps cannot carry a `bar.beat` label of their own, so beats are the finest labelled step.
  const major = labelled.kind === 'sub' ? beat : labelled.seconds;
  const minor = Math.min(gridStep(view, tempo).seconds, major);
  const label = major < beat * BEATS_PER_BAR
    ? (t: number) => formatBarsBeats(t, tempo)
    : (t: number) => String(Math.round(t / (beat * BEATS_PER_BAR)) + 1);
  return { major, minor, label };
}

/** `m:ss` with `decimals` fraction digits (`h:mm:ss` from an hour): a ruler label, shorter than `formatTime`. */
function formatClock(seconds: number, decimals: number): string {
  const unit = 10 ** decimals;
  const total = Math.round(seconds * unit);
  const whole = Math.floor(total / unit);
  const h = Math.floor(whole / 3600);
  const m = Math.floor(whole / 60) % 60;
  const s = whole % 60;
  const fraction = decimals > 0 ? `.${pad(total % unit, decimals)}` : '';
  return h > 0 ? `${h}:${pad(m, 2)}:${pad(s, 2)}${fraction}` : `${m}:${pad(s, 2)}${fraction}`;
}
