/** Colour helpers for track colours (`#rrggbb` from the document). */

/** `#rrggbb` with an alpha, as `rgb(r g b / a)`; a malformed colour falls back to the accent blue. */
export function withAlpha(hex: string, alpha: number): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (m === null) return `rgb(95 168 232 / ${alpha})`;
  return `rgb(${parseInt(m[1], 16)} ${parseInt(m[2], 16)} ${parseInt(m[3], 16)} / ${alpha})`;
}

/** The colour mixed towards white by `amount` (0…1), for waveforms on a tinted background. */
export function lighten(hex: string, amount: number): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (m === null) return hex;
  const mix = (c: string): number => Math.round(parseInt(c, 16) + (255 - parseInt(c, 16)) * amount);
  return `rgb(${mix(m[1])} ${mix(m[2])} ${mix(m[3])})`;
}
