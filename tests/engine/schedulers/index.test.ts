import { describe, it, expect } from 'vitest';
import { DDPM_SAMPLERS, SAMPLERS, type SamplerName } from '../../../src-main/contract/generation-settings.ts';
import { createScheduler, isSamplerName, SA3_LOGSNR_SCHEDULE } from '../../../src-main/engine/schedulers/index.ts';
import { AUDIOLDM_SCHEDULER } from '../../../src-main/engine/schedulers/presets.ts';

const AUDIOLDM = AUDIOLDM_SCHEDULER;

describe('createScheduler', () => {
  it('builds every listed sampler', () => {
    expect(SAMPLERS).toEqual(['ddim', 'dpmpp-2m', 'pingpong']);
    expect(createScheduler('pingpong', SA3_LOGSNR_SCHEDULE, 8).timesteps).toHaveLength(8);
    for (const name of DDPM_SAMPLERS) {
      const sch = createScheduler(name, AUDIOLDM, 10);
      expect(sch.name).toBe(name);
      expect(sch.timesteps).toHaveLength(10);
    }
  });

  it('passes each sampler its own options', () => {
    expect(createScheduler('ddim', AUDIOLDM, 10, { eta: 1 }).needsNoise(0)).toBe(true);
    expect(createScheduler('ddim', AUDIOLDM, 10).needsNoise(0)).toBe(false);
    expect(createScheduler('dpmpp-2m', AUDIOLDM, 10, { timestepSpacing: 'trailing' }).timesteps.at(-1)).toBe(99);
  });

  it('names an unknown sampler and the allowed set', () => {
    const bogus = 'euler' as SamplerName; // as if from an unchecked settings file
    expect(() => createScheduler(bogus, AUDIOLDM, 10)).toThrow(
      /unknown sampler "euler"; expected one of ddim, dpmpp-2m/,
    );
    expect(isSamplerName('euler')).toBe(false);
    expect(isSamplerName('dpmpp-2m')).toBe(true);
  });

  it('rejects bad step counts for any sampler', () => {
    for (const name of DDPM_SAMPLERS) {
      expect(() => createScheduler(name, AUDIOLDM, 0)).toThrow(/steps must be an integer from 1 to 1000.*got 0/);
      expect(() => createScheduler(name, AUDIOLDM, 1001)).toThrow(/got 1001/);
      expect(() => createScheduler(name, AUDIOLDM, 2.5)).toThrow(/got 2\.5/);
    }
  });
});
