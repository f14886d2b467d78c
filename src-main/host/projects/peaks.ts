/**
 * The `peaks/` cache of a project (ARCHITECTURE.md §5): for every take, one file per level of
 * `PEAK_LEVELS` (contract/api.ts) with int16 min/max pairs, `peaks/<takeId>/<samplesPerPeak>.i16`. Written when
 * a take is written, rebuilt on demand when missing (projects copied without `peaks/`, older takes). Peaks are
 * derived data: losing them loses nothing, so a plain atomic write (no directory fsync) is enough. Every read and
 * write is confined to the project's real folder (./confine.ts): write-file-atomic writes through a link to its
 * target, so a peaks file or folder linked outside would otherwise be overwritten there.
 */
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { PEAK_LEVELS, type PeakLevel } from '../../contract/api.ts';
import { ProjectError, type TakeRef } from '../../contract/project.ts';
import { coarsenPeaks, computePeaks, peaksToInt16 } from '../../engine/audio/peaks.ts';
import { confinedPath } from './confine.ts';
import type { ProjectPaths } from './layout.ts';
import { readTakeAudio } from './take-audio.ts';

/** The file of one level of a take's peaks. */
export function peaksFilePath(paths: ProjectPaths, takeId: TakeRef['id'], level: PeakLevel): string {
  return join(paths.peaksDir, takeId, `${level}.i16`);
}

/** Writes every level of a take's peaks from its decoded channels. */
export async function writeTakePeaks(paths: ProjectPaths, takeId: TakeRef['id'], channels: readonly Float32Array[]): Promise<void> {
  // Checked before mkdir, which would otherwise create the folder wherever a linked peaks/ leads.
  await mkdir(await confinedPath(paths.dir, join(paths.peaksDir, takeId), `peaks/${takeId}`), { recursive: true });
  // Each level is an exact coarsening of the previous one (the levels are ×4 apart), so only the finest level
  // reads the audio.
  let peaks = computePeaks(channels, PEAK_LEVELS[0]);
  for (let k = 0; k < PEAK_LEVELS.length; k++) {
    if (k > 0) peaks = coarsenPeaks(peaks, PEAK_LEVELS[k] / PEAK_LEVELS[k - 1]);
    const data = peaksToInt16(peaks);
    const file = await confinedPath(paths.dir, peaksFilePath(paths, takeId, PEAK_LEVELS[k]), `peaks/${takeId}/${PEAK_LEVELS[k]}.i16`);
    await writeFileAtomic(file, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }
}

/** The real path of a take's peaks level, building the cache from the take file first when it is missing. */
export async function ensureTakePeaks(paths: ProjectPaths, take: Pick<TakeRef, 'id' | 'file'>, level: PeakLevel): Promise<string> {
  const shown = `peaks/${take.id}/${level}.i16`;
  const file = await confinedPath(paths.dir, peaksFilePath(paths, take.id, level), shown);
  if (await stat(file).then((s) => s.isFile(), () => false)) return file;
  let channels: Float32Array[];
  try {
    channels = (await readTakeAudio(paths, take)).channels;
  } catch (e) {
    if (!(e instanceof ProjectError)) throw e;
    throw new ProjectError(e.code, `Cannot build the waveform of a take: ${e.message} Regenerate its region to get its waveform back.`, [], { cause: e });
  }
  await writeTakePeaks(paths, take.id, channels);
  return confinedPath(paths.dir, peaksFilePath(paths, take.id, level), shown);
}
