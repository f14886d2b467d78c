/** Mixer values as track headers and the inspector show them. */

/** `+1.5 dB`, `−6.0 dB`, `−∞ dB` below −59.5 (the fader's bottom). */
export function formatDb(db: number): string {
  if (!Number.isFinite(db) || db <= -59.75) return '−∞';
  const rounded = Math.round(db * 10) / 10;
  if (rounded === 0) return '0.0';
  return `${rounded > 0 ? '+' : '−'}${Math.abs(rounded).toFixed(1)}`;
}

/** `C` for centre, `L40` / `R25` for −0.4 / 0.25. */
export function formatPan(pan: number): string {
  const pct = Math.round(pan * 100);
  if (pct === 0) return 'C';
  return pct < 0 ? `L${-pct}` : `R${pct}`;
}
