/**
 * Exporting a project (exportTracks + exportProject, as `npm run render` and the studio do). Every take is
 * checked before an export renders anything: a truncated take, one whose header disagrees with its
 * take's rate, one with too few frames for its region, garbage, an empty file, a missing file or a link out of the
 * project fails the export with a coded error naming the track, the region (prompt and time) and the file, and
 * nothing is written to the output folder. A region past the end of its take still plays silence (the contract).
 * Rendering again into the same folder removes the stems of tracks that are gone. Real project folders, the real
 * `npm run render` path (renderProject) and the studio host's export job.
 */
import { mkdir, mkdtemp, readdir, readFile, realpath, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StudioEvents } from '../../../src-main/contract/api.ts';
import { ProjectError, type ProjectDocument, type Region } from '../../../src-main/contract/project.ts';
import { serializeProject } from '../../../src-main/host/projects/project-file.ts';
import { renderProject } from '../../../src-main/host/render.ts';
import { createStudioHost } from '../../../src-main/host/studio-host.ts';
import { decodeWav, encodeWav } from '../../../src-main/host/wav.ts';
import { region, sampleProject, take } from '../../contract/project-fixtures.ts';
import { TEST_CACHE_DIR } from '../../helpers/packs.ts';

const RATE = 16000;
let work: string;
let count = 0;
beforeAll(async () => {
  work = await realpath(await mkdtemp(join(tmpdir(), 'tessera-damaged-')));
});
afterAll(async () => rm(work, { recursive: true, force: true }));

const tone = (seconds: number, rate = RATE, channels = 1): Float32Array[] =>
  Array.from({ length: channels }, () => Float32Array.from({ length: Math.round(seconds * rate) }, (_, i) => 0.3 * Math.sin(i / 9)));

/**
 * A project: track "Drones" with region rgn_a at 2–6 s ("warm drone with a soft pad") playing take_1 (4 s mono at
 * 16 kHz), track "Rain" with rgn_c at 0–4 s playing take_3. `extra` changes rgn_a.
 */
async function project(extra: Partial<Region> = {}): Promise<{ dir: string; out: string; takeFile: string }> {
  const dir = join(work, `project${count}`);
  const out = join(work, `out${count++}`);
  const base = sampleProject();
  const doc: ProjectDocument = {
    ...base,
    tracks: [
      { ...base.tracks[0], regionIds: ['rgn_a'] },
      { ...base.tracks[1], mute: false, stem: true, regionIds: ['rgn_c'] },
    ],
    regions: {
      rgn_a: region('rgn_a', 'trk_a', 2, 6, { takes: [take('take_1')], activeTakeId: 'take_1', fadeIn: 0, fadeOut: 0, ...extra }),
      rgn_c: region('rgn_c', 'trk_b', 0, 4, { prompt: 'gentle rain', takes: [take('take_3')], activeTakeId: 'take_3' }),
    },
  };
  await mkdir(join(dir, 'takes'), { recursive: true });
  await writeFile(join(dir, 'project.json'), serializeProject(doc));
  await writeFile(join(dir, 'takes', 'take_1.wav'), encodeWav(tone(4), RATE, 'float32'));
  await writeFile(join(dir, 'takes', 'take_3.wav'), encodeWav(tone(4), RATE, 'pcm16'));
  return { dir, out, takeFile: join(dir, 'takes', 'take_1.wav') };
}

const render = (dir: string, out: string) => renderProject({ projectDir: dir, outDir: out, format: 'wav16', device: 'cpu', cacheDir: TEST_CACHE_DIR });

/** Runs the render expecting a ProjectError of `code` that names rgn_a's track, region and file; nothing exported. */
async function refused(dir: string, out: string, code: ProjectError['code']): Promise<string> {
  const error = await render(dir, out).then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ProjectError);
  expect((error as ProjectError).code).toBe(code);
  const message = (error as ProjectError).message;
  expect(message).toContain('track "Drones"');
  expect(message).toContain('region "warm drone with a soft pad" (2–6 s)');
  expect(message).toContain('takes/take_1.wav');
  expect(await stat(out).then(() => readdir(out), () => 'no folder')).toBe('no folder');
  return message;
}

describe('a damaged take fails the export and writes nothing', () => {
  it('a truncated take (fewer bytes than its header declares)', async () => {
    const { dir, out, takeFile } = await project();
    await truncate(takeFile, (await stat(takeFile)).size - 20_000);
    expect(await refused(dir, out, 'corrupt')).toMatch(/truncated: its header declares 64000 frames but the file holds \d+/);
  });

  it('a header whose sample rate is not the take’s', async () => {
    const { dir, out, takeFile } = await project();
    await writeFile(takeFile, encodeWav(tone(4, 44100), 44100, 'float32'));
    expect(await refused(dir, out, 'corrupt')).toMatch(/header says 44100 Hz but the take was made at 16000 Hz/);
  });

  it('a header with a channel count no take has', async () => {
    const { dir, out, takeFile } = await project();
    await writeFile(takeFile, encodeWav(tone(4, RATE, 3), RATE, 'float32'));
    expect(await refused(dir, out, 'corrupt')).toMatch(/3 channels; takes are mono or stereo/);
  });

  it('a whole file shorter than the part of the take its region plays', async () => {
    const { dir, out, takeFile } = await project({ takeOffset: 0.5 });
    await writeFile(takeFile, encodeWav(tone(2), RATE, 'float32'));
    expect(await refused(dir, out, 'corrupt')).toMatch(/holds 2 s of audio but the region plays 0\.5–4 s of this 4 s take/);
  });

  it('garbage and empty files', async () => {
    const garbage = await project();
    await writeFile(garbage.takeFile, 'this is not audio at all, just some text that happens to be here');
    expect(await refused(garbage.dir, garbage.out, 'corrupt')).toMatch(/not a WAV file/);
    const empty = await project();
    await writeFile(empty.takeFile, '');
    expect(await refused(empty.dir, empty.out, 'corrupt')).toMatch(/is empty \(0 bytes\)/);
  });

  it('a take linked to a file outside the project', async () => {
    const { dir, out, takeFile } = await project();
    const elsewhere = join(work, `elsewhere${count}.wav`);
    await writeFile(elsewhere, encodeWav(tone(4), RATE, 'float32'));
    await rm(takeFile);
    await symlink(elsewhere, takeFile);
    expect(await refused(dir, out, 'invalid-argument')).toContain(elsewhere);
  });
});

describe('what stays allowed', () => {
  it('a region reaching past the end of a whole take plays silence there', async () => {
    const { dir, out } = await project({ takeOffset: 3, end: 6 });
    const result = await render(dir, out);
    expect(result.export.files.map((f) => f.fileName).sort()).toEqual(['01_Drones.wav', '02_Rain.wav', 'Mix.wav']);
    const stem = decodeWav(await readFile(join(out, '01_Drones.wav'))).channels[0];
    const rate = result.export.sampleRate;
    const peak = (from: number, to: number) => stem.subarray(Math.round(from * rate), Math.round(to * rate)).reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    expect(peak(2, 2.99)).toBeGreaterThan(0.05);
    expect(peak(3.01, 6)).toBe(0);
  });
});

describe('rendering into the same folder again', () => {
  it('removes the stem of a track deleted since the last render, and keeps the user’s files', async () => {
    const { dir, out } = await project();
    await render(dir, out);
    await writeFile(join(out, 'liner notes.txt'), 'mine');
    const doc = JSON.parse(await readFile(join(dir, 'project.json'), 'utf8')) as ProjectDocument;
    const { rgn_c: _gone, ...regions } = doc.regions;
    await writeFile(join(dir, 'project.json'), serializeProject({ ...doc, tracks: [doc.tracks[0]], regions }));
    await render(dir, out);
    expect((await readdir(out)).sort()).toEqual(['.tessera-export.json', '01_Drones.wav', 'Mix.wav', 'liner notes.txt']);
  });
});

describe('the studio host export job (skipMissing)', () => {
  /** Opens the project in a studio host, exports `edit(document)` into `out` and returns the job's outcome. */
  async function hostExport(dir: string, out: string, edit: (doc: ProjectDocument) => ProjectDocument): Promise<StudioEvents['jobFinished']> {
    let finished: (e: StudioEvents['jobFinished']) => void = () => undefined;
    const done = new Promise<StudioEvents['jobFinished']>((resolve) => (finished = resolve));
    const host = createStudioHost({
      cacheDir: TEST_CACHE_DIR,
      projectsDir: join(work, 'projects'),
      settingsFile: null,
      log: () => undefined,
      emit: (name, payload) => {
        if (name === 'jobFinished') finished(payload as StudioEvents['jobFinished']);
      },
    });
    try {
      const opened = await host.api.openProject({ dir });
      if (!opened.ok) throw new Error(opened.error.message);
      const job = await host.api.enqueueExport({ projectId: opened.value.projectId, document: edit(opened.value.document), format: 'wav16', outDir: out });
      if (!job.ok) throw new Error(job.error.message);
      return await done;
    } finally {
      await host.dispose();
    }
  }
  const withoutRain = (doc: ProjectDocument): ProjectDocument => ({ ...doc, regions: { ...doc.regions, rgn_c: { ...doc.regions.rgn_c, takes: [], activeTakeId: null } } });
  const noFolder = async (out: string) => expect(await stat(out).then(() => readdir(out), () => 'no folder')).toBe('no folder');

  it('skips regions without a take but fails on a damaged one, naming it, with no file written', async () => {
    const { dir, out, takeFile } = await project();
    await truncate(takeFile, 200);
    const result = await hostExport(dir, out, withoutRain);
    expect(result).toMatchObject({ ok: false, error: { code: 'corrupt' } });
    expect(result.error?.message).toMatch(/track "Drones", region "warm drone with a soft pad" \(2–6 s\).*takes\/take_1\.wav.*truncated/);
    await noFolder(out);
  });

  it('a missing take file is not-found (not a raw ENOENT) and says to regenerate the region', async () => {
    const { dir, out, takeFile } = await project();
    await rm(takeFile);
    const result = await hostExport(dir, out, withoutRain);
    expect(result).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(result.error?.message).toMatch(/track "Drones", region "warm drone with a soft pad" \(2–6 s\): its take file takes\/take_1\.wav is missing .*[Rr]egenerate the region/);
    expect(result.error?.message).not.toMatch(/ENOENT/);
    await noFolder(out);
  });
});
