/**
 * Headless batch rendering of a project (`npm run render`): generate every missing take, save the project, then
 * export the mixdown and stems. Regions named in `regenerate` are redone first, in the context of their neighbours
 * (generation/context.ts). Then pieces are planned as for the studio (generation/plan.ts): a piece none of whose
 * regions plays is generated whole, every region getting a take with its own slice; a region without a take next
 * to regions that play kept latents is generated in their context (extend), and they keep their takes.
 */
import { realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ProjectError, type Region, type RegionId } from '../contract/project.ts';
import { applyTakes } from '../contract/takes.ts';
import type { Progress } from '../engine/pipelines/text-to-audio.ts';
import type { DevicePreference, ExecutionProvider, PrecisionPreference } from '../contract/generation-settings.ts';
import { exportProject } from './export/export.ts';
import { exportTracks } from './export/project-tracks.ts';
import type { ExportFormat, ExportResult, LoudnessTarget } from './export/types.ts';
import { ModelCache } from './generation/model-cache.ts';
import { regionInContext } from './generation/context.ts';
import { pieceJob, piecesOf, planTrack, type PieceJob } from './generation/plan.ts';
import { readLatentFile } from './projects/npy.ts';
import { projectTakeWriter, runPiece } from './generation/run-piece.ts';
import { closeProject, openProject, pathsOf, updateProject } from './projects/project-store.ts';

/** What to render and how. */
export interface RenderOptions {
  projectDir: string;
  outDir: string;
  format: ExportFormat;
  loudness?: LoudnessTarget;
  device: DevicePreference;
  /** The denoiser's precision per provider (host/packs/precision.ts; `auto` when absent). */
  precision?: Partial<Record<ExecutionProvider, PrecisionPreference>>;
  /** Measure WebGPU against the CPU again before `auto` chooses (at the first model opened). */
  remeasure?: boolean;
  /** Regions to regenerate in context first (new active takes for them only), in this order. */
  regenerate?: RegionId[];
  /** With `regenerate`: vary each region's take by this strength in (0, 1] instead of a fresh take (1). */
  strength?: number;
  /** RePaint resampling rounds of every region generated in context (1 to 10; 1 = none, the default). */
  resampleRounds?: number;
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
    const write = projectTakeWriter(paths.dir);
    let newTakes = 0;
    let generatedPieces = 0;
    const regenerate = o.regenerate ?? [];
    const unknown = regenerate.filter((id) => !Object.hasOwn(doc.regions, id));
    if (unknown.length > 0) throw new ProjectError('not-found', `--regenerate: ${unknown.join(', ')} ${unknown.length === 1 ? 'is' : 'are'} not a region of ${paths.dir} (its regions: ${Object.keys(doc.regions).slice(0, 8).join(', ')}${Object.keys(doc.regions).length > 8 ? ', …' : ''})`);
    /** Runs job `index` of `count`, saves its takes into the project and counts them. */
    const generate = async (job: PieceJob, index: number, count: number): Promise<void> => {
      const model = await models.open(job.modelId, { device: o.device, ...(o.precision ? { precision: o.precision } : {}), ...(o.remeasure && generatedPieces === 0 ? { remeasure: true } : {}) });
      const { takes } = await runPiece(model, job, write, {
        signal: o.signal,
        onProgress: (progress) => o.onGenerate?.({ piece: index + 1, pieces: count, track: job.label, seconds: job.request.seconds, progress }),
      });
      newTakes += takes.length;
      generatedPieces++;
      doc = await updateProject(handle, (saved) => applyTakes(saved, takes));
    };
    for (const [k, regionId] of regenerate.entries()) {
      // In context when a neighbour keeps a latent; else the region's whole run, as before kept latents existed.
      const region = doc.regions[regionId];
      const options = { ...(o.strength === undefined ? {} : { strength: o.strength }), ...(o.resampleRounds === undefined ? {} : { rounds: o.resampleRounds }) };
      const job = (await regionInContext(doc, regionId, (file) => readLatentFile(paths, file), options)) ?? pieceJob(planTrack(doc, region.trackId, [regionId])[0]);
      await generate(job, k, regenerate.length);
    }
    const playable = async (r: Region): Promise<boolean> => {
      const take = r.takes.find((t) => t.id === r.activeTakeId);
      return take !== undefined && (await stat(join(paths.dir, take.file)).catch(() => undefined)) !== undefined;
    };
    // Missing takes: a piece none of whose regions plays is generated whole; in a piece that partly plays, each
    // region without a take is generated in the context of the kept neighbours (extending a run, filling a gap), so
    // the regions that play keep their takes — or the whole piece when there is no kept latent to continue.
    const todo: PieceJob[] = [];
    const missing: RegionId[] = [];
    for (const track of doc.tracks) {
      for (const piece of piecesOf(doc, track)) {
        const plays = await Promise.all(piece.regions.map(playable));
        if (plays.every(Boolean)) continue;
        const silent = piece.regions.filter((_, k) => !plays[k]);
        if (silent.length === piece.regions.length || !piece.regions.some((r, k) => plays[k] && r.takes.find((t) => t.id === r.activeTakeId)?.latent)) todo.push(pieceJob(piece));
        else missing.push(...silent.map((r) => r.id));
      }
    }
    const count = todo.length + missing.length;
    for (const [i, job] of todo.entries()) await generate(job, i, count);
    for (const [k, regionId] of missing.entries()) {
      const region = doc.regions[regionId];
      const job = (await regionInContext(doc, regionId, (file) => readLatentFile(paths, file), o.resampleRounds === undefined ? {} : { rounds: o.resampleRounds })) ?? pieceJob(planTrack(doc, region.trackId, [regionId])[0]);
      await generate(job, todo.length + k, count);
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
    return { generatedPieces, newTakes, export: result };
  } finally {
    await models.dispose();
    await closeProject(handle, { keepAutosave: true });
  }
}
