/**
 * `npm run generate -- --device webgpu` on SwiftShader (tests/helpers/webgpu.ts): the sketch pack (audioldm family)
 * generates on WebGPU and matches the CPU's file; without a usable driver it falls back to the CPU and says why;
 * `--help` reports this machine's devices; `--precision` takes auto, fp32 or int8 (CPU only).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../../src-main/host/wav.ts';
import { runCli, type CliRun } from '../helpers/cli.ts';
import { builtinPack, TEST_CACHE_DIR } from '../helpers/packs.ts';
import { maxDifference, useSoftwareAdapter } from '../helpers/webgpu.ts';

const skip = useSoftwareAdapter();
let work: string;
const cli = (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> => runCli(args, { ...process.env, TESSERA_CACHE_DIR: TEST_CACHE_DIR, TESSERA_CONFIG_DIR: join(work, 'config'), ...env });
const summaryOf = (r: CliRun): Record<string, unknown> => JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-cli-webgpu-'));
  await builtinPack('sketch');
});
afterAll(async () => rm(work, { recursive: true, force: true }));

describe('--precision', () => {
  it('takes auto, fp32 or int8 only', async () => {
    const r = await cli(['generate', '--prompt', 'rain', '--duration', '1', '--out', join(work, 'bad.wav'), '--precision', 'half']);
    expect(r.stderr).toMatch(/--precision 'half' is not one of: auto, fp32, int8/);
    expect(r.code).toBe(2);
  });

  it('int8 runs on the CPU, and is refused for a GPU device with what to do', async () => {
    const refused = await cli(['generate', '--prompt', 'rain', '--duration', '1', '--device', 'webgpu', '--precision', 'int8', '--out', join(work, 'int8-gpu.wav')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--precision int8 runs on cpu only, not on --device webgpu; use --device cpu, or --precision auto|fp32 on webgpu');
    const cpu = await cli(['generate', '--prompt', 'rain', '--duration', '0.5', '--steps', '1', '--device', 'cpu', '--precision', 'int8', '--out', join(work, 'int8.wav')]);
    expect(cpu.code, cpu.stderr).toBe(0);
    expect(summaryOf(cpu)).toMatchObject({ ok: true, device: 'cpu', precision: 'int8' });
  });
});

describe.skipIf(skip !== undefined)(`generate --device webgpu${skip === undefined ? '' : ` (skipped: ${skip})`}`, () => {
  // Tolerance: max |difference| ≤ 1e-3 × the CPU file's peak; measured: 4.5e-7 at a peak of 0.62 (1 s, 2 steps).
  it('sketch on WebGPU matches the CPU file', { timeout: 600_000 }, async () => {
    const args = (device: string, out: string): string[] => ['generate', '--prompt', 'rain', '--duration', '0.5', '--steps', '1', '--guidance', '1', '--seed', '7', '--device', device, '--out', out];
    const cpu = await cli(args('cpu', join(work, 'cpu.wav')));
    const gpu = await cli(args('webgpu', join(work, 'webgpu.wav')));
    expect(gpu.code, gpu.stderr).toBe(0);
    expect(gpu.stderr).not.toMatch(/warning: running on/);
    expect(summaryOf(gpu)).toMatchObject({ ok: true, device: 'webgpu', precision: 'fp32', samples: 8000 });
    expect(summaryOf(gpu)).not.toHaveProperty('fallbackReason');
    const a = decodeWav(await readFile(join(work, 'cpu.wav'))).channels[0];
    const b = decodeWav(await readFile(join(work, 'webgpu.wav'))).channels[0];
    expect(cpu.code).toBe(0);
    const { diff, peak } = maxDifference(a, b);
    expect(peak).toBeGreaterThan(0.01);
    expect(diff).toBeLessThanOrEqual(1e-3 * peak);
  });

  it('without a usable driver: the CPU, with the reason on stderr and in the summary', { timeout: 300_000 }, async () => {
    const r = await cli(['generate', '--prompt', 'rain', '--duration', '0.5', '--steps', '1', '--device', 'webgpu', '--out', join(work, 'fallback.wav')], { VK_ICD_FILENAMES: '/nonexistent' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('warning: running on cpu: webgpu unavailable (Failed to get a WebGPU adapter: No supported adapters)');
    expect(summaryOf(r)).toMatchObject({ device: 'cpu', fallbackReason: 'webgpu unavailable (Failed to get a WebGPU adapter: No supported adapters)' });
  });

  it('--help documents the device flags and reports this machine: WebGPU without shader-f16, not measured yet', { timeout: 300_000 }, async () => {
    const r = await cli(['generate', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--device', '--precision', '--remeasure']) expect(r.stdout).toContain(flag);
    expect(r.stdout).toContain('auto | cpu | cuda | dml | coreml | webgpu');
    expect(r.stdout).toMatch(/Devices on this machine:\n {2}cpu {5}available\n/);
    expect(r.stdout).toMatch(/\n {2}webgpu {2}available; float32 only \(no shader-f16\); speed against the CPU not measured yet/);
    expect(r.stdout).toMatch(/\n {2}auto {4}runs on cpu \(webgpu not measured on this machine yet/);
  });
});
