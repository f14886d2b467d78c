/**
 * Sampler registry: maps a sampler name from settings or a take's metadata to a configured scheduler.
 */
import { createDdimScheduler } from './ddim.ts';
import type { DdimOptions } from './ddim.ts';
import { createDpmpp2mScheduler } from './dpmpp-2m.ts';
import type { Dpmpp2mOptions } from './dpmpp-2m.ts';
import type { NoiseScheduleConfig, Scheduler } from './types.ts';

export type { NoiseScheduleConfig, Scheduler, StepInput } from './types.ts';
export { createDdimScheduler } from './ddim.ts';
export type { DdimOptions, DdimScheduler, DdimState, DdimStepAlphas } from './ddim.ts';
export { createDpmpp2mScheduler } from './dpmpp-2m.ts';
export type { Dpmpp2mOptions, Dpmpp2mState } from './dpmpp-2m.ts';
export { alphasCumprod, betas, solverTimesteps, spacedTimesteps } from './noise-schedule.ts';
export type { TimestepSpacing } from './noise-schedule.ts';

/** Every sampler name the engine accepts, in display order. */
export const SAMPLERS = ['ddim', 'dpmpp-2m'] as const;

/** A sampler name. */
export type SamplerName = (typeof SAMPLERS)[number];

/** Options understood by any sampler; each sampler reads only its own (η for DDIM, spacing for DPM-Solver++). */
export type SamplerOptions = DdimOptions & Dpmpp2mOptions;

/** Whether `name` is a known sampler (for validating untyped input such as settings files or IPC payloads). */
export function isSamplerName(name: string): name is SamplerName {
  return (SAMPLERS as readonly string[]).includes(name);
}

/** Creates the named sampler for `steps` inference steps; throws a RangeError naming an unknown sampler. */
export function createScheduler(
  name: SamplerName,
  config: NoiseScheduleConfig,
  steps: number,
  options: SamplerOptions = {},
): Scheduler {
  // Callers may pass unchecked strings through a cast; the switch's default reports them.
  const sampler: string = name;
  switch (sampler) {
    case 'ddim':
      return createDdimScheduler(config, steps, { eta: options.eta });
    case 'dpmpp-2m':
      return createDpmpp2mScheduler(config, steps, { timestepSpacing: options.timestepSpacing });
    default:
      throw new RangeError(`unknown sampler ${JSON.stringify(sampler)}; expected one of ${SAMPLERS.join(', ')}`);
  }
}
