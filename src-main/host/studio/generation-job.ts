/**
 * The studio's generation job: plans what to generate when the job starts (generation-plan.ts: the pieces of a track,
 * one region in the context of its neighbours, a variation, only the regions without audio); has the engine worker generate them; announces each
 * piece's takes (`takesAdded`) with previews and progress on the way; and — for a headless job — saves them into the
 * project with `applyTakes` inside the store's save section.
 */
import type { StudioEventName, StudioEvents, StudioSettings } from '../../contract/api.ts';
import { CodedError } from '../../contract/errors.ts';
import type { ProjectDocument, RegionId } from '../../contract/project.ts';
import { applyTakes } from '../../contract/takes.ts';
import { EngineRunError, type EngineWorker } from '../engine-worker/engine-worker.ts';
import { readLatentFile } from '../projects/npy.ts';
import type { JobRunner } from '../jobs.ts';
import { pathsOf, updateProject } from '../projects/project-store.ts';
import { removePartialTakes } from '../projects/takes.ts';
import { generationStages, type GenerationWhat } from './generation-plan.ts';
import type { OpenEntry } from './open-projects.ts';

/** Samples per min/max pair of generation previews (16 kHz: 125 pairs per second). */
const PREVIEW_SAMPLES_PER_PEAK = 128;

/** What a generation job needs of the host. */
export interface GenerationContext {
  engine: EngineWorker;
  /** The open project (throws `not-found` once it is closed). */
  project: (projectId: string) => OpenEntry;
  settings: () => StudioSettings;
  cacheDir?: string;
  modelsDir: string;
  emit: <K extends StudioEventName>(name: K, payload: StudioEvents[K]) => void;
}

/**
 * What to generate: the regions of one track (all of it when empty) and how (generation-plan.ts), from the editor's
 * document or the saved one.
 */
export interface GenerationSpec extends GenerationWhat {
  projectId: string;
  regionIds: RegionId[];
  /** The editor's (unsaved) document: takes are announced, never saved. Absent: the saved document, saved after. */
  snapshot?: ProjectDocument;
}

/** The job runner of a generation. */
export function generationJob(ctx: GenerationContext, spec: GenerationSpec): JobRunner {
  const { projectId, trackId, snapshot } = spec;
  return async (job, signal) => {
    const p = ctx.project(projectId);
    const settings = ctx.settings();
    // Planned when the job starts (a headless job generates from the document as saved by then), stage by stage:
    // each stage's takes are applied to `working` before the next is planned, so a region filled in context of a
    // take made earlier in the job continues it (generation-plan.ts).
    let working = snapshot ?? p.document;
    const stages = generationStages(spec, (file) => readLatentFile(pathsOf(p.handle), file));
    const onAbort = (): void => ctx.engine.cancel(job.jobId);
    signal.addEventListener('abort', onAbort);
    // Pieces are saved in order even though the worker's messages arrive while the run is in flight.
    let saving: Promise<void> = Promise.resolve();
    try {
      for (let jobs = await stages(working); jobs.length > 0; jobs = await stages(working)) {
        if (signal.aborted) throw new CodedError('cancelled', 'cancelled between the pieces of the job');
        const pieces = jobs.map((planned) => ({ job: planned, device: settings.modelDevices[planned.modelId] ?? settings.device }));
        await ctx.engine.run(
          {
            type: 'run',
            jobId: job.jobId,
            projectDir: p.handle.dir,
            pieces,
            intraOpThreads: settings.intraOpThreads,
            ...(settings.devicePrecision ? { devicePrecision: settings.devicePrecision } : {}),
            ...(ctx.cacheDir ? { cacheDir: ctx.cacheDir } : {}),
            modelsDir: ctx.modelsDir,
            previewSamplesPerPeak: PREVIEW_SAMPLES_PER_PEAK,
          },
          {
            onMessage: (m) => {
              if (m.type === 'progress') {
                const { type: _type, ...progress } = m;
                ctx.emit('jobProgress', progress);
              } else if (m.type === 'preview') {
                const { type: _type, ...preview } = m;
                ctx.emit('jobPreview', { ...preview, projectId, trackId });
              } else {
                for (const t of m.takes) p.sessionTakes.set(t.take.id, t.take);
                working = applyTakes(working, m.takes);
                ctx.emit('takesAdded', { projectId, jobId: job.jobId, takes: m.takes });
                if (!snapshot) {
                  // Applied to the last saved document inside the store's save section, so a save another client
                  // finished meanwhile is kept, never replaced by the document this job started from.
                  saving = saving.then(async () => {
                    p.document = await updateProject(p.handle, (saved) => applyTakes(saved, m.takes));
                    ctx.emit('projectChanged', { projectId });
                  });
                }
              }
            },
          },
        );
      }
    } catch (e) {
      if (e instanceof EngineRunError && e.workerDied) {
        ctx.emit('engineRestarted', { reason: e.message });
        await removePartialTakes(pathsOf(p.handle));
      }
      throw e;
    } finally {
      signal.removeEventListener('abort', onAbort);
      await saving;
    }
  };
}
