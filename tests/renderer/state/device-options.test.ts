/** The settings' device picker: Automatic plus the probed providers, unavailable ones disabled with the reason. */
import { describe, expect, it } from 'vitest';
import type { SystemInfo } from '../../../src-main/contract/api.ts';
import { deviceOptions } from '../../../src-renderer/state/device-options.ts';

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
});
