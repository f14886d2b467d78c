/**
 * `renderProject` on the demo project: generates every missing take (real sessions, sketch model), saves them in
 * the project, then exports equal-length stems whose sum equals the mixdown. A second render generates nothing.
 */
import { execFileSync } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProject } from '../../src-main/contract/project.ts';
import { piecesOf } from '../../src-main/host/generation/plan.ts';
import { renderProject, type RenderSummary } from '../../src-main/host/render.ts';
import { TEST_CACHE_DIR } from '../helpers/packs.ts';

const DEMO = join(import.meta.dirname, '..', '..', 'resources', 'examples', 'demo-project');
let work: string;
let first: RenderSummary;

/** Decodes any audio file to interleaved float32 with SoX (an independent reader). */
function samples(path: string): Float32Array {
  const raw = execFileSync('sox', [path, '-t', 'f32', '-'], { maxBuffer: 1 << 28 });
  return new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-render-'));
  await cp(DEMO, join(work, 'demo'), { recursive: true });
  first = await renderProject({ projectDir: join(work, 'demo'), outDir: join(work, 'out'), format: 'flac24', device: 'cpu', cacheDir: TEST_CACHE_DIR });
}, 300_000);
afterAll(async () => rm(work, { recursive: true, force: true }));

describe('renderProject (demo project)', () => {
  it('generates one piece per run of adjacent regions and a take for every region, saved in the project', async () => {
    const doc = parseProject(JSON.parse(await readFile(join(work, 'demo', 'project.json'), 'utf8')), 'project.json');
    const pieces = doc.tracks.flatMap((t) => piecesOf(doc, t));
    expect(first.generatedPieces).toBe(pieces.length);
    expect(first.newTakes).toBe(Object.keys(doc.regions).length);
    for (const region of Object.values(doc.regions)) {
      expect(region.takes).toHaveLength(1);
      expect(region.activeTakeId).toBe(region.takes[0].id);
      expect(region.takes[0].seconds).toBeCloseTo(region.end - region.start, 3);
    }
    expect((await readdir(join(work, 'demo', 'takes'))).filter((f) => f.endsWith('.wav'))).toHaveLength(first.newTakes);
  });

  it('exports Mix and NN_Track stems of equal length starting at 0; the stems sum to the mix', () => {
    const files = first.export.files;
    expect(files.map((f) => f.fileName).sort()).toEqual(['01_Drone bed.flac', '02_Weather.flac', '03_Bells.flac', 'Mix.flac']);
    expect(new Set(files.map((f) => f.frames)).size).toBe(1);
    expect(first.export.durationSeconds).toBe(60);
    const mix = samples(join(work, 'out', 'Mix.flac'));
    const stems = files.filter((f) => f.kind === 'stem').map((f) => samples(f.path));
    let worst = 0;
    for (let i = 0; i < mix.length; i++) worst = Math.max(worst, Math.abs(stems.reduce((s, x) => s + x[i], 0) - mix[i]));
    expect(worst).toBeLessThan(4 * 2 ** -23); // 24-bit quantisation of four files
    for (const f of files) execFileSync('flac', ['-t', '-s', f.path]);
  });

  it('a second render finds every take and generates nothing', async () => {
    const again = await renderProject({ projectDir: join(work, 'demo'), outDir: join(work, 'out2'), format: 'wav16', device: 'cpu', cacheDir: TEST_CACHE_DIR });
    expect(again.generatedPieces).toBe(0);
    expect(again.newTakes).toBe(0);
    expect(again.export.frames).toBe(first.export.frames);
  });
});
