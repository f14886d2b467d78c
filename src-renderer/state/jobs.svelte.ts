/**
 * The job queue as the studio sees it, fed by the host's events: the job records (`jobUpdated`), the last progress
 * of each (`jobProgress`), the preview peaks a running generation streams (`jobPreview`) and the files an export
 * wrote (`jobFinished`). Regions and track headers ask it what runs on them and what failed there.
 */
import type { ApiError, JobInfo, StudioEvents } from '../../src-main/contract/api.ts';
import type { RegionId, TrackId } from '../../src-main/contract/project.ts';
import { describeProgress, isActiveJob, jobFraction, type JobProgress } from './job-format.ts';
import { pairsPerSecond, type PreviewChunk } from './peak-slices.ts';

/** A job with what the queue shows about it. */
export interface JobView {
  job: JobInfo;
  progress: JobProgress | undefined;
  fraction: number;
  /** Share of the job's span whose audio has been decoded (from its previews); null when unknown. */
  decoded: number | null;
  /** The progress line ("Denoising · step 3/10 · …"). */
  text: string;
}

/** The queue of one open project. */
export class JobsState {
  /** Every job of the project this session knows, oldest first. */
  list = $state.raw<readonly JobInfo[]>([]);
  progress = $state.raw<Readonly<Record<string, JobProgress>>>({});
  previews = $state.raw<Readonly<Record<string, readonly PreviewChunk[]>>>({});
  /** Jobs whose failure the user dismissed from regions and tracks. */
  dismissed = $state.raw<ReadonlySet<string>>(new Set());

  active = $derived(this.list.filter(isActiveJob));
  running = $derived(this.list.find((j) => j.state === 'running'));

  /**
   * @param spanOf the time span a generation covers (its regions, or its whole track), for measuring decoding
   *   by the preview audio that has arrived.
   */
  constructor(
    private readonly projectId: string,
    private readonly spanOf: (job: JobInfo) => { start: number; end: number } | null = () => null,
  ) {}

  /** Replaces the list (from `listJobs` after opening a project). */
  reset(jobs: readonly JobInfo[]): void {
    this.list = jobs.filter((j) => j.projectId === this.projectId);
  }

  onUpdated({ job }: StudioEvents['jobUpdated']): void {
    if (job.projectId !== this.projectId) return;
    const index = this.list.findIndex((j) => j.jobId === job.jobId);
    const next = [...this.list];
    if (index === -1) next.push(job);
    else next[index] = { ...next[index], ...job };
    this.list = next;
    if (!isActiveJob(job)) this.#dropPreview(job.jobId);
  }

  onProgress(progress: StudioEvents['jobProgress']): void {
    if (!this.list.some((j) => j.jobId === progress.jobId)) return;
    this.progress = { ...this.progress, [progress.jobId]: progress };
    // A progress event means the job runs, even if its `jobUpdated` is still on the way.
    const job = this.list.find((j) => j.jobId === progress.jobId);
    if (job !== undefined && job.state === 'queued') this.onUpdated({ job: { ...job, state: 'running' } });
  }

  onPreview(preview: StudioEvents['jobPreview']): void {
    if (preview.projectId !== this.projectId) return;
    const chunk: PreviewChunk = {
      start: preview.start,
      sampleRate: preview.sampleRate,
      samplesPerPeak: preview.samplesPerPeak,
      peaks: preview.peaks,
    };
    this.previews = { ...this.previews, [preview.jobId]: [...(this.previews[preview.jobId] ?? []), chunk] };
  }

  onFinished(finished: StudioEvents['jobFinished']): void {
    const job = this.list.find((j) => j.jobId === finished.jobId);
    if (job === undefined) return;
    const state = finished.ok ? 'done' : finished.error?.code === 'cancelled' ? 'cancelled' : 'failed';
    this.onUpdated({
      job: {
        ...job,
        state,
        finishedAt: job.finishedAt ?? new Date().toISOString(),
        ...(finished.error === undefined ? {} : { error: finished.error }),
        ...(finished.files === undefined ? {} : { files: finished.files }),
      },
    });
  }

  /** Adds a job the host just accepted, before its first `jobUpdated` arrives. */
  accepted(job: JobInfo): void {
    if (this.list.some((j) => j.jobId === job.jobId)) return;
    this.list = [...this.list, job];
  }

  find(jobId: string): JobInfo | undefined {
    return this.list.find((j) => j.jobId === jobId);
  }

  view(job: JobInfo): JobView {
    const progress = this.progress[job.jobId];
    const decoded = this.#decoded(job);
    return { job, progress, decoded, fraction: jobFraction(job, progress, decoded), text: describeProgress(job, progress, decoded) };
  }

  #decoded(job: JobInfo): number | null {
    const chunks = this.previews[job.jobId];
    const span = chunks === undefined || chunks.length === 0 ? null : this.spanOf(job);
    if (chunks === undefined || span === null || !(span.end > span.start)) return null;
    let reach = span.start;
    for (const c of chunks) reach = Math.max(reach, c.start + c.peaks.length / 2 / pairsPerSecond(c));
    return Math.min(1, Math.max(0, (reach - span.start) / (span.end - span.start)));
  }

  /** The queued or running generation that covers a region (by id, or the whole track when it lists none). */
  activeFor(trackId: TrackId, regionId?: RegionId): JobInfo | undefined {
    return this.active.find((j) => j.kind === 'generate' && j.trackId === trackId && covers(j, regionId));
  }

  /** The preview chunks streamed so far for a region's track by the job working on it. */
  previewFor(trackId: TrackId, regionId: RegionId): readonly PreviewChunk[] {
    const job = this.activeFor(trackId, regionId);
    return job === undefined ? [] : (this.previews[job.jobId] ?? []);
  }

  /**
   * The error of the latest generation for a track (or a region of it), unless a later one succeeded or the user
   * dismissed it.
   */
  failureFor(trackId: TrackId, regionId?: RegionId): { jobId: string; error: ApiError } | null {
    for (let i = this.list.length - 1; i >= 0; i--) {
      const job = this.list[i];
      if (job.kind !== 'generate' || job.trackId !== trackId || !covers(job, regionId)) continue;
      if (job.state === 'failed' && job.error !== undefined && !this.dismissed.has(job.jobId)) {
        return { jobId: job.jobId, error: job.error };
      }
      if (job.state === 'done' || job.state === 'cancelled' || isActiveJob(job)) return null;
    }
    return null;
  }

  dismiss(jobId: string): void {
    this.dismissed = new Set(this.dismissed).add(jobId);
  }

  /** Removes finished jobs from the list (the queue's "Clear finished"). */
  clearFinished(): void {
    this.list = this.list.filter(isActiveJob);
  }

  #dropPreview(jobId: string): void {
    if (!(jobId in this.previews)) return;
    const { [jobId]: _dropped, ...rest } = this.previews;
    this.previews = rest;
  }
}

function covers(job: JobInfo, regionId: RegionId | undefined): boolean {
  return regionId === undefined || job.regionIds.length === 0 || job.regionIds.includes(regionId);
}
