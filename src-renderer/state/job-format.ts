/**
 * How a job's progress reads in the queue and on regions: one determinate fraction across the stages, a stage
 * word, the step and window counts, and an ETA. Pure, so the numbers are unit-tested.
 */
import type { JobInfo, JobStage, StudioEvents } from '../../src-main/contract/api.ts';

/** The last `jobProgress` event of a job. */
export type JobProgress = StudioEvents['jobProgress'];

/** Where each stage starts and ends on the 0…1 bar of a generation (denoising dominates the time). */
const GENERATION_SPAN: Record<JobStage, readonly [number, number]> = {
  queued: [0, 0],
  loading: [0, 0.04],
  encoding: [0.04, 0.08],
  denoising: [0.08, 0.88],
  decoding: [0.88, 0.98],
  writing: [0.98, 1],
  exporting: [0, 1],
};

const STAGE_WORD: Record<JobStage, string> = {
  queued: 'Queued',
  loading: 'Loading model',
  encoding: 'Encoding prompt',
  denoising: 'Denoising',
  decoding: 'Decoding audio',
  writing: 'Writing take',
  exporting: 'Exporting',
};

/** The word for a stage ("Denoising"). */
export function stageLabel(stage: JobStage): string {
  return STAGE_WORD[stage];
}

/** Progress within a stage, 0…1: steps done plus the share of the current step's windows. */
export function stageFraction(p: JobProgress): number {
  if (!(p.steps > 0)) return 0;
  let done = p.step;
  if (p.window !== undefined && p.windows !== undefined && p.windows > 0 && p.step < p.steps) {
    done += Math.min(1, Math.max(0, p.window / p.windows));
  }
  return clamp01(done / p.steps);
}

/**
 * The whole job's progress 0…1 from its last progress event (0 before the first, 1 when done). While decoding,
 * `decoded` (the share of the piece whose preview audio has arrived) measures the stage when known: the decode
 * stage's own step counts may still be the denoiser's.
 */
export function jobFraction(job: Pick<JobInfo, 'state' | 'kind'>, progress: JobProgress | undefined, decoded?: number | null): number {
  if (job.state === 'done') return 1;
  if (progress === undefined || job.state === 'queued') return 0;
  if (job.kind === 'export') return stageFraction(progress);
  const [from, to] = GENERATION_SPAN[progress.stage];
  const within = progress.stage === 'decoding' && decoded !== undefined && decoded !== null ? clamp01(decoded) : stageFraction(progress);
  return clamp01(from + (to - from) * within);
}

/** A duration for people: "8 s", "1 min 05 s", "1 h 02 min". */
export function formatEta(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/**
 * The one line under a job's bar: "Denoising · step 12/50 · window 3/8 · 1 min 05 s left"; while decoding with a
 * known `decoded` share, "Decoding audio · 45 % decoded".
 */
export function describeProgress(
  job: Pick<JobInfo, 'state' | 'kind' | 'error'>,
  progress: JobProgress | undefined,
  decoded?: number | null,
): string {
  switch (job.state) {
    case 'queued':
      return 'Waiting in the queue';
    case 'done':
      return 'Done';
    case 'cancelled':
      return 'Cancelled';
    case 'failed':
      return job.error?.message ?? 'Failed';
    case 'running':
      break;
  }
  if (progress === undefined) return 'Starting…';
  const parts = [stageLabel(progress.stage)];
  if (progress.stage === 'decoding' && decoded !== undefined && decoded !== null) {
    parts.push(`${formatPercent(decoded)} decoded`);
    return parts.join(' · ');
  }
  if (progress.steps > 0) parts.push(`${progress.stage === 'denoising' ? 'step' : 'part'} ${progress.step}/${progress.steps}`);
  if (progress.windows !== undefined && progress.windows > 1 && progress.window !== undefined) {
    parts.push(`window ${progress.window}/${progress.windows}`);
  }
  if (progress.eta !== undefined && progress.eta > 0) parts.push(`${formatEta(progress.eta)} left`);
  return parts.join(' · ');
}

/** A percentage for a progress bar's text ("42 %"). */
export function formatPercent(fraction: number): string {
  return `${Math.floor(clamp01(fraction) * 100)} %`;
}

/** True for jobs that still hold a place in the queue. */
export function isActiveJob(job: Pick<JobInfo, 'state'>): boolean {
  return job.state === 'queued' || job.state === 'running';
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}
