/**
 * The .npy codec (host/projects/npy.ts) against files NumPy itself wrote (tests/fixtures/npy, np.save): the same
 * bytes from encodeNpy, the same values and shapes from decodeNpy, and clear `corrupt` errors for damaged files.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeNpy, encodeNpy } from '../../../src-main/host/projects/npy.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'npy');
const SHAPES: Record<string, number[]> = {
  'latent-2x3x4': [2, 3, 4],
  'vector-5': [5],
  'latent-8x40x16': [8, 40, 16],
  'empty-wide': [0, ...Array<number>(15).fill(9)],
};

/** Element i is (i − 7) / 4 (exact in float32), as the fixture script writes. */
const values = (count: number): Float32Array => Float32Array.from({ length: count }, (_, i) => (i - 7) / 4);

describe('npy', () => {
  for (const [name, shape] of Object.entries(SHAPES)) {
    it(`${name}: encodeNpy writes NumPy's bytes and decodeNpy reads them back`, () => {
      const golden = new Uint8Array(readFileSync(join(FIXTURES, `${name}.npy`)));
      const data = values(shape.reduce((a, b) => a * b, 1));
      expect(Buffer.from(encodeNpy(data, shape)).equals(Buffer.from(golden))).toBe(true);
      const read = decodeNpy(golden, name);
      expect(read.shape).toEqual(shape);
      expect(read.data).toEqual(data);
    });
  }

  it('refuses a shape that does not hold the data', () => {
    expect(() => encodeNpy(new Float32Array(5), [2, 3])).toThrow(/shape \(2, 3\) holds 6 values, the data 5/);
  });

  /** `bytes` with its header saying '<f8' instead of '<f4'. */
  const float64Header = (bytes: Uint8Array): Uint8Array => {
    const copy = bytes.slice();
    const at = Buffer.from(copy).indexOf("'<f4'");
    copy[at + 3] = '8'.charCodeAt(0);
    return copy;
  };

  it('damaged files are corrupt errors naming the file, the problem and the fix', () => {
    const good = encodeNpy(values(24), [2, 3, 4]);
    const cases: [string, Uint8Array, RegExp][] = [
      ['not npy', new TextEncoder().encode('RIFF....WAVE'), /does not start with the \.npy magic/],
      ['truncated', good.subarray(0, good.length - 4), /holds 92 data bytes, its shape needs 96/],
      ['float64', float64Header(good), /not little-endian float32/],
    ];
    for (const [, bytes, why] of cases) {
      let caught: unknown;
      try {
        decodeNpy(bytes, 'takes/piece_x.npy');
      } catch (e) {
        caught = e;
      }
      expect(caught).toMatchObject({ code: 'corrupt', message: expect.stringMatching(why) });
      expect((caught as Error).message).toMatch(/^takes\/piece_x\.npy is not a latent .*Regenerate the region/);
    }
  });
});
