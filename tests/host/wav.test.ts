import { describe, expect, it } from 'vitest';
import { decodeWav, encodeWav, WavError, type WavFormat } from '../../src-main/host/wav.ts';

/** Deterministic test signal in [−1, 1] including the extremes, zero and tiny values. */
function signal(length: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state / 2 ** 32) * 2 - 1;
  }
  out.set([1, -1, 0, 1e-7, -1e-7, 0.5, -0.5].slice(0, length), 0);
  return out;
}

interface Chunk {
  id: string;
  offset: number;
  size: number;
}

/** The top-level RIFF chunks, walked by hand (word-aligned, as RIFF requires). */
function chunksOf(bytes: Uint8Array): Chunk[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: Chunk[] = [];
  for (let at = 12; at + 8 <= bytes.length; ) {
    const size = view.getUint32(at + 4, true);
    chunks.push({ id: ascii(bytes, at, 4), offset: at, size });
    at += 8 + size + (size % 2);
  }
  return chunks;
}

function ascii(bytes: Uint8Array, from: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(from, from + length));
}

function chunk(bytes: Uint8Array, id: string): Chunk {
  const found = chunksOf(bytes).find((c) => c.id === id);
  if (found === undefined) throw new Error(`no ${id} chunk in ${chunksOf(bytes).map((c) => c.id).join(', ')}`);
  return found;
}

function maxError(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe('encodeWav / decodeWav round trip', () => {
  const stereo = [signal(4801, 1), signal(4801, 2)];

  it('keeps float32 samples exactly, including -0, subnormals and values beyond ±1', () => {
    const special = new Float32Array([0, -0, 1.4e-45, -1.4e-45, 3.4e38, -2.5, 2.5, 1 / 3]);
    const decoded = decodeWav(encodeWav([special, ...stereo.map((c) => c.subarray(0, 8))], 48_000, 'float32'));
    expect(decoded.format).toBe('float32');
    expect(decoded.sampleRate).toBe(48_000);
    expect(decoded.channels).toHaveLength(3);
    expect(Array.from(decoded.channels[0] ?? [])).toEqual(Array.from(special));
    expect(Object.is(decoded.channels[0]?.[1], -0)).toBe(true);

    const twoChannels = decodeWav(encodeWav(stereo, 44_100, 'float32'));
    expect(twoChannels.channels).toEqual(stereo);
  });

  it.each([
    ['pcm16', 1 / 32768],
    ['pcm24', 1 / 2 ** 23],
  ] as [WavFormat, number][])('keeps %s samples within one step', (format, step) => {
    for (const frames of [4801, 4800]) {
      const channels = [signal(frames, 3), signal(frames, 4)];
      const decoded = decodeWav(encodeWav(channels, 16_000, format));
      expect(decoded.format).toBe(format);
      expect(decoded.sampleRate).toBe(16_000);
      expect(decoded.channels).toHaveLength(2);
      channels.forEach((channel, c) => {
        const back = decoded.channels[c] ?? new Float32Array(0);
        expect(back).toHaveLength(frames);
        expect(maxError(channel, back)).toBeLessThan(step);
        // Full scale, silence and the sign survive exactly.
        expect([back[0], back[1], back[2]]).toEqual([1, -1, 0]);
      });
    }
  });

  it('clips PCM to [-1, 1] and rounds to the nearest step', () => {
    const decoded = decodeWav(encodeWav([new Float32Array([1.5, -7, 0.49 / 32767, 0.51 / 32767])], 8000, 'pcm16'));
    expect(Array.from(decoded.channels[0] ?? [])).toEqual([1, -1, 0, Math.fround(1 / 32767)]);
  });

  it.each(['float32', 'pcm16', 'pcm24'] as WavFormat[])('round-trips mono and 6-channel %s', (format) => {
    for (const count of [1, 6]) {
      const channels = Array.from({ length: count }, (_, c) => signal(1001, 10 + c));
      const decoded = decodeWav(encodeWav(channels, 22_050, format));
      expect(decoded.format).toBe(format);
      expect(decoded.channels).toHaveLength(count);
      const tolerance = format === 'float32' ? 0 : format === 'pcm16' ? 1 / 32768 : 1 / 2 ** 23;
      channels.forEach((channel, c) => {
        expect(maxError(channel, decoded.channels[c] ?? new Float32Array(0))).toBeLessThanOrEqual(tolerance);
      });
    }
  });

  it('encodes zero-length audio', () => {
    const decoded = decodeWav(encodeWav([new Float32Array(0), new Float32Array(0)], 44_100, 'pcm24'));
    expect(decoded.channels).toEqual([new Float32Array(0), new Float32Array(0)]);
  });
});

describe('metadata (LIST/INFO)', () => {
  const params = {
    prompt: 'Regen auf einem Blechdach — 雨の音 🌧️, "quoted" \\ backslash',
    seed: 4_294_967_295,
    steps: 50,
    guidance: 2.5,
    regions: [{ start: 0, end: 12.5, prompt: 'café ambience' }],
  };

  it.each(['float32', 'pcm16', 'pcm24'] as WavFormat[])('round-trips tags with a unicode JSON comment (%s)', (format) => {
    const comment = JSON.stringify(params);
    // 4801 mono frames: an odd-sized data chunk for pcm24; tags of odd and even UTF-8 byte lengths.
    const bytes = encodeWav([signal(4801, 5)], 16_000, format, { INAM: 'Rain', ICMT: comment, IART: 'ab' });
    const decoded = decodeWav(bytes);
    expect(decoded.tags).toEqual({ INAM: 'Rain', ICMT: comment, IART: 'ab', ISFT: 'Tessera' });
    expect(JSON.parse(decoded.tags.ICMT ?? '')).toEqual(params);
    expect(decoded.channels[0]).toHaveLength(4801);
  });

  it('writes the LIST chunk as INFO sub-chunks with word-aligned sizes', () => {
    const bytes = encodeWav([signal(3, 6)], 8000, 'pcm24', { INAM: 'odd', ICMT: 'even', ICOP: 'é' });
    const list = chunk(bytes, 'LIST');
    expect(ascii(bytes, list.offset + 8, 4)).toBe('INFO');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const seen: Record<string, number> = {};
    for (let at = list.offset + 12; at < list.offset + 8 + list.size; ) {
      const size = view.getUint32(at + 4, true);
      seen[ascii(bytes, at, 4)] = size;
      expect(size % 2).toBe(0);
      at += 8 + size;
    }
    expect(Object.keys(seen)).toEqual(['INAM', 'ICMT', 'ICOP', 'ISFT']);
    // The data chunk (9 bytes) is followed by its pad byte, and the RIFF size covers the whole file.
    expect(chunk(bytes, 'data').size).toBe(9);
    expect(view.getUint32(4, true)).toBe(bytes.length - 8);
    expect(list.offset + 8 + list.size).toBe(bytes.length);
  });

  it('lets the caller set ISFT', () => {
    expect(decodeWav(encodeWav([signal(10, 7)], 8000, 'pcm16', { ISFT: 'Tessera 0.1.0' })).tags).toEqual({
      ISFT: 'Tessera 0.1.0',
    });
  });
});

describe('the header bytes', () => {
  it.each([
    ['float32', 3, 32],
    ['pcm16', 1, 16],
    ['pcm24', 1, 24],
  ] as [WavFormat, number, number][])('%s: RIFF/WAVE/fmt with format tag %i and %i bits', (format, tag, bits) => {
    const frames = 1000;
    const bytes = encodeWav([signal(frames, 8), signal(frames, 9)], 44_100, format);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(ascii(bytes, 0, 4)).toBe('RIFF');
    expect(view.getUint32(4, true)).toBe(bytes.length - 8);
    expect(ascii(bytes, 8, 4)).toBe('WAVE');
    expect(ascii(bytes, 12, 4)).toBe('fmt ');
    const fmt = chunk(bytes, 'fmt ').offset + 8;
    expect(view.getUint16(fmt, true)).toBe(tag);
    expect(view.getUint16(fmt + 2, true)).toBe(2); // channels
    expect(view.getUint32(fmt + 4, true)).toBe(44_100); // sample rate
    expect(view.getUint32(fmt + 8, true)).toBe(44_100 * 2 * (bits / 8)); // byte rate
    expect(view.getUint16(fmt + 12, true)).toBe(2 * (bits / 8)); // block align
    expect(view.getUint16(fmt + 14, true)).toBe(bits);
    expect(chunk(bytes, 'data').size).toBe(frames * 2 * (bits / 8));
    if (format === 'float32') {
      const fact = chunk(bytes, 'fact');
      expect(view.getUint32(fact.offset + 8, true)).toBe(frames);
    }
  });

  it.each([
    ['float32', 3],
    ['pcm16', 1],
  ] as [WavFormat, number][])('uses WAVE_FORMAT_EXTENSIBLE with the %s sub-format beyond two channels', (format, subformat) => {
    const bytes = encodeWav([signal(8, 1), signal(8, 2), signal(8, 3)], 48_000, format);
    const fmtChunk = chunk(bytes, 'fmt ');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    expect(fmtChunk.size).toBe(40);
    expect(view.getUint16(fmtChunk.offset + 8, true)).toBe(0xfffe);
    // The sub-format GUID starts with the format code: 00000001-… (PCM) or 00000003-… (IEEE float).
    expect(view.getUint32(fmtChunk.offset + 8 + 24, true)).toBe(subformat);
    expect(view.getUint16(fmtChunk.offset + 8 + 2, true)).toBe(3);
  });
});

describe('bad input', () => {
  const mono = [signal(100, 1)];

  it('rejects an empty channel list', () => {
    expect(() => encodeWav([], 44_100, 'pcm16')).toThrow(WavError);
    expect(() => encodeWav([], 44_100, 'pcm16')).toThrow(/no channels to encode/);
  });

  it('rejects channels of different lengths, naming both', () => {
    expect(() => encodeWav([signal(100, 1), signal(99, 2)], 44_100, 'float32')).toThrow(
      /channel 1 has 99 samples but channel 0 has 100/,
    );
  });

  it('rejects NaN and Infinity, naming the channel and sample index', () => {
    const left = signal(100, 1);
    const right = signal(100, 2);
    right[42] = Number.NaN;
    expect(() => encodeWav([left, right], 44_100, 'pcm24')).toThrow(/channel 1 sample 42 is NaN/);
    left[7] = Number.POSITIVE_INFINITY;
    expect(() => encodeWav([left], 44_100, 'float32')).toThrow(/channel 0 sample 7 is Infinity/);
  });

  it('rejects non-positive and fractional sample rates', () => {
    expect(() => encodeWav(mono, 0, 'pcm16')).toThrow(/sample rate must be a positive whole number of Hz.*got 0/);
    expect(() => encodeWav(mono, -44_100, 'pcm16')).toThrow(/got -44100/);
    expect(() => encodeWav(mono, 44_100.5, 'pcm16')).toThrow(/got 44100.5/);
    expect(() => encodeWav(mono, Number.NaN, 'pcm16')).toThrow(/got NaN/);
  });

  it('rejects unknown formats and bad tag ids or values', () => {
    expect(() => encodeWav(mono, 44_100, 'pcm8' as WavFormat)).toThrow(/unknown WAV sample format "pcm8"/);
    expect(() => encodeWav(mono, 44_100, 'pcm16', { title: 'x' })).toThrow(/"title" is not a RIFF INFO id/);
    expect(() => encodeWav(mono, 44_100, 'pcm16', { INAM: 'a\0b' })).toThrow(/INAM contains a NUL/);
  });

  it('rejects bytes that are not a readable WAV file', () => {
    expect(() => decodeWav(new Uint8Array(4))).toThrow(/shorter than a RIFF header/);
    expect(() => decodeWav(new TextEncoder().encode('ID3\u0004 this is an mp3 file'))).toThrow(/not a WAV file/);
    const valid = encodeWav(mono, 8000, 'pcm16');
    const riffx = valid.slice();
    riffx.set([0x52, 0x49, 0x46, 0x58], 0); // RIFX
    expect(() => decodeWav(riffx)).toThrow(/RIFX WAV files are not supported/);
    expect(() => decodeWav(valid.subarray(0, 20))).toThrow(WavError);
  });

  it('names unsupported sample formats', () => {
    const bytes = encodeWav(mono, 8000, 'pcm16');
    const fmt = chunk(bytes, 'fmt ').offset + 8;
    new DataView(bytes.buffer).setUint16(fmt, 6, true); // A-law
    expect(() => decodeWav(bytes)).toThrow(/unsupported WAV sample format \(format tag 6, 16 bits\)/);
  });
});
