/**
 * What the studio's end-to-end tests share: Debian's Chromium (skipped with the reason where it is missing, required
 * in CI), `npm run web` started on a freshly built renderer with its own folders, a page that records console
 * errors, screenshots into `test-artifacts/e2e/`, and the gestures and waits the tests use.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { startWebServer } from '../../tools/web-server.ts';
import { TEST_CACHE_DIR } from '../helpers/packs.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(ROOT, 'test-artifacts', 'e2e');
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--autoplay-policy=no-user-gesture-required'];
// NOTE: CI installs chromium (.ci/run); a developer machine without it skips with this reason instead of failing.
export const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (CI installs it in .ci/run)`);

/** A running `npm run web` with a browser, and how to stop both. */
export interface Studio {
  url: string;
  browser: Browser;
  /** Console errors and page errors of every page opened with {@link Studio.page}. */
  consoleErrors: string[];
  page(viewport: { width: number; height: number }): Promise<Page>;
  stop(): Promise<void>;
}

/**
 * Builds the renderer into `work/renderer`, starts `npm run web` with projects in `work/projects` (and `env` added,
 * e.g. a fake hub), and launches Chromium.
 */
export async function startStudio(work: string, env: NodeJS.ProcessEnv = {}): Promise<Studio> {
  await mkdir(SHOTS, { recursive: true });
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--outDir', join(work, 'renderer'), '--emptyOutDir', '--logLevel', 'error'], { cwd: ROOT, stdio: 'inherit' });
  // The host's log goes to the test output as it comes (a failing e2e test is read there).
  const host = await startWebServer({
    projectsDir: join(work, 'projects'),
    rendererDir: join(work, 'renderer'),
    env: { TESSERA_CACHE_DIR: TEST_CACHE_DIR, ...env },
    echoStderr: true,
    readyTimeoutMs: 120_000,
  });
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  } catch (e) {
    await host.stop();
    throw e;
  }
  const consoleErrors: string[] = [];
  return {
    url: host.url,
    browser,
    consoleErrors,
    async page(viewport) {
      const page = await browser.newPage({ viewport });
      page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(m.text());
      });
      page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
      return page;
    },
    async stop() {
      await browser.close();
      await host.stop();
    },
  };
}

/** Saves a screenshot as `test-artifacts/e2e/<name>.png`. */
export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
}

/** Pixels per second of the timeline and the lane's left edge on screen. */
export async function view(page: Page, lane = 0): Promise<{ pps: number; x0: number; y: number }> {
  const pps = Number(await page.getByTestId('timeline').getAttribute('data-px-per-second'));
  const box = await page.getByTestId('track-lane').nth(lane).boundingBox();
  if (!box || !(pps > 0)) throw new Error('timeline not laid out');
  return { pps, x0: box.x, y: box.y + box.height / 2 };
}

/** Drags in an empty stretch of lane `lane` from `from` to `to` seconds (the lane scrolled to its start). */
export async function drawRegion(page: Page, lane: number, from: number, to: number): Promise<void> {
  const { pps, x0, y } = await view(page, lane);
  await page.mouse.move(x0 + from * pps, y);
  await page.mouse.down();
  await page.mouse.move(x0 + ((from + to) / 2) * pps, y, { steps: 5 });
  await page.mouse.move(x0 + to * pps, y, { steps: 5 });
  await page.mouse.up();
}

/** Fills the inspector's prompt and leaves the field (which commits the edit). */
export async function typePrompt(page: Page, prompt: string): Promise<void> {
  const field = page.getByTestId('inspector-prompt');
  await field.fill(prompt);
  await field.blur();
}

/** Waits until every job in the queue has ended; returns their states. */
export async function waitForJobs(page: Page): Promise<string[]> {
  // Polled from here: the page's CSP forbids the string evaluation waitForFunction would need without DOM types.
  const states = (): Promise<string[]> => page.getByTestId('job-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-state') ?? ''));
  await expect
    .poll(async () => {
      const now = await states();
      return now.length > 0 && now.every((s) => ['done', 'failed', 'cancelled'].includes(s));
    }, { timeout: 240_000, interval: 250 })
    .toBe(true);
  return states();
}
