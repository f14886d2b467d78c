/**
 * The pure parts of `npm run bench:ui` (tools/bench-ui.ts), importable and unit-tested
 * (tests/tools/bench-ui-stats.test.ts): frame statistics from requestAnimationFrame timestamps, the synthetic
 * project's plan and audio, which asset a request URL names, the command line, and table formatting.
 * Nothing here touches the file system, a browser or the clock.
 */
import { parseArgs } from 'node:util';
import { CliError, parseNumber } from '../src-main/cli/args.ts';
import { createRng, type Rng } from '../src-main/engine/tensor/rng.ts';
import { errorMessage } from '../src-main/contract/errors.ts';

// ─── frame statistics ────────────────────────────────────────────────────────────────────────────────────────

/** What one phase's frames come to. Frame rates are 1000 / interval; NaN when there are no intervals. */
export interface FrameStats {
  /** Frame intervals measured (timestamps − 1). */
  frames: number;
  /** 1000 / median interval. */
  medianFps: number;
  /** 1000 / 95th-percentile interval: the rate 95 % of frames reach or beat ("p5 fps"). */
  p5Fps: number;
  /** Frames ÷ elapsed time. */
  meanFps: number;
  /** Median interval, ms. */
  medianMs: number;
  /** 95th-percentile interval, ms. */
  p95Ms: number;
  /** Longest interval, ms. */
  worstMs: number;
  /** Intervals longer than 20 ms, i.e. frames slower than 50 fps. */
  over20Ms: number;
  /**
   * 1000 / the time-weighted median interval: the rate at which half of the elapsed time ran. A burst of slow
   * frames between many quick ones barely moves the per-frame median; it moves this.
   */
  timeMedianFps: number;
  /** Share of the elapsed time spent in frames of at most 20 ms (at 50 fps or better), 0…1. */
  smoothShare: number;
}

/**
 * The p-th percentile (0 ≤ p ≤ 100) of `values` by linear interpolation between closest ranks (NumPy's default,
 * Hyndman–Fan type 7): rank h = (n − 1)·p/100, value x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋]). NaN for no values.
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be within 0…100, got ${p}`);
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const h = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** The median (50th percentile) of `values`; NaN for none. */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Differences between consecutive timestamps (ms), in order; timestamps must not decrease. */
export function frameIntervals(timestamps: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < timestamps.length; i++) {
    const d = timestamps[i] - timestamps[i - 1];
    if (!(d >= 0)) throw new RangeError(`frameIntervals: timestamp ${i} (${timestamps[i]}) is before the one before it (${timestamps[i - 1]})`);
    out.push(d);
  }
  return out;
}

/** Statistics of the frames whose requestAnimationFrame timestamps (ms) are `timestamps`. */
export function frameStats(timestamps: readonly number[]): FrameStats {
  const intervals = frameIntervals(timestamps);
  const medianMs = median(intervals);
  const p95Ms = percentile(intervals, 95);
  const elapsed = timestamps.length > 1 ? timestamps[timestamps.length - 1] - timestamps[0] : 0;
  const smooth = intervals.filter((d) => d <= 20).reduce((sum, d) => sum + d, 0);
  return {
    frames: intervals.length,
    medianFps: rate(medianMs),
    p5Fps: rate(p95Ms),
    meanFps: elapsed > 0 ? (intervals.length * 1000) / elapsed : Number.NaN,
    medianMs,
    p95Ms,
    worstMs: intervals.length > 0 ? Math.max(...intervals) : Number.NaN,
    over20Ms: intervals.filter((d) => d > 20).length,
    timeMedianFps: rate(timeWeightedMedian(intervals)),
    smoothShare: elapsed > 0 ? smooth / elapsed : Number.NaN,
  };
}

/**
 * The time-weighted median of intervals: the smallest interval d such that intervals ≤ d cover at least half of
 * their total. NaN for none.
 */
export function timeWeightedMedian(intervals: readonly number[]): number {
  if (intervals.length === 0) return Number.NaN;
  const sorted = [...intervals].sort((a, b) => a - b);
  const total = sorted.reduce((sum, d) => sum + d, 0);
  let covered = 0;
  for (const d of sorted) {
    covered += d;
    if (covered >= total / 2) return d;
  }
  return sorted[sorted.length - 1];
}

function rate(ms: number): number {
  return ms > 0 ? 1000 / ms : Number.NaN;
}

// ─── the synthetic project ───────────────────────────────────────────────────────────────────────────────────

/** Sample rate of the synthetic takes: the built-in `sketch` model's (16 kHz mono). */
export const TAKE_SAMPLE_RATE = 16_000;

/** What the bench project should be. */
export interface PlanOptions {
  /** Project length, seconds (regions end by then). */
  seconds: number;
  tracks: number;
  /** Regions in all, spread over the tracks as evenly as possible. */
  regions: number;
  seed: number;
}

/** One region of the plan and the take it gets. */
export interface PlannedRegion {
  id: `rgn_${string}`;
  takeId: `take_${string}`;
  start: number;
  end: number;
  prompt: string;
  /** Seed of the take's audio (and its TakeRef.seed). */
  seed: number;
  /** Pitch of the take's tone, Hz. */
  toneHz: number;
}

/** One track of the plan. */
export interface PlannedTrack {
  id: `trk_${string}`;
  name: string;
  colour: string;
  regions: PlannedRegion[];
}

/** The whole bench project. */
export interface ProjectPlan {
  name: string;
  seconds: number;
  tracks: PlannedTrack[];
  /** Seconds of take audio in all (= the regions' lengths). */
  takeSeconds: number;
}

const NAMES = ['Pads', 'Rain', 'Drone', 'Bells', 'Texture', 'Wind', 'Choir', 'Sub'];
const COLOURS = ['#4f8cc9', '#d9825b', '#6fb07f', '#b58bd6', '#d4b45a', '#5fb3b3', '#d46a8c', '#8a9bb0'];
const MOODS = ['slowly evolving', 'with long tails', 'distant and airy', 'warm and close', 'dark, low rumble', 'bright shimmer'];

/**
 * The bench project: `tracks` tracks, `regions` regions dealt round-robin (track t gets ⌊R/T⌋, one more for the
 * first R mod T), each track's regions in equal slots over `seconds` with seeded gaps (2–10 % of a slot, the
 * first slot's start staggered per track), so regions never overlap and the last ends before `seconds`. Ids are
 * derived from the seed: the same options give the same plan.
 */
export function planProject(options: PlanOptions): ProjectPlan {
  const { seconds, tracks, regions, seed } = options;
  if (!(seconds >= 10)) throw new RangeError(`planProject: seconds must be ≥ 10, got ${seconds}`);
  if (!(Number.isInteger(tracks) && tracks >= 1)) throw new RangeError(`planProject: tracks must be an integer ≥ 1, got ${tracks}`);
  if (!(Number.isInteger(regions) && regions >= 1)) throw new RangeError(`planProject: regions must be an integer ≥ 1, got ${regions}`);
  const perTrackMax = Math.ceil(regions / tracks);
  if (seconds / perTrackMax < 2) throw new RangeError(`planProject: ${perTrackMax} regions on a track need at least ${perTrackMax * 2} s, got ${seconds}`);
  const rng = createRng(seed);
  const out: PlannedTrack[] = [];
  let takeSeconds = 0;
  for (let t = 0; t < tracks; t++) {
    const count = Math.floor(regions / tracks) + (t < regions % tracks ? 1 : 0);
    const name = tracks > NAMES.length ? `${NAMES[t % NAMES.length]} ${Math.floor(t / NAMES.length) + 1}` : NAMES[t];
    const track: PlannedTrack = { id: `trk_bench${hex(rng)}`, name, colour: COLOURS[t % COLOURS.length], regions: [] };
    const slot = seconds / Math.max(1, count);
    for (let k = 0; k < count; k++) {
      const lead = k === 0 ? (t % 4) * 0.02 * slot : 0;
      const before = lead + between(rng, 0.02, 0.06) * slot;
      const after = between(rng, 0.02, 0.1) * slot;
      const start = round3(k * slot + before);
      const end = round3((k + 1) * slot - after);
      const regionSeed = rng.uint32();
      track.regions.push({
        id: `rgn_bench${hex(rng)}`,
        takeId: `take_bench${hex(rng)}`,
        start,
        end,
        prompt: `${name.toLowerCase()} section ${k + 1}, ${MOODS[(t + k) % MOODS.length]}`,
        seed: regionSeed,
        toneHz: round3(55 * 2 ** ((t * 5 + k * 2) / 12)),
      });
      takeSeconds += end - start;
    }
    out.push(track);
  }
  return { name: `Bench UI ${tracks}x${regions} ${Math.round(seconds)} s`, seconds, tracks: out, takeSeconds: round3(takeSeconds) };
}

/** The length of a region's take in samples at `sampleRate` (the region's length, rounded). */
export function takeFrames(region: Pick<PlannedRegion, 'start' | 'end'>, sampleRate = TAKE_SAMPLE_RATE): number {
  return Math.max(1, Math.round((region.end - region.start) * sampleRate));
}

/**
 * A take's audio, mono: a tone at `toneHz` plus seeded Gaussian noise under a slowly swelling envelope with
 * seeded accents, so the waveform has visible structure at every zoom. Peak level stays below 0.9.
 */
export function synthesizeTake(region: Pick<PlannedRegion, 'start' | 'end' | 'seed' | 'toneHz'>, sampleRate = TAKE_SAMPLE_RATE): Float32Array {
  const n = takeFrames(region, sampleRate);
  const rng = createRng(region.seed);
  const noise = rng.normals(n);
  // A few accents (attack + exponential decay) at seeded times.
  const accents = Array.from({ length: 1 + Math.floor((n / sampleRate) / 12) }, () => ({ at: rng.uniform() * n, depth: 0.2 + 0.3 * rng.uniform() }));
  const slow = 0.05 + 0.05 * rng.uniform();
  const phase = rng.uniform() * 2 * Math.PI;
  const w = (2 * Math.PI * region.toneHz) / sampleRate;
  const decay = 1 / (1.5 * sampleRate);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    let env = 0.12 + 0.18 * (0.5 + 0.5 * Math.sin(2 * Math.PI * slow * t + phase));
    for (const a of accents) if (i >= a.at) env += a.depth * Math.exp(-(i - a.at) * decay);
    const v = env * (0.55 * Math.sin(w * i) + 0.12 * noise[i]);
    out[i] = Math.max(-0.89, Math.min(0.89, v));
  }
  return out;
}

function hex(rng: Rng): string {
  return rng.uint32().toString(16).padStart(8, '0') + rng.uint32().toString(16).padStart(8, '0');
}

function between(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.uniform();
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

// ─── requests ────────────────────────────────────────────────────────────────────────────────────────────────

/** A project asset the page fetched: a take's peaks level or a take's audio. */
export type AssetRequest = { kind: 'peaks'; takeId: string; level: number } | { kind: 'take'; file: string };

/**
 * Which asset a URL names: `…/assets/<projectId>/peaks/<takeId>/<level>.i16` (browser mode, query allowed) or
 * `…/assets/<projectId>/takes/<file>.wav`; null for anything else.
 */
export function classifyAsset(url: string): AssetRequest | null {
  let path: string;
  try {
    path = decodeURIComponent(new URL(url).pathname);
  } catch {
    return null;
  }
  const peaks = /\/assets\/[^/]+\/peaks\/([^/]+)\/(\d+)\.i16$/.exec(path);
  if (peaks) return { kind: 'peaks', takeId: peaks[1], level: Number(peaks[2]) };
  const take = /\/assets\/[^/]+\/(takes\/.+\.wav)$/i.exec(path);
  if (take) return { kind: 'take', file: take[1] };
  return null;
}

// ─── the command line ────────────────────────────────────────────────────────────────────────────────────────

/** Options of `npm run bench:ui`. */
export interface BenchOptions {
  help: boolean;
  /** Project length, seconds. */
  seconds: number;
  tracks: number;
  regions: number;
  /** Seconds each timed phase (idle, scrolling, playing) runs. */
  phaseSeconds: number;
  seed: number;
  /** Keep the temp folder (project, renderer build) and print where it is. */
  keep: boolean;
  /** Show the browser window (needs a display). */
  headed: boolean;
  /** Also record a Chromium trace and a JS CPU profile of a second zoom/scroll pass (unminified build). */
  trace: boolean;
  /** Serve this already-built renderer folder instead of building one. */
  renderer: string | undefined;
}

export const BENCH_USAGE = `Usage: npm run bench:ui -- [options]

Builds the renderer, writes a synthetic project (takes and peaks written directly, no generation), serves it
with the browser-mode host and measures frame times in Chromium while idle, zooming, scrolling and playing.

  --seconds N        project length in seconds (default 600)
  --tracks N         tracks (default 8)
  --regions N        regions in all (default 40)
  --phase-seconds N  length of the idle, scroll and playing phases (default 5)
  --seed N           seed of the project plan and its audio (default 1)
  --trace            add a traced pass (Chromium trace + CPU profile, unminified build) naming the top costs
  --renderer DIR     serve this built renderer instead of building one
  --keep             keep the temp folder (project and build) and print its path
  --headed           show the browser window
  --help             this text
`;

/** Parses the command line of `npm run bench:ui`. Throws CliError on bad flags or values. */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        help: { type: 'boolean', default: false },
        seconds: { type: 'string' },
        tracks: { type: 'string' },
        regions: { type: 'string' },
        'phase-seconds': { type: 'string' },
        seed: { type: 'string' },
        keep: { type: 'boolean', default: false },
        headed: { type: 'boolean', default: false },
        trace: { type: 'boolean', default: false },
        renderer: { type: 'string' },
      },
    }));
  } catch (e) {
    throw new CliError(`${errorMessage(e)}\n${BENCH_USAGE}`);
  }
  const int = (n: number): boolean => Number.isInteger(n);
  return {
    help: values.help,
    seconds: parseNumber('seconds', values.seconds, { check: (n) => n >= 10 && n <= 86_400, expected: 'seconds within 10…86400', example: '600' }) ?? 600,
    tracks: parseNumber('tracks', values.tracks, { check: (n) => int(n) && n >= 1 && n <= 64, expected: 'an integer within 1…64', example: '8' }) ?? 8,
    regions: parseNumber('regions', values.regions, { check: (n) => int(n) && n >= 1 && n <= 1000, expected: 'an integer within 1…1000', example: '40' }) ?? 40,
    phaseSeconds: parseNumber('phase-seconds', values['phase-seconds'], { check: (n) => n >= 1 && n <= 120, expected: 'seconds within 1…120', example: '5' }) ?? 5,
    seed: parseNumber('seed', values.seed, { check: (n) => int(n) && n >= 0 && n < 2 ** 32, expected: 'an integer within 0…4294967295', example: '1' }) ?? 1,
    keep: values.keep,
    headed: values.headed,
    trace: values.trace,
    renderer: values.renderer,
  };
}

// ─── formatting ──────────────────────────────────────────────────────────────────────────────────────────────

/** `x` with `digits` decimals, or "—" when it is not a finite number. */
export function fixed(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '—';
}

/** A plain-text table: the first column left-aligned, the others right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

// ─── attribution ─────────────────────────────────────────────────────────────────────────────────────────────

/** A long-animation-frame entry as the page probe records it (PerformanceLongAnimationFrameTiming). */
export interface LoafRecord {
  start: number;
  duration: number;
  blocking: number;
  /** 0 when the frame had no rendering update. */
  renderStart: number;
  styleAndLayoutStart: number;
  scripts: { type: string; invoker: string; fn: string; url: string; duration: number; forced: number }[];
}

/** Long animation frames summed: where their time went, and the scripts that took it. */
export interface LoafSummary {
  count: number;
  totalMs: number;
  /** Time inside attributed scripts. */
  scriptMs: number;
  /** Style, layout and paint of the rendering update (from styleAndLayoutStart to the frame's end). */
  styleLayoutPaintMs: number;
  /** Forced (synchronous) style and layout inside scripts. */
  forcedLayoutMs: number;
  /** Scripts by invoker and function, longest total first. */
  scripts: { key: string; count: number; ms: number }[];
}

/** Sums long animation frames (see {@link LoafSummary}). */
export function summarizeLoafs(entries: readonly LoafRecord[], top = 8): LoafSummary {
  const byKey = new Map<string, { count: number; ms: number }>();
  let scriptMs = 0;
  let styleLayoutPaintMs = 0;
  let forcedLayoutMs = 0;
  for (const e of entries) {
    const end = e.start + e.duration;
    if (e.styleAndLayoutStart > 0) styleLayoutPaintMs += Math.max(0, end - e.styleAndLayoutStart);
    for (const s of e.scripts) {
      scriptMs += s.duration;
      forcedLayoutMs += s.forced;
      const file = s.url.split(/[/?#]/).filter((x) => x !== '').pop() ?? '';
      const key = `${s.type} ${s.invoker}${s.fn !== '' ? ` → ${s.fn}` : ''}${file !== '' ? ` (${file})` : ''}`;
      const row = byKey.get(key) ?? { count: 0, ms: 0 };
      row.count++;
      row.ms += s.duration;
      byKey.set(key, row);
    }
  }
  return {
    count: entries.length,
    totalMs: entries.reduce((sum, e) => sum + e.duration, 0),
    scriptMs,
    styleLayoutPaintMs,
    forcedLayoutMs,
    scripts: [...byKey.entries()].map(([key, v]) => ({ key, ...v })).sort((a, b) => b.ms - a.ms).slice(0, top),
  };
}

/** A Chromium trace event (the fields used here). */
export interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: { name?: string };
}

/** Self time of one event name on one kind of thread. */
export interface TraceRow {
  thread: string;
  name: string;
  count: number;
  selfMs: number;
}

/** Trace time per thread kind: busy (top-level events) and the event names with the most self time. */
export interface TraceSummary {
  /** Wall time the trace covers, ms. */
  spanMs: number;
  threads: { thread: string; busyMs: number }[];
  top: TraceRow[];
}

/**
 * Self times of a Chromium trace: complete events (`X`) and `B`/`E` pairs are nested per thread by time; an
 * event's self time is its duration less its children's. Threads are named `<process>/<thread>` with trailing
 * digits dropped, so the raster workers (CompositorTileWorker1, 2, …) add up as one kind.
 */
export function summarizeTrace(events: readonly TraceEvent[], top = 20): TraceSummary {
  const processNames = new Map<number, string>();
  const threadNames = new Map<string, string>();
  for (const e of events) {
    if (e.ph !== 'M') continue;
    if (e.name === 'process_name') processNames.set(e.pid, e.args?.name ?? `pid ${e.pid}`);
    if (e.name === 'thread_name') threadNames.set(`${e.pid}:${e.tid}`, (e.args?.name ?? `tid ${e.tid}`).replace(/\d+$/, ''));
  }
  const threadOf = (pid: number, tid: number): string =>
    `${processNames.get(pid) ?? `pid ${pid}`}/${threadNames.get(`${pid}:${tid}`) ?? `tid ${tid}`}`;
  // Spans per thread: X events directly, B/E matched with a per-thread stack.
  const spans = new Map<string, { name: string; start: number; end: number }[]>();
  const open = new Map<string, TraceEvent[]>();
  let first = Infinity;
  let last = -Infinity;
  for (const e of events) {
    if (e.ph === 'M' || !Number.isFinite(e.ts)) continue;
    first = Math.min(first, e.ts);
    last = Math.max(last, e.ts + (e.dur ?? 0));
    const key = `${e.pid}:${e.tid}`;
    if (e.ph === 'X' && typeof e.dur === 'number') {
      const list = spans.get(key) ?? [];
      list.push({ name: e.name, start: e.ts, end: e.ts + e.dur });
      spans.set(key, list);
    } else if (e.ph === 'B') {
      const stack = open.get(key) ?? [];
      stack.push(e);
      open.set(key, stack);
    } else if (e.ph === 'E') {
      const begin = open.get(key)?.pop();
      if (begin !== undefined) {
        const list = spans.get(key) ?? [];
        list.push({ name: begin.name, start: begin.ts, end: e.ts });
        spans.set(key, list);
      }
    }
  }
  const rows = new Map<string, TraceRow>();
  const busy = new Map<string, number>();
  for (const [key, list] of spans) {
    const [pid, tid] = key.split(':').map(Number);
    const thread = threadOf(pid, tid);
    list.sort((a, b) => a.start - b.start || b.end - a.end);
    const stack: { name: string; start: number; end: number; child: number }[] = [];
    const close = (s: { name: string; start: number; end: number; child: number }): void => {
      const k = `${thread}\u0000${s.name}`;
      const row = rows.get(k) ?? { thread, name: s.name, count: 0, selfMs: 0 };
      row.count++;
      row.selfMs += Math.max(0, s.end - s.start - s.child) / 1000;
      rows.set(k, row);
    };
    for (const span of list) {
      while (stack.length > 0 && stack[stack.length - 1].end <= span.start) {
        const done = stack.pop();
        if (done !== undefined) close(done);
      }
      const parent = stack[stack.length - 1];
      const end = parent === undefined ? span.end : Math.min(span.end, parent.end);
      if (parent === undefined) busy.set(thread, (busy.get(thread) ?? 0) + (end - span.start) / 1000);
      else parent.child += end - span.start;
      stack.push({ name: span.name, start: span.start, end, child: 0 });
    }
    while (stack.length > 0) {
      const done = stack.pop();
      if (done !== undefined) close(done);
    }
  }
  return {
    spanMs: Number.isFinite(first) ? (last - first) / 1000 : 0,
    threads: [...busy.entries()].map(([thread, busyMs]) => ({ thread, busyMs })).sort((a, b) => b.busyMs - a.busyMs),
    top: [...rows.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, top),
  };
}

/** A V8 CPU profile (Profiler.Profile; the fields used here). */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples?: number[];
  timeDeltas?: number[];
}

/** Self time per function of a CPU profile, longest first: `name (file:line)` and ms. */
export function profileSelfTimes(profile: CpuProfile, top = 20): { fn: string; ms: number }[] {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const node = nodes.get(samples[i]);
    if (node === undefined) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.split(/[/?#]/).filter((x) => x !== '').pop();
    const key = `${functionName === '' ? '(anonymous)' : functionName}${file === undefined ? '' : ` (${file}:${lineNumber + 1})`}`;
    // NOTE: timeDeltas[i] is the time since the previous sample; it is charged to this sample (as DevTools does).
    self.set(key, (self.get(key) ?? 0) + (deltas[i] ?? 0) / 1000);
  }
  return [...self.entries()].map(([fn, ms]) => ({ fn, ms })).sort((a, b) => b.ms - a.ms).slice(0, top);
}
