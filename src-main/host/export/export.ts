/**
 * Exports a mixdown and one stem per track into a folder: `Mix.<ext>` and `NN_TrackName.<ext>`.
 *
 * Steps (inputs are checked before any heavy work):
 * 1. Check the format, loudness target, metadata, tracks and regions (mix.ts) and the output folder.
 * 2. Render every audible track and sum the mix. Without normalisation each stem is encoded as soon as it is
 *    rendered. With normalisation the mix is measured (BS.1770, loudness.ts), one gain is chosen, and every
 *    audible track is rendered again with that gain, so the stems still sum to the mix.
 * 3. Encode each file (encode.ts) into this export's hidden staging folder inside the output folder, fsynced.
 * 4. Commit: record the files (export-folder.ts), rename every staged file onto its final name, remove the stems
 *    of this project's previous export that it no longer writes, then fsync the folder.
 *
 * All-or-nothing: until the commit nothing under a final name exists or changes; on cancel or error the staging
 * folder (and a folder this export created) is removed, so a cancelled export leaves no new files. The commit
 * itself is a series of atomic renames, short and not interrupted by the abort signal. Existing files with the
 * same names are replaced. A process killed mid-export leaves only its staging folder, which the next export into
 * the folder removes (export-folder.ts); nothing half-written ever carries a final name.
 */
import { constants } from 'node:fs';
import { access, mkdir, open, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { countClipped, encodeAudio, fileExtension, FLAC_SAMPLE_RATES, throwIfAborted } from './encode.ts';
import { createStaging, recordAfterCommit, recordBeforeCommit, removeLeftovers, sha256Of, type RecordedFile } from './export-folder.ts';
import { measureLoudness, normalisationGain, type LoudnessMeasurement, type NormalisationGain } from './loudness.ts';
import { addInto, planMix, renderTrack, stemBaseName, type MixPlan } from './mix.ts';
import {
  EXPORT_FORMATS,
  ExportError,
  type ExportedFile,
  type ExportFormat,
  type ExportOptions,
  type ExportResult,
  type ExportTrack,
  type NormalisationReport,
} from './types.ts';
import { errorMessage } from '../../contract/errors.ts';

const MIX_NAME = 'Mix';
const DEFAULT_TRUE_PEAK_CEILING = -1;

/** A file encoded into the staging folder, waiting for the commit. */
interface StagedFile {
  temp: string;
  file: ExportedFile;
  recorded: RecordedFile;
}

/** Renders and writes the mix and stems of `tracks` into `outDir`; see the module comment for the guarantees. */
export async function exportProject(tracks: readonly ExportTrack[], outDir: string, options: ExportOptions): Promise<ExportResult> {
  // 1. Check inputs.
  const format = checkFormat(options.format);
  const loudness = checkLoudness(options.loudness);
  const metadata = checkMetadata(options.metadata, 'options.metadata');
  const plan = planMix(tracks, options.sampleRate);
  tracks.forEach((track, t) => checkMetadata(track.metadata, `tracks[${t}].metadata`));
  if (plan.frames === 0) throw invalid('the project is shorter than one sample at the output rate; lengthen a region');
  if (fileExtension(format) === 'flac' && !FLAC_SAMPLE_RATES.includes(plan.sampleRate)) {
    throw invalid(
      `FLAC export supports sample rates ${FLAC_SAMPLE_RATES.join(', ')} Hz but the export rate is ${plan.sampleRate} Hz; ` +
        'set options.sampleRate to one of them or export WAV',
    );
  }
  if (typeof outDir !== 'string' || outDir.trim() === '') throw invalid(`outDir must be a folder path, got ${JSON.stringify(outDir)}`);
  const { signal } = options;
  throwIfAborted(signal);

  const folder = resolve(outDir);
  const createdFolder = await prepareFolder(folder);
  await removeLeftovers(folder);
  let staging: string | undefined;
  const staged: StagedFile[] = [];
  const audible = tracks.map((_, t) => t).filter((t) => plan.audible[t]);
  const stemOf = (t: number): boolean => tracks[t].stem !== false;
  const steps = audible.length * (loudness === undefined ? 1 : 2) + (loudness === undefined ? 0 : 1) + audible.filter(stemOf).length + 2;
  let done = 0;
  const progress = (stage: string): void => options.onProgress?.(Math.min(1, done++ / steps), stage);
  const stage = async (channels: Float32Array[], fileName: string, title: string, comment: string | undefined, t?: number) => {
    progress('encode');
    staging ??= await createStaging(folder);
    staged.push(await encodeToStaging(channels, plan, format, folder, staging, fileName, { title, comment }, t, signal));
  };
  const stemTitle = (t: number) => (metadata.title === undefined ? tracks[t].name : `${metadata.title} – ${tracks[t].name}`);
  const stemComment = (t: number) => commentOf({ ...metadata, ...tracks[t].metadata });
  const stemName = (t: number) => `${stemBaseName(t, tracks[t].name)}.${fileExtension(format)}`;

  try {
    // 2. Render (and, without normalisation, encode the stems right away).
    let mix = silence(plan);
    for (const t of audible) {
      throwIfAborted(signal);
      progress('render');
      const stem = renderTrack(tracks[t], plan);
      addInto(mix, stem);
      if (loudness === undefined && stemOf(t)) await stage(stem, stemName(t), stemTitle(t), stemComment(t), t);
    }
    let gain: { before: LoudnessMeasurement; chosen: NormalisationGain } | undefined;
    if (loudness !== undefined) {
      throwIfAborted(signal);
      progress('measure');
      const before = measureLoudness(mix, plan.sampleRate);
      const chosen = normalisationGain(before, loudness.targetLufs, loudness.truePeakDbtp);
      gain = { before, chosen };
      mix = silence(plan);
      for (const t of audible) {
        throwIfAborted(signal);
        progress('render');
        const stem = renderTrack(tracks[t], plan, chosen.gain);
        addInto(mix, stem);
        if (stemOf(t)) await stage(stem, stemName(t), stemTitle(t), stemComment(t), t);
      }
    }
    await stage(mix, `${MIX_NAME}.${fileExtension(format)}`, metadata.title ?? MIX_NAME, commentOf(metadata));
    const mixFile = staged[staged.length - 1].file;
    const normalisation: NormalisationReport | undefined =
      loudness === undefined || gain === undefined
        ? undefined
        : {
            targetLufs: loudness.targetLufs,
            truePeakCeilingDbtp: loudness.truePeakDbtp,
            gainDb: gain.chosen.gainDb,
            limitedBy: gain.chosen.limitedBy,
            before: { integratedLufs: gain.before.integratedLufs, truePeakDbtp: gain.before.truePeakDbtp },
            after: { integratedLufs: mixFile.integratedLufs, truePeakDbtp: mixFile.truePeakDbtp },
          };

    // 4. Commit (the last point where the signal is honoured).
    progress('commit');
    throwIfAborted(signal);
    await commit(staged, folder, staging, options.project);
    options.onProgress?.(1, 'done');
    return {
      sampleRate: plan.sampleRate,
      format,
      frames: plan.frames,
      durationSeconds: plan.frames / plan.sampleRate,
      files: [mixFile, ...staged.slice(0, -1).map((s) => s.file)],
      ...(normalisation === undefined ? {} : { normalisation }),
    };
  } catch (error) {
    if (staging !== undefined) await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    if (createdFolder !== undefined) await removeCreatedFolders(folder, createdFolder);
    throw asExportError(error, folder);
  }
}

/** 3. Measures, encodes and writes one file into the staging folder under its final name. */
async function encodeToStaging(
  channels: Float32Array[],
  plan: MixPlan,
  format: ExportFormat,
  folder: string,
  staging: string,
  fileName: string,
  tags: { title: string; comment: string | undefined },
  trackIndex: number | undefined,
  signal: AbortSignal | undefined,
): Promise<StagedFile> {
  checkFinite(channels, plan.sampleRate, fileName);
  const measured = measureLoudness(channels, plan.sampleRate);
  const bytes = await encodeAudio(channels, plan.sampleRate, format, { title: sanitiseTag(tags.title), comment: tags.comment }, signal);
  throwIfAborted(signal);
  const temp = join(staging, fileName);
  const handle = await open(temp, 'wx');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  const file: ExportedFile = {
    kind: trackIndex === undefined ? 'mix' : 'stem',
    ...(trackIndex === undefined ? {} : { trackIndex }),
    fileName,
    path: join(folder, fileName),
    frames: plan.frames,
    durationSeconds: plan.frames / plan.sampleRate,
    samplePeakDbfs: measured.samplePeakDbfs,
    truePeakDbtp: measured.truePeakDbtp,
    integratedLufs: measured.integratedLufs,
    clippedSamples: countClipped(channels, format),
  };
  return { temp, file, recorded: { name: fileName, bytes: bytes.length, sha256: sha256Of(bytes) } };
}

async function commit(staged: StagedFile[], folder: string, staging: string | undefined, project: string | undefined): Promise<void> {
  const written = staged.map((s) => s.recorded);
  let stale: RecordedFile[] = [];
  if (project !== undefined && staging !== undefined) {
    try {
      stale = await recordBeforeCommit(folder, staging, project, written);
    } catch (error) {
      throw new ExportError('io-error', `could not write the export record into ${folder} (${errorMessage(error)}); nothing was replaced`, { cause: error });
    }
  }
  const committed: string[] = [];
  try {
    for (const { temp, file } of staged) {
      await rename(temp, file.path);
      committed.push(file.fileName);
    }
  } catch (error) {
    throw new ExportError(
      'io-error',
      `could not move the exported files into ${folder} (${errorMessage(error)}); ` +
        (committed.length === 0 ? 'nothing was replaced' : `already in place: ${committed.join(', ')}`),
      { cause: error },
    );
  }
  if (project !== undefined && staging !== undefined) {
    // Best effort: the files are in place; a record that could not be updated only means less cleaning next time.
    await recordAfterCommit(folder, staging, project, written, stale).catch(() => undefined);
  }
  if (staging !== undefined) await rm(staging, { recursive: true, force: true }).catch(() => undefined);
  // Make the renames durable; not every platform can open a folder for fsync.
  try {
    const handle = await open(folder, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Best effort.
  }
}

/** Checks that `folder` is a writable folder, creating it if missing; returns the first folder created. */
async function prepareFolder(folder: string): Promise<string | undefined> {
  try {
    const info = await stat(folder);
    if (!info.isDirectory()) throw new ExportError('io-error', `export folder ${folder} is a file, not a folder; choose a folder`);
    await access(folder, constants.W_OK);
    return undefined;
  } catch (error) {
    if (error instanceof ExportError) throw error;
    if (errnoOf(error) !== 'ENOENT') {
      throw new ExportError('io-error', `cannot write to the export folder ${folder} (${errorMessage(error)}); choose a writable folder`, { cause: error });
    }
  }
  try {
    return (await mkdir(folder, { recursive: true })) ?? undefined;
  } catch (error) {
    throw new ExportError('io-error', `cannot create the export folder ${folder} (${errorMessage(error)}); choose a writable folder`, { cause: error });
  }
}

/** Removes the folders from `folder` up to `first` (the first one mkdir created), if they are empty. */
async function removeCreatedFolders(folder: string, first: string): Promise<void> {
  let current = folder;
  for (;;) {
    try {
      await rmdir(current);
    } catch {
      return;
    }
    if (current === first || dirname(current) === current) return;
    current = dirname(current);
  }
}

function checkFormat(format: unknown): ExportFormat {
  const known = EXPORT_FORMATS.find((f) => f === format);
  if (known === undefined) throw invalid(`unknown export format ${JSON.stringify(format)}; use one of ${EXPORT_FORMATS.join(', ')}`);
  return known;
}

function checkLoudness(loudness: ExportOptions['loudness']): { targetLufs: number; truePeakDbtp: number } | undefined {
  if (loudness === undefined) return undefined;
  if (typeof loudness !== 'object' || loudness === null) throw invalid(`options.loudness must be an object, got ${String(loudness)}`);
  const { targetLufs } = loudness;
  const truePeakDbtp = loudness.truePeakDbtp ?? DEFAULT_TRUE_PEAK_CEILING;
  if (typeof targetLufs !== 'number' || !Number.isFinite(targetLufs) || targetLufs > 0 || targetLufs < -70) {
    throw invalid(`options.loudness.targetLufs must be a LUFS value from -70 to 0 (e.g. -14, -16, -23), got ${String(targetLufs)}`);
  }
  if (typeof truePeakDbtp !== 'number' || !Number.isFinite(truePeakDbtp) || truePeakDbtp > 0) {
    throw invalid(`options.loudness.truePeakDbtp must be a finite dBTP value ≤ 0 (e.g. -1), got ${String(truePeakDbtp)}`);
  }
  return { targetLufs, truePeakDbtp };
}

function checkMetadata(metadata: Record<string, string> | undefined, at: string): Record<string, string> {
  if (metadata === undefined) return {};
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
    throw invalid(`${at} must map names to strings, got ${String(metadata)}`);
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw invalid(`${at}.${key} must be a string, got ${typeof value}; JSON-encode other values`);
  }
  return metadata;
}

/** The generation parameters as one line of JSON, or nothing when there are none. */
function commentOf(metadata: Record<string, string>): string | undefined {
  return Object.keys(metadata).length === 0 ? undefined : JSON.stringify(metadata);
}

/** Tag text without NUL (which ends a RIFF string) and other control characters. */
function sanitiseTag(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must go
  return text.replace(/[\u0000-\u001f\u007f]/g, ' ');
}

/** Rejects NaN or ±Infinity in a render (non-finite take samples), naming the file and the time. */
function checkFinite(channels: Float32Array[], sampleRate: number, fileName: string): void {
  channels.forEach((channel, c) => {
    for (let i = 0; i < channel.length; i++) {
      if (!Number.isFinite(channel[i])) {
        throw invalid(
          `${fileName} renders to ${channel[i]} in channel ${c} at ${(i / sampleRate).toFixed(3)} s: ` +
            'a take playing there holds non-finite samples; regenerate or replace that take',
        );
      }
    }
  });
}

function silence(plan: MixPlan): [Float32Array, Float32Array] {
  return [new Float32Array(plan.frames), new Float32Array(plan.frames)];
}

function asExportError(error: unknown, folder: string): unknown {
  if (error instanceof ExportError) return error;
  if (error instanceof Error && error.name === 'AbortError') return new ExportError('cancelled', 'export cancelled', { cause: error });
  if (errnoOf(error) !== undefined) {
    return new ExportError('io-error', `could not write the export into ${folder}: ${errorMessage(error)}`, { cause: error });
  }
  return error;
}

function errnoOf(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}


function invalid(message: string): ExportError {
  return new ExportError('invalid-argument', message);
}
