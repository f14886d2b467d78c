/** Small helpers the inspector's inputs share: parse a committed number, or put the field back when it is invalid. */
import type { SamplerName } from '../../../src-main/contract/project.ts';

/** A number typed into `input`, or null (and the field reset to `current`) when it is not a number in range. */
export function committedNumber(
  input: HTMLInputElement,
  current: number,
  range: { min: number; max: number; integer?: boolean },
): number | null {
  const text = input.value.trim().replace(',', '.');
  const value = Number(text);
  const ok = text !== '' && Number.isFinite(value) && value >= range.min && value <= range.max && (range.integer !== true || Number.isInteger(value));
  if (!ok || value === current) {
    input.value = String(current);
    return null;
  }
  return value;
}

/** A fresh random seed (0 … 2^32 − 1) from the crypto RNG. */
export function randomSeed(): number {
  const out = new Uint32Array(1);
  globalThis.crypto.getRandomValues(out);
  return out[0];
}

/** How a long-form method reads in the picker. */
export const METHOD_LABELS: Record<string, string> = {
  auto: 'Auto (by length)',
  multidiffusion: 'MultiDiffusion',
  spotdiffusion: 'SpotDiffusion',
};

/** How a sampler reads in the picker (every sampler of the contract, so a new one fails to compile here). */
export const SAMPLER_LABELS: Record<SamplerName, string> = {
  ddim: 'DDIM',
  'dpmpp-2m': 'DPM-Solver++ 2M',
  pingpong: 'Ping-pong',
};
