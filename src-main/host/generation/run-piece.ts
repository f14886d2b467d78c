/**
 * Runs one planned piece (plan.ts) on an open model and cuts its takes: the one generation path of the studio's
 * engine worker, `npm run render` and the CLI's `generate`. Every take file carries the same tags: its title (INAM),
 * the full generation parameters as JSON (ICMT) and the software (ISFT, wav.ts writes it).
 */
import writeFileAtomic from 'write-file-atomic';
import type { TakeRef } from '../../contract/project.ts';
import type { NewTake } from '../../contract/takes.ts';
import type { LatentDiffusionModel } from '../../engine/families/model.ts';
import { textToAudio, type RunOptions, type TextToAudioResult } from '../../engine/pipelines/text-to-audio.ts';
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

/** Where the takes of a piece go: a project's takes/ (with peaks), or one file. */
export type TakeWriter = (slice: TakeSlice, channels: Float32Array[], sampleRate: number, info: TakeInfo) => Promise<NewTake | null>;

/** What running a piece produced. */
export interface RanPiece {
  result: TextToAudioResult;
  /** One per slice the writer recorded in a project (none for a file). */
  takes: NewTake[];
  /** Seconds spent writing the takes. */
  writeSeconds: number;
}

/** The tags every take file carries. */
function takeTags(title: string, parameters: Record<string, unknown>): Record<string, string> {
  return { INAM: title.slice(0, 200), ICMT: JSON.stringify(parameters) };
}

/** Generates `job` on `model` and hands each slice to `write`. */
export async function runPiece(model: LatentDiffusionModel, job: PieceJob, write: TakeWriter, options: RunOptions = {}): Promise<RanPiece> {
  const result = await textToAudio(model, job.request, options);
  const t0 = performance.now();
  const info: TakeInfo = {
    parameters: { generator: 'Tessera', model: model.manifest.id, modelVersion: model.manifest.version, ...job.request, device: model.device.provider },
    seed: job.request.seed,
    createdAt: new Date().toISOString(),
  };
  const takes: NewTake[] = [];
  for (const slice of job.slices) {
    const from = Math.round(slice.start * result.sampleRate);
    const to = Math.round(slice.end * result.sampleRate);
    const take = await write(slice, result.channels.map((c) => c.slice(from, to)), result.sampleRate, info);
    if (take) takes.push(take);
  }
  return { result, takes, writeSeconds: (performance.now() - t0) / 1000 };
}

/** Writes each slice as a new take of its region under the project's takes/ (32-bit float), with its peaks. */
export function projectTakeWriter(projectDir: string): TakeWriter {
  const paths = projectPaths(projectDir);
  return async (slice, channels, sampleRate, info) => {
    if (slice.regionId === undefined) throw new Error('a project take needs the region it belongs to');
    const id = randomId('take') as TakeRef['id'];
    const bytes = encodeWav(channels, sampleRate, 'float32', takeTags(slice.title, info.parameters));
    const file = await writeTakeFile(paths, `${slice.regionId}-${id}.wav`, bytes);
    await writeTakePeaks(paths, id, channels);
    const take: TakeRef = {
      id,
      file,
      createdAt: info.createdAt,
      seed: info.seed,
      parameters: JSON.parse(JSON.stringify(info.parameters)) as TakeRef['parameters'],
      seconds: channels[0].length / sampleRate,
      sampleRate,
    };
    return { regionId: slice.regionId, take };
  };
}

/** Writes the (single) slice to `out` atomically in `format`: nothing is left there on failure. */
export function fileTakeWriter(out: string, format: WavFormat): TakeWriter {
  return async (slice, channels, sampleRate, info) => {
    const bytes = encodeWav(channels, sampleRate, format, takeTags(slice.title, info.parameters));
    await writeFileAtomic(out, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    return null;
  };
}
