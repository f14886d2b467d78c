/**
 * regionInContext plans one job over kept latents of one model version: a neighbour whose take kept a latent of an
 * older version of the model (the project was made before an update) is not continued, nor anything beyond it.
 */
import { describe, expect, it } from 'vitest';
import type { ProjectDocument, Region, RegionId, TakeRef, TrackId } from '../../src-main/contract/project.ts';
import { regionInContext } from '../../src-main/host/generation/context.ts';
import type { NpyArray } from '../../src-main/host/projects/npy.ts';
import { region, sampleProject, take } from '../contract/project-fixtures.ts';

const TRACK = 'trk_a' as TrackId;
const id = (s: string): RegionId => s as RegionId;

/** A take of `seconds` that kept latent `file` of sketch at `version`, covering its region. */
function kept(takeId: `take_${string}`, seconds: number, file: string, version: string): TakeRef {
  return { ...take(takeId), seconds, latent: { file, model: 'sketch', modelVersion: version, framesPerSecond: 25, window: 256, start: 0, channels: 8, frames: Math.round(seconds * 25), bins: 16, from: 0, to: seconds * 25 } };
}

/** Four touching 10 s regions; region k's take kept latent `takes/piece_k.npy` at `versions[k]`. */
function project(versions: string[]): ProjectDocument {
  const doc = sampleProject();
  const g = doc.regions.rgn_a.generation;
  const regions: Region[] = versions.map((version, k) =>
    region(id(`rgn_${k}`), TRACK, 10 * k, 10 * (k + 1), { prompt: `p${k}`, generation: g, takes: [kept(`take_${k}`, 10, `takes/piece_${k}.npy`, version)], activeTakeId: `take_${k}` as TakeRef['id'] }),
  );
  return { ...doc, tracks: [{ ...doc.tracks[0], regionIds: regions.map((r) => r.id) }, doc.tracks[1]], regions: { ...Object.fromEntries(regions.map((r) => [r.id, r])), rgn_c: doc.regions.rgn_c } };
}

/** Reads return a zero latent of the file's region and remember which files were read. */
function reader(): { read: (file: string) => Promise<NpyArray>; files: string[] } {
  const files: string[] = [];
  return { files, read: async (file) => (files.push(file), { data: new Float32Array(8 * 250 * 16), shape: [8, 250, 16] }) as NpyArray };
}

describe('regionInContext: one model version per job', () => {
  it('continues every kept neighbour when all share a version', async () => {
    const { read, files } = reader();
    const job = await regionInContext(project(['1', '1', '1', '1']), id('rgn_2'), read, { random: () => 5 });
    expect(job?.keptFrom).toEqual({ model: 'sketch', version: '1' });
    // One native window (10.24 s) reaches back into rgn_0 too.
    expect(files.sort()).toEqual(['takes/piece_0.npy', 'takes/piece_1.npy', 'takes/piece_2.npy', 'takes/piece_3.npy']);
  });

  it('stops at a neighbour of another version: it and what lies beyond are not held', async () => {
    const { read, files } = reader();
    // The region's own take is version 1; rgn_1 (just before it) was made by version 0: the walk back stops there
    // (rgn_0 beyond is not reached either); rgn_3 after is version 1.
    const job = await regionInContext(project(['1', '0', '1', '1']), id('rgn_2'), read, { random: () => 5 });
    expect(job?.keptFrom).toEqual({ model: 'sketch', version: '1' });
    expect(files.sort()).toEqual(['takes/piece_2.npy', 'takes/piece_3.npy']);
    // The piece starts at the region: nothing before it is held.
    expect(job?.request.start).toBe(20);
  });

  it("follows the region's own latent's version: neighbours of another version are not continued", async () => {
    const { read, files } = reader();
    const job = await regionInContext(project(['1', '1', '0', '1']), id('rgn_2'), read, { strength: 0.5, random: () => 5 });
    expect(job?.keptFrom).toEqual({ model: 'sketch', version: '0' });
    expect(files).toEqual(['takes/piece_2.npy']);
  });
});

describe('regionInContext: where the piece starts', () => {
  /** A new region [from, to) before a kept 10 s region whose latent starts off the 25 fps grid (at 10.01 s). */
  function before(from: number, to: number): ProjectDocument {
    const doc = sampleProject();
    const g = doc.regions.rgn_a.generation;
    const keptTake = { ...kept('take_k', 10, 'takes/piece_k.npy', '1') };
    const regions: Region[] = [
      region(id('rgn_new'), TRACK, from, to, { prompt: 'new', generation: g }),
      region(id('rgn_kept'), TRACK, 10.01, 20.01, { prompt: 'kept', generation: g, takes: [keptTake], activeTakeId: 'take_k' as TakeRef['id'] }),
    ];
    return { ...doc, tracks: [{ ...doc.tracks[0], regionIds: regions.map((r) => r.id) }, doc.tracks[1]], regions: { ...Object.fromEntries(regions.map((r) => [r.id, r])), rgn_c: doc.regions.rgn_c } };
  }

  it.each([
    [6, 10.01],
    [0, 10.01],
  ])('a region from %s s before an off-grid kept run lies wholly inside the piece (free span from ≥ 0)', async (from, to) => {
    const job = await regionInContext(before(from, to), id('rgn_new'), reader().read, { random: () => 5 });
    const free = job?.request.context?.free;
    expect(job?.request.start).toBeLessThanOrEqual(from);
    expect(free?.from).toBeGreaterThanOrEqual(0);
    expect(free?.from).toBeLessThan(1 / 25);
    expect(job?.slices[0].start).toBeGreaterThanOrEqual(0);
  });
});
