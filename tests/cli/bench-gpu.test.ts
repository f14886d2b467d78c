/**
 * `npm run bench:gpu -- --tiny` end to end through the CLI: on the software WebGPU adapter (Chromium's SwiftShader,
 * which CI installs) and the CPU, the report's structure, and every number finite and positive.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GpuBenchReport } from '../../src-main/cli/bench-gpu.ts';
import { runCli } from '../helpers/cli.ts';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
// CI installs chromium (.ci/run), so there the software adapter must be measured. A developer machine without
// Chromium has no WebGPU adapter at all (Mesa's lavapipe is refused by ONNX Runtime): it measures the CPU alone.
const adapter = existsSync(SWIFTSHADER);
if (!adapter && process.env.CI) throw new Error(`${SWIFTSHADER} is missing: CI installs chromium for the WebGPU tests (.ci/run)`);
const devices = adapter ? ['webgpu', 'cpu'] : ['cpu'];

// One model keeps the run short: the M-size pack takes the same code path. With --tiny's budgets the run took 93 to
// 149 s on the 2-core build machine under load (SwiftShader: 3-5 s per UNet call, 20 s per vocoder run), the CPU
// alone 5 s. The timeout is 16-25× that, since SwiftShader's speed follows the machine's load.
const TIMEOUT_MS = 40 * 60_000;

let work: string;
let report: GpuBenchReport;
let markdown: string;
let stdout: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-bench-gpu-'));
  const xdg = join(work, 'xdg');
  await mkdir(xdg);
  await chmod(xdg, 0o700);
  const env = { ...process.env, XDG_RUNTIME_DIR: xdg, TESSERA_CONFIG_DIR: join(work, 'config'), ...(adapter ? { VK_ICD_FILENAMES: SWIFTSHADER } : {}) };
  const r = await runCli(['bench-gpu', '--tiny', '--models', 'audioldm-s', '--devices', devices.join(','), '--out', join(work, 'out'), '--cache', join(work, 'packs')], env);
  expect(r.code, r.stderr).toBe(0);
  stdout = r.stdout;
  report = JSON.parse(await readFile(join(work, 'out', 'report.json'), 'utf8')) as GpuBenchReport;
  markdown = await readFile(join(work, 'out', 'report.md'), 'utf8');
}, TIMEOUT_MS);
afterAll(async () => rm(work, { recursive: true, force: true }));

const positive = (x: number | null | undefined): void => {
  expect(x).not.toBeNull();
  expect(Number.isFinite(x)).toBe(true);
  expect(x).toBeGreaterThan(0);
};

describe('bench-gpu --tiny', () => {
  it('measures every requested device, none fallen back to another', () => {
    expect(report.schema).toBe('tessera-bench-gpu/1');
    expect(report.devices.map((d) => d.device)).toEqual(devices);
    for (const d of report.devices) {
      expect(d.unavailable).toBeUndefined();
      expect(d.errors).toEqual([]);
      expect(d.models.map((m) => m.model)).toEqual(['audioldm-s']);
      for (const m of d.models) {
        expect(m.providers).toEqual({ textEncoder: d.device, unet: d.device, vaeDecoder: d.device, vocoder: d.device });
        expect(m.fallbacks).toEqual([]);
      }
    }
    expect(report.settings).toMatchObject({ tiny: true, steps: 2, guidance: 2.5, durations: [1.28, 3.84], batches: [1, 2, 4, 8] });
    expect(Object.keys(report.machine)).toEqual(expect.arrayContaining(['date', 'cpu', 'gpu', 'onnxruntime', 'node']));
    expect(report.machine.onnxruntime).toMatch(/^onnxruntime-node \d+\.\d+\.\d+$/);
  });

  it('times UNet calls: every batch measured or skipped for the budget, N = 2 × windows', () => {
    for (const d of report.devices) {
      for (const m of d.models) {
        expect(m.calls.length).toBeGreaterThan(0);
        expect([...m.calls.map((c) => c.windows), ...m.skippedBatches].sort((a, b) => a - b)).toEqual([1, 2, 4, 8]);
        for (const c of m.calls) {
          expect(c.rows).toBe(2 * c.windows);
          positive(c.median);
          positive(c.min);
          expect(c.min).toBeLessThanOrEqual(c.median);
          expect(c.perWindow).toBeCloseTo(c.median / c.windows, 12);
        }
        positive(m.unetMiB);
      }
    }
  });

  it('reports both methods at both durations with finite, positive stage times', () => {
    for (const d of report.devices) {
      for (const m of d.models) {
        expect(m.endToEnd.map((e) => `${e.seconds} ${e.method}`).sort()).toEqual(['1.28 multidiffusion', '1.28 spotdiffusion', '3.84 multidiffusion', '3.84 spotdiffusion']);
        for (const e of m.endToEnd) {
          positive(e.stages.total);
          positive(e.stages.denoise);
          positive(e.realtimeFactor);
          positive(e.unetCalls);
          positive(e.unetRows);
          if (e.how === 'extrapolated') {
            expect(e.outsideOrtShare).toBeNull();
          } else {
            for (const stage of [e.stages.encode, e.stages.decode, e.stages.vocode]) positive(stage);
            expect(e.outsideOrtShare).toBeGreaterThan(0);
            expect(e.outsideOrtShare).toBeLessThan(1);
          }
        }
        // 1.28 s is one 32-frame window: both methods are the same run; 3.84 s tiles three windows or more.
        const short = m.endToEnd.filter((e) => e.seconds === 1.28);
        expect(short.every((e) => e.how === short[0].how && e.stages.total === short[0].stages.total)).toBe(true);
        expect(m.endToEnd.filter((e) => e.seconds === 3.84).every((e) => e.how !== 'one window')).toBe(true);
      }
    }
    // The CPU's budget fits the whole tiny run: its cases are measured, not extrapolated.
    const cpu = report.devices.find((d) => d.device === 'cpu');
    expect(cpu?.models[0].endToEnd.every((e) => e.how !== 'extrapolated')).toBe(true);
  });

  it('reads peak GPU memory only for GPU devices, and says why it cannot', () => {
    for (const d of report.devices) {
      for (const m of d.models) {
        if (d.device === 'cpu') expect(m.gpuMemory).toBeNull();
        // No nvidia-smi on the build machine: the reason instead of a number.
        else if (m.gpuMemory && 'unreadable' in m.gpuMemory) expect(m.gpuMemory.unreadable).toMatch(/^not readable/);
        else positive(m.gpuMemory?.peakMiB);
      }
    }
  });

  it('writes the Markdown report with every section, and prints it', () => {
    for (const heading of ['# Tessera GPU benchmark', '## UNet seconds per call', '## End to end', '## Peak GPU memory', '## Anchors']) expect(markdown).toContain(heading);
    if (adapter) expect(markdown).toContain('## CPU ÷ device');
    expect(markdown).toContain('42.8 s');
    expect(stdout).toContain('## End to end');
  });
});

describe('bench-gpu arguments', () => {
  it('refuses an unknown device, naming it and the allowed ones', async () => {
    const r = await runCli(['bench-gpu', '--devices', 'webgpu,tpu'], process.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('tpu');
    expect(r.stderr).toContain('webgpu');
  });
});
