/** Small pure pieces: hub header reading, speed and ETA, byte formatting. */
import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../../src-main/cli/models.ts';
import { normalizeEtag, readFileHeaders, resolveUrl } from '../../../src-main/host/models/hub.ts';
import { etaSeconds, RateMeter, throttle } from '../../../src-main/host/models/progress.ts';

const H64 = 'ab'.repeat(32);
const H40 = 'cd'.repeat(20);

describe('hub headers (as huggingface_hub reads them)', () => {
  it('X-Linked-Etag wins over ETag; quotes and W/ are stripped; 64 hex is a sha256, 40 hex a git blob id', () => {
    expect(readFileHeaders(new Headers({ 'x-linked-etag': `"${H64}"`, etag: `"${H40}"`, 'x-linked-size': '123', 'x-repo-commit': H40 }), 302, 'u')).toEqual({ url: 'u', sha256: H64, size: 123, commit: H40 });
    expect(readFileHeaders(new Headers({ etag: `W/"${H40}"`, 'content-length': '7' }), 200, 'u')).toEqual({ url: 'u', gitSha1: H40, size: 7 });
    expect(readFileHeaders(new Headers({ etag: '"not-a-hash"' }), 200, 'u')).toEqual({ url: 'u' });
    expect(normalizeEtag(null)).toBeUndefined();
  });

  it('a redirect\'s Content-Length is not the file size', () => {
    expect(readFileHeaders(new Headers({ 'content-length': '0', 'x-linked-etag': H64 }), 302, 'u').size).toBeUndefined();
  });

  it('resolve URLs encode each path segment and the revision', () => {
    expect(resolveUrl('https://h', 'o/r', 'v 1', 'a b/c#d.onnx')).toBe('https://h/o/r/resolve/v%201/a%20b/c%23d.onnx');
  });
});

describe('progress', () => {
  it('speed is bytes over the clock span of the window; ETA is remaining / speed', () => {
    let t = 0;
    const meter = new RateMeter(() => t, 5000);
    expect(meter.rate()).toBe(0);
    meter.add(100);
    t = 1000;
    meter.add(1000);
    t = 2000;
    meter.add(1000);
    expect(meter.rate()).toBe(1000);
    t = 10_000;
    meter.add(4000);
    expect(meter.rate()).toBe(500);
    expect(etaSeconds(3000, 1000)).toBe(3);
    expect(etaSeconds(null, 1000)).toBeNull();
    expect(etaSeconds(3000, 0)).toBeNull();
  });

  it('throttle passes one value per interval of the clock, and forced values always', () => {
    let t = 0;
    const seen: number[] = [];
    const emit = throttle<number>((v) => seen.push(v), () => t, 100);
    emit(1);
    t = 50;
    emit(2);
    emit(3, true);
    t = 160;
    emit(4);
    expect(seen).toEqual([1, 3, 4]);
  });

  it('formats byte counts in powers of 1000', () => {
    expect([formatBytes(999), formatBytes(1500), formatBytes(682_554_572), formatBytes(3.8e9)]).toEqual(['999 B', '1.5 KB', '683 MB', '3.8 GB']);
  });
});
