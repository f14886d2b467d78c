/**
 * Headless batch rendering of a project (`npm run render`): generate every missing take, save the project, then
 * export the mixdown and stems.
 *
 * A track generates one continuous piece per run of adjacent regions (ARCHITECTURE.md §4): regions whose gap is
 * at most the transition (gaps are absorbed by the earlier region) and that share one model and one set of
 * generation settings. A piece is generated when any of its regions lacks a playable take; every region of the
 * piece then gets a new take holding its own slice of the piece, so the slices join without a seam.
 */
import { randomInt } from 'node:crypto';
import { realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ProjectError, type ProjectDocument, type Region, type TakeRef, type Track } from '../contract/project.ts';
import type { LatentDiffusionModel } from '../engine/families/model.ts';
import { textToAudio, type Progress, type TextToAudioRequest } from '../engine/pipelines/text-to-audio.ts';
import type { DevicePreference } from '../engine/runtime/session.ts';
import { exportProject } from './export/export.ts';
import type { ExportFormat, ExportResult, ExportTrack, LoudnessTarget } from './export/types.ts';
import { defaultCacheDir, resolvePack } from './packs/builtin.ts';
import { openModel } from './packs/load.ts';
import { randomId } from './projects/ids.ts';
import { projectPaths } from './projects/layout.ts';
import { closeProject, openProject, pathsOf, saveProject } from './projects/project-store.ts';
import { writeTakePeaks } from './projects/peaks.ts';
import { readTakeAudio } from './projects/take-audio.ts';
import { writeTakeFile } from './projects/takes.ts';
import { encodeWav, type DecodedWav } from './wav.ts';

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

/** Regions of one track that generate together. */
export interface Piece {
  track: Track;
  regions: Region[];
}

/** Splits a track's regions into pieces (see the file comment). */
export function piecesOf(doc: ProjectDocument, track: Track): Piece[] {
  const regions = track.regionIds.map((id) => doc.regions[id]).sort((a, b) => a.start - b.start);
  const pieces: Piece[] = [];
  for (const region of regions) {
    const current = pieces[pieces.length - 1];
    const last = current?.regions[current.regions.length - 1];
    const sameSettings = last !== undefined && JSON.stringify(last.generation) === JSON.stringify(region.generation);
    if (current && last && sameSettings && region.start - last.end <= region.generation.transition + 1e-9) current.regions.push(region);
    else pieces.push({ track, regions: [region] });
  }
  return pieces;
}

/** Renders a project: missing takes first, then the export. The project is saved after generation. */
export async function renderProject(o: RenderOptions): Promise<RenderSummary> {
  const opened = await openProject(o.projectDir);
  const { handle } = opened;
  const models = new Map<string, LatentDiffusionModel>();
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
    for (let i = 0; i < todo.length; i++) {
      const piece = todo[i];
      const model = await modelFor(piece.regions[0].generation.model, models, o);
      const seconds = piece.regions[piece.regions.length - 1].end - piece.regions[0].start;
      ({ document: doc } = await generatePiece(doc, piece, model, paths.dir, {
        signal: o.signal,
        onProgress: (progress) => o.onGenerate?.({ piece: i + 1, pieces: todo.length, track: piece.track.name, seconds, progress }),
      }));
      newTakes += piece.regions.length;
      doc = await saveProject(handle, doc);
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
    await Promise.all([...models.values()].map((m) => m.dispose()));
    await closeProject(handle, { keepAutosave: true });
  }
}

/** What generating a piece produced: the updated document and the takes it added (one per region). */
export interface GeneratedPiece {
  document: ProjectDocument;
  takes: { regionId: Region['id']; take: TakeRef }[];
}

/**
 * Generates one piece as a continuous take and gives every region of it a new take with its own slice (written
 * once under takes/, with its peaks under peaks/), made active; takes have the model's channels (stereo for
 * stable-audio-3). Returns the updated document; the caller saves it. `onAudio` sees finished audio while it is
 * decoded (piece-relative first sample, one view per channel).
 */
export async function generatePiece(
  doc: ProjectDocument,
  piece: Piece,
  model: LatentDiffusionModel,
  projectDir: string,
  options: { signal?: AbortSignal; onProgress?: (p: Progress) => void; onAudio?: (start: number, channels: Float32Array[]) => void } = {},
): Promise<GeneratedPiece> {
  const first = piece.regions[0];
  const origin = first.start;
  const seconds = piece.regions[piece.regions.length - 1].end - origin;
  const seed = first.seed ?? randomInt(0, 2 ** 32 - 1);
  // Piece-relative regions; a gap up to the transition is absorbed by the region before it.
  const regions = piece.regions.map((r, k) => ({
    start: r.start - origin,
    end: (k + 1 < piece.regions.length ? piece.regions[k + 1].start : r.end) - origin,
    prompt: r.prompt,
    negativePrompt: r.negativePrompt,
  }));
  const g = first.generation;
  const request: TextToAudioRequest = { regions, seconds, seed, steps: g.steps, guidance: g.guidance, sampler: g.sampler, eta: g.eta, method: g.method, transition: g.transition };
  const result = await textToAudio(model, request, { signal: options.signal, onProgress: options.onProgress, ...(options.onAudio ? { onAudio: options.onAudio } : {}) });
  const parameters = { generator: 'Tessera', model: model.manifest.id, modelVersion: model.manifest.version, ...request };
  const createdAt = new Date().toISOString();
  const paths = projectPaths(projectDir);
  let next = doc;
  const takes: GeneratedPiece['takes'] = [];
  for (const r of piece.regions) {
    const from = Math.round((r.start - origin) * result.sampleRate);
    const to = Math.round((r.end - origin) * result.sampleRate);
    const id = randomId('take') as TakeRef['id'];
    const slice = result.channels.map((channel) => channel.slice(from, to));
    const bytes = encodeWav(slice, result.sampleRate, 'float32', { INAM: r.prompt.slice(0, 200), ICMT: JSON.stringify(parameters) });
    const file = await writeTakeFile(paths, `${r.id}-${id}.wav`, bytes);
    await writeTakePeaks(paths, id, slice);
    const take: TakeRef = { id, file, createdAt, seed, parameters: JSON.parse(JSON.stringify(parameters)) as TakeRef['parameters'], seconds: (to - from) / result.sampleRate, sampleRate: result.sampleRate };
    takes.push({ regionId: r.id, take });
    next = { ...next, regions: { ...next.regions, [r.id]: { ...next.regions[r.id], takes: [...next.regions[r.id].takes, take], activeTakeId: id } } };
  }
  return { document: next, takes };
}

/** Opens model `id` once per cache (a built-in id or a pack folder). */
export async function modelFor(
  id: string,
  cache: Map<string, LatentDiffusionModel>,
  o: { device: DevicePreference; cacheDir?: string; modelsDir?: string; intraOpThreads?: number },
): Promise<LatentDiffusionModel> {
  const open = cache.get(id);
  if (open) return open;
  const pack = o.modelsDir === undefined ? await resolvePack(id, o.cacheDir) : await resolvePack(id, o.cacheDir ?? defaultCacheDir(), o.modelsDir);
  const model = await openModel(pack, { device: o.device, ...(o.intraOpThreads === undefined ? {} : { intraOpThreads: o.intraOpThreads }) });
  cache.set(id, model);
  return model;
}

/**
 * The export's view of a project: each region plays its active take from its `takeOffset`; each stem carries its
 * regions' prompts and generation parameters as metadata. Regions without a take are an error, or silent when
 * `skipMissing` (the studio warns about them before it exports). Every take is read from inside the project and
 * checked before anything renders (projects/take-audio.ts, plus enough frames for its region): a missing, damaged
 * or linked-out take fails with a ProjectError naming the track, the region (prompt and time) and the file.
 */
export async function exportTracks(doc: ProjectDocument, dir: string, options: { skipMissing?: boolean } = {}): Promise<ExportTrack[]> {
  const paths = projectPaths(dir);
  const decoded = new Map<string, Promise<DecodedWav>>();
  const load = (take: TakeRef) => {
    let wav = decoded.get(take.file);
    if (!wav) {
      wav = readTakeAudio(paths, take);
      decoded.set(take.file, wav);
    }
    return wav;
  };
  return Promise.all(
    doc.tracks.map(async (track) => {
      const regions = track.regionIds.map((id) => doc.regions[id]).sort((a, b) => a.start - b.start);
      const playing = regions.filter((r) => r.activeTakeId !== null || !options.skipMissing);
      const generation = playing.map((r) => {
        const take = r.takes.find((t) => t.id === r.activeTakeId);
        return { start: r.start, end: r.end, prompt: r.prompt, negativePrompt: r.negativePrompt, seed: take?.seed ?? null, parameters: take?.parameters ?? null };
      });
      return {
        name: track.name,
        volumeDb: track.volumeDb,
        pan: track.pan,
        mute: track.mute,
        solo: track.solo,
        stem: track.stem,
        metadata: { track: track.name, generation: JSON.stringify(generation) },
        regions: await Promise.all(
          playing.map(async (r) => {
            const where = `Cannot export track "${track.name}", region "${shortPrompt(r.prompt)}" (${seconds(r.start)}–${seconds(r.end)} s)`;
            const take = r.takes.find((t) => t.id === r.activeTakeId);
            if (!take) throw new ProjectError('invalid-argument', `${where}: it has no active take; generate it first.`);
            const wav = await load(take).catch((e: unknown) => {
              throw e instanceof ProjectError ? new ProjectError(e.code, `${where}: ${e.message} ${TAKE_FIX}`, [], { cause: e }) : e;
            });
            checkFramesFor(r, take, wav, where);
            return {
              start: r.start,
              duration: r.end - r.start,
              takeOffset: r.takeOffset ?? 0,
              gainDb: r.gainDb,
              fadeIn: r.fadeIn,
              fadeOut: r.fadeOut,
              audio: { sampleRate: wav.sampleRate, channels: wav.channels },
            };
          }),
        ),
      };
    }),
  );
}

const TAKE_FIX = 'Regenerate the region (or make another of its takes active); nothing was exported.';

/**
 * The file must hold the part of the take its region plays. A region may reach past the end of its take (it plays
 * silence there: Region.takeOffset), so only the part within the take's recorded length counts; one frame of
 * rounding is allowed.
 */
function checkFramesFor(r: Region, take: TakeRef, wav: DecodedWav, where: string): void {
  const rate = wav.sampleRate;
  const frames = wav.channels[0].length;
  const from = r.takeOffset ?? 0;
  const to = Math.min(from + (r.end - r.start), take.seconds);
  if (to <= from || frames + 1 >= Math.ceil(to * rate)) return;
  throw new ProjectError(
    'corrupt',
    `${where}: its take file ${take.file} holds ${seconds(frames / rate)} s of audio but the region plays ` +
      `${seconds(from)}–${seconds(to)} s of this ${seconds(take.seconds)} s take; the file is incomplete. ${TAKE_FIX}`,
  );
}

/** Seconds for messages: at most two decimals, no trailing zeros. */
function seconds(value: number): string {
  return String(Number(value.toFixed(2)));
}

function shortPrompt(prompt: string): string {
  return prompt.length > 60 ? `${prompt.slice(0, 59)}…` : prompt;
}
