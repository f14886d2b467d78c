/**
 * `npm run render -- P --out D --regenerate ID` (issue 12 §2): one region is redone in the context of its
 * neighbours' kept latents. Real CLI, real sessions (sketch): the region gets a new active take of its own length,
 * every other region keeps its active take and file bit for bit, and the mix has no level step at the region's
 * edges; `--strength` varies it; a new region after the run is generated in its context (extend). Bad ids are
 * refused naming them.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProject, type ProjectDocument, type Region } from '../../src-main/contract/project.ts';
import { createProject, closeProject, openProject, saveProject } from '../../src-main/host/projects/project-store.ts';
import { decodeWav } from '../../src-main/host/wav.ts';
import { seamReport, SEAM_FLAGS } from '../../src-main/engine/audio/seams.ts';
import { region } from '../contract/project-fixtures.ts';
import { runCli } from '../helpers/cli.ts';
import { TEST_CACHE_DIR } from '../helpers/packs.ts';

let work: string;
let dir: string;
const env = (): NodeJS.ProcessEnv => ({ ...process.env, TESSERA_CACHE_DIR: TEST_CACHE_DIR });
const load = async (): Promise<ProjectDocument> => parseProject(JSON.parse(await readFile(join(dir, 'project.json'), 'utf8')), 'project.json');
const active = (r: Region) => r.takes.find((t) => t.id === r.activeTakeId);
const sha = async (file: string): Promise<string> => createHash('sha256').update(await readFile(join(dir, file))).digest('hex');

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-regenerate-'));
  dir = join(work, 'song');
  const created = await createProject(dir, 'Song');
  const trackId = created.document.tracks[0].id;
  const generation = { model: 'sketch', steps: 6, guidance: 2.5, sampler: 'ddim' as const, eta: 0, method: 'auto' as const, transition: 1 };
  const spans: [string, number, number, string][] = [
    ['rgn_one', 0, 8, 'low drone'],
    ['rgn_two', 8, 16, 'low drone'],
    ['rgn_three', 16, 24, 'low drone'],
  ];
  const regions = spans.map(([id, s, e, prompt]) => region(id as Region['id'], trackId, s, e, { prompt, negativePrompt: '', seed: 5, fadeIn: 0, fadeOut: 0, generation }));
  await saveProject(created.handle, parseProject({ ...created.document, tracks: [{ ...created.document.tracks[0], regionIds: regions.map((r) => r.id) }], regions: Object.fromEntries(regions.map((r) => [r.id, r])) }, 'test'));
  await closeProject(created.handle);
  const first = await runCli(['render', dir, '--out', join(work, 'first'), '--format', 'wav24', '--device', 'cpu', '--quiet'], env());
  expect(first.stderr).toBe('');
}, 120_000);
afterAll(async () => rm(work, { recursive: true, force: true }));

describe('render --regenerate', () => {
  it('gives the region a new take and leaves its neighbours untouched, with no level step at its edges', async () => {
    const before = await load();
    const kept = await Promise.all(['rgn_one', 'rgn_three'].map(async (id) => {
      const take = active(before.regions[id as Region['id']]);
      return { id, takeId: take?.id, sha: await sha(take?.file ?? '') };
    }));
    const run = await runCli(['render', dir, '--out', join(work, 'second'), '--format', 'wav24', '--device', 'cpu', '--regenerate', 'rgn_two', '--quiet'], env());
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, generatedPieces: 1, newTakes: 1 });
    const after = await load();
    for (const k of kept) {
      const take = active(after.regions[k.id as Region['id']]);
      expect(take?.id).toBe(k.takeId);
      expect(await sha(take?.file ?? '')).toBe(k.sha);
    }
    const two = after.regions['rgn_two' as Region['id']];
    expect(two.takes).toHaveLength(2);
    expect(active(two)?.id).not.toBe(active(before.regions['rgn_two' as Region['id']])?.id);
    expect(active(two)?.seconds).toBeCloseTo(8, 3);
    expect(active(two)?.latent?.start).toBeLessThan(8);

    // Level (50 ms RMS) just before and after each edge of the redone region: no step over 3 dB.
    const mix = decodeWav(await readFile(join(work, 'second', 'Mix.wav')));
    const rate = mix.sampleRate;
    const rmsDb = (from: number, to: number): number => {
      const x = mix.channels[0].subarray(Math.round(from * rate), Math.round(to * rate));
      return 10 * Math.log10(x.reduce((s, v) => s + v * v, 0) / x.length + 1e-12);
    };
    for (const edge of [8, 16]) {
      expect(Math.abs(rmsDb(edge - 0.1, edge - 0.05) - rmsDb(edge + 0.05, edge + 0.1)), `edge ${edge} s`).toBeLessThan(3);
    }
    // The same seam metrics at the redone region's edges as at the region joins inside the first render's single
    // piece (the same positions): a redo joins its neighbours as smoothly as a join inside one generated piece.
    const first = decodeWav(await readFile(join(work, 'first', 'Mix.wav')));
    const inPiece = seamReport(first.channels[0], first.sampleRate, [8, 16]);
    const redone = seamReport(mix.channels[0], rate, [8, 16]);
    console.info(`seams at 8 and 16 s: one piece SSZ ${inPiece.ssz?.toFixed(2)} SFZ ${inPiece.sfz?.toFixed(2)} HFR ${inPiece.hfrDb?.toFixed(2)}; redone SSZ ${redone.ssz?.toFixed(2)} SFZ ${redone.sfz?.toFixed(2)} HFR ${redone.hfrDb?.toFixed(2)}`);
    expect(redone.ssz ?? 0).toBeLessThan(Math.max(SEAM_FLAGS.ssz, (inPiece.ssz ?? 0) + 0.25));
    expect(redone.sfz ?? 0).toBeLessThan(Math.max(SEAM_FLAGS.sfz, (inPiece.sfz ?? 0) + 0.25));
    expect(redone.hfrDb ?? 0).toBeGreaterThan(Math.min(SEAM_FLAGS.hfrDb, (inPiece.hfrDb ?? 0) - 0.25));
    // Renders through the real CLI (a process each, a model load each): a timeout of its own.
  }, 300_000);

  it('--strength varies the region (a new take recorded with its strength); it needs --regenerate and a value in (0, 1]', async () => {
    const before = await load();
    const old = active(before.regions['rgn_two' as Region['id']]);
    const run = await runCli(['render', dir, '--out', join(work, 'third'), '--format', 'wav24', '--device', 'cpu', '--regenerate', 'rgn_two', '--strength', '0.3', '--quiet'], env());
    expect(run.stderr).toBe('');
    const after = await load();
    const varied = active(after.regions['rgn_two' as Region['id']]);
    expect(varied?.id).not.toBe(old?.id);
    expect(varied?.parameters).toMatchObject({ strength: 0.3 });
    const refused = await runCli(['render', dir, '--out', join(work, 'x'), '--strength', '0.5'], env());
    expect(refused.stderr).toMatch(/--strength applies with --regenerate only/);
    const range = await runCli(['render', dir, '--out', join(work, 'x'), '--regenerate', 'rgn_two', '--strength', '1.5'], env());
    expect(range.stderr).toMatch(/--strength "1\.5" is not valid: expected a number in \(0, 1\]/);
    // Renders through the real CLI (a process each, a model load each): a timeout of its own.
  }, 300_000);

  it('extend: a new region after the run is generated in its context; the run keeps its takes', async () => {
    const before = await load();
    const trackId = before.tracks[0].id;
    const four = region('rgn_four' as Region['id'], trackId, 24, 30, { prompt: 'low drone', negativePrompt: '', seed: 6, fadeIn: 0, fadeOut: 0, generation: before.regions['rgn_three' as Region['id']].generation });
    const opened = await openProject(dir);
    await saveProject(opened.handle, parseProject({ ...before, tracks: [{ ...before.tracks[0], regionIds: [...before.tracks[0].regionIds, four.id] }], regions: { ...before.regions, [four.id]: four } }, 'test'));
    await closeProject(opened.handle);
    const run = await runCli(['render', dir, '--out', join(work, 'fourth'), '--format', 'wav24', '--device', 'cpu', '--quiet'], env());
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toMatchObject({ generatedPieces: 1, newTakes: 1 });
    const after = await load();
    for (const id of ['rgn_one', 'rgn_two', 'rgn_three']) expect(active(after.regions[id as Region['id']])?.id).toBe(active(before.regions[id as Region['id']])?.id);
    const take = active(after.regions[four.id]);
    expect(take?.seconds).toBeCloseTo(6, 3);
    // The piece reached back into the run's kept latent: it started before the new region.
    expect(take?.latent?.start).toBeLessThan(24);
    const mix = decodeWav(await readFile(join(work, 'fourth', 'Mix.wav')));
    const rate = mix.sampleRate;
    const rmsDb = (from: number, to: number): number => {
      const x = mix.channels[0].subarray(Math.round(from * rate), Math.round(to * rate));
      return 10 * Math.log10(x.reduce((s, v) => s + v * v, 0) / x.length + 1e-12);
    };
    expect(Math.abs(rmsDb(23.9, 23.95) - rmsDb(24.05, 24.1))).toBeLessThan(3);
    // Renders through the real CLI: a timeout of its own.
  }, 300_000);

  it('refuses an id that is not a region, naming it', async () => {
    const bad = await runCli(['render', dir, '--out', join(work, 'x'), '--regenerate', 'rgn_nope', '--quiet'], env());
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/rgn_nope is not a region of/);
    const malformed = await runCli(['render', dir, '--out', join(work, 'x'), '--regenerate', 'two'], env());
    expect(malformed.stderr).toMatch(/--regenerate "two" is not valid: "two" is not a region id/);
  });
});
