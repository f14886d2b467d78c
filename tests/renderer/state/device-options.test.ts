/** The settings' device picker: Automatic plus the probed providers, unavailable ones disabled with the reason. */
import { describe, expect, it } from 'vitest';
import type { SystemInfo } from '../../../src-main/contract/api.ts';
import { autoProvider, deviceOptions, formatSpeedup, providerName, webgpuMeasurement } from '../../../src-renderer/state/device-options.ts';

const linuxCpu: SystemInfo = {
  version: '0.1.0',
  platform: 'linux x64',
  providers: [
    { id: 'cpu', available: true },
    { id: 'cuda', available: false, reason: 'CUDA provider libraries are not installed; run `npm run setup:cuda`' },
    { id: 'dml', available: false, reason: 'DirectML exists on Windows only' },
    { id: 'coreml', available: false, reason: 'CoreML exists on macOS only' },
  ],
};

describe('deviceOptions', () => {
  it('lists Automatic and every probed provider, unavailable ones with the host’s reason', () => {
    const options = deviceOptions(linuxCpu, 'auto');
    expect(options.map((o) => [o.id, o.available])).toEqual([
      ['auto', true],
      ['cpu', true],
      ['cuda', false],
      ['dml', false],
      ['coreml', false],
    ]);
    expect(options.find((o) => o.id === 'dml')?.detail).toBe('DirectML exists on Windows only');
    expect(options[0].detail).toBe('Uses the CPU here: no GPU provider is available');
  });

  it('says which provider Automatic picks', () => {
    const gpu: SystemInfo = { ...linuxCpu, providers: linuxCpu.providers.map((p) => (p.id === 'cuda' ? { id: 'cuda', available: true } : p)) };
    const options = deviceOptions(gpu, 'cuda');
    expect(options[0].detail).toBe('Uses CUDA here, else the CPU');
    expect(options.find((o) => o.id === 'cuda')).toMatchObject({ available: true, name: 'CUDA' });
  });

  it('offers CPU when the host has not answered, and always lists the chosen device', () => {
    expect(deviceOptions(null, 'auto').map((o) => o.id)).toEqual(['auto', 'cpu']);
    const options = deviceOptions(null, 'dml');
    expect(options.at(-1)).toMatchObject({ id: 'dml', available: false, name: 'DirectML' });
  });

  it('WebGPU: its float16 support and measured speed, and what Automatic picks as the host says (with the reason)', () => {
    const speedup = { ratio: 0.01, atMost: true, measuredAt: '2026-03-04T05:06:07.000Z', reason: "webgpu measured at most 0.01x the CPU's speed on this machine" };
    const swiftshader: SystemInfo = { ...linuxCpu, providers: [...linuxCpu.providers, { id: 'webgpu', available: true, shaderF16: false, speedup }], auto: { provider: 'cpu', reason: speedup.reason } };
    const options = deviceOptions(swiftshader, 'auto');
    expect(options.find((o) => o.id === 'webgpu')).toEqual({ id: 'webgpu', name: 'WebGPU', available: true, detail: "Any GPU with a Vulkan, D3D12 or Metal driver · available · float32 only (no shader-f16) · at most 0.01× the CPU's speed" });
    expect(options[0].detail).toBe("Uses the CPU here (WebGPU measured at most 0.01× the CPU's speed here)");
    expect(autoProvider(swiftshader)).toBe('cpu');
    expect(webgpuMeasurement(swiftshader.providers.at(-1))).toBe("Measured at most 0.01× the CPU's speed on 2026-03-04: Automatic uses the CPU (WebGPU needs 1.25× the CPU's speed).");
    const fast: SystemInfo = { ...linuxCpu, providers: [...linuxCpu.providers, { id: 'webgpu', available: true, shaderF16: true, speedup: { ...speedup, ratio: 3.4, atMost: false } }], auto: { provider: 'webgpu' } };
    expect(deviceOptions(fast, 'webgpu')[0].detail).toBe('Uses WebGPU here, else the CPU');
    expect(deviceOptions(fast, 'webgpu').find((o) => o.id === 'webgpu')?.detail).toMatch(/float16 \(shader-f16\) · 3\.4× the CPU's speed$/);
    expect(webgpuMeasurement(fast.providers.at(-1))).toMatch(/^Measured 3\.4× the CPU's speed on 2026-03-04: Automatic uses it\.$/);
    expect(webgpuMeasurement({ id: 'webgpu', available: true })).toMatch(/^Not measured yet/);
    expect(webgpuMeasurement({ id: 'webgpu', available: false, reason: 'no adapter' })).toBe('WebGPU is not available here.');
  });

  it('names and speed ratios for people; without the host\'s answer Automatic is the first available GPU provider', () => {
    expect(providerName('webgpu')).toBe('WebGPU');
    expect(providerName('auto')).toBe('Automatic');
    expect([0.012, 1.25, 12.4].map(formatSpeedup)).toEqual(['0.01×', '1.3×', '12×']);
    expect(autoProvider(null)).toBe('cpu');
    expect(autoProvider({ ...linuxCpu, providers: linuxCpu.providers.map((p) => (p.id === 'cuda' ? { id: 'cuda', available: true } : p)) })).toBe('cuda');
  });
});
