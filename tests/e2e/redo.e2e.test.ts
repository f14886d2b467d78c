/**
 * Redo in context in the studio, end to end (issue 12 §2 "Studio"): Debian's Chromium against `npm run web` with the
 * built-in `sketch` model. A 24 s track of three touching regions is generated; one region's "New take · keeps its
 * neighbours" gives that region alone a new take (the neighbours' take ids and WAV bytes stay as they were); "Extend"
 * adds a region after the run that gets a take grown out of the run's latent, every earlier take unchanged; the
 * track's Generate then asks before replacing takes; a lone region's "Extend before" adds a region before it that
 * grows into its take, and the top bar's Generate all asks too. Kept short (sketch, 24–46 s) beside
 * studio.e2e.test.ts.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProjectDocument, Region } from '../../src-main/contract/project.ts';
import { drawRegion, haveChromium, shot, startStudio, typePrompt, view, waitForJobs, type Studio } from './harness.ts';

let work: string;
let studio: Studio | undefined;

beforeAll(async () => {
  if (!haveChromium) return;
  work = await mkdtemp(join(tmpdir(), 'tessera-e2e-redo-'));
  studio = await startStudio(work);
}, 180_000);

afterAll(async () => {
  await studio?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Saves (Ctrl+S), waits for the dirty mark to clear and reads project.json. */
async function saveAndRead(page: Page, dir: string): Promise<ProjectDocument> {
  await page.keyboard.press('Control+s');
  try {
    await expect.poll(() => page.getByTestId('dirty-indicator').count(), { timeout: 20_000 }).toBe(0);
  } catch (e) {
    await shot(page, 'redo-save-failed');
    throw e;
  }
  return JSON.parse(await readFile(join(dir, 'project.json'), 'utf8')) as ProjectDocument;
}

/** Each region's active take id and the sha256 of its WAV, by region id. */
async function takesOf(doc: ProjectDocument, dir: string): Promise<Record<string, { take: string; sha: string }>> {
  const out: Record<string, { take: string; sha: string }> = {};
  for (const r of Object.values(doc.regions)) {
    const take = r.takes.find((t) => t.id === r.activeTakeId);
    if (take) out[r.id] = { take: take.id, sha: createHash('sha256').update(await readFile(join(dir, take.file))).digest('hex') };
  }
  return out;
}

/** The regions on screen, left to right: id and where to click. */
async function regionsOnScreen(page: Page): Promise<{ id: string; x: number; y: number }[]> {
  const rows = await page.getByTestId('region').evaluateAll((els) =>
    els.map((el) => {
      const box = el.getBoundingClientRect();
      return { id: el.getAttribute('data-region-id') ?? '', x: box.x + 20, y: box.y + 30 };
    }),
  );
  return rows.sort((a, b) => a.x - b.x);
}

/**
 * Waits for the job queued after the queue held `count` rows to end (the host answers enqueueGeneration before the
 * row appears: waiting on the rows alone could return on the earlier, finished jobs); returns every row's state.
 */
async function waitForNewJob(page: Page, count: number): Promise<string[]> {
  await expect.poll(() => page.getByTestId('job-row').count(), { timeout: 20_000 }).toBeGreaterThan(count);
  return waitForJobs(page);
}

const byStart = (doc: ProjectDocument): Region[] => Object.values(doc.regions).sort((a, b) => a.start - b.start);

describe.skipIf(!haveChromium)('redo in context end to end (browser mode, sketch model)', () => {
  it('redoes one region keeping its neighbours, extends the run, and asks before the track Generate replaces takes', async () => {
    if (!studio) throw new Error('no studio');
    const page = await studio.page({ width: 1600, height: 900 });
    await page.goto(studio.url);
    await page.getByTestId('start-screen').waitFor();
    await page.getByTestId('new-project-name').fill('Redo Piece');
    await page.getByTestId('create-project').click();
    await page.getByTestId('studio').waitFor();
    const dir = join(work, 'projects', 'Redo Piece');

    // 1. One 24 s region split at 8 s and 16 s: three touching regions of one run, each with its prompt.
    await drawRegion(page, 0, 0, 24);
    await typePrompt(page, 'low drone');
    const { pps, x0 } = await view(page);
    const ruler = await page.getByTestId('ruler').boundingBox();
    if (!ruler) throw new Error('no ruler');
    for (const t of [8, 16]) {
      await page.mouse.click(x0 + t * pps, ruler.y + ruler.height / 2);
      await page.keyboard.press('s');
    }
    await expect.poll(() => page.getByTestId('region').count()).toBe(3);
    const prompts = ['low drone', 'rain noise', 'bright bell'];
    for (const [k, r] of (await regionsOnScreen(page)).entries()) {
      await page.mouse.click(r.x, r.y);
      await typePrompt(page, prompts[k]);
    }

    // 2. The track's Generate: no takes yet, so it generates at once (no question).
    await page.getByTestId('generate-track').click();
    expect(await page.getByTestId('confirm-generate').count()).toBe(0);
    expect((await waitForJobs(page)).every((s) => s === 'done')).toBe(true);
    const generated = await saveAndRead(page, dir);
    const [one, two, three] = byStart(generated);
    expect([one, two, three].map((r) => r.prompt)).toEqual(prompts);
    const first = await takesOf(generated, dir);
    expect(Object.keys(first)).toHaveLength(3);
    await shot(page, 'redo-01-generated');

    // 3. The middle region's new take keeps its neighbours: only its take id changes; theirs and their bytes stay.
    const middle = (await regionsOnScreen(page))[1];
    await page.mouse.click(middle.x, middle.y);
    const button = page.getByTestId('generate-region');
    await expect.poll(() => button.innerText()).toMatch(/New take · keeps its neighbours/);
    const generatedJobs = await page.getByTestId('job-row').count();
    await button.click();
    expect((await waitForNewJob(page, generatedJobs)).every((s) => s === 'done')).toBe(true);
    await expect.poll(() => page.getByTestId('job-label').allInnerTexts()).toContainEqual(expect.stringMatching(/New take of 'rain noise' .*\(keeps neighbours\)/));
    const redone = await takesOf(await saveAndRead(page, dir), dir);
    expect(redone[two.id].take).not.toBe(first[two.id].take);
    expect(redone[one.id]).toEqual(first[one.id]);
    expect(redone[three.id]).toEqual(first[three.id]);
    await shot(page, 'redo-02-new-take');

    // 4. Extend the run from its last region: a new region right after it gets a take; earlier takes unchanged.
    const last = (await regionsOnScreen(page))[2];
    await page.mouse.click(last.x, last.y);
    const redoneJobs = await page.getByTestId('job-row').count();
    await page.getByTestId('extend-region').click();
    await expect.poll(() => page.getByTestId('region').count()).toBe(4);
    expect((await waitForNewJob(page, redoneJobs)).every((s) => s === 'done')).toBe(true);
    await expect.poll(() => page.getByTestId('job-label').allInnerTexts()).toContainEqual(expect.stringMatching(/^Extend Track 1: 'bright bell'/));
    const extended = await saveAndRead(page, dir);
    const regions = byStart(extended);
    expect(regions).toHaveLength(4);
    const added = regions[3];
    expect(added.start).toBeCloseTo(three.end, 6);
    expect(added.prompt).toBe('bright bell');
    expect(added.end - added.start).toBeGreaterThanOrEqual(1);
    const after = await takesOf(extended, dir);
    expect(after[added.id]).toBeDefined();
    const addedTake = added.takes.find((t) => t.id === added.activeTakeId);
    // Grown out of the run's kept latent: its piece started before the new region.
    expect(addedTake?.latent?.start).toBeLessThan(added.start);
    for (const r of [one, two, three]) expect(after[r.id]).toEqual(redone[r.id]);
    await shot(page, 'redo-03-extended');

    // 5. Now every region has audio: the track's Generate asks, with nothing to fill; Cancel queues nothing.
    const jobs = await page.getByTestId('job-row').count();
    await page.getByTestId('generate-track').click();
    await page.getByTestId('confirm-generate').waitFor();
    expect(await page.getByTestId('confirm-generate-all').innerText()).toBe('Regenerate all (replaces 4 takes)');
    expect(await page.getByTestId('confirm-generate-missing').isDisabled()).toBe(true);
    await shot(page, 'redo-04-confirm');
    await page.getByTestId('confirm-generate-cancel').click();
    await expect.poll(() => page.getByTestId('confirm-generate').count()).toBe(0);
    expect(await page.getByTestId('job-row').count()).toBe(jobs);

    // 6. A lone region at 40–46 s, generated; its "Extend before" adds a region before it (the room after the run
    //    caps it) that grows into its take; every earlier take unchanged. Then Generate all asks as well.
    await drawRegion(page, 0, 40, 46);
    await typePrompt(page, 'soft pad');
    await page.getByTestId('generate-region').click();
    expect((await waitForNewJob(page, jobs)).every((s) => s === 'done')).toBe(true);
    const lone = await saveAndRead(page, dir);
    const loneTakes = await takesOf(lone, dir);
    const far = byStart(lone)[4];
    expect(far.prompt).toBe('soft pad');
    const loneJobs = await page.getByTestId('job-row').count();
    await page.getByTestId('extend-region-before').click();
    await expect.poll(() => page.getByTestId('region').count()).toBe(6);
    expect((await waitForNewJob(page, loneJobs)).every((s) => s === 'done')).toBe(true);
    await expect.poll(() => page.getByTestId('job-label').allInnerTexts()).toContainEqual(expect.stringMatching(/^Extend Track 1: 'soft pad'/));
    const before = await saveAndRead(page, dir);
    const lead = byStart(before)[4];
    expect(lead.prompt).toBe('soft pad');
    expect(lead.end).toBeCloseTo(far.start, 6);
    expect(lead.start).toBeGreaterThanOrEqual(added.end);
    const leadTake = lead.takes.find((t) => t.id === lead.activeTakeId);
    // Its piece started at the new region and reached on into the lone region's kept latent.
    expect(leadTake?.latent?.start).toBeCloseTo(lead.start, 6);
    expect(leadTake?.latent?.frames).toBeGreaterThan(leadTake?.latent?.to ?? Infinity);
    const now = await takesOf(before, dir);
    for (const [rid, was] of Object.entries(loneTakes)) expect(now[rid], rid).toEqual(was);
    await shot(page, 'redo-05-extended-before');
    const queued = await page.getByTestId('job-row').count();
    await page.getByTestId('generate-all').click();
    await page.getByTestId('confirm-generate').waitFor();
    expect(await page.getByTestId('confirm-generate-all').innerText()).toBe('Regenerate all (replaces 6 takes)');
    await page.getByTestId('confirm-generate-cancel').click();
    await expect.poll(() => page.getByTestId('confirm-generate').count()).toBe(0);
    expect(await page.getByTestId('job-row').count()).toBe(queued);

    expect(studio.consoleErrors).toEqual([]);
    await page.close();
  }, 600_000);
});
