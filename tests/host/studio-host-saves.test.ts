/**
 * A headless generation (no editor document: the host saves each piece's takes) while another client saves in a
 * loop: no generation save may put back a document older than a save that had already finished. Real engine
 * worker, real sketch model, real project folder.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { ApiResult } from '../../src-main/contract/api.ts';
import { parseProject } from '../../src-main/contract/project.ts';
import { createStudioHost, type StudioHost } from '../../src-main/host/studio-host.ts';
import { region } from '../contract/project-fixtures.ts';
import { TEST_CACHE_DIR } from '../helpers/packs.ts';

let work: string;
let host: StudioHost;
let onChanged: () => void = () => undefined;
let finished: (jobId: string) => void = () => undefined;

function value<T>(result: ApiResult<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-host-saves-'));
  host = createStudioHost({
    cacheDir: TEST_CACHE_DIR,
    projectsDir: join(work, 'projects'),
    settingsFile: null,
    log: () => undefined,
    emit: (name, payload) => {
      if (name === 'projectChanged') onChanged();
      if (name === 'jobFinished') finished((payload as { jobId: string }).jobId);
    },
  });
});

afterEach(async () => {
  await host.dispose();
  await rm(work, { recursive: true, force: true });
});

it('generation saves never revert a save another client finished meanwhile', async () => {
  const opened = value(await host.api.createProject({ name: 'Saved 0' }));
  const trackId = opened.document.tracks[0].id;
  // Five regions with gaps between them: five pieces, so five generation saves spread over the job.
  const regions = [0, 1, 2, 3, 4].map((k) => region(`rgn_${k + 1}`, trackId, 3 * k, 3 * k + 2, { seed: 5 + k, generation: { model: 'sketch', steps: 4, guidance: 2.5, sampler: 'ddim', eta: 0, method: 'auto', transition: 0 } }));
  const doc = parseProject({ ...opened.document, tracks: [{ ...opened.document.tracks[0], regionIds: regions.map((r) => r.id) }], regions: Object.fromEntries(regions.map((r) => [r.id, r])) }, 'test');
  value(await host.api.saveProject({ projectId: opened.projectId, document: doc }));

  const nameOnDisk = async (): Promise<number> => Number((JSON.parse(await readFile(join(opened.dir, 'project.json'), 'utf8')) as { name: string }).name.split(' ')[1]);
  let lastFinished = 0;
  const checks: Promise<void>[] = [];
  const reverts: string[] = [];
  onChanged = () => {
    const atEvent = lastFinished;
    checks.push(nameOnDisk().then((n) => void (n < atEvent && reverts.push(`a generation save wrote 'Saved ${n}' after 'Saved ${atEvent}' had been saved`))));
  };
  const { jobId } = value(await host.api.enqueueGeneration({ projectId: opened.projectId, trackId }));
  let done = false;
  const ended = new Promise<void>((resolve) => {
    finished = (id) => id === jobId && ((done = true), resolve());
  });
  for (let i = 1; !done; i++) {
    // The other client saves the project under a new name, again and again, while the job saves its takes.
    value(await host.api.saveProject({ projectId: opened.projectId, document: { ...doc, name: `Saved ${i}` } }));
    lastFinished = i;
  }
  await ended;
  await Promise.all(checks);
  expect(checks.length).toBe(5);
  expect(reverts).toEqual([]);
  expect(await nameOnDisk()).toBeGreaterThanOrEqual(lastFinished);
});
