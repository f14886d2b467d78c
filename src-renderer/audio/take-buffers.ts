/**
 * The take-audio cache behind preview playback: fetches and decodes take files a few at a time, keeps each
 * decoded buffer while a document uses it (and a few spares for a quick switch back), and reports a failed load
 * once. It knows nothing of Tone.js or scheduling: playback.ts hands it a loader that wraps the decoded audio and
 * asks for takes in the order it needs them.
 *
 * Uses are counted in load generations (playback's `load` calls): a request marks the entry with the generation
 * that needs it, and `evictSpares(generation)` drops the least recently needed entries beyond the spares.
 */
import { errorMessage } from '../../src-main/contract/errors.ts';

/** A decoded take the cache can free. */
export interface TakeBuffer {
  dispose(): void;
}

/** Options of {@link TakeBuffers}. */
export interface TakeBuffersOptions<B extends TakeBuffer> {
  /** Fetches and decodes the take at `url` (runs at most `concurrentLoads` at once). */
  load: (url: string) => Promise<B>;
  /** Buffers no longer used kept for a quick switch back (default 4). */
  spareBuffers?: number;
  /** Takes fetched and decoded at once (default 3). */
  concurrentLoads?: number;
  /** A take's audio arrived (and is still wanted). */
  onLoaded?: (url: string, buffer: B) => void;
  /** A take could not be fetched or decoded (and is still wanted). */
  onError?: (failure: { url: string; error: string }) => void;
}

interface Entry<B> {
  promise: Promise<B>;
  buffer?: B;
  error?: string;
  /** The load generation that last needed it (for evicting spares). */
  usedBy: number;
}

/** The take-audio cache of one playback; see the module comment. */
export class TakeBuffers<B extends TakeBuffer> {
  readonly #entries = new Map<string, Entry<B>>();
  readonly #load: (url: string) => Promise<B>;
  readonly #spareBuffers: number;
  readonly #concurrentLoads: number;
  readonly #onLoaded: ((url: string, buffer: B) => void) | undefined;
  readonly #onError: ((failure: { url: string; error: string }) => void) | undefined;
  #activeLoads = 0;
  readonly #waitingLoads: (() => void)[] = [];
  #disposed = false;

  constructor(options: TakeBuffersOptions<B>) {
    this.#load = options.load;
    this.#spareBuffers = options.spareBuffers ?? 4;
    this.#concurrentLoads = Math.max(1, options.concurrentLoads ?? 3);
    this.#onLoaded = options.onLoaded;
    this.#onError = options.onError;
  }

  /** The decoded audio of `url`, when it has arrived. */
  get(url: string): B | undefined {
    return this.#entries.get(url)?.buffer;
  }

  /** Why `url` failed to load, if its last load failed. */
  error(url: string): string | undefined {
    return this.#entries.get(url)?.error;
  }

  /** Marks `url` as needed by `generation` when it is cached (loaded, loading or failed); starts nothing. */
  keep(url: string, generation: number): void {
    const entry = this.#entries.get(url);
    if (entry !== undefined) entry.usedBy = generation;
  }

  /**
   * Marks `url` as needed by `generation`, starting its load when it is not cached. `retry`: a take whose last load
   * failed is loaded again (a new document may have fixed it); without it the failure stands.
   */
  request(url: string, generation: number, retry: boolean): void {
    const cached = this.#entries.get(url);
    const entry = cached !== undefined && (cached.error === undefined || !retry) ? cached : this.#start(url);
    entry.usedBy = generation;
  }

  /** Settles when the load of `url` in flight (if any) has finished, loaded or failed. */
  async settled(url: string): Promise<void> {
    await this.#entries.get(url)?.promise.catch(() => undefined);
  }

  /** Drops buffers `generation` does not use, keeping the most recently used `spareBuffers`. */
  evictSpares(generation: number): void {
    const spares = [...this.#entries.entries()]
      .filter(([, entry]) => entry.usedBy !== generation)
      .sort(([, a], [, b]) => b.usedBy - a.usedBy);
    for (const [url, entry] of spares.slice(this.#spareBuffers)) {
      this.#entries.delete(url);
      entry.buffer?.dispose();
    }
  }

  /** Frees every buffer; loads still running free theirs when they finish. */
  dispose(): void {
    this.#disposed = true;
    for (const entry of this.#entries.values()) entry.buffer?.dispose();
    this.#entries.clear();
  }

  #start(url: string): Entry<B> {
    const entry: Entry<B> = {
      usedBy: 0,
      promise: this.#limited(() => this.#load(url)).then((buffer) => {
        // A take evicted or replaced while it loaded (or a disposed cache) is not wanted any more.
        if (this.#entries.get(url) === entry && !this.#disposed) {
          entry.buffer = buffer;
          this.#onLoaded?.(url, buffer);
        } else buffer.dispose();
        return buffer;
      }),
    };
    entry.promise.catch((e: unknown) => {
      entry.error = errorMessage(e);
      if (this.#entries.get(url) === entry && !this.#disposed) this.#onError?.({ url, error: entry.error });
    });
    this.#entries.set(url, entry);
    return entry;
  }

  /** Runs `task` when fewer than `concurrentLoads` are running, in the order asked. */
  async #limited<T>(task: () => Promise<T>): Promise<T> {
    if (this.#activeLoads >= this.#concurrentLoads) await new Promise<void>((go) => this.#waitingLoads.push(go));
    this.#activeLoads++;
    try {
      return await task();
    } finally {
      this.#activeLoads--;
      this.#waitingLoads.shift()?.();
    }
  }
}

/** Something that decodes an encoded file into audio (an AudioContext, Tone's context). */
export interface AudioDecoder<A> {
  decodeAudioData(data: ArrayBuffer): Promise<A>;
}

/** Fetches a take file and decodes it with `decoder`; an HTTP error names the URL without its token. */
export async function fetchTakeAudio<A>(url: string, decoder: AudioDecoder<A>): Promise<A> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`fetching ${redactUrl(url)} failed: HTTP ${response.status} ${response.statusText}`);
  return decoder.decodeAudioData(await response.arrayBuffer());
}

/** The URL without its query (the per-run token), for messages. */
function redactUrl(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : `${url.slice(0, query)}?…`;
}
