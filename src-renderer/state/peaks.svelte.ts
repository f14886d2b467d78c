/**
 * The peaks cache: each take's peak levels fetched once from the host's asset URL and kept as decoded min/max
 * pairs. Lookups are reactive (`$state.raw` map replaced when a level arrives); a region asks for the level its
 * zoom needs and is shown meanwhile with the nearest level already loaded, so zooming never blanks a waveform.
 */
import { PEAK_LEVELS, peaksAssetPath, type PeakLevel } from '../../src-main/contract/api.ts';
import type { TakeRef } from '../../src-main/contract/project.ts';
import { decodePeaks, pickPeakLevel } from '../waveform/peaks.ts';
import { errorMessage } from '../../src-main/contract/errors.ts';

/** Decoded peaks of one level: `pairs[2i]` is the minimum and `pairs[2i + 1]` the maximum of pair i (−1…1). */
export interface LoadedPeaks {
  pairs: Float32Array;
  samplesPerPeak: PeakLevel;
  sampleRate: number;
}

/**
 * Bytes of decoded pairs kept before the least recently used levels go. By bytes, not entries: a project's every
 * take × every level must fit, or each zoom sweep fetches them again (10 min of 48 kHz at 32 spp is 14 MB decoded,
 * at 8192 spp 56 kB). The level most recently loaded always stays.
 */
export const MAX_CACHE_BYTES = 64 * 1024 * 1024;

/** The cache of one open project. */
export class PeaksCache {
  #entries = $state.raw<ReadonlyMap<string, LoadedPeaks>>(new Map());
  #pending = new Set<string>();
  #failed = new Map<string, string>();
  /** Failures so far (take id → message), for a region to show instead of a waveform. */
  failures = $state.raw<ReadonlyMap<string, string>>(new Map());
  #generation = 0;
  /** When each level was last looked up (not reactive: eviction order only). */
  #used = new Map<string, number>();
  #clock = 0;

  constructor(
    private readonly projectId: string,
    private readonly assetUrl: (path: string) => string,
    private readonly fetcher: typeof fetch = (...args) => fetch(...args),
  ) {}

  /**
   * Peaks of `take` good for `pxPerSecond`: the wanted level when loaded, else the closest loaded one while the
   * wanted level is fetched, else null (fetching).
   */
  lookup(take: TakeRef, pxPerSecond: number): LoadedPeaks | null {
    const wanted = pickPeakLevel(take.sampleRate, pxPerSecond);
    const entries = this.#entries;
    const exact = entries.get(key(take.id, wanted));
    if (exact !== undefined) {
      this.#used.set(key(take.id, wanted), ++this.#clock);
      return exact;
    }
    this.#request(take, wanted);
    // The nearest loaded level, finer first (it still draws correctly, just with more work).
    const order = [...PEAK_LEVELS].sort((a, b) => Math.abs(Math.log(a / wanted)) - Math.abs(Math.log(b / wanted)) || a - b);
    for (const level of order) {
      const near = entries.get(key(take.id, level));
      if (near !== undefined) return near;
    }
    return null;
  }

  /** Forgets everything (project closed). */
  clear(): void {
    this.#generation++;
    this.#pending.clear();
    this.#failed.clear();
    this.#entries = new Map();
    this.#used.clear();
    this.failures = new Map();
  }

  #request(take: TakeRef, level: PeakLevel): void {
    const k = key(take.id, level);
    if (this.#pending.has(k) || this.#failed.has(k)) return;
    this.#pending.add(k);
    const generation = this.#generation;
    // NOTE: started from a template read; the write happens after an await, outside any reactive update.
    void this.#load(take, level).then(
      (loaded) => {
        if (generation !== this.#generation) return;
        this.#pending.delete(k);
        const next = new Map(this.#entries);
        next.set(k, loaded);
        this.#used.set(k, ++this.#clock);
        let bytes = 0;
        for (const entry of next.values()) bytes += entry.pairs.byteLength;
        const oldestFirst = [...next.keys()].sort((a, b) => (this.#used.get(a) ?? 0) - (this.#used.get(b) ?? 0));
        for (const old of oldestFirst) {
          if (bytes <= MAX_CACHE_BYTES || old === k) continue;
          bytes -= next.get(old)?.pairs.byteLength ?? 0;
          next.delete(old);
          this.#used.delete(old);
        }
        this.#entries = next;
      },
      (e: unknown) => {
        if (generation !== this.#generation) return;
        this.#pending.delete(k);
        const message = errorMessage(e);
        this.#failed.set(k, message);
        this.failures = new Map(this.failures).set(take.id, message);
      },
    );
  }

  async #load(take: TakeRef, level: PeakLevel): Promise<LoadedPeaks> {
    const url = this.assetUrl(peaksAssetPath(this.projectId, take.id, level));
    const response = await this.fetcher(url);
    if (!response.ok) throw new Error(`peaks of ${take.id} (level ${level}): HTTP ${response.status}`);
    const pairs = decodePeaks(await response.arrayBuffer());
    return { pairs, samplesPerPeak: level, sampleRate: take.sampleRate };
  }
}

function key(takeId: string, level: PeakLevel): string {
  return `${takeId}/${level}`;
}
