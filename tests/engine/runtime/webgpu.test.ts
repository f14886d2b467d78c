/**
 * The WebGPU execution provider on SwiftShader (CI's software adapter; tests/helpers/webgpu.ts): sessions open on it
 * and match the CPU, a float16 graph the adapter cannot run falls back to float32 with the reason, a missing adapter
 * falls back to the CPU with ORT's reason (in a child process: the adapter is chosen once per process), and the
 * real probe finds the adapter, no shader-f16, and keeps `auto` on the CPU with the speed it measured.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openSession, providerFailure, sessionOptionsFor, WEBGPU_OPTIONS } from '../../../src-main/engine/runtime/session.ts';
import { probeRuntime } from '../../../src-main/host/runtime-probe.ts';
import { readMeasurements, resetWebGpuProbe, webgpuStatus } from '../../../src-main/host/webgpu-probe.ts';
import { adapterCheckGraphs } from '../../../src-main/host/webgpu-probe-graphs.ts';
import { runTsx } from '../../helpers/cli.ts';
import { maxDifference, useSoftwareAdapter } from '../../helpers/webgpu.ts';

const skip = useSoftwareAdapter();

const spec = { inputs: [{ name: 'x', type: 'float32' as const, dims: [1, 8, 4, 4] }], outputs: [{ name: 'y', type: 'float32' as const, dims: [1, 8, 4, 4] }] };
const work: string[] = [];
afterAll(async () => Promise.all(work.map((d) => rm(d, { recursive: true, force: true }))));

describe('webgpu session options and failure reasons (no adapter needed)', () => {
  it('sessionOptionsFor(webgpu): the measured layout and buffer cache, memory patterns off, CPU arena for fallback nodes', () => {
    expect(sessionOptionsFor('webgpu', 2)).toMatchObject({ executionProviders: [{ name: 'webgpu', ...WEBGPU_OPTIONS }], enableMemPattern: false, enableCpuMemArena: true, intraOpNumThreads: 2, graphOptimizationLevel: 'all' });
    expect(WEBGPU_OPTIONS).toEqual({ preferredLayout: 'NHWC', storageBufferCacheMode: 'bucket' });
  });

  it("providerFailure keeps the sentence after ORT's source location", () => {
    const adapter = new Error('/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(const onnxruntime::webgpu::WebGpuContextConfig&)::<lambda()> adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n');
    expect(providerFailure('webgpu', adapter)).toBe('Failed to get a WebGPU adapter: No supported adapters');
    expect(providerFailure('webgpu', new Error('shader_helper.cc:416 GenerateSourceCode Program Transpose requires f16 but the device does not support it.'))).toBe('Program Transpose requires f16 but the device does not support it.');
    expect(providerFailure('cuda', new Error('libcudart.so.12: cannot open shared object file\nmore'))).toBe('libcudart.so.12: cannot open shared object file');
  });
});

describe.skipIf(skip !== undefined)(`WebGPU on SwiftShader${skip === undefined ? '' : ` (skipped: ${skip})`}`, () => {
  const { plain, half } = adapterCheckGraphs();

  it('a graph opens on webgpu in float32 and matches the CPU', { timeout: 120_000 }, async () => {
    const cpu = await openSession(plain.bytes, { name: 'check', device: 'cpu', expected: spec });
    const gpu = await openSession(plain.bytes, { name: 'check', device: 'webgpu', expected: spec });
    try {
      expect({ provider: gpu.provider, precision: gpu.precision, fallbackReason: gpu.fallbackReason }).toEqual({ provider: 'webgpu', precision: 'fp32', fallbackReason: undefined });
      const a = (await cpu.run(plain.feeds)).y.data as Float32Array;
      const b = (await gpu.run(plain.feeds)).y.data as Float32Array;
      // Measured: 0 to 2e-7 (float32 sums in another order); 1e-5 is 50× that.
      expect(maxDifference(a, b).diff).toBeLessThan(1e-5);
    } finally {
      await Promise.all([cpu.dispose(), gpu.dispose()]);
    }
  });

  it('a float16 variant SwiftShader cannot run (no shader-f16) falls back to the float32 graph on webgpu, with the reason', { timeout: 60_000 }, async () => {
    const asked: string[] = [];
    const session = await openSession(plain.bytes, {
      name: 'check',
      device: 'webgpu',
      expected: spec,
      variant: (provider) => {
        asked.push(provider);
        return Promise.resolve({ source: half.bytes, precision: 'fp16' });
      },
    });
    try {
      expect(asked).toEqual(['webgpu']);
      expect(session.provider).toBe('webgpu');
      expect(session.precision).toBe('fp32');
      expect(session.fallbackReason).toMatch(/^webgpu fp16 graph unavailable \(Program \w+ requires f16 but the device does not support it\.\)$/);
    } finally {
      await session.dispose();
    }
  });

  it('a missing adapter falls back to the CPU with its reason (child process with VK_ICD_FILENAMES=/nonexistent)', { timeout: 60_000 }, async () => {
    const run = await runTsx('tests/helpers/webgpu-open-child.ts', [], { ...process.env, VK_ICD_FILENAMES: '/nonexistent' });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}')).toEqual({ provider: 'cpu', precision: 'fp32', fallbackReason: 'webgpu unavailable (Failed to get a WebGPU adapter: No supported adapters)', outputs: ['y'] });
  });

  it('the real probe: an adapter without shader-f16; auto stays on the CPU, says why, and keeps the measurement', { timeout: 600_000 }, async () => {
    const configDir = await mkdtemp(join(tmpdir(), 'tessera-probe-real-'));
    work.push(configDir);
    const status = await webgpuStatus('measurement', { configDir });
    expect(status).toMatchObject({ available: true, shaderF16: false, f16Reason: expect.stringMatching(/requires f16 but the device does not support it/) });
    expect(status.auto?.use).toBe(false);
    expect(status.auto?.reason).toMatch(/^webgpu measured (at most )?0\.\d\dx the CPU's speed on this machine/);
    expect(Object.values(await readMeasurements(configDir))).toHaveLength(1);
    // A later process decides from the kept measurement without starting a probe.
    resetWebGpuProbe();
    const choice = await probeRuntime('auto', { configDir, exists: () => false, platform: 'linux', arch: process.arch });
    expect(choice.auto?.order).toEqual(['cpu']);
    expect(choice.auto?.skipped.webgpu).toBe(status.auto?.reason);
  });
});
