/** Small helpers the inspector's inputs share: parse a committed number, or put the field back when it is invalid. */

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

/** How a sampler reads in the picker. */
export const SAMPLER_LABELS: Record<string, string> = {
  ddim: 'DDIM',
  'dpmpp-2m': 'DPM++ 2M',
};

/** Bytes for people: `812 KB`, `1.4 GB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}
