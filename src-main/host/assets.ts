/**
 * Asset paths → files. The renderer fetches take audio and peaks by URL (`studio-asset://project/<path>` in the
 * app, `/assets/<path>` over HTTP in browser mode), never through RPC payloads (ARCHITECTURE.md §1). Both
 * transports ask this one function, so the rules live in one place: only `takes/<file>` and
 * `peaks/<takeId>/<level>.i16` of an open project, nothing that climbs out or links out (projects/confine.ts),
 * peaks rebuilt when missing. The file returned is the real path that was checked, so the caller streams exactly it.
 */
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { PEAK_LEVELS, type PeakLevel, type ResolvedAsset } from '../contract/api.ts';
import { ProjectError, isId, type TakeRef } from '../contract/project.ts';
import { confinedPath } from './projects/confine.ts';
import { takeFilePath, type ProjectPaths } from './projects/layout.ts';
import { ensureTakePeaks, peaksFilePath } from './projects/peaks.ts';

const CONTENT_TYPES: Record<string, string> = { '.wav': 'audio/wav', '.flac': 'audio/flac' };
const TAKE_PATH = /^takes\/(?:[A-Za-z0-9_-][A-Za-z0-9._-]*\/)*[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const PEAKS_PATH = /^peaks\/([^/]+)\/(\d+)\.i16$/;

/**
 * Resolves `path` inside the project at `paths`. `findTake` names the file of a take id (saved document or takes
 * made this session), for rebuilding missing peaks.
 */
export async function resolveProjectAsset(
  paths: ProjectPaths,
  path: string,
  findTake: (takeId: TakeRef['id']) => Pick<TakeRef, 'id' | 'file'> | undefined,
): Promise<ResolvedAsset> {
  let file: string;
  let contentType: string;
  const peaks = PEAKS_PATH.exec(path);
  if (TAKE_PATH.test(path) && !path.split('/').includes('..')) {
    file = await confinedPath(paths.dir, takeFilePath(paths, path), path);
    contentType = CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
  } else if (peaks && isId('take', peaks[1]) && (PEAK_LEVELS as readonly number[]).includes(Number(peaks[2]))) {
    const takeId = peaks[1];
    const level = Number(peaks[2]) as PeakLevel;
    file = await confinedPath(paths.dir, peaksFilePath(paths, takeId, level), path);
    contentType = 'application/octet-stream';
    const exists = await stat(file).then((s) => s.isFile(), () => false);
    if (!exists) {
      const take = findTake(takeId);
      if (!take) throw new ProjectError('not-found', `no take '${takeId}' in this project, so it has no peaks`);
      file = await ensureTakePeaks(paths, take, level);
    }
  } else {
    throw new ProjectError(
      'invalid-argument',
      `asset path '${path.slice(0, 200)}' is not a take ("takes/<file>") or peaks file ("peaks/<takeId>/<${PEAK_LEVELS.join('|')}>.i16")`,
    );
  }
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new ProjectError('not-found', `asset '${path}' does not exist in ${paths.dir}`);
  return { file, contentType, size: info.size };
}
