/**
 * `levelAt` agrees with `step`: starting from signal·x₀ + noise·ε at level 0 and feeding each sampler the exact model
 * output for that x₀ and ε (ε for DDPM samplers, the velocity ε − x₀ for rectified flow, and ε as ping-pong's
 * re-noise), every step lands on levelAt(k + 1) of the same x₀ and ε. (DDIM with η > 0 matches only in
 * distribution: its fresh noise adds σ·z to a smaller ε term.) In-context regeneration noises kept
 * latents with levelAt, so a mismatch would show as a level step at every region edge.
 */
import { describe, expect, it } from 'vitest';
import { createScheduler, SA3_LOGSNR_SCHEDULE, type Scheduler } from '../../../src-main/engine/schedulers/index.ts';
import { createRng } from '../../../src-main/engine/tensor/rng.ts';
import { AUDIOLDM_SCHEDULER } from '../../../src-main/engine/schedulers/presets.ts';

const N = 64;
const x0 = createRng(3, 0).normals(N);
const eps = createRng(3, 1).normals(N);
const at = (s: Scheduler, k: number): Float32Array => {
  const { signal, noise } = s.levelAt(k);
  return x0.map((v, i) => signal * v + noise * eps[i]);
};

const cases: [string, Scheduler, (x: Float32Array, k: number) => Float32Array][] = [
  ['ddim η=0', createScheduler('ddim', AUDIOLDM_SCHEDULER, 12), () => eps],
  ['dpmpp-2m', createScheduler('dpmpp-2m', AUDIOLDM_SCHEDULER, 12), () => eps],
  ['pingpong', createScheduler('pingpong', SA3_LOGSNR_SCHEDULE, 8), () => eps.map((e, i) => e - x0[i])],
];

describe('levelAt matches each sampler step', () => {
  for (const [name, scheduler, output] of cases) {
    it(name, () => {
      let state = scheduler.initialState();
      let x = at(scheduler, 0);
      const steps = scheduler.timesteps.length;
      for (let k = 0; k < steps; k++) {
        const next = scheduler.step(state, { stepIndex: k, sample: x, modelOutput: output(x, k), noise: scheduler.needsNoise(k) ? eps : undefined });
        state = next.state;
        x = next.sample;
        const expected = at(scheduler, k + 1);
        let worst = 0;
        for (let i = 0; i < N; i++) worst = Math.max(worst, Math.abs(x[i] - expected[i]));
        expect(worst, `after step ${k}`).toBeLessThan(2e-4);
      }
    });
  }

  it('levels run from noise to data and refuse a level outside 0 … steps', () => {
    const ddim = createScheduler('ddim', AUDIOLDM_SCHEDULER, 10);
    expect(ddim.levelAt(0).noise).toBeGreaterThan(0.99);
    expect(ddim.levelAt(10).signal).toBeGreaterThan(0.99);
    expect(createScheduler('pingpong', SA3_LOGSNR_SCHEDULE, 8).levelAt(8)).toEqual({ signal: 1, noise: 0 });
    expect(() => ddim.levelAt(11)).toThrow(/level must be an integer from 0 to 10, got 11/);
  });
});
