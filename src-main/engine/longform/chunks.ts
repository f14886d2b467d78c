/**
 * Chunk planning for decoding long sequences in bounded memory (research/longform.md §5.3, §6): every chunk has
 * the same input length (core + 2·halo; the last one end-aligned), so every session call has one shape, and each
 * chunk keeps only its core, which sees at least `halo` frames of real context on both sides (or the sequence
 * edge, where the full pass sees the same zero padding).
 */

/** One chunk: input frames [start, end) and the frames [keepStart, keepEnd) whose output it contributes. */
export interface Chunk {
  start: number;
  end: number;
  keepStart: number;
  keepEnd: number;
}

/** Plans chunks over `total` frames with cores of `core` frames and `halo` frames of context per side. */
export function planChunks(total: number, core: number, halo: number): Chunk[] {
  for (const [name, v, min] of [['total', total, 1], ['core', core, 1], ['halo', halo, 0]] as const) {
    if (!Number.isInteger(v) || v < min) throw new RangeError(`planChunks: ${name} must be an integer ≥ ${min}, got ${v}`);
  }
  const length = core + 2 * halo;
  if (total <= length) return [{ start: 0, end: total, keepStart: 0, keepEnd: total }];
  // Cores of (almost) equal size ≤ core, so no chunk is wasted on a sliver at the end.
  const count = Math.ceil(total / core);
  const boundary = (k: number): number => Math.round((k * total) / count);
  return Array.from({ length: count }, (_, k) => {
    const keepStart = boundary(k);
    const keepEnd = boundary(k + 1);
    const start = Math.min(Math.max(keepStart - halo, 0), total - length);
    return { start, end: start + length, keepStart, keepEnd };
  });
}
