/**
 * Issue 12's "done when" on the demo project, through the real CLI: `npm run render -- P --out D --regenerate
 * rgn_drone_2` gives rgn_drone_2 a new take, leaves every other region's active take and file untouched, and the
 * exported drone stem has no level step or pump at the region's edges (20 s and 42 s).
 */
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProject, type ProjectDocument, type Region } from '../../src-main/contract/project.ts';
import { decodeWav } from '../../src-main/host/wav.ts';
import { ROOT, runCli } from '../helpers/cli.ts';
import { TEST_CACHE_DIR } from '../helpers/packs.ts';

let work: string;
let dir: string;
const env = (): NodeJS.ProcessEnv => ({ ...process.env, TESSERA_CACHE_DIR: TEST_CACHE_DIR });
const load = async (): Promise<ProjectDocument> => parseProject(JSON.parse(await readFile(join(dir, 'project.json'), 'utf8')), 'project.json');
const active = (r: Region) => r.takes.find((t) => t.id === r.activeTakeId);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-demo-regenerate-'));
  dir = join(work, 'demo');
  await cp(join(ROOT, 'resources', 'examples', 'demo-project'), dir, { recursive: true });
  const first = await runCli(['render', dir, '--out', join(work, 'first'), '--device', 'cpu', '--quiet'], env());
  expect(first.stderr).toBe('');
}, 300_000);
afterAll(async () => rm(work, { recursive: true, force: true }));

describe('the demo project: redo rgn_drone_2 in context', () => {
  it('only rgn_drone_2 changes, and the drone stem stays level at 20 s and 42 s', async () => {
    const before = await load();
    const hash = async (file: string): Promise<string> => createHash('sha256').update(await readFile(join(dir, file))).digest('hex');
    const others = await Promise.all(
      Object.values(before.regions)
        .filter((r) => r.id !== 'rgn_drone_2')
        .map(async (r) => ({ id: r.id, take: active(r)?.id, sha: await hash(active(r)?.file ?? '') })),
    );
    const run = await runCli(['render', dir, '--out', join(work, 'second'), '--device', 'cpu', '--regenerate', 'rgn_drone_2', '--quiet'], env());
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, generatedPieces: 1, newTakes: 1 });
    const after = await load();
    const redone = after.regions['rgn_drone_2' as Region['id']];
    expect(active(redone)?.id).not.toBe(active(before.regions['rgn_drone_2' as Region['id']])?.id);
    for (const o of others) {
      const r = after.regions[o.id];
      expect(active(r)?.id, o.id).toBe(o.take);
      expect(await hash(active(r)?.file ?? ''), o.id).toBe(o.sha);
    }
    // 50 ms RMS within ±1 s of each edge against the level 1–3 s away on both sides: no swell, dip or step over 3 dB
    // (measured ±0.6 dB).
    const stem = decodeWav(await readFile(join(work, 'second', '01_Drone bed.wav')));
    const x = stem.channels[0];
    const rate = stem.sampleRate;
    const hop = Math.round(0.05 * rate);
    const level = (t: number): number => {
      const from = Math.round(t * rate);
      let sum = 0;
      for (let i = from; i < from + hop; i++) sum += x[i] * x[i];
      return 10 * Math.log10(sum / hop + 1e-12);
    };
    const median = (values: number[]): number => values.sort((a, b) => a - b)[values.length >> 1];
    for (const edge of [20, 42]) {
      const side = (from: number, to: number): number => median(Array.from({ length: Math.round((to - from) / 0.05) }, (_, k) => level(from + 0.05 * k)));
      const left = side(edge - 3, edge - 1);
      const right = side(edge + 1, edge + 3);
      const near = Array.from({ length: 40 }, (_, k) => level(edge - 1 + 0.05 * k));
      expect(Math.abs(right - left), `step at ${edge} s`).toBeLessThan(3);
      expect(Math.max(...near) - Math.max(left, right), `swell at ${edge} s`).toBeLessThan(3);
      expect(Math.min(left, right) - Math.min(...near), `dip at ${edge} s`).toBeLessThan(3);
    }
  }, 300_000);
});
