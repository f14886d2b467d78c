/**
 * The preview a running generation shows in its regions: the `jobPreview` chunks sent so far, laid out on the
 * region's span (cutting a take's peaks is waveform/peaks.ts `slicePeaks`). Pure; unit-tested in Node.
 */

/** Peak pairs at a known resolution: `pairs[2i]` is the minimum and `pairs[2i + 1]` the maximum of pair i. */
export interface PeakPairs {
  pairs: ArrayLike<number>;
  samplesPerPeak: number;
  sampleRate: number;
}

/** One `jobPreview` chunk: pairs starting at `start` seconds on the timeline. */
export interface PreviewChunk {
  start: number;
  sampleRate: number;
  samplesPerPeak: number;
  peaks: readonly number[];
}

/** Pairs per second of audio. */
export function pairsPerSecond(p: { sampleRate: number; samplesPerPeak: number }): number {
  return p.sampleRate / p.samplesPerPeak;
}

/** A region's preview assembled from chunks: the pairs, their resolution, and how far (seconds) they reach. */
export interface AssembledPreview extends PeakPairs {
  pairs: Float32Array;
  /** Seconds from the region's start that the chunks have filled so far. */
  filled: number;
}

/**
 * The preview of the span `start…end` from a running generation's chunks, at the first chunk's resolution; null
 * when no chunk overlaps the span yet.
 */
export function assemblePreview(chunks: readonly PreviewChunk[], start: number, end: number): AssembledPreview | null {
  const overlapping = chunks.filter((c) => {
    const chunkEnd = c.start + c.peaks.length / 2 / pairsPerSecond(c);
    return c.start < end && chunkEnd > start;
  });
  const first = overlapping[0];
  if (first === undefined) return null;
  const perSecond = pairsPerSecond(first);
  const count = Math.max(1, Math.ceil((end - start) * perSecond - 1e-9));
  const pairs = new Float32Array(count * 2);
  let filledPairs = 0;
  for (const chunk of overlapping) {
    if (chunk.sampleRate !== first.sampleRate || chunk.samplesPerPeak !== first.samplesPerPeak) continue;
    const at = Math.round((chunk.start - start) * perSecond);
    const n = Math.floor(chunk.peaks.length / 2);
    const from = Math.max(0, -at);
    const to = Math.min(n, count - at);
    for (let i = from; i < to; i++) {
      pairs[(at + i) * 2] = chunk.peaks[i * 2];
      pairs[(at + i) * 2 + 1] = chunk.peaks[i * 2 + 1];
    }
    if (to > from) filledPairs = Math.max(filledPairs, at + to);
  }
  return {
    pairs,
    samplesPerPeak: first.samplesPerPeak,
    sampleRate: first.sampleRate,
    filled: Math.min(end - start, filledPairs / perSecond),
  };
}
