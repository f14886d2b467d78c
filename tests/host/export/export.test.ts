/** exportProject end to end: real files in a temporary folder, read back by our decoder and external tools. */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportProject } from '../../../src-main/host/export/export.ts';
import { ExportError, type ExportOptions, type ExportTrack } from '../../../src-main/host/export/types.ts';
import { decodeWav } from '../../../src-main/host/wav.ts';
import { ffmpegLoudness, hasTool, pinkNoise, region, sine, track } from './helpers.ts';

const hasFfmpeg = hasTool('ffmpeg', ['-version']);
const hasFlac = hasTool('flac');
const hasSox = hasTool('sox');
const RATE = 48000;

let work: string;
let folderCount = 0;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-export-'));
});
afterAll(async () => rm(work, { recursive: true, force: true }));
const freshFolder = async () => {
  const folder = join(work, `out${folderCount++}`);
  await mkdir(folder);
  return folder;
};

/** Four tracks: mono noise hard left (late start, fades), stereo sine, a quieter pad at -6 dB, a muted one. */
function project(): ExportTrack[] {
  const noise = pinkNoise(RATE * 2, 1, 0.4);
  const left = sine(RATE * 3, RATE, 220, 0.3);
  const right = sine(RATE * 3, RATE, 330, 0.3);
  const pad = sine(RATE * 2, RATE, 110, 0.5);
  return [
    track('Rain / roof', [region([noise], RATE, 0.5, { fadeIn: 0.2, fadeOut: 0.5, gainDb: -3 })], { pan: -1, metadata: { seed: '7' } }),
    track('Drone', [region([left, right], RATE, 0, { takeOffset: 0.5, duration: 2.5 })], { pan: 0.3 }),
    track('Pad', [region([pad], RATE, 1.5), region([pad], RATE, 3.2, { duration: 0.8 })], { volumeDb: -6 }),
    track('Muted', [region([sine(RATE, RATE, 880, 0.9)], RATE, 3)], { mute: true }),
  ];
}

const maxAbs = (a: Float32Array) => a.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
const readWav = async (path: string) => decodeWav(new Uint8Array(await readFile(path)));

describe('exportProject', () => {
  it('writes Mix and NN_Name stems of equal length from 0, and the mix equals the sum of the stems (wav32f)', async () => {
    const folder = await freshFolder();
    const stages: Array<[number, string]> = [];
    const tracks = project();
    const result = await exportProject(tracks, folder, {
      format: 'wav32f',
      metadata: { title: 'Storm', model: 'sketch' },
      onProgress: (fraction, stage) => stages.push([fraction, stage]),
    });
    expect(result.files.map((f) => f.fileName)).toEqual(['Mix.wav', '01_Rain _ roof.wav', '02_Drone.wav', '03_Pad.wav']);
    expect((await readdir(folder)).sort()).toEqual(['01_Rain _ roof.wav', '02_Drone.wav', '03_Pad.wav', 'Mix.wav']);
    expect(result).toMatchObject({ sampleRate: RATE, format: 'wav32f', frames: 4 * RATE, durationSeconds: 4 });

    const mix = await readWav(join(folder, 'Mix.wav'));
    const stems = await Promise.all(result.files.slice(1).map((f) => readWav(f.path)));
    for (const file of [mix, ...stems]) {
      expect(file.sampleRate).toBe(RATE);
      expect(file.channels.map((c) => c.length)).toEqual([4 * RATE, 4 * RATE]);
    }
    // The rain stem starts at 0 with 0.5 s of silence and sits only on the left.
    expect(maxAbs(stems[0].channels[0].subarray(0, RATE / 2))).toBe(0);
    expect(maxAbs(stems[0].channels[0].subarray(RATE / 2))).toBeGreaterThan(0.01);
    expect(maxAbs(stems[0].channels[1])).toBe(0);
    let worst = 0;
    for (let c = 0; c < 2; c++) {
      for (let i = 0; i < 4 * RATE; i++) {
        const sum = stems.reduce((s, stem) => s + stem.channels[c][i], 0);
        worst = Math.max(worst, Math.abs(sum - mix.channels[c][i]));
      }
    }
    expect(worst).toBeLessThan(1e-6);

    expect(mix.tags.INAM).toBe('Storm');
    expect(JSON.parse(mix.tags.ICMT)).toEqual({ title: 'Storm', model: 'sketch' });
    expect(stems[0].tags.INAM).toBe('Storm – Rain / roof');
    expect(JSON.parse(stems[0].tags.ICMT)).toEqual({ title: 'Storm', model: 'sketch', seed: '7' });

    const [mixInfo] = result.files;
    expect(mixInfo.integratedLufs).toBeGreaterThan(-40);
    expect(mixInfo.truePeakDbtp).toBeGreaterThanOrEqual(mixInfo.samplePeakDbfs - 1e-9);
    expect(mixInfo.clippedSamples).toBe(0);
    const fractions = stages.map(([f]) => f);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));
    expect(stages[stages.length - 1]).toEqual([1, 'done']);
    expect(new Set(stages.map(([, s]) => s))).toEqual(new Set(['render', 'encode', 'commit', 'done']));
  });

  it('a soloed track is the whole mix; stem: false keeps a track in the mix without a file', async () => {
    const folder = await freshFolder();
    const tracks = project();
    tracks[1].solo = true;
    const soloed = await exportProject(tracks, folder, { format: 'wav24' });
    expect(soloed.files.map((f) => f.fileName)).toEqual(['Mix.wav', '02_Drone.wav']);
    const mix = await readWav(join(folder, 'Mix.wav'));
    const drone = await readWav(join(folder, '02_Drone.wav'));
    expect(Array.from(mix.channels[0])).toEqual(Array.from(drone.channels[0]));

    const other = await freshFolder();
    const partial = project();
    partial[2].stem = false;
    const result = await exportProject(partial, other, { format: 'wav16' });
    expect(result.files.map((f) => f.fileName)).toEqual(['Mix.wav', '01_Rain _ roof.wav', '02_Drone.wav']);
  });

  it.skipIf(!hasSox)('WAV 16 and 24 files are read by soxi without warnings', async () => {
    for (const format of ['wav16', 'wav24'] as const) {
      const folder = await freshFolder();
      const result = await exportProject(project(), folder, { format });
      for (const file of result.files) {
        const info = spawnSync('soxi', [file.path], { encoding: 'utf8' });
        expect(info.status).toBe(0);
        expect(info.stderr).not.toMatch(/WARN|FAIL/);
        expect(execFileSync('soxi', ['-s', file.path], { encoding: 'utf8' }).trim()).toBe(String(4 * RATE));
      }
    }
  });

  it.skipIf(!hasFlac || !hasFfmpeg)('FLAC 24 normalised to -16 LUFS: FFmpeg agrees, flac -t passes, stems carry their tags', async () => {
    const folder = await freshFolder();
    const result = await exportProject(project(), folder, {
      format: 'flac24',
      loudness: { targetLufs: -16 },
      metadata: { model: 'sketch' },
    });
    expect(result.normalisation).toMatchObject({ targetLufs: -16, truePeakCeilingDbtp: -1, limitedBy: 'loudness' });
    expect(result.normalisation?.after.integratedLufs).toBeCloseTo(-16, 2);
    const measured = ffmpegLoudness(join(folder, 'Mix.flac'));
    expect(Math.abs(measured.integrated - -16)).toBeLessThanOrEqual(0.1);
    expect(Math.abs(measured.integratedFine - -16)).toBeLessThanOrEqual(0.1);
    expect(measured.truePeak).toBeLessThanOrEqual(-1 + 0.2);
    for (const file of result.files) {
      const test = spawnSync('flac', ['-t', file.path], { encoding: 'utf8' });
      expect(test.status, test.stderr).toBe(0);
      expect(test.stderr).not.toMatch(/WARNING|ERROR/);
    }
    const tags = execFileSync('metaflac', ['--export-tags-to=-', result.files[1].path], { encoding: 'utf8' });
    expect(tags).toContain('TITLE=Rain / roof');
    expect(tags).toContain('COMMENT={"model":"sketch","seed":"7"}');
    expect(tags).toContain('ENCODER=Tessera');
  });

  it('stops at the true-peak ceiling and says so', async () => {
    const folder = await freshFolder();
    const clicks = new Float32Array(RATE * 3);
    for (let i = 100; i < clicks.length; i += 9000) clicks[i] = 0.9;
    const tracks = [track('Clicks', [region([clicks], RATE)], { pan: -1 })];
    const result = await exportProject(tracks, folder, { format: 'wav32f', loudness: { targetLufs: -14, truePeakDbtp: -2 } });
    expect(result.normalisation?.limitedBy).toBe('true-peak');
    expect(result.normalisation?.after.truePeakDbtp).toBeCloseTo(-2, 3);
    expect(result.normalisation?.after.integratedLufs).toBeLessThan(-14);
  });
});

describe('cancellation leaves no new files', () => {
  it.each(['render', 'encode', 'commit'])('aborted at the first "%s" progress report', async (when) => {
    const folder = await freshFolder();
    await writeFile(join(folder, 'Mix.wav'), 'previous export');
    const controller = new AbortController();
    const options: ExportOptions = {
      format: 'flac16',
      signal: controller.signal,
      onProgress: (_, stage) => {
        if (stage === when) controller.abort();
      },
    };
    const error = await exportProject(project(), folder, options).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ExportError);
    expect((error as ExportError).code).toBe('cancelled');
    expect(await readdir(folder)).toEqual(['Mix.wav']);
    expect(await readFile(join(folder, 'Mix.wav'), 'utf8')).toBe('previous export');
  });

  it('removes a folder it created, and does nothing for an already aborted signal', async () => {
    const parent = await freshFolder();
    const controller = new AbortController();
    const target = join(parent, 'new', 'deeper');
    const pending = exportProject(project(), target, {
      format: 'wav24',
      signal: controller.signal,
      onProgress: (_, stage) => stage === 'encode' && controller.abort(),
    });
    await expect(pending).rejects.toMatchObject({ code: 'cancelled' });
    expect(await readdir(parent)).toEqual([]);
    await expect(exportProject(project(), target, { format: 'wav24', signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'cancelled' });
    expect(await readdir(parent)).toEqual([]);
  });
});

describe('errors name the bad value', () => {
  const attempt = async (tracks: ExportTrack[], folder: string, options: ExportOptions) =>
    exportProject(tracks, folder, options).then(
      () => {
        throw new Error('expected the export to fail');
      },
      (e: unknown) => {
        expect(e).toBeInstanceOf(ExportError);
        return e as ExportError;
      },
    );

  it('rejects bad input before writing anything', async () => {
    const folder = await freshFolder();
    const bad = project();
    bad[2].regions[0].gainDb = NaN;
    expect((await attempt([], folder, { format: 'wav16' })).message).toMatch(/no tracks/);
    expect((await attempt(bad, folder, { format: 'wav16' })).message).toMatch(/tracks\[2\]\.regions\[0\]\.gainDb .* got NaN/);
    const unknown = await attempt(project(), folder, { format: 'mp3' as never });
    expect(unknown).toMatchObject({ code: 'invalid-argument' });
    expect(unknown.message).toMatch(/unknown export format "mp3"; use one of wav16, wav24, wav32f, flac16, flac24/);
    expect((await attempt(project(), folder, { format: 'flac16', sampleRate: 11025 })).message).toMatch(/FLAC export supports sample rates/);
    expect((await attempt(project(), folder, { format: 'wav16', loudness: { targetLufs: 5 } })).message).toMatch(/targetLufs must be a LUFS value/);
    expect((await attempt(project(), folder, { format: 'wav16', metadata: { seed: 7 as never } })).message).toMatch(/options\.metadata\.seed must be a string/);
    const broken = project();
    broken[1].regions[0].audio.channels[0][RATE] = NaN;
    expect((await attempt(broken, folder, { format: 'wav16' })).message).toMatch(/02_Drone\.wav renders to NaN in channel 0 at 0\.500 s/);
    expect(await readdir(folder)).toEqual([]);
  });

  it('reports folders it cannot write to as io-error, naming the folder', async () => {
    const parent = await freshFolder();
    const file = join(parent, 'not-a-folder');
    await writeFile(file, '');
    const asFile = await attempt(project(), file, { format: 'wav16' });
    expect(asFile).toMatchObject({ code: 'io-error' });
    expect(asFile.message).toContain(`${file} is a file, not a folder`);
    const below = await attempt(project(), join(file, 'sub'), { format: 'wav16' });
    expect(below).toMatchObject({ code: 'io-error' });
    expect(below.message).toMatch(/cannot (write to|create) the export folder .*not-a-folder/);
    if (process.getuid?.() !== 0) {
      const locked = join(parent, 'locked');
      await mkdir(locked);
      await chmod(locked, 0o555);
      const denied = await attempt(project(), locked, { format: 'wav16' });
      expect(denied).toMatchObject({ code: 'io-error' });
      expect(denied.message).toContain(`cannot write to the export folder ${locked}`);
      await chmod(locked, 0o755);
    }
  });
});
