/**
 * Sampler registry: maps a sampler name from settings or a take's metadata to a configured scheduler. The sampler
 * names and which fit which schedule are contract/generation-settings.ts's.
 */
import { DDPM_SAMPLERS, FLOW_SAMPLERS, SAMPLERS, type SamplerName } from '../../contract/generation-settings.ts';
import { createDdimScheduler } from './ddim.ts';
import type { DdimOptions } from './ddim.ts';
import { createDpmpp2mScheduler } from './dpmpp-2m.ts';
import type { Dpmpp2mOptions } from './dpmpp-2m.ts';
import { createPingPongScheduler, type LogSnrScheduleConfig } from './pingpong.ts';
import type { NoiseScheduleConfig, Scheduler } from './types.ts';

export type { NoiseLevel, NoiseScheduleConfig, Scheduler, StepInput } from './types.ts';
export { createDdimScheduler } from './ddim.ts';
export type { DdimOptions, DdimScheduler, DdimState, DdimStepAlphas } from './ddim.ts';
export { createDpmpp2mScheduler } from './dpmpp-2m.ts';
export type { Dpmpp2mOptions, Dpmpp2mState } from './dpmpp-2m.ts';
export { alphasCumprod, betas, solverTimesteps, spacedTimesteps } from './noise-schedule.ts';
export type { TimestepSpacing } from './noise-schedule.ts';
export { createPingPongScheduler, logSnrLevels, SA3_LOGSNR_SCHEDULE } from './pingpong.ts';
export type { LogSnrScheduleConfig, PingPongScheduler, PingPongState } from './pingpong.ts';

/** A model's training schedule: a DDPM ᾱ table, or a rectified-flow LogSNR line. */
export type ScheduleConfig = NoiseScheduleConfig | LogSnrScheduleConfig;

/** Options understood by any sampler; each sampler reads only its own (η for DDIM, spacing for DPM-Solver++). */
export type SamplerOptions = DdimOptions & Dpmpp2mOptions;

/** Whether `name` is a known sampler (for validating untyped input such as settings files or IPC payloads). */
export function isSamplerName(name: string): name is SamplerName {
  return (SAMPLERS as readonly string[]).includes(name);
}

/** The samplers that can walk `config`'s kind of schedule. */
export function samplersFor(config: ScheduleConfig): readonly SamplerName[] {
  return 'schedule' in config ? FLOW_SAMPLERS : DDPM_SAMPLERS;
}

/**
 * Creates the named sampler for `steps` inference steps; throws a RangeError naming an unknown sampler, or a sampler
 * that cannot walk the model's kind of schedule.
 */
export function createScheduler(
  name: SamplerName,
  config: ScheduleConfig,
  steps: number,
  options: SamplerOptions = {},
): Scheduler {
  // Callers may pass unchecked strings through a cast; the switch's default reports them.
  const sampler: string = name;
  if (isSamplerName(sampler) && !samplersFor(config).includes(sampler)) {
    const kind = 'schedule' in config ? 'a rectified-flow LogSNR schedule' : 'a DDPM noise schedule';
    throw new RangeError(`sampler ${JSON.stringify(sampler)} cannot walk ${kind}; use one of ${samplersFor(config).join(', ')}`);
  }
  switch (sampler) {
    case 'ddim':
      return createDdimScheduler(config as NoiseScheduleConfig, steps, { eta: options.eta });
    case 'dpmpp-2m':
      return createDpmpp2mScheduler(config as NoiseScheduleConfig, steps, { timestepSpacing: options.timestepSpacing });
    case 'pingpong':
      return createPingPongScheduler(config as LogSnrScheduleConfig, steps);
    default:
      throw new RangeError(`unknown sampler ${JSON.stringify(sampler)}; expected one of ${SAMPLERS.join(', ')}`);
  }
}
