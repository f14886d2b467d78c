/**
 * The `peaks/` cache of a project (ARCHITECTURE.md §5): for every take, one file per level of
 * `PEAK_LEVELS` (contract/api.ts) with int16 min/max pairs, `peaks/<takeId>/<samplesPerPeak>.i16`. Written when
 * a take is written, rebuilt on demand when missing (projects copied without `peaks/`, older takes). Peaks are
 * derived data: losing them loses nothing, so a plain atomic write (no directory fsync) is enough.
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { PEAK_LEVELS, type PeakLevel } from '../../contract/api.ts';
import type { TakeRef } from '../../contract/project.ts';
import { coarsenPeaks, computePeaks, peaksToInt16 } from '../../engine/audio/peaks.ts';
import { decodeWav } from '../wav.ts';
import { takeFilePath, type ProjectPaths } from './layout.ts';

/** The file of one level of a take's peaks. */
export function peaksFilePath(paths: ProjectPaths, takeId: TakeRef['id'], level: PeakLevel): string {
  return join(paths.peaksDir, takeId, `${level}.i16`);
}

/** Writes every level of a take's peaks from its decoded channels. */
export async function writeTakePeaks(paths: ProjectPaths, takeId: TakeRef['id'], channels: readonly Float32Array[]): Promise<void> {
  await mkdir(join(paths.peaksDir, takeId), { recursive: true });
  // Each level is an exact coarsening of the previous one (the levels are ×4 apart), so only the finest level
  // reads the audio.
  let peaks = computePeaks(channels, PEAK_LEVELS[0]);
  for (let k = 0; k < PEAK_LEVELS.length; k++) {
    if (k > 0) peaks = coarsenPeaks(peaks, PEAK_LEVELS[k] / PEAK_LEVELS[k - 1]);
    const data = peaksToInt16(peaks);
    await writeFileAtomic(peaksFilePath(paths, takeId, PEAK_LEVELS[k]), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }
}

/** The path of a take's peaks level, building the cache from the take file first when it is missing. */
export async function ensureTakePeaks(paths: ProjectPaths, take: Pick<TakeRef, 'id' | 'file'>, level: PeakLevel): Promise<string> {
  const file = peaksFilePath(paths, take.id, level);
  if (await stat(file).then((s) => s.isFile(), () => false)) return file;
  const wav = decodeWav(await readFile(takeFilePath(paths, take.file)));
  await writeTakePeaks(paths, take.id, wav.channels);
  return file;
}
