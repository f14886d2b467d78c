/**
 * `npm run bench:ui` (issue 5 §7): "a 10-minute project with 8 tracks and 40 regions stays smooth" — frame times
 * in Chromium while idle, zooming with Ctrl+wheel across the whole range, scrolling (wheel and programmatic) and
 * playing, plus proof that waveforms come from the peaks cache at the zoom's level and never from take audio.
 *
 * 1. Builds the renderer into a temp folder (`vite build`), or serves `--renderer DIR`.
 * 2. Writes the project with the host's own functions (createProject/saveProject, writeTakeFile, writeTakePeaks,
 *    encodeWav): one float32 16 kHz take per region, synthesised from the project RNG (tools/bench-ui-core.ts),
 *    so it takes seconds instead of minutes of generation.
 * 3. Starts the browser-mode host (`src-main/cli/main.ts web`), opens the project from the start screen in
 *    Debian's Chromium (playwright-core), and measures each phase with requestAnimationFrame timestamps in the page,
 *    long-animation-frame entries (with script attribution) and the main thread's task/script/layout/style time
 *    (CDP Performance.getMetrics deltas). Network requests to `/assets/…/peaks/<take>/<level>.i16` and
 *    `…/takes/*.wav` are logged per phase; `decodeAudioData` is counted by a wrapper installed before the app loads.
 * 4. `--trace` adds a second zoom/scroll pass, each phase under its own Chromium trace and V8 CPU profile (the
 *    build is then unminified so function names read), and lists the top costs per thread and per function; its
 *    frame numbers are perturbed by the tracing and are not for the record.
 *
 * Frame rates are given per frame (median, p5 = 95th-percentile interval) and time-weighted (the interval half of
 * the elapsed time ran at): a zoom burst's 500 ms frames between dozens of idle 16.7 ms frames leave the per-frame
 * median at 60 fps, the time-weighted one does not. Prints tables and ends with one line of JSON. Results go to
 * docs/BENCHMARKS.md by hand, with machine and date; the goal (≥ 50 fps median) is a reading, never a test
 * threshold. Nothing here fails on timings; it exits 1 only when the UI does not behave (waveforms missing, take
 * audio fetched or decoded before Play, a peaks level fetched that the zoom did not ask for).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, release, tmpdir, totalmem, type as osType } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core';
import type { ProjectDocument, Region, RegionId, TakeRef, Track } from '../src-main/contract/project.ts';
import { CliError } from '../src-main/cli/args.ts';
import { closeProject, createProject, pathsOf, saveProject } from '../src-main/host/projects/project-store.ts';
import { writeTakePeaks } from '../src-main/host/projects/peaks.ts';
import { writeTakeFile } from '../src-main/host/projects/takes.ts';
import { encodeWav } from '../src-main/host/wav.ts';
import { pickPeakLevel } from '../src-renderer/waveform/peaks.ts';
import {
  BENCH_USAGE,
  classifyAsset,
  fixed,
  frameIntervals,
  frameStats,
  parseBenchArgs,
  planProject,
  profileSelfTimes,
  summarizeLoafs,
  summarizeTrace,
  synthesizeTake,
  table,
  TAKE_SAMPLE_RATE,
  type AssetRequest,
  type BenchOptions,
  type CpuProfile,
  type FrameStats,
  type LoafRecord,
  type LoafSummary,
  type ProjectPlan,
  type TraceEvent,
  type TraceSummary,
} from './bench-ui-core.ts';
import { startWebServer, type WebServer } from './web-server.ts';

const ROOT = join(import.meta.dirname, '..');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--autoplay-policy=no-user-gesture-required'];
const VIEWPORT = { width: 1600, height: 900 };
/** The 50 fps goal of issue 5 §7, for the reading (never a pass/fail threshold). */
const GOAL_FPS = 50;
/** Zoom (px/s) of the scroll and play phases: a 10-minute piece is then 24 000 px wide. */
const SCROLL_ZOOM = 40;
/** Time after the last Ctrl+wheel step: the renderer settles its drawing zoom after 180 ms (ZOOM_SETTLE_MS). */
const SETTLE_WAIT_MS = 600;
/** One wheel notch. */
const NOTCH = 120;
/** The trace's categories: main-thread tasks, rendering stages, compositor and raster. */
const TRACE_CATEGORIES = ['toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline', 'blink', 'cc', 'viz', 'v8.execute', 'benchmark'].join(',');

// ─── the page probe ──────────────────────────────────────────────────────────────────────────────────────────

/**
 * Installed before the app's scripts: a requestAnimationFrame recorder (runs only while a phase records), a
 * long-animation-frame observer, counting wrappers around BaseAudioContext.prototype.decodeAudioData and
 * document.createElement('canvas'), and helpers to read the zoom, scroll the timeline and count wavesurfer's
 * canvases (inside its open shadow roots). A string, because the tool's tsconfig has no DOM types.
 */
const PROBE = `(() => {
  const state = { recording: 0, frames: [], t0: 0, loaf: [], decodes: [], loafSupported: false, canvasesCreated: 0 };
  const createElement = Document.prototype.createElement;
  Document.prototype.createElement = function (name, ...rest) {
    if (String(name).toLowerCase() === 'canvas') state.canvasesCreated++;
    return createElement.call(this, name, ...rest);
  };
  const loop = (run) => (t) => { if (state.recording !== run) return; state.frames.push(t); requestAnimationFrame(loop(run)); };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) state.loaf.push({
        start: e.startTime, duration: e.duration, blocking: e.blockingDuration || 0,
        renderStart: e.renderStart || 0, styleAndLayoutStart: e.styleAndLayoutStart || 0,
        scripts: (e.scripts || []).map((s) => ({ type: s.invokerType || '', invoker: s.invoker || '', fn: s.sourceFunctionName || '',
          url: s.sourceURL || '', duration: s.duration || 0, forced: s.forcedStyleAndLayoutDuration || 0 })),
      });
    }).observe({ type: 'long-animation-frame', buffered: true });
    state.loafSupported = true;
  } catch (e) { state.loafSupported = false; }
  if (typeof BaseAudioContext !== 'undefined' && BaseAudioContext.prototype.decodeAudioData) {
    const decode = BaseAudioContext.prototype.decodeAudioData;
    BaseAudioContext.prototype.decodeAudioData = function (...args) {
      state.decodes.push({ at: performance.now(), bytes: args[0] && args[0].byteLength || 0 });
      return decode.apply(this, args);
    };
  }
  window.__bench = {
    start() { state.recording++; state.frames = []; state.t0 = performance.now(); requestAnimationFrame(loop(state.recording)); return state.t0; },
    stop() {
      const run = state.recording; state.recording = -run; const t1 = performance.now();
      return { frames: state.frames, t0: state.t0, t1, loaf: state.loaf.filter((e) => e.start >= state.t0 && e.start < t1),
        decodes: state.decodes.filter((d) => d.at >= state.t0 && d.at < t1).length };
    },
    decodes() { return state.decodes.length; },
    frameCount() { return state.frames.length; },
    framesFrom(i) { return state.frames.slice(i); },
    canvases() {
      let count = 0, px = 0;
      for (const el of document.querySelectorAll('[data-testid="region-waveform"]')) {
        for (const host of el.children) {
          if (!host.shadowRoot) continue;
          for (const c of host.shadowRoot.querySelectorAll('canvas')) { count++; px += c.width * c.height; }
        }
      }
      return { count, px, created: state.canvasesCreated };
    },
    loafSupported() { return state.loafSupported; },
    scroller() { return document.querySelector('[data-testid="timeline-scroller"]'); },
    pps() { return Number(document.querySelector('[data-testid="timeline"]').getAttribute('data-px-per-second')); },
    autoScroll(ms, speed) {
      const el = this.scroller();
      return new Promise((done) => {
        let dir = 1, last = performance.now(); const end = last + ms;
        const step = (t) => {
          const max = el.scrollWidth - el.clientWidth;
          let next = el.scrollLeft + dir * speed * (t - last) / 1000; last = t;
          if (next >= max) { next = max; dir = -1; } else if (next <= 0) { next = 0; dir = 1; }
          el.scrollLeft = next;
          if (t < end) requestAnimationFrame(step); else done(el.scrollLeft);
        };
        requestAnimationFrame(step);
      });
    },
  };
})();`;

interface ProbeRecord {
  frames: number[];
  t0: number;
  t1: number;
  loaf: LoafRecord[];
  decodes: number;
}

// ─── results ─────────────────────────────────────────────────────────────────────────────────────────────────

/** Main-thread time of a phase from CDP Performance.getMetrics, ms (deltas). */
interface MainThread {
  taskMs: number;
  scriptMs: number;
  layoutMs: number;
  styleMs: number;
  /** Task time in none of the above: paint recording, compositing updates, parsing, GC outside scripts. */
  otherMs: number;
}

interface PhaseResult {
  name: string;
  wallMs: number;
  stats: FrameStats;
  loaf: LoafSummary;
  main: MainThread;
  /** decodeAudioData calls during the phase. */
  decodes: number;
  /** Asset requests during the phase. */
  assets: AssetRequest[];
}

interface ZoomStep {
  direction: 'in' | 'out';
  pxPerSecond: number;
  /** The level pickPeakLevel gives for this zoom (what the renderer should fetch and draw). */
  expectedLevel: number;
  /** Peak pairs per pixel at the expected level (≥ 1, < 4 except at the zoom range's ends). */
  pairsPerPx: number;
  /** Levels fetched since the previous step (level → requests). */
  fetched: Record<string, number>;
  /** Fetched levels lie between the previous and this step's expected level. */
  follows: boolean;
  /** Longest frame of the burst and its settling, ms. */
  worstMs: number;
  /** Time in frames over 20 ms during the burst and its settling, ms. */
  slowMs: number;
  /** Canvases wavesurfer holds after the step (waveform and progress copies) and their backing pixels. */
  canvases: number;
  canvasMpx: number;
  /** Waveform canvases created during the step (document.createElement; progress copies are clones, not counted). */
  canvasesCreated: number;
}

// ─── the project ─────────────────────────────────────────────────────────────────────────────────────────────

/** Writes the planned project into `projectsDir/<name>` with the host's functions; returns its folder. */
async function writeProject(projectsDir: string, plan: ProjectPlan): Promise<{ dir: string; bytes: number }> {
  const dir = join(projectsDir, plan.name);
  const opened = await createProject(dir, plan.name);
  const paths = pathsOf(opened.handle);
  const createdAt = new Date().toISOString();
  const regions: Record<RegionId, Region> = {};
  const tracks: Track[] = [];
  let bytes = 0;
  try {
    for (const t of plan.tracks) {
      tracks.push({ id: t.id, name: t.name, colour: t.colour, volumeDb: -6, pan: 0, mute: false, solo: false, stem: true, regionIds: t.regions.map((r) => r.id) });
      for (const r of t.regions) {
        const audio = synthesizeTake(r);
        const seconds = audio.length / TAKE_SAMPLE_RATE;
        const parameters = { generator: 'Tessera bench:ui (synthetic take)', model: 'sketch', seconds, seed: r.seed, prompt: r.prompt };
        const wav = encodeWav([audio], TAKE_SAMPLE_RATE, 'float32', { INAM: r.prompt, ICMT: JSON.stringify(parameters) });
        bytes += wav.byteLength;
        // The names and steps of host/render.ts generatePiece: `<region>-<take>.wav`, then the peaks.
        const file = await writeTakeFile(paths, `${r.id}-${r.takeId}.wav`, wav);
        await writeTakePeaks(paths, r.takeId, [audio]);
        const take: TakeRef = { id: r.takeId, file, createdAt, seed: r.seed, parameters, seconds, sampleRate: TAKE_SAMPLE_RATE };
        regions[r.id] = {
          id: r.id,
          trackId: t.id,
          start: r.start,
          end: r.end,
          prompt: r.prompt,
          negativePrompt: '',
          seed: r.seed,
          generation: { model: 'sketch', steps: 10, guidance: 2.5, sampler: 'ddim', eta: 0, method: 'auto', transition: 2 },
          gainDb: 0,
          fadeIn: 2,
          fadeOut: 4,
          takes: [take],
          activeTakeId: take.id,
        };
      }
    }
    const doc: ProjectDocument = { ...opened.document, tracks, regions };
    await saveProject(opened.handle, doc);
  } finally {
    await closeProject(opened.handle);
  }
  return { dir, bytes };
}

// ─── renderer, host, browser ─────────────────────────────────────────────────────────────────────────────────

function buildRenderer(outDir: string, minify: boolean): void {
  const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js');
  const args = [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'error', ...(minify ? [] : ['--minify', 'false'])];
  try {
    execFileSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
  } catch (e) {
    throw new Error(`vite build of the renderer failed (see above); fix the renderer or pass --renderer DIR with a built one`, { cause: e });
  }
}

/**
 * Polls the page expression `expression` until it is truthy. (page.waitForFunction with a string predicate
 * evaluates it with eval inside the page, which the renderer's CSP `script-src 'self'` forbids; page.evaluate
 * goes through the DevTools protocol and is not subject to it.)
 */
async function waitUntil(page: Page, expression: string, timeoutMs: number, intervalMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await page.evaluate<boolean>(`Boolean(${expression})`))) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${expression}`);
    await page.waitForTimeout(intervalMs);
  }
}

// ─── the session ─────────────────────────────────────────────────────────────────────────────────────────────

/** One page with the project open, its network log and the measuring helpers. */
class Session {
  phase = 'open';
  readonly assets: { phase: string; asset: AssetRequest }[] = [];
  readonly errors: string[] = [];
  otherRequests = 0;
  private constructor(
    readonly page: Page,
    readonly cdp: CDPSession,
  ) {
    page.on('request', (request) => {
      const asset = classifyAsset(request.url());
      if (asset !== null) this.assets.push({ phase: this.phase, asset });
      else this.otherRequests++;
    });
    page.on('console', (m) => {
      if (m.type() === 'error') this.errors.push(m.text());
    });
    page.on('pageerror', (e) => this.errors.push(`pageerror: ${e.message}`));
  }

  static async open(browser: Browser, url: string, plan: ProjectPlan): Promise<Session> {
    const page = await browser.newPage({ viewport: VIEWPORT });
    await page.addInitScript({ content: PROBE });
    const session = new Session(page, await page.context().newCDPSession(page));
    await session.cdp.send('Performance.enable');
    await page.goto(url);
    await page.getByTestId('start-screen').waitFor();
    await page.getByRole('button', { name: `Open ${plan.name}`, exact: true }).click();
    await page.getByTestId('studio').waitFor();
    const regions = plan.tracks.reduce((n, t) => n + t.regions.length, 0);
    await waitUntil(page, `document.querySelectorAll('[data-testid="region-waveform"]').length >= ${regions}`, 120_000, 200);
    await page.waitForTimeout(1000);
    return session;
  }

  pps(): Promise<number> {
    return this.page.evaluate<number>('window.__bench.pps()');
  }

  waveforms(): Promise<number> {
    return this.page.getByTestId('region-waveform').count();
  }

  /** Runs `action` as phase `name`, recording frames, long animation frames, main-thread metrics and requests. */
  async measure(name: string, action: () => Promise<void>): Promise<PhaseResult> {
    this.phase = name;
    const firstAsset = this.assets.length;
    const before = await this.metrics();
    const started = Date.now();
    await this.page.evaluate('window.__bench.start()');
    await action();
    const record = await this.page.evaluate<ProbeRecord>('window.__bench.stop()');
    const wallMs = Date.now() - started;
    const after = await this.metrics();
    const d = (k: string): number => ((after[k] ?? 0) - (before[k] ?? 0)) * 1000;
    const main = { taskMs: d('TaskDuration'), scriptMs: d('ScriptDuration'), layoutMs: d('LayoutDuration'), styleMs: d('RecalcStyleDuration'), otherMs: 0 };
    main.otherMs = Math.max(0, main.taskMs - main.scriptMs - main.layoutMs - main.styleMs);
    this.phase = 'between';
    return {
      name,
      wallMs,
      stats: frameStats(record.frames),
      loaf: summarizeLoafs(record.loaf),
      main,
      decodes: record.decodes,
      assets: this.assets.slice(firstAsset).map((a) => a.asset),
    };
  }

  private async metrics(): Promise<Record<string, number>> {
    const { metrics } = await this.cdp.send('Performance.getMetrics');
    return Object.fromEntries(metrics.map((m) => [m.name, m.value]));
  }

  /** Puts the pointer over the lanes (Ctrl+wheel zooms at the pointer). */
  async pointAtLanes(): Promise<void> {
    const box = await this.page.getByTestId('timeline-scroller').boundingBox();
    if (box === null) throw new Error('the timeline is not on screen');
    await this.page.mouse.move(box.x + box.width * 0.55, box.y + Math.min(box.height - 20, 140));
  }

  /**
   * Ctrl+wheel in bursts of `notches` steps, waiting for the drawing zoom to settle after each burst, until the
   * zoom stops changing (the end of the range); one ZoomStep per burst.
   */
  async zoomSweep(direction: 'in' | 'out', notches = 3, maxBursts = 40): Promise<ZoomStep[]> {
    const steps: ZoomStep[] = [];
    await this.pointAtLanes();
    let previous = await this.pps();
    await this.page.keyboard.down('Control');
    try {
      for (let burst = 0; burst < maxBursts; burst++) {
        const mark = this.assets.length;
        const created = (await this.page.evaluate<{ created: number }>('window.__bench.canvases()')).created;
        const firstFrame = await this.page.evaluate<number>('window.__bench.frameCount()');
        for (let i = 0; i < notches; i++) {
          await this.page.mouse.wheel(0, direction === 'in' ? -NOTCH : NOTCH);
          await this.page.waitForTimeout(40);
        }
        await this.page.waitForTimeout(SETTLE_WAIT_MS);
        const pps = await this.pps();
        const level = pickPeakLevel(TAKE_SAMPLE_RATE, pps);
        const fetched: Record<string, number> = {};
        for (const { asset } of this.assets.slice(mark)) if (asset.kind === 'peaks') fetched[asset.level] = (fetched[asset.level] ?? 0) + 1;
        const bounds = [pickPeakLevel(TAKE_SAMPLE_RATE, previous), level];
        const follows = Object.keys(fetched).every((l) => Number(l) >= Math.min(...bounds) && Number(l) <= Math.max(...bounds));
        const frames = frameIntervals(await this.page.evaluate<number[]>(`window.__bench.framesFrom(${Math.max(0, firstFrame - 1)})`));
        const canvases = await this.page.evaluate<{ count: number; px: number; created: number }>('window.__bench.canvases()');
        steps.push({
          direction,
          pxPerSecond: pps,
          expectedLevel: level,
          pairsPerPx: TAKE_SAMPLE_RATE / level / pps,
          fetched,
          follows,
          worstMs: frames.length > 0 ? Math.max(...frames) : Number.NaN,
          slowMs: frames.filter((d) => d > 20).reduce((sum, d) => sum + d, 0),
          canvases: canvases.count,
          canvasMpx: canvases.px / 1e6,
          canvasesCreated: canvases.created - created,
        });
        if (Math.abs(pps - previous) < 1e-9) break;
        previous = pps;
      }
    } finally {
      await this.page.keyboard.up('Control');
    }
    return steps;
  }

  /** Zooms with Ctrl+wheel from "fit" until the zoom reaches `pxPerSecond`, then scrolls to the start. */
  async zoomTo(pxPerSecond: number): Promise<void> {
    await this.page.getByTestId('zoom-fit').click();
    await this.pointAtLanes();
    await this.page.keyboard.down('Control');
    try {
      for (let i = 0; i < 60 && (await this.pps()) < pxPerSecond; i++) {
        await this.page.mouse.wheel(0, -NOTCH);
        await this.page.waitForTimeout(40);
      }
    } finally {
      await this.page.keyboard.up('Control');
    }
    await this.page.evaluate('window.__bench.scroller().scrollLeft = 0');
    await this.page.waitForTimeout(SETTLE_WAIT_MS + 400);
  }

  /** Horizontal wheel scrolling for `ms`, `delta` px per event, turning round at the ends. */
  async wheelScroll(ms: number, delta = 80): Promise<void> {
    await this.pointAtLanes();
    const max = await this.page.evaluate<number>('(() => { const el = window.__bench.scroller(); return el.scrollWidth - el.clientWidth; })()');
    let at = await this.page.evaluate<number>('window.__bench.scroller().scrollLeft');
    let dir = 1;
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (at + dir * delta > max || at + dir * delta < 0) dir = -dir;
      at += dir * delta;
      await this.page.mouse.wheel(dir * delta, 0);
      await this.page.waitForTimeout(16);
    }
  }
}

// ─── the run ─────────────────────────────────────────────────────────────────────────────────────────────────

interface RunResult {
  phases: PhaseResult[];
  zoom: ZoomStep[];
  waveforms: { opened: number; zoomedIn: number };
  /** Take audio requests before Play was pressed (must be 0). */
  wavBeforePlay: number;
  /** Take audio requests after Play. */
  wavAfterPlay: number;
  /** decodeAudioData calls before Play (must be 0). */
  decodesBeforePlay: number;
  decodesAfterPlay: number;
  /** Peak files fetched per level over the whole run. */
  peaksByLevel: Record<string, number>;
  /** Fetches of a (take, level) that had been fetched before (the renderer's peaks cache let it go). */
  peaksRefetched: number;
  playLoadMs: number;
  loafSupported: boolean;
  heapMiB: number;
  errors: string[];
  trace?: TracedPass;
}

/** One phase measured again under a Chromium trace and a V8 CPU profile. */
interface TracedPhase {
  phase: PhaseResult;
  trace: TraceSummary;
  profile: { fn: string; ms: number }[];
}

interface TracedPass {
  phases: TracedPhase[];
}

async function runPhases(browser: Browser, url: string, plan: ProjectPlan, options: BenchOptions): Promise<RunResult> {
  const s = await Session.open(browser, url, plan);
  const ms = options.phaseSeconds * 1000;
  const phases: PhaseResult[] = [];
  const opened = await s.waveforms();
  const loafSupported = await s.page.evaluate<boolean>('window.__bench.loafSupported()');

  phases.push(await s.measure('idle (fit)', () => s.page.waitForTimeout(ms)));

  const zoom: ZoomStep[] = [];
  phases.push(await s.measure('zoom in (Ctrl+wheel)', async () => void zoom.push(...(await s.zoomSweep('in')))));
  const zoomedIn = await s.waveforms();
  phases.push(await s.measure('zoom out (Ctrl+wheel)', async () => void zoom.push(...(await s.zoomSweep('out')))));

  await s.zoomTo(SCROLL_ZOOM);
  phases.push(await s.measure(`idle (${Math.round(await s.pps())} px/s)`, () => s.page.waitForTimeout(ms)));
  phases.push(await s.measure('scroll (wheel)', () => s.wheelScroll(ms)));
  await s.page.evaluate('window.__bench.scroller().scrollLeft = 0');
  await s.page.waitForTimeout(500);
  phases.push(await s.measure('scroll (programmatic)', async () => void (await s.page.evaluate(`window.__bench.autoScroll(${ms}, 1500)`))));
  await s.page.evaluate('window.__bench.scroller().scrollLeft = 0');
  await s.page.waitForTimeout(500);

  const decodesBeforePlay = await s.page.evaluate<number>('window.__bench.decodes()');
  const wavBeforePlay = s.assets.filter((a) => a.asset.kind === 'take').length;
  const load = await s.measure('play: loading takes', async () => {
    await s.page.getByTestId('play').click();
    await waitUntil(s.page, `document.querySelector('[data-testid="play"]').getAttribute('aria-label') === 'Pause'`, 300_000, 50);
  });
  phases.push(load);
  phases.push(await s.measure('playing', () => s.page.waitForTimeout(ms)));
  await s.page.getByTestId('play').click();
  const decodesAfterPlay = (await s.page.evaluate<number>('window.__bench.decodes()')) - decodesBeforePlay;
  const wavAfterPlay = s.assets.filter((a) => a.asset.kind === 'take').length - wavBeforePlay;
  const heapMiB = (await s.page.evaluate<number>('performance.memory ? performance.memory.usedJSHeapSize : 0')) / 2 ** 20;

  let trace: TracedPass | undefined;
  if (options.trace) trace = await tracedPass(s, ms);

  const peaksByLevel: Record<string, number> = {};
  const seen = new Set<string>();
  let peaksRefetched = 0;
  for (const { asset } of s.assets) {
    if (asset.kind !== 'peaks') continue;
    peaksByLevel[asset.level] = (peaksByLevel[asset.level] ?? 0) + 1;
    const key = `${asset.takeId}/${asset.level}`;
    if (seen.has(key)) peaksRefetched++;
    seen.add(key);
  }
  await s.page.close();
  return {
    phases,
    zoom,
    waveforms: { opened, zoomedIn },
    wavBeforePlay,
    wavAfterPlay,
    decodesBeforePlay,
    decodesAfterPlay,
    peaksByLevel,
    peaksRefetched,
    playLoadMs: load.wallMs,
    loafSupported,
    heapMiB,
    errors: s.errors,
    ...(trace ? { trace } : {}),
  };
}

/** Zoom and scroll again, each phase under its own Chromium trace and V8 CPU profile. */
async function tracedPass(s: Session, ms: number): Promise<TracedPass> {
  await s.page.getByTestId('zoom-fit').click();
  await s.page.waitForTimeout(SETTLE_WAIT_MS);
  await s.cdp.send('Profiler.enable');
  await s.cdp.send('Profiler.setSamplingInterval', { interval: 500 });
  const traced = async (name: string, action: () => Promise<void>): Promise<TracedPhase> => {
    const events: TraceEvent[] = [];
    const collect = (e: { value: object[] }): void => void events.push(...(e.value as TraceEvent[]));
    s.cdp.on('Tracing.dataCollected', collect);
    const complete = new Promise((r) => s.cdp.once('Tracing.tracingComplete', r));
    await s.cdp.send('Tracing.start', { categories: TRACE_CATEGORIES, transferMode: 'ReportEvents' });
    await s.cdp.send('Profiler.start');
    const phase = await s.measure(name, action);
    const { profile } = await s.cdp.send('Profiler.stop');
    await s.cdp.send('Tracing.end');
    await complete;
    s.cdp.off('Tracing.dataCollected', collect);
    return { phase, trace: summarizeTrace(events, 15), profile: profileSelfTimes(profile as CpuProfile, 12) };
  };
  const phases: TracedPhase[] = [];
  phases.push(await traced('traced: zoom in', async () => void (await s.zoomSweep('in'))));
  phases.push(await traced('traced: zoom out', async () => void (await s.zoomSweep('out'))));
  await s.zoomTo(SCROLL_ZOOM);
  phases.push(await traced('traced: scroll (wheel)', () => s.wheelScroll(ms)));
  await s.page.evaluate('window.__bench.scroller().scrollLeft = 0');
  phases.push(await traced('traced: scroll (programmatic)', async () => void (await s.page.evaluate(`window.__bench.autoScroll(${ms}, 1500)`))));
  return { phases };
}

// ─── the report ──────────────────────────────────────────────────────────────────────────────────────────────

function phaseTable(phases: readonly PhaseResult[]): string {
  return table(
    ['phase', 'wall s', 'frames', 'median fps', 'p5 fps', 'mean fps', 'time-median fps', 'smooth time', 'worst ms', '>20 ms', 'LoAF', 'main busy %', 'script ms', 'layout ms', 'style ms', 'other ms'],
    phases.map((p) => [
      p.name,
      fixed(p.wallMs / 1000, 1),
      String(p.stats.frames),
      fixed(p.stats.medianFps, 1),
      fixed(p.stats.p5Fps, 1),
      fixed(p.stats.meanFps, 1),
      fixed(p.stats.timeMedianFps, 1),
      `${fixed(100 * p.stats.smoothShare, 0)} %`,
      fixed(p.stats.worstMs, 0),
      String(p.stats.over20Ms),
      String(p.loaf.count),
      fixed((100 * p.main.taskMs) / Math.max(1, p.wallMs), 0),
      fixed(p.main.scriptMs, 0),
      fixed(p.main.layoutMs, 0),
      fixed(p.main.styleMs, 0),
      fixed(p.main.otherMs, 0),
    ]),
  );
}

function loafReport(phases: readonly PhaseResult[]): string {
  const lines: string[] = [];
  for (const p of phases) {
    if (p.loaf.count === 0) continue;
    const l = p.loaf;
    lines.push(
      `${p.name}: ${l.count} long animation frames, ${fixed(l.totalMs, 0)} ms; scripts ${fixed(l.scriptMs, 0)} ms (forced style/layout ${fixed(l.forcedLayoutMs, 0)} ms), rendering update (style/layout/paint) ${fixed(l.styleLayoutPaintMs, 0)} ms`,
    );
    for (const s of l.scripts.slice(0, 5)) lines.push(`    ${fixed(s.ms, 0).padStart(6)} ms  ×${String(s.count).padEnd(4)} ${s.key}`);
  }
  return lines.length > 0 ? lines.join('\n') : '(no long animation frames)';
}

function zoomTable(steps: readonly ZoomStep[]): string {
  return table(
    ['step', 'px/s', 'level (spp)', 'pairs/px', 'fetched (level×takes)', 'follows', 'worst ms', 'slow ms', 'canvases', 'canvas Mpx', 'drawn'],
    steps.map((z, i) => [
      `${i + 1} ${z.direction}`,
      fixed(z.pxPerSecond, 1),
      String(z.expectedLevel),
      fixed(z.pairsPerPx, 2),
      Object.entries(z.fetched).map(([l, n]) => `${l}×${n}`).join(' ') || '(cached)',
      z.follows ? 'yes' : 'NO',
      fixed(z.worstMs, 0),
      fixed(z.slowMs, 0),
      String(z.canvases),
      fixed(z.canvasMpx, 1),
      String(z.canvasesCreated),
    ]),
  );
}

function traceReport(t: TracedPass): string {
  const lines = [
    'Traced pass (each phase under a Chromium trace and a V8 CPU profile, which slow it down: frame numbers not for the record)',
    phaseTable(t.phases.map((p) => p.phase)),
  ];
  for (const { phase, trace, profile } of t.phases) {
    const share = (ms: number): string => `${fixed((100 * ms) / Math.max(1, trace.spanMs), 0).padStart(3)} %`;
    lines.push(
      '',
      `${phase.name} (${fixed(trace.spanMs / 1000, 1)} s traced). Busy time per thread (top-level trace events):`,
      ...trace.threads.slice(0, 8).map((th) => `  ${fixed(th.busyMs, 0).padStart(7)} ms  ${share(th.busyMs)}  ${th.thread}`),
      'Top trace events by self time:',
      ...trace.top.map((r) => `  ${fixed(r.selfMs, 0).padStart(7)} ms  ×${String(r.count).padEnd(6)} ${r.thread}  ${r.name}`),
      'Top JavaScript functions by self time (V8 CPU profile of the page; (program) = native work outside JS, e.g. rendering):',
      ...profile.map((f) => `  ${fixed(f.ms, 0).padStart(7)} ms  ${f.fn}`),
    );
  }
  return lines.join('\n');
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseBenchArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (options.help) {
    process.stdout.write(BENCH_USAGE);
    return 0;
  }
  if (!existsSync(CHROMIUM)) {
    process.stderr.write(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)\n`);
    return 2;
  }
  const work = await mkdtemp(join(tmpdir(), 'tessera-bench-ui-'));
  let host: WebServer | undefined;
  let browser: Browser | undefined;
  const say = (line: string): void => void process.stdout.write(`${line}\n`);
  try {
    let rendererDir = options.renderer;
    if (rendererDir === undefined) {
      rendererDir = join(work, 'renderer');
      const t = Date.now();
      buildRenderer(rendererDir, !options.trace);
      say(`renderer built${options.trace ? ' (unminified, for --trace)' : ''} in ${fixed((Date.now() - t) / 1000, 1)} s`);
    }
    const plan = planProject({ seconds: options.seconds, tracks: options.tracks, regions: options.regions, seed: options.seed });
    const projectsDir = join(work, 'projects');
    await mkdir(projectsDir, { recursive: true });
    const t0 = Date.now();
    const project = await writeProject(projectsDir, plan);
    const regionCount = plan.tracks.reduce((n, t) => n + t.regions.length, 0);
    say(
      `project "${plan.name}": ${plan.tracks.length} tracks, ${regionCount} regions, ${fixed(plan.takeSeconds / 60, 1)} min of takes ` +
        `(${fixed(project.bytes / 2 ** 20, 0)} MiB float32 WAV at ${TAKE_SAMPLE_RATE} Hz + peaks), written in ${fixed((Date.now() - t0) / 1000, 1)} s`,
    );
    host = await startWebServer({ projectsDir, rendererDir });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: !options.headed });
    const version = browser.version();
    const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${fixed(totalmem() / 2 ** 30, 0)} GiB, ${osType()} ${release()}, node ${process.version}`;
    say(`machine: ${machine}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')} (other processes share these cores)`);
    say(`browser: Chromium ${version}, ${options.headed ? 'headed' : 'headless'}, --disable-gpu (software rendering), viewport ${VIEWPORT.width}×${VIEWPORT.height}`);
    say('');

    const r = await runPhases(browser, host.url, plan, options);

    say('Frame times (requestAnimationFrame intervals). median fps = 1000 / median interval; p5 fps = 1000 / 95th-percentile');
    say('interval; mean fps = frames / elapsed; time-median fps = 1000 / the interval half of the elapsed time ran at or below;');
    say('smooth time = share of the elapsed time in frames ≤ 20 ms; LoAF = long animation frames (≥ 50 ms); main busy, script,');
    say('layout, style, other = renderer main-thread task time (CDP Performance.getMetrics deltas; other = paint, compositing');
    say('updates, GC and work outside scripts).');
    say(phaseTable(r.phases));
    say('');
    say(`Long-animation-frame attribution${r.loafSupported ? '' : ' (not supported by this Chromium)'}:`);
    say(loafReport(r.phases));
    say('');
    say(`Zoom steps (Ctrl+wheel bursts of 3 notches, then ${SETTLE_WAIT_MS} ms to settle). level = samples per min/max pair`);
    say(`the zoom needs (takes at ${TAKE_SAMPLE_RATE} Hz); fetched = peak files requested in the step; worst/slow ms = longest frame and`);
    say('time in frames over 20 ms during the step; canvases = wavesurfer canvases (waveform + progress copy) after it;');
    say('drawn = waveform canvases wavesurfer created during the step (its progress copies are clones, not counted):');
    say(zoomTable(r.zoom));
    say('');
    const follows = r.zoom.every((z) => z.follows);
    say(`region-waveform elements: ${r.waveforms.opened} after opening, ${r.waveforms.zoomedIn} zoomed in (regions: ${regionCount})`);
    say(
      `peak files fetched per level: ${Object.entries(r.peaksByLevel).map(([l, n]) => `${l}: ${n}`).join(', ')}; ` +
        `${r.peaksRefetched} of them fetched again after the renderer's peaks cache had dropped them`,
    );
    say(`peaks follow the zoom level: ${follows ? 'yes' : 'NO'} (each fetch is the level of the zoom it was made at)`);
    say(`take WAVs fetched before Play: ${r.wavBeforePlay} (must be 0); after Play: ${r.wavAfterPlay} (playback loads the active takes)`);
    say(`decodeAudioData calls before Play: ${r.decodesBeforePlay} (waveforms never decode audio); after Play: ${r.decodesAfterPlay} (playback)`);
    say(`Play → playing (fetch + decode of ${r.wavAfterPlay} takes): ${fixed(r.playLoadMs / 1000, 1)} s; JS heap after playing: ${fixed(r.heapMiB, 0)} MiB`);
    if (r.errors.length > 0) say(`console errors (${r.errors.length}):\n  ${r.errors.slice(0, 5).join('\n  ')}`);
    const measured = r.phases.filter((p) => !p.name.startsWith('play: loading'));
    const verdict = (below: string[]): string => (below.length === 0 ? 'met in every phase' : `not met in ${below.join(', ')}`);
    const perFrame = measured.filter((p) => !(p.stats.medianFps >= GOAL_FPS)).map((p) => p.name);
    const timeWeighted = measured.filter((p) => !(p.stats.timeMedianFps >= GOAL_FPS)).map((p) => p.name);
    say(`goal ≥ ${GOAL_FPS} fps median (a reading, not a test; "play: loading takes" is reported, not judged):`);
    say(`  per-frame median: ${verdict(perFrame)}`);
    say(`  time-weighted median: ${verdict(timeWeighted)}`);
    if (r.trace) {
      say('');
      say(traceReport(r.trace));
    }
    say('');
    say(`load average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
    const ok = r.wavBeforePlay === 0 && r.decodesBeforePlay === 0 && follows && r.waveforms.opened >= regionCount;
    const summary = {
      bench: 'ui',
      date: new Date().toISOString(),
      machine,
      loadAverage1m: Number(loadavg()[0].toFixed(2)),
      chromium: version,
      rendering: 'software (--disable-gpu, headless)',
      project: { seconds: options.seconds, tracks: plan.tracks.length, regions: regionCount, takeMinutes: Number((plan.takeSeconds / 60).toFixed(1)) },
      phases: Object.fromEntries(
        r.phases.map((p) => [
          p.name,
          {
            frames: p.stats.frames,
            medianFps: round1(p.stats.medianFps),
            p5Fps: round1(p.stats.p5Fps),
            meanFps: round1(p.stats.meanFps),
            timeMedianFps: round1(p.stats.timeMedianFps),
            smoothShare: round1(100 * p.stats.smoothShare),
            worstMs: round1(p.stats.worstMs),
            loaf: p.loaf.count,
          },
        ]),
      ),
      waveforms: r.waveforms.opened,
      peaksByLevel: r.peaksByLevel,
      peaksRefetched: r.peaksRefetched,
      peaksFollowZoom: follows,
      wavBeforePlay: r.wavBeforePlay,
      decodesBeforePlay: r.decodesBeforePlay,
      playLoadSeconds: round1(r.playLoadMs / 1000),
      goalFps: GOAL_FPS,
      goalMetIn: measured.filter((p) => p.stats.medianFps >= GOAL_FPS).map((p) => p.name),
      goalMetTimeWeightedIn: measured.filter((p) => p.stats.timeMedianFps >= GOAL_FPS).map((p) => p.name),
      ok,
    };
    say(JSON.stringify(summary));
    return ok ? 0 : 1;
  } catch (e) {
    if (host !== undefined) process.stderr.write(`host log (tail):\n${host.stderr().slice(-4000)}\n`);
    throw e;
  } finally {
    await browser?.close();
    await host?.stop();
    if (options.keep) process.stdout.write(`kept ${work} (open it with: npm run web -- --projects "${join(work, 'projects')}")\n`);
    else await rm(work, { recursive: true, force: true });
  }
}

function round1(x: number): number | null {
  return Number.isFinite(x) ? Math.round(x * 10) / 10 : null;
}

process.exitCode = await main();
