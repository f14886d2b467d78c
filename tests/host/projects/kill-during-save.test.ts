/**
 * A process killed in the middle of a save: a child saves (and autosaves) two large documents alternately and is
 * SIGKILLed, half the time at a random moment, half the time just after a temp file appears (inside a write).
 * Every time, the project must open with one of the two documents, whole.
 */
import { watch } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectPaths } from '../../../src-main/host/projects/layout.ts';
import { closeProject, createProject, openProject, saveProject } from '../../../src-main/host/projects/project-store.ts';
import { serializeProject } from '../../../src-main/host/projects/project-file.ts';
import { counterIds, largeProject } from '../../contract/project-fixtures.ts';
import { exited, firstLine, killChildren, startChild } from './child.ts';

/** Kills per test; three tests with their own seeds make 24 (each test stays short on a loaded machine). */
const KILLS = 8;
let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-kill-'));
});
afterAll(async () => {
  await killChildren();
  await rm(work, { recursive: true, force: true });
});

describe('kill during save', () => {
  it.each([20250401, 20250402, 20250403])(`always leaves the previous or the new document intact (${KILLS} SIGKILLs, seed %i)`, async (seed) => {
    const dir = join(work, `project-${seed}`);
    const a = largeProject(1000, 'A', 3300);
    const b = largeProject(1000, 'B', 3300);
    const texts = [serializeProject(a), serializeProject(b)];
    expect(texts[0].length).toBeGreaterThan(3_000_000);
    await writeFile(join(work, 'a.json'), texts[0]);
    await writeFile(join(work, 'b.json'), texts[1]);
    const created = await createProject(dir, 'Kill', { newId: counterIds(), createdWith: 'Tessera 0.1.0' });
    await saveProject(created.handle, a);
    await closeProject(created.handle);

    // Seeded delays: even runs kill 0–600 ms after the child starts saving, odd runs 0–3 ms after a temp file
    // shows up in the project folder or .tessera/ (so the kill lands between temp-file creation and rename).
    const delays = fc.sample(fc.integer({ min: 0, max: 600 }), { numRuns: KILLS, seed });
    const outcomes = { a: 0, b: 0, tempLeftovers: 0, recoveries: 0 };
    for (const [i, delay] of delays.entries()) {
      const child = startChild('save-loop.ts', [dir, join(work, 'a.json'), join(work, 'b.json')]);
      expect(await firstLine(child)).toBe('ready');
      if (i % 2 === 0) await new Promise((r) => setTimeout(r, delay));
      else await tempFileAppears([dir, join(dir, '.tessera')], delay % 4);
      child.kill('SIGKILL');
      await exited(child);

      const names = [...(await readdir(dir)), ...(await readdir(join(dir, '.tessera')))];
      if (names.some((n) => /\.json\.\d+$/.test(n))) outcomes.tempLeftovers++;
      // The dead child's lock would go stale in 10 s; remove it as staleness would (tested in project-lock.test.ts).
      await rm(projectPaths(dir).lock, { recursive: true, force: true });

      const opened = await openProject(dir);
      const text = serializeProject(opened.document);
      expect(texts).toContain(text);
      outcomes[text === texts[0] ? 'a' : 'b']++;
      if (opened.recovery) {
        outcomes.recoveries++;
        expect(texts).toContain(serializeProject(opened.recovery.document));
      }
      // The open swept the killed writer's temp files.
      expect((await readdir(dir)).filter((n) => n.startsWith('project.json.'))).toEqual([]);
      await closeProject(opened.handle, { keepAutosave: true });
    }
    console.log(`kill-during-save: ${JSON.stringify(outcomes)}`);
    expect(outcomes.a + outcomes.b).toBe(KILLS);
    // The kills must really land inside writes, or this test proves nothing.
    expect(outcomes.tempLeftovers).toBeGreaterThanOrEqual(KILLS / 8);
  });
});

/** Resolves `afterMs` after a write-file-atomic temp file (`*.json.<n>`) is created in one of `dirs`. */
function tempFileAppears(dirs: string[], afterMs: number): Promise<void> {
  return new Promise((resolve) => {
    let finished = false;
    const done = (): void => {
      if (finished) return;
      finished = true;
      clearTimeout(fallback);
      for (const w of watchers) w.close();
      setTimeout(resolve, afterMs);
    };
    const watchers = dirs.map((d) =>
      watch(d, (_event, name) => {
        if (name !== null && /\.json\.\d+$/.test(name)) done();
      }),
    );
    // If no change notification arrives (unusual filesystems), kill anyway after a while.
    const fallback = setTimeout(done, 3000);
  });
}
