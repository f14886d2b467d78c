/** Job progress as the queue shows it: one monotone bar across stages, readable words, ETA. */
import { describe, expect, it } from 'vitest';
import type { JobStage } from '../../../src-main/contract/api.ts';
import {
  describeProgress,
  formatEta,
  formatPercent,
  isActiveJob,
  jobFraction,
  stageFraction,
  type JobProgress,
} from '../../../src-renderer/state/job-format.ts';

const running = { state: 'running' as const, kind: 'generate' as const };
const p = (stage: JobStage, step: number, steps: number, extra: Partial<JobProgress> = {}): JobProgress => ({ jobId: 'job_1', stage, step, steps, ...extra });

describe('stageFraction', () => {
  it('counts finished steps plus the share of the current step', () => {
    expect(stageFraction(p('denoising', 0, 10))).toBe(0);
    expect(stageFraction(p('denoising', 5, 10))).toBe(0.5);
    expect(stageFraction(p('denoising', 5, 10, { window: 2, windows: 4 }))).toBeCloseTo(0.55);
    expect(stageFraction(p('denoising', 10, 10, { window: 4, windows: 4 }))).toBe(1);
    expect(stageFraction(p('loading', 0, 0))).toBe(0);
  });
});

describe('jobFraction', () => {
  it('grows monotonically through the stages of a generation', () => {
    const events = [
      p('loading', 0, 0),
      p('encoding', 0, 1),
      p('denoising', 0, 20),
      p('denoising', 3, 20, { window: 1, windows: 3 }),
      p('denoising', 3, 20, { window: 3, windows: 3 }),
      p('denoising', 19, 20),
      p('decoding', 1, 4),
      p('decoding', 4, 4),
      p('writing', 0, 0),
    ];
    const fractions = events.map((e) => jobFraction(running, e));
    for (let i = 1; i < fractions.length; i++) expect(fractions[i]).toBeGreaterThanOrEqual(fractions[i - 1]);
    expect(fractions[0]).toBe(0);
    expect(fractions.at(-1)).toBeLessThanOrEqual(1);
  });

  it('measures decoding by the preview audio that arrived when that is known', () => {
    const atStart = jobFraction(running, p('decoding', 20, 20), 0);
    const half = jobFraction(running, p('decoding', 20, 20), 0.5);
    expect(atStart).toBeCloseTo(0.88);
    expect(half).toBeCloseTo(0.93);
    expect(jobFraction(running, p('decoding', 2, 4), null)).toBeCloseTo(0.93);
    expect(describeProgress(running, p('decoding', 20, 20), 0.456)).toBe('Decoding audio · 45 % decoded');
  });

  it('is 0 before any progress or while queued, 1 when done; exports use their own steps', () => {
    expect(jobFraction(running, undefined)).toBe(0);
    expect(jobFraction({ state: 'queued', kind: 'generate' }, p('denoising', 5, 10))).toBe(0);
    expect(jobFraction({ state: 'done', kind: 'generate' }, undefined)).toBe(1);
    expect(jobFraction({ state: 'running', kind: 'export' }, p('exporting', 1, 4))).toBe(0.25);
  });
});

describe('describeProgress', () => {
  it('reads stage, steps, windows and time left', () => {
    expect(describeProgress(running, p('denoising', 12, 50, { window: 3, windows: 8, eta: 65 }))).toBe(
      'Denoising · step 12/50 · window 3/8 · 1 min 05 s left',
    );
    expect(describeProgress(running, p('loading', 0, 0))).toBe('Loading model');
    expect(describeProgress(running, undefined)).toBe('Starting…');
  });

  it('shows the state of jobs that are not running, with the host message on failure', () => {
    expect(describeProgress({ ...running, state: 'queued' }, undefined)).toBe('Waiting in the queue');
    expect(describeProgress({ ...running, state: 'done' }, undefined)).toBe('Done');
    expect(describeProgress({ ...running, state: 'cancelled' }, undefined)).toBe('Cancelled');
    expect(describeProgress({ ...running, state: 'failed', error: { code: 'model-error', message: 'out of memory' } }, undefined)).toBe(
      'out of memory',
    );
  });
});

describe('formatting', () => {
  it('formats ETA and percentages', () => {
    expect(formatEta(8.4)).toBe('8 s');
    expect(formatEta(65)).toBe('1 min 05 s');
    expect(formatEta(3720)).toBe('1 h 02 min');
    expect(formatEta(Number.NaN)).toBe('');
    expect(formatPercent(0.426)).toBe('42 %');
    expect(formatPercent(2)).toBe('100 %');
  });

  it('knows which jobs are still active', () => {
    expect(isActiveJob({ state: 'queued' })).toBe(true);
    expect(isActiveJob({ state: 'running' })).toBe(true);
    expect(isActiveJob({ state: 'failed' })).toBe(false);
  });
});
