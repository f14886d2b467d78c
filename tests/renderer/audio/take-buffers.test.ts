/** The take-audio cache behind playback: loads a few at a time, keeps what a document uses plus spares, reports failures. */
import { describe, expect, it } from 'vitest';
import { TakeBuffers, fetchTakeAudio } from '../../../src-renderer/audio/take-buffers.ts';

class FakeBuffer {
  disposed = false;
  constructor(readonly url: string) {}
  dispose(): void {
    this.disposed = true;
  }
}

/** A loader whose loads finish when the test says so. */
function controlledLoader() {
  const pending = new Map<string, { resolve: (b: FakeBuffer) => void; reject: (e: Error) => void }>();
  const started: string[] = [];
  const load = (url: string): Promise<FakeBuffer> => {
    started.push(url);
    return new Promise((resolve, reject) => pending.set(url, { resolve, reject }));
  };
  const finish = async (url: string, error?: string): Promise<FakeBuffer | undefined> => {
    const p = pending.get(url);
    if (p === undefined) throw new Error(`${url} is not loading`);
    pending.delete(url);
    const buffer = new FakeBuffer(url);
    if (error === undefined) p.resolve(buffer);
    else p.reject(new Error(error));
    await flush();
    return error === undefined ? buffer : undefined;
  };
  return { load, finish, started, pending };
}

const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('TakeBuffers', () => {
  it('loads at most `concurrentLoads` at once, in the order asked', async () => {
    const loader = controlledLoader();
    const cache = new TakeBuffers({ load: loader.load, concurrentLoads: 2 });
    for (const url of ['a', 'b', 'c', 'd']) cache.request(url, 1, true);
    await flush();
    expect(loader.started).toEqual(['a', 'b']);
    await loader.finish('b');
    expect(loader.started).toEqual(['a', 'b', 'c']);
    expect(cache.get('b')?.url).toBe('b');
    expect(cache.get('a')).toBeUndefined();
  });

  it('tells when a take arrives, and asks for a cached one only once', async () => {
    const loader = controlledLoader();
    const arrived: string[] = [];
    const cache = new TakeBuffers({ load: loader.load, onLoaded: (url) => arrived.push(url) });
    cache.request('a', 1, true);
    cache.request('a', 2, true);
    const settled = cache.settled('a');
    await flush();
    await loader.finish('a');
    await settled;
    expect(arrived).toEqual(['a']);
    expect(loader.started).toEqual(['a']);
  });

  it('reports a failure once and retries it only when asked to', async () => {
    const loader = controlledLoader();
    const failures: { url: string; error: string }[] = [];
    const cache = new TakeBuffers({ load: loader.load, onError: (f) => failures.push(f) });
    cache.request('a', 1, true);
    await flush();
    await loader.finish('a', 'HTTP 404');
    expect(failures).toEqual([{ url: 'a', error: 'HTTP 404' }]);
    expect(cache.error('a')).toBe('HTTP 404');
    // While playing, a failed take is not fetched again on every tick…
    cache.request('a', 2, false);
    await flush();
    expect(loader.started).toEqual(['a']);
    // …but a new document load tries again.
    cache.request('a', 3, true);
    await flush();
    expect(loader.started).toEqual(['a', 'a']);
    await loader.finish('a');
    expect(cache.error('a')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
  });

  it('keeps what the current generation uses and the most recently used spares, freeing the rest', async () => {
    const loader = controlledLoader();
    const cache = new TakeBuffers({ load: loader.load, spareBuffers: 1, concurrentLoads: 4 });
    cache.request('old', 1, true);
    cache.request('older', 0, true);
    cache.request('current', 3, true);
    cache.request('recent', 2, true);
    await flush();
    const buffers = new Map<string, FakeBuffer | undefined>();
    for (const url of ['old', 'older', 'current', 'recent']) buffers.set(url, await loader.finish(url));
    cache.keep('current', 4);
    cache.evictSpares(4);
    expect(cache.get('current')).toBeDefined();
    expect(cache.get('recent')).toBeDefined();
    expect(cache.get('old')).toBeUndefined();
    expect(cache.get('older')).toBeUndefined();
    expect(buffers.get('old')?.disposed).toBe(true);
    expect(buffers.get('older')?.disposed).toBe(true);
    expect(buffers.get('recent')?.disposed).toBe(false);
  });

  it('frees audio that arrives after its take was evicted or the cache disposed, without reporting it', async () => {
    const loader = controlledLoader();
    const arrived: string[] = [];
    const failures: string[] = [];
    const cache = new TakeBuffers({ load: loader.load, spareBuffers: 0, onLoaded: (url) => arrived.push(url), onError: (f) => failures.push(f.url) });
    cache.request('gone', 1, true);
    cache.request('kept', 2, true);
    cache.request('failing', 2, true);
    await flush();
    cache.evictSpares(2);
    const gone = await loader.finish('gone');
    expect(gone?.disposed).toBe(true);
    expect(cache.get('gone')).toBeUndefined();
    cache.dispose();
    const kept = await loader.finish('kept');
    expect(kept?.disposed).toBe(true);
    expect(cache.get('kept')).toBeUndefined();
    await loader.finish('failing', 'boom');
    expect(arrived).toEqual([]);
    expect(failures).toEqual([]);
  });

  it('keep() marks only takes it has', () => {
    const loader = controlledLoader();
    const cache = new TakeBuffers({ load: loader.load });
    cache.keep('never', 1);
    expect(loader.started).toEqual([]);
    expect(cache.get('never')).toBeUndefined();
  });
});

describe('fetchTakeAudio', () => {
  it('names the URL without its token when the fetch fails', async () => {
    const realFetch = globalThis.fetch;
    globalThis.fetch = async () => new Response('no', { status: 403, statusText: 'Forbidden' });
    try {
      const decoder = { decodeAudioData: async () => 'decoded' };
      await expect(fetchTakeAudio('http://127.0.0.1:1/assets/p/takes/t.wav?token=secret', decoder)).rejects.toThrow(
        'fetching http://127.0.0.1:1/assets/p/takes/t.wav?… failed: HTTP 403 Forbidden',
      );
    } finally {
      globalThis.fetch = realFetch;
    }
  });

  it('decodes what it fetched', async () => {
    const realFetch = globalThis.fetch;
    globalThis.fetch = async () => new Response(new Uint8Array([1, 2, 3]));
    try {
      const decoder = { decodeAudioData: async (data: ArrayBuffer) => data.byteLength };
      await expect(fetchTakeAudio('http://x/take.wav', decoder)).resolves.toBe(3);
    } finally {
      globalThis.fetch = realFetch;
    }
  });
});
