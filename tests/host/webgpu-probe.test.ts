/**
 * The WebGPU probe's decisions with injected timings and children (no GPU): auto's ≥ 1.25× rule and its reasons, the
 * per-machine measurement kept in the config folder (used without a process, re-measured on request, dropped when
 * the adapter is gone), the per-process adapter check, how providers and auto's order follow, and the child's time
 * limits.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { probeRuntime, providerReport } from '../../src-main/host/runtime-probe.ts';
import {
  AUTO_SPEEDUP,
  autoVerdict,
  measurementKey,
  measurementsFile,
  readMeasurements,
  resetWebGpuProbe,
  runProbeChild,
  webgpuStatus,
  type ProbeNeed,
  type ProbeOutcome,
  type WebGpuStatus,
} from '../../src-main/host/webgpu-probe.ts';

const dirs: string[] = [];
async function configDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-probe-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));
beforeEach(() => resetWebGpuProbe());

const swiftshader = { available: true, shaderF16: false, f16Reason: 'Program Transpose requires f16 but the device does not support it.' };
const gpu = { available: true, shaderF16: true };
const none = { available: false, shaderF16: false, reason: 'Failed to get a WebGPU adapter: No supported adapters' };

/** A fake probe child: what it answers, and how often it was asked. */
function fakeChild(outcome: (measure: boolean) => ProbeOutcome): { run: (measure: boolean) => Promise<ProbeOutcome>; calls: boolean[] } {
  const calls: boolean[] = [];
  return {
    calls,
    run: (measure) => {
      calls.push(measure);
      return Promise.resolve(outcome(measure));
    },
  };
}

describe('autoVerdict', () => {
  it('uses WebGPU from 1.25x the CPU speed (medians), not below, and says why', () => {
    expect(AUTO_SPEEDUP).toBe(1.25);
    const faster = autoVerdict({ cpuSeconds: [0.1, 0.12, 0.08], webgpuSeconds: [0.05, 0.04, 0.06] });
    expect(faster).toMatchObject({ use: true, atMost: false });
    expect(faster.speedup).toBeCloseTo(2, 10);
    expect(faster.reason).toBe("webgpu measured 2.00x the CPU's speed on this machine (50.0 ms against the CPU's 100.0 ms per run; auto uses it)");
    expect(autoVerdict({ cpuSeconds: [0.125], webgpuSeconds: [0.1] }).use).toBe(true);
    const justBelow = autoVerdict({ cpuSeconds: [0.124], webgpuSeconds: [0.1] });
    expect(justBelow.use).toBe(false);
    expect(justBelow.reason).toMatch(/^webgpu measured 1\.24x the CPU's speed on this machine .*auto uses it from 1\.25x\)$/);
  });

  it('a WebGPU half cut off before its first run is at most cpu/cutoff, never used', () => {
    const cut = autoVerdict({ cpuSeconds: [0.05, 0.05, 0.05], webgpuSeconds: [], cutOffAfter: 5 });
    expect(cut).toMatchObject({ use: false, atMost: true });
    expect(cut.speedup).toBeCloseTo(0.01, 10);
    expect(cut.reason).toMatch(/^webgpu measured at most 0\.01x the CPU's speed on this machine \(its first run had not finished after 5\.0 s; the CPU's takes 50 ms/);
    expect(autoVerdict({ cpuSeconds: [0.05], webgpuSeconds: [], error: 'timing on webgpu failed: out of memory' })).toMatchObject({ use: false, reason: expect.stringMatching(/could not be measured .*out of memory/) });
  });
});

describe('measurementKey', () => {
  it('names the onnxruntime version, platform, Vulkan environment and installed drivers', () => {
    const key = measurementKey({ ortVersion: '1.30.0', platform: 'linux', arch: 'x64', env: { VK_ICD_FILENAMES: '/a.json', HOME: '/h' }, icdFiles: ['/etc/vulkan/icd.d/b.json', '/usr/share/vulkan/icd.d/a.json'] });
    expect(key).toBe('onnxruntime-node 1.30.0; linux/x64; VK_ICD_FILENAMES=/a.json; icd=/etc/vulkan/icd.d/b.json,/usr/share/vulkan/icd.d/a.json');
    expect(measurementKey({ ortVersion: '1.30.0', platform: 'linux', arch: 'x64', env: {} })).not.toBe(key);
    expect(measurementKey({ ortVersion: '1.31.0', platform: 'linux', arch: 'x64', env: { VK_ICD_FILENAMES: '/a.json' } })).toMatch(/^onnxruntime-node 1\.31\.0; /);
  });
});

/** A Linux machine with one Vulkan driver installed, whatever this one has. */
const linux = { platform: 'linux', arch: 'x64', env: {}, icdFiles: ['/usr/share/vulkan/icd.d/gpu.json'] };

describe('webgpuStatus', () => {
  it('on Linux without any Vulkan driver manifest: unavailable at once, no process started', async () => {
    const child = fakeChild(() => ({ adapter: gpu }));
    const status = await webgpuStatus('measurement', { configDir: await configDir(), run: child.run, platform: 'linux', arch: 'x64', env: { HOME: '/home/u' }, icdFiles: [] });
    expect(child.calls).toEqual([]);
    expect(status).toEqual({ available: false, shaderF16: false, reason: expect.stringMatching(/^no Vulkan driver is installed \(no driver manifest in \/etc\/xdg\/vulkan\/icd\.d, \/etc\/vulkan\/icd\.d, \/home\/u\/\.local\/share\/vulkan\/icd\.d, .*\/usr\/share\/vulkan\/icd\.d\); install your GPU's Vulkan driver to use WebGPU$/) });
    // A driver named in the environment is looked for by ORT itself.
    await webgpuStatus('adapter', { configDir: await configDir(), run: child.run, platform: 'linux', arch: 'x64', env: { VK_ICD_FILENAMES: '/x.json' }, icdFiles: [] });
    expect(child.calls).toEqual([false]);
  });

  it('measures once per machine: the kept measurement answers later processes without starting one', async () => {
    const dir = await configDir();
    const child = fakeChild(() => ({ adapter: swiftshader, timing: { cpuSeconds: [0.05], webgpuSeconds: [], cutOffAfter: 5 } }));
    const first = await webgpuStatus('measurement', { ...linux, configDir: dir, run: child.run, now: () => new Date('2026-01-02T03:04:05Z') });
    expect(child.calls).toEqual([true]);
    expect(first).toMatchObject({ available: true, shaderF16: false, auto: { use: false, atMost: true, measuredAt: '2026-01-02T03:04:05.000Z' } });
    const kept = Object.values(await readMeasurements(dir));
    expect(kept).toHaveLength(1);
    resetWebGpuProbe(); // a new process
    const later = await webgpuStatus('measurement', { ...linux, configDir: dir, run: child.run });
    expect(child.calls).toEqual([true]);
    expect(later).toEqual(first);
  });

  it('re-measures on request and keeps the new result', async () => {
    const dir = await configDir();
    let speed = 0.1;
    const child = fakeChild(() => ({ adapter: gpu, timing: { cpuSeconds: [0.1], webgpuSeconds: [speed] } }));
    expect((await webgpuStatus('measurement', { ...linux, configDir: dir, run: child.run })).auto?.use).toBe(false);
    speed = 0.02;
    const again = await webgpuStatus('remeasure', { ...linux, configDir: dir, run: child.run });
    expect(child.calls).toEqual([true, true]);
    expect(again.auto).toMatchObject({ use: true, speedup: 5 });
    resetWebGpuProbe();
    expect((await webgpuStatus('measurement', { ...linux, configDir: dir, run: child.run })).auto?.use).toBe(true);
    expect(child.calls).toHaveLength(2);
  });

  it('keeps nothing without an adapter (each process asks again) and drops a kept result when the adapter is gone', async () => {
    const dir = await configDir();
    let adapter: ProbeOutcome['adapter'] = gpu;
    const child = fakeChild(() => (adapter.available ? { adapter, timing: { cpuSeconds: [0.1], webgpuSeconds: [0.01] } } : { adapter }));
    await webgpuStatus('measurement', { ...linux, configDir: dir, run: child.run });
    adapter = none;
    const gone = await webgpuStatus('remeasure', { ...linux, configDir: dir, run: child.run });
    expect(gone).toEqual({ available: false, shaderF16: false, reason: 'Failed to get a WebGPU adapter: No supported adapters' });
    expect(await readMeasurements(dir)).toEqual({});
    resetWebGpuProbe();
    await webgpuStatus('measurement', { ...linux, configDir: dir, run: child.run });
    expect(child.calls).toEqual([true, true, true]);
  });

  it('checks the adapter once per process (a measurement made in the process answers it too)', async () => {
    const dir = await configDir();
    const child = fakeChild((measure) => ({ adapter: swiftshader, ...(measure ? { timing: { cpuSeconds: [0.1], webgpuSeconds: [1] } } : {}) }));
    await webgpuStatus('adapter', { ...linux, configDir: dir, run: child.run });
    await webgpuStatus('adapter', { ...linux, configDir: dir, run: child.run });
    expect(child.calls).toEqual([false]);
    resetWebGpuProbe();
    await webgpuStatus('measurement', { ...linux, configDir: dir, run: child.run });
    expect(await webgpuStatus('adapter', { ...linux, configDir: dir, run: child.run })).toMatchObject({ available: true, f16Reason: expect.stringMatching(/requires f16/), auto: { use: false } });
    expect(child.calls).toEqual([false, true]);
  });

  it('a damaged measurements file counts as none', async () => {
    const dir = await configDir();
    await writeFile(measurementsFile(dir), '{ not json');
    expect(await readMeasurements(dir)).toEqual({});
    await writeFile(measurementsFile(dir), JSON.stringify({ key: { measuredAt: 1 } }));
    expect(await readMeasurements(dir)).toEqual({});
    const child = fakeChild(() => ({ adapter: gpu, timing: { cpuSeconds: [0.1], webgpuSeconds: [0.01] } }));
    await webgpuStatus('measurement', { ...linux, configDir: dir, run: child.run });
    expect(JSON.parse(await readFile(measurementsFile(dir), 'utf8'))).not.toHaveProperty('key');
  });
});

/** An injected WebGPU probe that records what it was asked. */
function injected(status: WebGpuStatus): { webgpu: (need: ProbeNeed) => Promise<WebGpuStatus>; needs: ProbeNeed[] } {
  const needs: ProbeNeed[] = [];
  return {
    needs,
    webgpu: (need) => {
      needs.push(need);
      return Promise.resolve(status);
    },
  };
}

const slow: WebGpuStatus = { available: true, shaderF16: false, auto: { ...autoVerdict({ cpuSeconds: [0.05], webgpuSeconds: [], cutOffAfter: 5 }), measuredAt: '2026-01-01T00:00:00.000Z' } };
const fast: WebGpuStatus = { available: true, shaderF16: true, auto: { ...autoVerdict({ cpuSeconds: [0.1], webgpuSeconds: [0.02] }), measuredAt: '2026-01-01T00:00:00.000Z' } };

describe('probeRuntime', () => {
  it('device cpu probes no WebGPU at all', async () => {
    const probe = injected(fast);
    const choice = await probeRuntime('cpu', { ...probe, platform: 'linux', arch: 'x64', exists: () => false });
    expect(probe.needs).toEqual([]);
    expect(choice.webgpu).toBeUndefined();
    expect(choice.installed.available).toEqual(['cpu']);
  });

  it('auto: CUDA first when installed, WebGPU only where it measured faster, then CPU; the reason it was left out', async () => {
    const withFast = injected(fast);
    expect((await probeRuntime('auto', { ...withFast, platform: 'linux', arch: 'x64', exists: () => false })).auto?.order).toEqual(['webgpu', 'cpu']);
    expect(withFast.needs).toEqual(['measurement']);
    expect((await probeRuntime('auto', { ...injected(fast), platform: 'linux', arch: 'x64', exists: () => true })).auto?.order).toEqual(['cuda', 'webgpu', 'cpu']);
    expect((await probeRuntime('auto', { ...injected(fast), platform: 'win32', arch: 'x64', exists: () => false })).auto?.order).toEqual(['dml', 'webgpu', 'cpu']);
    const onSlow = await probeRuntime('auto', { ...injected(slow), platform: 'linux', arch: 'x64', exists: () => false });
    expect(onSlow.auto?.order).toEqual(['cpu']);
    expect(onSlow.auto?.skipped.webgpu).toMatch(/^webgpu measured at most 0\.01x the CPU's speed on this machine/);
    expect(onSlow.installed.available).toEqual(['cpu', 'webgpu']);
    const absent = await probeRuntime('auto', { ...injected({ available: false, shaderF16: false, reason: none.reason }), platform: 'linux', arch: 'x64', exists: () => false });
    expect(absent.auto?.skipped.webgpu).toBe('webgpu unavailable (Failed to get a WebGPU adapter: No supported adapters)');
    expect(absent.installed.missing.webgpu).toBe(none.reason);
  });

  it('an explicit device checks the adapter only; remeasure measures again', async () => {
    const probe = injected(slow);
    const choice = await probeRuntime('webgpu', { ...probe, platform: 'linux', arch: 'x64', exists: () => false });
    expect(choice.auto).toBeUndefined();
    expect(choice.installed.available).toContain('webgpu');
    await probeRuntime('auto', { ...probe, remeasure: true, platform: 'linux', arch: 'x64', exists: () => false });
    expect(probe.needs).toEqual(['adapter', 'remeasure']);
  });

  it('providerReport lists WebGPU with shader-f16 and its measured speed, and what auto runs on', async () => {
    const report = await providerReport({ ...injected(slow), platform: 'linux', arch: 'x64', exists: () => false });
    expect(report.providers.map((p) => p.id)).toEqual(['cpu', 'cuda', 'dml', 'coreml', 'webgpu']);
    expect(report.providers.at(-1)).toMatchObject({ id: 'webgpu', available: true, shaderF16: false, speedup: { atMost: true, measuredAt: '2026-01-01T00:00:00.000Z' } });
    expect(report.auto).toEqual({ provider: 'cpu', reason: expect.stringMatching(/^webgpu measured at most 0\.01x the CPU's speed on this machine/) });
  });
});

describe('runProbeChild limits', () => {
  const node = (script: string): { executable: string; args: string[] } => ({ executable: process.execPath, args: ['-e', script, '--'] });
  const line = (report: object): string => `console.log('@@tessera-webgpu-probe ' + ${JSON.stringify(JSON.stringify(report))});`;

  it('a child that does not answer in time: "probe timed out", and it is killed', async () => {
    const started = performance.now();
    const outcome = await runProbeChild(false, { command: node('setInterval(() => {}, 1000)'), adapterLimitSeconds: 0.5 });
    expect(outcome.adapter).toMatchObject({ available: false, reason: expect.stringMatching(/^probe timed out: no answer from the WebGPU driver within 0\.5 s/) });
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('a child that crashes: its exit and last words', async () => {
    const outcome = await runProbeChild(false, { command: node("console.error('Segmentation fault in libvulkan'); process.exit(139)") });
    expect(outcome.adapter.reason).toMatch(/^the WebGPU probe crashed \(exit code 139; Segmentation fault in libvulkan\)/);
  });

  it('a WebGPU half past its limit is cut off and measured as at most that fast', async () => {
    const script = `${line({ kind: 'adapter', ...swiftshader })}${line({ kind: 'cpu', seconds: [0.001, 0.001, 0.001] })} setInterval(() => {}, 1000);`;
    const outcome = await runProbeChild(true, { command: node(script), webgpuPhaseMinSeconds: 0.3 });
    expect(outcome.adapter).toEqual(swiftshader);
    expect(outcome.timing?.webgpuSeconds).toEqual([]);
    expect(outcome.timing?.cutOffAfter).toBeGreaterThanOrEqual(0.29);
    expect(autoVerdict(outcome.timing ?? { cpuSeconds: [], webgpuSeconds: [] })).toMatchObject({ use: false, atMost: true });
  });
});
