/**
 * Generation and export jobs for a StudioState: each sends the editor's current document (unsaved edits
 * included) and puts the accepted job in the queue at once, before the host's first `jobUpdated`.
 */
import type { ExportFormatName, JobInfo } from '../../src-main/contract/api.ts';
import type { ProjectDocument, Region, RegionId, TrackId } from '../../src-main/contract/project.ts';
import type { JobsState } from './jobs.svelte.ts';
import type { HostCalls } from './studio-context.ts';

/** What the job actions need of the studio (StudioState is one). */
export interface JobHost extends HostCalls {
  readonly project: { readonly projectId: string } | null;
  /** The editor's document, unsaved edits included: what a job generates or exports. */
  readonly document: ProjectDocument | null;
  readonly selectedRegions: readonly Region[];
  readonly jobs: JobsState;
}

/** The job actions of a studio. */
export type GenerationActions = ReturnType<typeof generationActions>;

/** Binds the job actions to `studio`. */
export function generationActions(studio: JobHost) {
  const actions = {
    /** Queues generation of a track, or of some of its regions; resolves to the job id (null when refused). */
    async generate(trackId: TrackId, regionIds?: readonly RegionId[]): Promise<string | null> {
      const project = studio.project;
      const doc = studio.document;
      if (project === null || doc === null) return null;
      const track = doc.tracks.find((t) => t.id === trackId);
      if (track === undefined) return null;
      if (track.regionIds.length === 0) {
        studio.notices.info(`${track.name} has no regions to generate`, 'Drag in its lane to draw a region first.');
        return null;
      }
      const ids = regionIds !== undefined && regionIds.length > 0 ? [...regionIds] : undefined;
      const queued = await studio.call(`Could not queue generation of ${track.name}`, (api) =>
        api.enqueueGeneration({ projectId: project.projectId, trackId, document: doc, ...(ids === undefined ? {} : { regionIds: ids }) }),
      );
      if (queued === null) return null;
      studio.jobs.accepted(pendingJob(queued.jobId, project.projectId, 'generate', `Generate ${track.name}`, trackId, ids ?? []));
      return queued.jobId;
    },

    /** One job per track of the selected regions. */
    async generateSelection(): Promise<void> {
      const byTrack = new Map<TrackId, RegionId[]>();
      for (const r of studio.selectedRegions) byTrack.set(r.trackId, [...(byTrack.get(r.trackId) ?? []), r.id]);
      if (byTrack.size === 0) {
        studio.notices.info('Select the regions to generate first', 'Or use Generate all.');
        return;
      }
      for (const [trackId, ids] of byTrack) await actions.generate(trackId, ids);
    },

    /** One job per track that has regions. */
    async generateAll(): Promise<void> {
      const tracks = studio.document?.tracks.filter((t) => t.regionIds.length > 0) ?? [];
      if (tracks.length === 0) {
        studio.notices.info('Nothing to generate yet', 'Drag in a track lane to draw a region, give it a prompt, then generate.');
        return;
      }
      for (const track of tracks) await actions.generate(track.id);
    },

    /** Soft cancel (between steps), or `hard`: the host restarts the engine process. */
    async cancel(jobId: string, hard = false): Promise<void> {
      await studio.succeeded(hard ? 'Could not force-stop the job' : 'Could not cancel the job', (api) => api.cancelJob({ jobId, ...(hard ? { hard } : {}) }));
    },

    /** Queues an export (mixdown, and stems when asked) of the editor's current document. */
    async exportProject(options: { format: ExportFormatName; loudness: number | null; stems: boolean }): Promise<string | null> {
      const project = studio.project;
      const doc = studio.document;
      if (project === null || doc === null) return null;
      const queued = await studio.call('Could not start the export', (api) =>
        api.enqueueExport({
          projectId: project.projectId,
          document: doc,
          format: options.format,
          stems: options.stems,
          ...(options.loudness === null ? {} : { loudness: options.loudness }),
        }),
      );
      if (queued === null) return null;
      studio.jobs.accepted(pendingJob(queued.jobId, project.projectId, 'export', `Export ${options.format}`, undefined, []));
      return queued.jobId;
    },
  };
  return actions;
}

function pendingJob(jobId: string, projectId: string, kind: JobInfo['kind'], label: string, trackId: TrackId | undefined, regionIds: RegionId[]): JobInfo {
  return {
    jobId,
    kind,
    projectId,
    label,
    ...(trackId === undefined ? {} : { trackId }),
    regionIds,
    state: 'queued',
    queuedAt: new Date().toISOString(),
  };
}
