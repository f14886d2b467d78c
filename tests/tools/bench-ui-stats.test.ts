/**
 * The pure parts of `npm run bench:ui` (tools/bench-ui-core.ts): frame statistics from requestAnimationFrame
 * timestamps, the project plan, asset URL classification and trace self times. No timings are asserted here:
 * benchmarks print their measurements (docs/BENCHMARKS.md), tests check the arithmetic.
 */
import { describe, expect, it } from 'vitest';
import { parseProject } from '../../src-main/contract/project.ts';
import {
  classifyAsset,
  frameIntervals,
  frameStats,
  median,
  parseBenchArgs,
  percentile,
  planProject,
  summarizeTrace,
  synthesizeTake,
  takeFrames,
  timeWeightedMedian,
  type TraceEvent,
} from '../../tools/bench-ui-core.ts';

describe('percentile and median', () => {
  it('interpolates linearly between closest ranks (NumPy default)', () => {
    const xs = [4, 1, 3, 2];
    expect(percentile(xs, 0)).toBe(1);
    expect(percentile(xs, 100)).toBe(4);
    expect(percentile(xs, 50)).toBe(2.5);
    expect(percentile(xs, 95)).toBeCloseTo(3.85, 12); // rank 2.85 → 3 + 0.85·(4 − 3)
    expect(median([5, 1, 9])).toBe(5);
    expect(median([7])).toBe(7);
  });

  it('gives NaN for no values and refuses p outside 0…100', () => {
    expect(median([])).toBeNaN();
    expect(() => percentile([1], 101)).toThrow(RangeError);
    expect(() => percentile([1], Number.NaN)).toThrow(RangeError);
  });

  it('does not reorder its input', () => {
    const xs = [3, 1, 2];
    percentile(xs, 50);
    expect(xs).toEqual([3, 1, 2]);
  });
});

describe('frameStats', () => {
  it('turns a steady 60 Hz run into 60 fps everywhere', () => {
    const t = Array.from({ length: 61 }, (_, i) => 1000 + (i * 1000) / 60);
    const s = frameStats(t);
    expect(s.frames).toBe(60);
    expect(s.medianFps).toBeCloseTo(60, 9);
    expect(s.p5Fps).toBeCloseTo(60, 9);
    expect(s.meanFps).toBeCloseTo(60, 9);
    expect(s.timeMedianFps).toBeCloseTo(60, 9);
    expect(s.worstMs).toBeCloseTo(1000 / 60, 9);
    expect(s.over20Ms).toBe(0);
    expect(s.smoothShare).toBeCloseTo(1, 9);
  });

  it('reads a few long frames among quick ones: per-frame median unmoved, p5, worst and time share not', () => {
    // 90 frames of 16 ms, then 10 of 100 ms: 1440 ms smooth, 1000 ms slow.
    const intervals = [...Array<number>(90).fill(16), ...Array<number>(10).fill(100)];
    const t = [0];
    for (const d of intervals) t.push(t[t.length - 1] + d);
    const s = frameStats(t);
    expect(s.frames).toBe(100);
    expect(s.medianFps).toBeCloseTo(62.5, 9);
    expect(s.p95Ms).toBe(100); // rank 94.05 lies among the 100 ms frames
    expect(s.p5Fps).toBeCloseTo(10, 9);
    expect(s.worstMs).toBe(100);
    expect(s.over20Ms).toBe(10);
    expect(s.meanFps).toBeCloseTo(100 / 2.44, 9);
    expect(s.smoothShare).toBeCloseTo(1440 / 2440, 9);
    // Half of the 2440 ms is 1220 ms: the 16 ms frames cover 1440 ms, so the time-weighted median is 16 ms.
    expect(s.timeMedianFps).toBeCloseTo(62.5, 9);
  });

  it('time-weighted median follows where the time went', () => {
    expect(timeWeightedMedian([16, 16, 16, 500])).toBe(500);
    expect(timeWeightedMedian([10, 10, 10, 10])).toBe(10);
    expect(timeWeightedMedian([])).toBeNaN();
  });

  it('has no frames for zero or one timestamp and refuses time going backwards', () => {
    expect(frameStats([]).frames).toBe(0);
    const one = frameStats([5]);
    expect(one.frames).toBe(0);
    expect(one.medianFps).toBeNaN();
    expect(one.worstMs).toBeNaN();
    expect(frameIntervals([0, 10, 30])).toEqual([10, 20]);
    expect(() => frameIntervals([0, 10, 5])).toThrow(RangeError);
  });
});

describe('planProject', () => {
  it('plans 8 tracks with 40 non-overlapping regions inside 10 minutes, reproducibly', () => {
    const plan = planProject({ seconds: 600, tracks: 8, regions: 40, seed: 1 });
    expect(plan.tracks).toHaveLength(8);
    expect(plan.tracks.map((t) => t.regions.length)).toEqual([5, 5, 5, 5, 5, 5, 5, 5]);
    for (const t of plan.tracks) {
      for (let k = 0; k < t.regions.length; k++) {
        const r = t.regions[k];
        expect(r.start).toBeGreaterThanOrEqual(0);
        expect(r.end).toBeGreaterThan(r.start + 1);
        expect(r.end).toBeLessThanOrEqual(600);
        if (k > 0) expect(r.start).toBeGreaterThanOrEqual(t.regions[k - 1].end);
      }
    }
    const ids = plan.tracks.flatMap((t) => [t.id, ...t.regions.flatMap((r) => [r.id, r.takeId])]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(planProject({ seconds: 600, tracks: 8, regions: 40, seed: 1 })).toEqual(plan);
    expect(planProject({ seconds: 600, tracks: 8, regions: 40, seed: 2 })).not.toEqual(plan);
  });

  it('deals regions round-robin and makes a document the project schema accepts', () => {
    const plan = planProject({ seconds: 60, tracks: 3, regions: 7, seed: 9 });
    expect(plan.tracks.map((t) => t.regions.length)).toEqual([3, 2, 2]);
    const doc = {
      schemaVersion: 1,
      name: plan.name,
      tempo: 120,
      sampleRate: 48_000,
      tracks: plan.tracks.map((t) => ({ id: t.id, name: t.name, colour: t.colour, volumeDb: 0, pan: 0, mute: false, solo: false, stem: true, regionIds: t.regions.map((r) => r.id) })),
      regions: Object.fromEntries(
        plan.tracks.flatMap((t) =>
          t.regions.map((r) => [
            r.id,
            {
              id: r.id, trackId: t.id, start: r.start, end: r.end, prompt: r.prompt, negativePrompt: '', seed: r.seed,
              generation: { model: 'sketch', steps: 10, guidance: 2.5, sampler: 'ddim', eta: 0, method: 'auto', transition: 2 },
              gainDb: 0, fadeIn: 0, fadeOut: 0, takes: [], activeTakeId: null,
            },
          ]),
        ),
      ),
      settings: { defaultModel: 'sketch', defaultMethod: 'auto', defaultTransition: 2 },
      createdWith: 'Tessera 0.1.0',
      createdAt: '2026-01-01T00:00:00.000Z',
    };
    expect(() => parseProject(doc, 'the bench plan')).not.toThrow();
  });

  it('refuses plans that cannot fit', () => {
    expect(() => planProject({ seconds: 10, tracks: 1, regions: 10, seed: 1 })).toThrow(RangeError);
    expect(() => planProject({ seconds: 600, tracks: 0, regions: 4, seed: 1 })).toThrow(RangeError);
  });
});

describe('synthesizeTake', () => {
  it('is seeded, as long as the region and within ±0.89', () => {
    const region = { start: 3, end: 5.5, seed: 42, toneHz: 110 };
    const a = synthesizeTake(region, 8000);
    expect(a.length).toBe(takeFrames(region, 8000));
    expect(a.length).toBe(20_000);
    expect(synthesizeTake(region, 8000)).toEqual(a);
    expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(0.89 + 1e-7);
    expect(Math.max(...a.map(Math.abs))).toBeGreaterThan(0.1);
  });
});

describe('classifyAsset', () => {
  it('names peak levels and take files of browser-mode asset URLs', () => {
    expect(classifyAsset('http://127.0.0.1:5178/assets/prj_ab1/peaks/take_x1/512.i16?token=t')).toEqual({ kind: 'peaks', takeId: 'take_x1', level: 512 });
    expect(classifyAsset('http://127.0.0.1:5178/assets/prj_ab1/takes/rgn_a-take_b.wav?token=t')).toEqual({ kind: 'take', file: 'takes/rgn_a-take_b.wav' });
    expect(classifyAsset('http://127.0.0.1:5178/assets/index-abc.js')).toBeNull();
    expect(classifyAsset('not a url')).toBeNull();
  });
});

describe('parseBenchArgs', () => {
  it('has the defaults of issue 5 §7 and validates values', () => {
    expect(parseBenchArgs([])).toMatchObject({ seconds: 600, tracks: 8, regions: 40, phaseSeconds: 5, keep: false, headed: false, trace: false });
    expect(parseBenchArgs(['--seconds', '120', '--tracks', '2', '--regions', '6', '--keep'])).toMatchObject({ seconds: 120, tracks: 2, regions: 6, keep: true });
    expect(() => parseBenchArgs(['--tracks', '0'])).toThrow(/--tracks/);
    expect(() => parseBenchArgs(['--bogus'])).toThrow(/bogus/);
  });
});

describe('summarizeTrace', () => {
  it('nests events per thread and charges self time', () => {
    const meta = (pid: number, tid: number, thread: string): TraceEvent[] => [
      { name: 'process_name', ph: 'M', ts: 0, pid, tid, args: { name: 'Renderer' } },
      { name: 'thread_name', ph: 'M', ts: 0, pid, tid, args: { name: thread } },
    ];
    const events: TraceEvent[] = [
      ...meta(1, 10, 'CrRendererMain'),
      ...meta(1, 11, 'CompositorTileWorker1'),
      ...meta(1, 12, 'CompositorTileWorker2'),
      { name: 'RunTask', ph: 'X', ts: 0, dur: 10_000, pid: 1, tid: 10 },
      { name: 'Paint', ph: 'X', ts: 2_000, dur: 3_000, pid: 1, tid: 10 },
      { name: 'Layout', ph: 'B', ts: 6_000, pid: 1, tid: 10 },
      { name: 'Layout', ph: 'E', ts: 8_000, pid: 1, tid: 10 },
      { name: 'RasterTask', ph: 'X', ts: 0, dur: 4_000, pid: 1, tid: 11 },
      { name: 'RasterTask', ph: 'X', ts: 1_000, dur: 1_000, pid: 1, tid: 12 },
    ];
    const s = summarizeTrace(events);
    expect(s.spanMs).toBe(10);
    const row = (thread: string, name: string) => s.top.find((r) => r.thread === thread && r.name === name);
    expect(row('Renderer/CrRendererMain', 'RunTask')?.selfMs).toBe(5);
    expect(row('Renderer/CrRendererMain', 'Paint')?.selfMs).toBe(3);
    expect(row('Renderer/CrRendererMain', 'Layout')?.selfMs).toBe(2);
    expect(row('Renderer/CompositorTileWorker', 'RasterTask')).toMatchObject({ count: 2, selfMs: 5 });
    expect(s.threads).toEqual([
      { thread: 'Renderer/CrRendererMain', busyMs: 10 },
      { thread: 'Renderer/CompositorTileWorker', busyMs: 5 },
    ]);
  });
});
