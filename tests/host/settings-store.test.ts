/** settings.json: WebGPU as a device (also per model) and the denoiser's precision per device survive a reload. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StudioSettings } from '../../src-main/contract/api.ts';
import { loadSettings, saveSettings } from '../../src-main/host/settings-store.ts';

const defaults: StudioSettings = { device: 'auto', intraOpThreads: null, autosaveSeconds: 30, projectsDir: '/tmp/p', modelDevices: {} };
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-settings-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('settings store', () => {
  it('keeps webgpu as the device and per model, and precision per device', async () => {
    const file = join(dir, 'settings.json');
    const settings: StudioSettings = { ...defaults, device: 'webgpu', modelDevices: { 'shape-s': 'webgpu', sketch: 'cpu' }, devicePrecision: { webgpu: 'fp32' } };
    await saveSettings(file, settings);
    expect(await loadSettings(file, defaults)).toEqual({ settings });
  });

  it('keeps int8 for the CPU and sets aside int8 for a GPU provider (CPU kernels only)', async () => {
    const file = join(dir, 'int8.json');
    const settings: StudioSettings = { ...defaults, devicePrecision: { cpu: 'int8', webgpu: 'auto' } };
    await saveSettings(file, settings);
    expect(await loadSettings(file, defaults)).toEqual({ settings });
    const gpu = join(dir, 'int8-gpu.json');
    await writeFile(gpu, JSON.stringify({ devicePrecision: { webgpu: 'int8' } }));
    const loaded = await loadSettings(gpu, defaults);
    expect(loaded.settings).toEqual(defaults);
    expect(loaded.warning).toMatch(/was unreadable/);
  });

  it('sets aside a file with a precision that does not exist', async () => {
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ devicePrecision: { webgpu: 'fp8' } }));
    const loaded = await loadSettings(file, defaults);
    expect(loaded.settings).toEqual(defaults);
    expect(loaded.warning).toMatch(/was unreadable/);
    expect(await readFile(`${file}.bad`, 'utf8')).toContain('fp8');
  });
});
