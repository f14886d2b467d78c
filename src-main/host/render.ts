/**
 * Headless batch rendering of a project (`npm run render`): generate every missing take, save the project, then
 * export the mixdown and stems. Pieces are planned as for the studio (generation/plan.ts): a piece is generated
 * when any of its regions lacks a playable take, and every region of it then gets a new take with its own slice.
 */
import { realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Region } from '../contract/project.ts';
import { applyTakes } from '../contract/takes.ts';
import type { Progress } from '../engine/pipelines/text-to-audio.ts';
import type { DevicePreference } from '../contract/generation-settings.ts';
import { exportProject } from './export/export.ts';
import { exportTracks } from './export/project-tracks.ts';
import type { ExportFormat, ExportResult, LoudnessTarget } from './export/types.ts';
import { ModelCache } from './generation/model-cache.ts';
import { pieceJob, piecesOf, type Piece } from './generation/plan.ts';
import { projectTakeWriter, runPiece } from './generation/run-piece.ts';
import { closeProject, openProject, pathsOf, updateProject } from './projects/project-store.ts';

/** What to render and how. */
export interface RenderOptions {
  projectDir: string;
  outDir: string;
  format: ExportFormat;
  loudness?: LoudnessTarget;
  device: DevicePreference;
  cacheDir?: string;
  signal?: AbortSignal;
  /** Generation progress of piece `piece` of `pieces` (track name and seconds included). */
  onGenerate?: (info: { piece: number; pieces: number; track: string; seconds: number; progress: Progress }) => void;
  onExport?: (fraction: number, stage: string) => void;
}

/** What a render did. */
export interface RenderSummary {
  generatedPieces: number;
  newTakes: number;
  export: ExportResult;
}

/** Renders a project: missing takes first, then the export. The project is saved after each generated piece. */
export async function renderProject(o: RenderOptions): Promise<RenderSummary> {
  const opened = await openProject(o.projectDir);
  const { handle } = opened;
  const models = new ModelCache(o.cacheDir === undefined ? {} : { cacheDir: o.cacheDir });
  try {
    let doc = opened.document;
    const paths = pathsOf(handle);
    const playable = async (r: Region): Promise<boolean> => {
      const take = r.takes.find((t) => t.id === r.activeTakeId);
      return take !== undefined && (await stat(join(paths.dir, take.file)).catch(() => undefined)) !== undefined;
    };
    const todo: Piece[] = [];
    for (const track of doc.tracks) {
      for (const piece of piecesOf(doc, track)) {
        if (!(await Promise.all(piece.regions.map(playable))).every(Boolean)) todo.push(piece);
      }
    }
    let newTakes = 0;
    const write = projectTakeWriter(paths.dir);
    for (let i = 0; i < todo.length; i++) {
      const job = pieceJob(todo[i]);
      const model = await models.open(job.modelId, { device: o.device });
      const { takes } = await runPiece(model, job, write, {
        signal: o.signal,
        onProgress: (progress) => o.onGenerate?.({ piece: i + 1, pieces: todo.length, track: job.label, seconds: job.request.seconds, progress }),
      });
      newTakes += takes.length;
      doc = await updateProject(handle, (saved) => applyTakes(saved, takes));
    }
    const tracks = await exportTracks(doc, paths.dir);
    const result = await exportProject(tracks, o.outDir, {
      format: o.format,
      sampleRate: doc.sampleRate,
      loudness: o.loudness,
      // The real folder names the project in the output folder's export record (stems it no longer writes go).
      project: await realpath(paths.dir),
      metadata: { title: doc.name, project: doc.name },
      signal: o.signal,
      onProgress: o.onExport,
    });
    return { generatedPieces: todo.length, newTakes, export: result };
  } finally {
    await models.dispose();
    await closeProject(handle, { keepAutosave: true });
  }
}
