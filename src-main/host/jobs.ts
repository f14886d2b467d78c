/**
 * The host's job queue: generation and export jobs run one at a time in the order they were queued (one device,
 * one engine worker), each with a visible record (`JobInfo`) that is re-sent as `jobUpdated` on every change.
 * Cancelling a queued job removes it from the run order; a running job is asked to stop (soft) or its engine is
 * killed (hard), and the queue goes on with the next job either way.
 */
import { randomBytes } from 'node:crypto';
import type { ApiError, JobInfo, JobKind, StudioEventName, StudioEvents } from '../contract/api.ts';
import { CodedError, toApiError } from '../contract/errors.ts';
import type { RegionId, TrackId } from '../contract/project.ts';

/** What runs a job; `signal` fires on soft cancel. */
export type JobRunner = (job: JobInfo, signal: AbortSignal) => Promise<{ files?: string[] } | void>;

/** A queued job and how to stop it. */
interface Entry {
  info: JobInfo;
  abort: AbortController;
  run: JobRunner;
  /** Hard stop for a running job; returns false when it cannot (it then gets a soft cancel). */
  hardStop?: () => boolean;
}

/** Keeps this many finished jobs for the queue view; older ones are forgotten. */
const KEEP_FINISHED = 200;

/** The queue. */
export class JobQueue {
  private readonly entries: Entry[] = [];
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly emit: <K extends StudioEventName>(name: K, payload: StudioEvents[K]) => void) {}

  /** Queues a job; returns its record. */
  add(spec: { kind: JobKind; projectId: string; label: string; trackId?: TrackId; regionIds?: RegionId[] }, run: JobRunner, hardStop?: (jobId: string) => boolean): JobInfo {
    const info: JobInfo = {
      jobId: `job_${randomBytes(8).toString('hex')}`,
      kind: spec.kind,
      projectId: spec.projectId,
      label: spec.label,
      ...(spec.trackId ? { trackId: spec.trackId } : {}),
      regionIds: spec.regionIds ?? [],
      state: 'queued',
      queuedAt: new Date().toISOString(),
    };
    const entry: Entry = { info, abort: new AbortController(), run, ...(hardStop ? { hardStop: () => hardStop(info.jobId) } : {}) };
    this.entries.push(entry);
    this.forgetOld();
    this.update(entry);
    this.tail = this.tail.then(() => this.execute(entry));
    return { ...info };
  }

  /** Cancels a job; `hard` kills a running generation's engine. Unknown ids throw `not-found`. */
  cancel(jobId: string, hard: boolean): void {
    const entry = this.entries.find((e) => e.info.jobId === jobId);
    if (!entry) throw new CodedError('not-found', `job '${jobId}' does not exist`);
    if (entry.info.state === 'queued') {
      entry.abort.abort();
      this.finish(entry, { code: 'cancelled', message: 'cancelled before it started' });
      return;
    }
    if (entry.info.state !== 'running') return;
    entry.abort.abort();
    if (hard) entry.hardStop?.();
  }

  /** Snapshot of the jobs, oldest first. */
  list(projectId?: string): JobInfo[] {
    return this.entries.filter((e) => projectId === undefined || e.info.projectId === projectId).map((e) => ({ ...e.info }));
  }

  /** True while a job of the project is queued or running. */
  busy(projectId: string): boolean {
    return this.entries.some((e) => e.info.projectId === projectId && (e.info.state === 'queued' || e.info.state === 'running'));
  }

  /** Cancels everything and waits for the running job to settle. */
  async drain(): Promise<void> {
    for (const e of this.entries) if (e.info.state === 'queued' || e.info.state === 'running') this.cancel(e.info.jobId, false);
    await this.tail;
  }

  private async execute(entry: Entry): Promise<void> {
    if (entry.info.state !== 'queued') return;
    entry.info.state = 'running';
    entry.info.startedAt = new Date().toISOString();
    this.update(entry);
    try {
      const result = await entry.run({ ...entry.info }, entry.abort.signal);
      if (result && result.files) entry.info.files = result.files;
      this.finish(entry, null);
    } catch (e) {
      // An uncoded failure of a job is the model's or its runtime's (exports throw coded errors).
      this.finish(entry, toApiError(e, { cancelled: entry.abort.signal.aborted, fallback: 'model-error' }));
    }
  }

  private finish(entry: Entry, error: ApiError | null): void {
    entry.info.state = error === null ? 'done' : error.code === 'cancelled' ? 'cancelled' : 'failed';
    entry.info.finishedAt = new Date().toISOString();
    if (error) entry.info.error = error;
    this.update(entry);
    this.emit('jobFinished', {
      jobId: entry.info.jobId,
      ok: error === null,
      ...(error ? { error } : {}),
      ...(entry.info.files ? { files: entry.info.files } : {}),
    });
  }

  private update(entry: Entry): void {
    this.emit('jobUpdated', { job: { ...entry.info } });
  }

  private forgetOld(): void {
    const finished = this.entries.filter((e) => e.info.state !== 'queued' && e.info.state !== 'running');
    for (const e of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.entries.splice(this.entries.indexOf(e), 1);
  }
}
