/**
 * Runs one planned piece (plan.ts) on an open model and cuts its takes, keeping the piece's final latent beside them
 * in a project: the one generation path of the studio's engine worker, `npm run render` and the CLI's `generate`.
 * Every take file carries the same tags: its title (INAM), the full generation parameters as JSON (ICMT) and the
 * software (ISFT, wav.ts writes it).
 */
import writeFileAtomic from 'write-file-atomic';
import { CodedError } from '../../contract/errors.ts';
import type { TakeRef } from '../../contract/project.ts';
import type { NewTake } from '../../contract/takes.ts';
import type { LatentDiffusionModel } from '../../engine/families/model.ts';
import { textToAudio, type RunOptions, type TextToAudioRequest, type TextToAudioResult } from '../../engine/pipelines/text-to-audio.ts';
import type { F32 } from '../../engine/tensor/tensor.ts';
import { encodeNpy } from '../projects/npy.ts';
import { randomId } from '../projects/ids.ts';
import { projectPaths } from '../projects/layout.ts';
import { writeTakePeaks } from '../projects/peaks.ts';
import { writeTakeFile } from '../projects/takes.ts';
import { encodeWav, type WavFormat } from '../wav.ts';
import type { PieceJob, TakeSlice } from './plan.ts';

/** How a take is described: in its file's tags and in the project's TakeRef. */
export interface TakeInfo {
  /** `generator`, model id and version, the request and the device. */
  parameters: Record<string, unknown>;
  seed: number;
  createdAt: string;
}

/** A generated piece as the writers see it. */
export interface PieceOutput {
  /** The audio, one array per channel. */
  channels: Float32Array[];
  sampleRate: number;
  /** The final latent [1, C, T, Fq] before decoding. */
  latent: F32;
  /** Latent frames per second of audio, the model's native window (frames), where the piece starts (seconds). */
  framesPerSecond: number;
  window: number;
  start: number;
  model: { id: string; version: string };
  info: TakeInfo;
}

/** Where the takes of a piece go: a project's takes/ (with peaks and the piece's latent), or one file. */
export type TakeWriter = (piece: PieceOutput, slices: readonly TakeSlice[]) => Promise<NewTake[]>;

/** What running a piece produced. */
export interface RanPiece {
  result: TextToAudioResult;
  /** One per slice the writer recorded in a project (none for a file). */
  takes: NewTake[];
  /** Seconds spent writing the takes. */
  writeSeconds: number;
}

/**
 * A take's parameters: the generator, the model and version, the request and the device. A context is described by
 * its spans, never its kept latents' values (thousands of numbers that the piece's latent file and the neighbours'
 * takes already hold; they once made every in-context take's parameters, and its WAV comment, 17 MB).
 */
export function takeParameters(manifest: { id: string; version: string }, request: TextToAudioRequest, device: string): Record<string, unknown> {
  const { context, ...rest } = request;
  const described =
    context === undefined
      ? {}
      : { context: { ...context, kept: context.kept.map(({ data: _data, ...span }) => span) } };
  return { generator: 'Tessera', model: manifest.id, modelVersion: manifest.version, ...rest, ...described, device };
}

/** The tags every take file carries. */
function takeTags(title: string, parameters: Record<string, unknown>): Record<string, string> {
  return { INAM: title.slice(0, 200), ICMT: JSON.stringify(parameters) };
}

/** A slice's samples [from, to) of every channel. */
function sliceOf(piece: PieceOutput, slice: TakeSlice): Float32Array[] {
  const from = Math.round(slice.start * piece.sampleRate);
  const to = Math.round(slice.end * piece.sampleRate);
  return piece.channels.map((c) => c.slice(from, to));
}

/** Generates `job` on `model` and hands the piece and its slices to `write`. */
export async function runPiece(model: LatentDiffusionModel, job: PieceJob, write: TakeWriter, options: RunOptions = {}): Promise<RanPiece> {
  const kept = job.keptFrom;
  if (kept !== undefined && (kept.model !== model.manifest.id || kept.version !== model.manifest.version)) {
    throw new CodedError(
      'invalid-argument',
      `the neighbours' kept latents were made by ${kept.model} ${kept.version}, but ${model.manifest.id} ${model.manifest.version} is installed; ` +
        'a latent of another version cannot be continued: regenerate the whole run instead',
    );
  }
  const result = await textToAudio(model, job.request, options);
  const t0 = performance.now();
  const piece: PieceOutput = {
    channels: result.channels,
    sampleRate: result.sampleRate,
    latent: result.latent,
    framesPerSecond: model.geometry.framesPerSecond,
    window: model.geometry.nativeWindowFrames,
    start: job.request.start ?? 0,
    model: { id: model.manifest.id, version: model.manifest.version },
    info: {
      parameters: takeParameters(model.manifest, job.request, model.device.provider),
      seed: job.request.seed,
      createdAt: new Date().toISOString(),
    },
  };
  const takes = await write(piece, job.slices);
  return { result, takes, writeSeconds: (performance.now() - t0) / 1000 };
}

/**
 * Writes each slice as a new take of its region under the project's takes/ (32-bit float) with its peaks, and the
 * piece's final latent once (`takes/<piece>.npy`), which every take of the piece refers to with its frames.
 */
export function projectTakeWriter(projectDir: string): TakeWriter {
  const paths = projectPaths(projectDir);
  return async (piece, slices) => {
    const [, C, T, Fq] = piece.latent.dims;
    const latentFile = await writeTakeFile(paths, `${randomId('take').replace(/^take_/, 'piece_')}.npy`, encodeNpy(piece.latent.data, [C, T, Fq]));
    const takes: NewTake[] = [];
    for (const slice of slices) {
      if (slice.regionId === undefined) throw new Error('a project take needs the region it belongs to');
      const channels = sliceOf(piece, slice);
      const id = randomId('take') as TakeRef['id'];
      const bytes = encodeWav(channels, piece.sampleRate, 'float32', takeTags(slice.title, piece.info.parameters));
      const file = await writeTakeFile(paths, `${slice.regionId}-${id}.wav`, bytes);
      await writeTakePeaks(paths, id, channels);
      const take: TakeRef = {
        id,
        file,
        createdAt: piece.info.createdAt,
        seed: piece.info.seed,
        parameters: JSON.parse(JSON.stringify(piece.info.parameters)) as TakeRef['parameters'],
        seconds: channels[0].length / piece.sampleRate,
        sampleRate: piece.sampleRate,
        latent: {
          file: latentFile,
          model: piece.model.id,
          modelVersion: piece.model.version,
          framesPerSecond: piece.framesPerSecond,
          window: piece.window,
          start: piece.start,
          channels: C,
          frames: T,
          bins: Fq,
          from: Math.min(T, slice.start * piece.framesPerSecond),
          to: Math.min(T, slice.end * piece.framesPerSecond),
        },
      };
      takes.push({ regionId: slice.regionId, take });
    }
    return takes;
  };
}

/** Writes the piece (one slice: the CLI's whole piece) to `out` atomically in `format`: nothing is left there on failure. */
export function fileTakeWriter(out: string, format: WavFormat): TakeWriter {
  return async (piece, slices) => {
    if (slices.length !== 1) throw new Error(`a file holds one take, not ${slices.length}`);
    const bytes = encodeWav(sliceOf(piece, slices[0]), piece.sampleRate, format, takeTags(slices[0].title, piece.info.parameters));
    await writeFileAtomic(out, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return [];
  };
}
