/** Noise schedules of known model families, for manifests and tests. */
import type { NoiseScheduleConfig } from './types.ts';

/** The AudioLDM scheduler constants (research/audioldm.md §1 "Scheduler", identical for S/M/L). */
export const AUDIOLDM_SCHEDULER: NoiseScheduleConfig = {
  trainTimesteps: 1000,
  betaStart: 0.0015,
  betaEnd: 0.0195,
  betaSchedule: 'scaled_linear',
  predictionType: 'epsilon',
  timestepSpacing: 'leading',
  stepsOffset: 1,
  setAlphaToOne: false,
};
