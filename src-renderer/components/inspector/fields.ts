/**
 * Small helpers the inspector's inputs share: parse a committed number, or put the field back when it is invalid;
 * the pickers' labels. Ranges of generation settings come from the contract's table (LIMITS in
 * generation-settings.ts), which a NumberLimit passes here as it is.
 */
import type { SamplerName, TilingMethod } from '../../../src-main/contract/generation-settings.ts';

/** The accepted range of a number field (a contract NumberLimit is one). */
export interface NumberRange {
  min: number;
  max: number;
  integer?: boolean;
  /** The minimum itself is refused. */
  exclusiveMin?: boolean;
}

/** A number typed into `input`, or null (and the field reset to `current`) when it is not a number in range. */
export function committedNumber(input: HTMLInputElement, current: number, range: NumberRange): number | null {
  const text = input.value.trim().replace(',', '.');
  const value = Number(text);
  const aboveMin = range.exclusiveMin === true ? value > range.min : value >= range.min;
  const ok = text !== '' && Number.isFinite(value) && aboveMin && value <= range.max && (range.integer !== true || Number.isInteger(value));
  if (!ok || value === current) {
    input.value = String(current);
    return null;
  }
  return value;
}

/** A fresh random seed from the crypto RNG: any 32-bit unsigned value, which is LIMITS.seed's whole range. */
export function randomSeed(): number {
  const out = new Uint32Array(1);
  globalThis.crypto.getRandomValues(out);
  return out[0];
}

/** How a long-form method reads in the picker (every method of the contract, so a new one fails to compile here). */
export const METHOD_LABELS: Record<TilingMethod, string> = {
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
