/**
 * Generation and export jobs for a StudioState: each sends the editor's current document (unsaved edits
 * included) and puts the accepted job in the queue at once, before the host's first `jobUpdated`.
 */
import type { ExportFormatName, GenerationMode, JobInfo } from '../../src-main/contract/api.ts';
import type { ProjectDocument, Region, RegionId, TrackId } from '../../src-main/contract/project.ts';
import type { Edit } from '../model/edits.ts';
import { extendRegion } from '../model/extend-edit.ts';
import type { JobsState } from './jobs.svelte.ts';
import { newId } from './new-id.ts';
import { generateChoice, missingOf, regionRedo, trackGenerateChoice, type GenerateChoice, type GenerateTarget } from './redo-options.ts';
import type { HostCalls } from './studio-context.ts';

/** What the job actions need of the studio (StudioState is one). */
export interface JobHost extends HostCalls {
  readonly project: { readonly projectId: string } | null;
  /** The editor's document, unsaved edits included: what a job generates or exports. */
  readonly document: ProjectDocument | null;
  readonly selectedRegions: readonly Region[];
  readonly jobs: JobsState;
  /** Applies one edit and records it for undo (null when refused): Extend adds its region with it. */
  edit(make: (doc: ProjectDocument) => Edit): Edit | null;
  selectRegion(id: RegionId): void;
  /** Asks the user before a Generate replaces takes (ConfirmGenerate); resolves to null when cancelled. */
  askGenerate(question: GenerateQuestion): Promise<GenerateAnswer | null>;
}

/** How a generation redoes its regions (the host's `enqueueGeneration` options). */
export interface GenerateHow {
  /** One region: in the context of its kept neighbours (default) or with its whole run. */
  mode?: GenerationMode;
  /** Vary one region: how far from its current take, in (0, 1]. */
  strength?: number;
  /** Only the regions without audio. */
  onlyMissing?: boolean;
}

/** The answer to a Generate's question: replace every take, or fill only the regions without audio. */
export type GenerateAnswer = 'all' | 'missing';

/** A Generate that would replace takes, put to the user: what it covers, named, and what it would replace. */
export interface GenerateQuestion {
  /** What is generated, as the question's title names it: a track's name, "all 3 tracks", "2 selected regions". */
  subject: string;
  targets: readonly GenerateTarget[];
  choice: GenerateChoice;
}

/** Which side of a region "Extend" adds to. */
export type ExtendSide = 'after' | 'before';

/** The job actions of a studio. */
export type GenerationActions = ReturnType<typeof generationActions>;

/** Binds the job actions to `studio`. */
export function generationActions(studio: JobHost) {
  const actions = {
    /**
     * Queues generation of a track, or of some of its regions, redone as `how` says; resolves to the job id (null
     * when refused). The queue shows a short label until the host's (what it replaces) arrives.
     */
    async generate(trackId: TrackId, regionIds?: readonly RegionId[], how: GenerateHow = {}): Promise<string | null> {
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
        api.enqueueGeneration({
          projectId: project.projectId,
          trackId,
          document: doc,
          ...(ids === undefined ? {} : { regionIds: ids }),
          ...(how.mode === undefined ? {} : { mode: how.mode }),
          ...(how.strength === undefined ? {} : { strength: how.strength }),
          ...(how.onlyMissing === true ? { onlyMissing: true } : {}),
        }),
      );
      if (queued === null) return null;
      studio.jobs.accepted(pendingJob(queued.jobId, project.projectId, 'generate', `Generate ${track.name}`, trackId, ids ?? []));
      return queued.jobId;
    },

    /**
     * The track's Generate once answered: `all` regenerates every region (replacing their takes), `missing` only the
     * regions without audio (in context of kept neighbours where they touch some). Whether to ask first is
     * `trackGenerateChoice(doc, trackId).ask`.
     */
    async generateTrack(trackId: TrackId, answer: GenerateAnswer): Promise<string | null> {
      const doc = studio.document;
      if (doc === null) return null;
      if (answer === 'missing') {
        if (trackGenerateChoice(doc, trackId).missing === 0) {
          studio.notices.info('Every region of this track has audio', 'Choose Regenerate all to replace their takes.');
          return null;
        }
        return actions.generate(trackId, undefined, { onlyMissing: true });
      }
      return actions.generate(trackId);
    },

    /** "Regenerate run": the region's whole run of adjacent equal-settings regions, every take of it replaced. */
    async regenerateRun(trackId: TrackId, regionId: RegionId): Promise<string | null> {
      return actions.generate(trackId, [regionId], { mode: 'run' });
    },

    /** "Vary": a new take of one region that starts from its current one, `strength` in (0, 1] away from it. */
    async vary(trackId: TrackId, regionId: RegionId, strength: number): Promise<string | null> {
      return actions.generate(trackId, [regionId], { strength });
    },

    /**
     * "Extend": adds a region right after `regionId` (or right before it, `side` 'before'; same prompt and settings,
     * as long as the region or the room there, its free end on the grid by `snap`; one undo step), selects it and
     * generates it in the context of the region's kept latent. Resolves to the job id, or null when Extend does not
     * apply or was refused.
     */
    async extend(regionId: RegionId, snap?: (t: number) => number, side: ExtendSide = 'after'): Promise<string | null> {
      const doc = studio.document;
      const region = doc?.regions[regionId];
      if (doc === null || region === undefined) return null;
      const redo = regionRedo(doc, region, snap);
      const span = side === 'after' ? redo.extension : redo.extensionBefore;
      if (span === null) {
        studio.notices.info(
          'Nothing to extend here',
          side === 'after'
            ? 'Extend continues a region whose take kept its latent, at the end of its run, with at least 1 s free after it.'
            : 'Extend before leads into a region whose take kept its latent, at the start of its run, with at least 1 s free before it (not before 0 s).',
        );
        return null;
      }
      const edit = studio.edit((current) => extendRegion(current, regionId, span, newId));
      const created = edit?.createdIds?.[0] as RegionId | undefined;
      if (created === undefined) return null;
      studio.selectRegion(created);
      return actions.generate(region.trackId, [created]);
    },

    /**
     * Generates `targets` (one job per target), first asking when that would replace takes (`subject` names them in
     * the question); with none to replace it generates at once. Resolves to the queued job ids (none when cancelled).
     */
    async generateAsking(targets: readonly GenerateTarget[], subject: string): Promise<string[]> {
      const doc = studio.document;
      if (doc === null || targets.length === 0) return [];
      const choice = generateChoice(doc, targets);
      const answer = choice.ask ? await studio.askGenerate({ subject, targets, choice }) : 'all';
      if (answer === null) return [];
      return actions.generateTargets(targets, answer);
    },

    /**
     * `targets` once answered: `all` regenerates each (replacing takes), `missing` fills only each target's regions
     * without audio (`onlyMissing`), skipping targets that have none.
     */
    async generateTargets(targets: readonly GenerateTarget[], answer: GenerateAnswer): Promise<string[]> {
      const doc = studio.document;
      if (doc === null) return [];
      const chosen = answer === 'missing' ? targets.filter((t) => missingOf(doc, t).length > 0) : targets;
      if (chosen.length === 0) {
        studio.notices.info('Every chosen region has audio', 'Choose Regenerate all to replace their takes.');
        return [];
      }
      const ids: string[] = [];
      for (const target of chosen) {
        const jobId = await actions.generate(target.trackId, target.regionIds, answer === 'missing' ? { onlyMissing: true } : {});
        if (jobId !== null) ids.push(jobId);
      }
      return ids;
    },

    /** One job per track of the selected regions, asking first when that would replace takes. */
    async generateSelection(): Promise<string[]> {
      const byTrack = new Map<TrackId, RegionId[]>();
      for (const r of studio.selectedRegions) byTrack.set(r.trackId, [...(byTrack.get(r.trackId) ?? []), r.id]);
      if (byTrack.size === 0) {
        studio.notices.info('Select the regions to generate first', 'Or use Generate all.');
        return [];
      }
      const count = studio.selectedRegions.length;
      const subject = `${count} selected region${count === 1 ? '' : 's'}`;
      return actions.generateAsking([...byTrack].map(([trackId, regionIds]) => ({ trackId, regionIds })), subject);
    },

    /** One job per track that has regions, asking first when that would replace takes. */
    async generateAll(): Promise<string[]> {
      const tracks = studio.document?.tracks.filter((t) => t.regionIds.length > 0) ?? [];
      if (tracks.length === 0) {
        studio.notices.info('Nothing to generate yet', 'Drag in a track lane to draw a region, give it a prompt, then generate.');
        return [];
      }
      const subject = tracks.length === 1 ? tracks[0].name : `all ${tracks.length} tracks`;
      return actions.generateAsking(tracks.map((t) => ({ trackId: t.id })), subject);
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
