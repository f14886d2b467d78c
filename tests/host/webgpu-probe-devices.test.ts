/**
 * A model's devices (ModelInfo.devices, host/model-info.ts) follow the WebGPU probe as `getSystemInfo` does: WebGPU
 * listed exactly when the probe found an adapter, and its reason when not.
 */
import { describe, expect, it } from 'vitest';
import { listInstalledModels, providerInfo } from '../../src-main/host/model-info.ts';
import { providerReport, type RuntimeProbeOptions } from '../../src-main/host/runtime-probe.ts';
import type { WebGpuStatus } from '../../src-main/host/webgpu-probe.ts';

const found: WebGpuStatus = { available: true, shaderF16: false, f16Reason: 'no shader-f16' };
const missing: WebGpuStatus = { available: false, shaderF16: false, reason: 'Failed to get a WebGPU adapter: No supported adapters' };

function probe(status: WebGpuStatus): RuntimeProbeOptions & { needs: string[] } {
  const needs: string[] = [];
  return { needs, platform: 'linux', arch: 'x64', exists: () => false, webgpu: (need) => (needs.push(need), Promise.resolve(status)) };
}

describe('providerInfo and model devices', () => {
  it('lists WebGPU as the probe found it: available with shader-f16, or unavailable with its reason; the same list as getSystemInfo', async () => {
    const withAdapter = await providerInfo(probe(found));
    expect(withAdapter.find((p) => p.id === 'webgpu')).toEqual({ id: 'webgpu', available: true, shaderF16: false });
    expect(withAdapter).toEqual((await providerReport(probe(found))).providers);
    const without = await providerInfo(probe(missing));
    expect(without.find((p) => p.id === 'webgpu')).toEqual({ id: 'webgpu', available: false, reason: 'Failed to get a WebGPU adapter: No supported adapters' });
    expect(without.find((p) => p.id === 'cuda')).toMatchObject({ available: false, reason: expect.stringMatching(/npm run setup:cuda/) });
  });

  it("every model's devices include webgpu exactly when the probe found an adapter (one probe for the whole list)", async () => {
    const withAdapter = probe(found);
    const models = await listInstalledModels(undefined, undefined, withAdapter);
    expect(models.length).toBeGreaterThan(0);
    for (const m of models) expect(m.devices).toEqual(['cpu', 'webgpu']);
    expect(withAdapter.needs).toHaveLength(1);
    for (const m of await listInstalledModels(undefined, undefined, probe(missing))) expect(m.devices).toEqual(['cpu']);
  });
});
