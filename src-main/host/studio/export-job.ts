/** The studio's export job: the editor's (or saved) document → mixdown and stems, with progress and cancel. */
import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import type { EnqueueExportRequest, StudioEventName, StudioEvents } from '../../contract/api.ts';
import { CodedError } from '../../contract/errors.ts';
import { exportProject } from '../export/export.ts';
import { exportTracks } from '../export/project-tracks.ts';
import type { JobRunner } from '../jobs.ts';
import { confinedPath } from '../projects/confine.ts';
import { folderName, type OpenEntry } from './open-projects.ts';

/** The job runner of an export of the open project `p`. */
export function exportJob(p: () => OpenEntry, input: EnqueueExportRequest, emit: <K extends StudioEventName>(name: K, payload: StudioEvents[K]) => void): JobRunner {
  return async (job, signal) => {
    const { handle, document } = p();
    const doc = input.document ?? document;
    const tracks = await exportTracks(doc, handle.dir, { skipMissing: true });
    if (tracks.every((t) => t.regions.length === 0)) {
      throw new CodedError('invalid-argument', 'nothing to export: no region has a take yet; generate the tracks first');
    }
    const stamp = new Date().toISOString().replace(/[:T]/g, '-').slice(0, 19);
    // The default folder is inside the project: confined like every other project path (no link leads out).
    const outDir = input.outDir ?? (await confinedPath(handle.dir, join('exports', `${folderName(doc.name)} ${stamp}`)));
    const result = await exportProject(input.stems === false ? tracks.map((t) => ({ ...t, stem: false })) : tracks, outDir, {
      project: await realpath(handle.dir),
      format: input.format,
      sampleRate: doc.sampleRate,
      ...(input.loudness === undefined ? {} : { loudness: { targetLufs: input.loudness, ...(input.truePeakCeiling === undefined ? {} : { truePeakDbtp: input.truePeakCeiling }) } }),
      metadata: { title: doc.name, project: doc.name },
      signal,
      onProgress: (fraction) => emit('jobProgress', { jobId: job.jobId, stage: 'exporting', step: Math.round(fraction * 1000), steps: 1000 }),
    });
    return { files: result.files.map((f) => f.path) };
  };
}
