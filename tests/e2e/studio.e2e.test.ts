/**
 * The studio end to end (issue 5 "Done when"): Debian's Chromium driven by playwright-core against `npm run web`
 * with the built-in `sketch` model. A new user creates a project, builds a 3-minute two-track piece with four
 * prompted regions, generates it, hears it (the playhead advances), splits, moves, undoes and redoes, saves,
 * reopens, and exports a mixdown and stems: the files exist, have equal lengths, and the stems sum to the mix.
 * Screenshots of the main states go to `test-artifacts/e2e/` (kept by CI as artifacts; look at them).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProjectDocument } from '../../src-main/contract/project.ts';
import { decodeWav } from '../../src-main/host/wav.ts';
import { drawRegion, haveChromium, shot, startStudio, typePrompt, view, waitForJobs, type Studio } from './harness.ts';

let work: string;
let studio: Studio | undefined;

beforeAll(async () => {
  if (!haveChromium) return;
  work = await mkdtemp(join(tmpdir(), 'tessera-e2e-'));
  studio = await startStudio(work);
}, 180_000);

afterAll(async () => {
  await studio?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function savedDocument(dir: string): Promise<ProjectDocument> {
  return JSON.parse(await readFile(join(dir, 'project.json'), 'utf8')) as ProjectDocument;
}

const seconds = (text: string): number => {
  const m = /(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)/.exec(text);
  if (!m) throw new Error(`no time in '${text}'`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]);
};

describe.skipIf(!haveChromium)('studio end to end (browser mode, sketch model)', () => {
  it('builds, generates, plays, edits, saves, reopens and exports a 3-minute two-track piece', async () => {
    if (!studio) throw new Error('no studio');
    const page = await studio.page({ width: 1600, height: 900 });

    // 1. A new project with two tracks.
    await page.goto(studio.url);
    await page.getByTestId('start-screen').waitFor();
    await shot(page, '01-start');
    await page.getByTestId('new-project-name').fill('E2E Piece');
    await page.getByTestId('create-project').click();
    await page.getByTestId('studio').waitFor();
    await page.getByRole('button', { name: 'Add track', exact: true }).click();
    await expect.poll(() => page.getByTestId('track-lane').count()).toBe(2);
    const dir = join(work, 'projects', 'E2E Piece');

    // 2. Zoom out until three minutes fit, then four prompted regions: 0–90–180 s and 0–120–180 s.
    for (let k = 0; k < 12; k++) {
      const { pps } = await view(page);
      const width = await page.getByTestId('timeline-scroller').evaluate((el) => el.clientWidth);
      if (pps * 190 < width - 200) break;
      await page.getByTestId('zoom-out').click();
    }
    const plan: [number, number, number, string][] = [
      [0, 0, 90, 'low drone'],
      [0, 90.5, 180, 'bright tone'],
      [1, 0, 120, 'noise'],
      [1, 120.5, 180, 'soft bell'],
    ];
    for (const [lane, from, to, prompt] of plan) {
      await drawRegion(page, lane, from, to);
      await typePrompt(page, prompt);
    }
    await expect.poll(() => page.getByTestId('region').count()).toBe(4);
    expect(await page.getByTestId('region').first().getAttribute('data-state')).toBe('pending');
    await shot(page, '02-regions');

    // 3. Generate everything; the waveforms appear.
    await page.getByTestId('generate-all').click();
    await shot(page, '03-generating');
    expect((await waitForJobs(page)).every((s) => s === 'done')).toBe(true);
    await expect.poll(() => page.getByTestId('region-waveform').count()).toBeGreaterThanOrEqual(4);
    await shot(page, '04-generated');

    // 4. Play: the position advances; pause.
    await page.getByTestId('play').click();
    await page.waitForTimeout(1500);
    const playing = seconds(await page.getByTestId('time-display').innerText());
    await page.keyboard.press('Space');
    expect(playing).toBeGreaterThan(0.3);
    await shot(page, '05-played');

    // 5. Edit: split the first region at 45 s, move Track 2's last region, undo, redo, undo.
    const { pps, x0 } = await view(page);
    const ruler = await page.getByTestId('ruler').boundingBox();
    if (!ruler) throw new Error('no ruler');
    await page.mouse.click(x0 + 45 * pps, ruler.y + ruler.height / 2);
    const first = page.locator('[data-testid="region"]').filter({ hasText: 'low drone' }).first();
    await first.click({ position: { x: 20, y: 30 } });
    await page.keyboard.press('s');
    await expect.poll(() => page.getByTestId('region').count()).toBe(5);
    const bell = page.locator('[data-testid="region"]').filter({ hasText: 'soft bell' }).first();
    const bellBox = await bell.boundingBox();
    if (!bellBox) throw new Error('no bell region');
    await page.mouse.move(bellBox.x + bellBox.width / 2, bellBox.y + bellBox.height / 2);
    await page.mouse.down();
    await page.mouse.move(bellBox.x + bellBox.width / 2 + 10 * pps, bellBox.y + bellBox.height / 2, { steps: 8 });
    await page.mouse.up();
    const moved = await bell.boundingBox();
    expect(moved && moved.x - bellBox.x).toBeGreaterThan(5 * pps);
    expect(await page.getByTestId('undo').getAttribute('data-label')).toMatch(/^Move/);
    await shot(page, '06-moved');
    await page.keyboard.press('Control+z');
    await expect.poll(async () => (await bell.boundingBox())?.x).toBeCloseTo(bellBox.x, 0);
    await page.keyboard.press('Control+Shift+z');
    await expect.poll(async () => (await bell.boundingBox())?.x).toBeCloseTo(moved?.x ?? 0, 0);
    await page.keyboard.press('Control+z');
    await expect.poll(async () => (await bell.boundingBox())?.x).toBeCloseTo(bellBox.x, 0);
    expect(await page.getByTestId('redo').getAttribute('data-label')).toMatch(/^Move/);

    // 6. Save: the indicator clears and project.json holds the edit.
    await page.keyboard.press('Control+s');
    await expect.poll(() => page.getByTestId('dirty-indicator').count()).toBe(0);
    const saved = await savedDocument(dir);
    const trackIndex = (id: string): number => saved.tracks.findIndex((t) => t.id === id);
    const regions = Object.values(saved.regions).sort((a, b) => trackIndex(a.trackId) - trackIndex(b.trackId) || a.start - b.start);
    expect(regions).toHaveLength(5);
    expect(regions.every((r) => r.activeTakeId !== null)).toBe(true);
    const end = Math.max(...regions.map((r) => r.end));
    expect(end).toBeGreaterThan(178);
    expect(end).toBeLessThan(182);
    expect(regions.map((r) => r.prompt)).toEqual(['low drone', 'low drone', 'bright tone', 'noise', 'soft bell']);
    expect(regions[1].takeOffset ?? 0).toBeGreaterThan(40);

    // 7. Reopen from the start screen: the same regions with their waveforms.
    await page.getByRole('button', { name: /Project menu/ }).click();
    await page.getByRole('menuitem', { name: 'Close project' }).click();
    await page.getByTestId('start-screen').waitFor();
    await page.getByRole('button', { name: 'Open E2E Piece' }).click();
    await page.getByTestId('studio').waitFor();
    await expect.poll(() => page.getByTestId('region').count()).toBe(5);
    await expect.poll(() => page.getByTestId('region-waveform').count()).toBeGreaterThanOrEqual(5);
    await shot(page, '07-reopened');

    // 8. Export the mixdown and stems as 32-bit float WAV.
    await page.getByTestId('export').click();
    await page.getByTestId('export-stems').check();
    await page.getByRole('radio', { name: 'WAV 32-bit float' }).check();
    await page.getByTestId('export-start').click();
    await page.getByTestId('export-files').waitFor({ timeout: 120_000 });
    await shot(page, '08-exported');
    const listed = await page.getByTestId('export-files').innerText();
    const exportRoot = join(dir, 'exports');
    const folders = execFileSync('ls', [exportRoot]).toString().trim().split('\n');
    expect(folders).toHaveLength(1);
    const files = execFileSync('ls', [join(exportRoot, folders[0])]).toString().trim().split('\n').sort();
    expect(files).toEqual(['01_Track 1.wav', '02_Track 2.wav', 'Mix.wav']);
    for (const f of files) expect(listed).toContain(f);
    const decoded = await Promise.all(files.map(async (f) => decodeWav(await readFile(join(exportRoot, folders[0], f)))));
    const frames = decoded.map((d) => d.channels[0].length);
    expect(new Set(frames).size).toBe(1);
    expect(frames[0] / decoded[0].sampleRate).toBeCloseTo(end, 1);
    const [stem1, stem2, mix] = decoded;
    let worst = 0;
    for (let c = 0; c < 2; c++) {
      for (let i = 0; i < frames[0]; i += 7) worst = Math.max(worst, Math.abs(stem1.channels[c][i] + stem2.channels[c][i] - mix.channels[c][i]));
    }
    expect(worst).toBeLessThan(1e-5);

    expect(studio.consoleErrors).toEqual([]);
    await page.close();
  }, 600_000);
});
