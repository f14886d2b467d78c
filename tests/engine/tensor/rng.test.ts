/** The seeded RNG: pinned sequences (so a stored seed reproduces a take on every platform), statistics, API. */
import { describe, expect, it } from 'vitest';
import { checkSeed, createRng } from '../../../src-main/engine/tensor/rng.ts';

describe('createRng', () => {
  it('produces the documented sequences (pinned: changing the algorithm changes every stored take)', () => {
    const r = createRng(42);
    expect([r.uint32(), r.uint32(), r.uint32()]).toEqual([1925742633, 1996256342, 4205161343]);
    expect(Array.from(createRng(42).normals(4))).toEqual([-2.3827576637268066, -1.6250399351119995, -1.1487921476364136, -0.020260650664567947]);
    expect(Array.from(createRng(42, 1).normals(2))).toEqual([2.143895149230957, -1.653647541999817]);
  });

  it('xoshiro128** matches a BigInt reference implementation of the published algorithm', () => {
    // Reference: state from the same SplitMix32-style seeding, then the xoshiro128** update in 64-bit BigInt
    // arithmetic masked to 32 bits (independent of Math.imul and the >>> tricks in the implementation).
    const M = 0xffffffffn;
    const mix = (z: bigint): bigint => {
      z = ((z ^ (z >> 16n)) * 0x85ebca6bn) & M;
      z = ((z ^ (z >> 13n)) * 0xc2b2ae35n) & M;
      return (z ^ (z >> 16n)) & M;
    };
    let sm = BigInt.asUintN(32, BigInt(7 ^ Math.imul(1, 0x632be5ab)));
    const next = (): bigint => {
      sm = (sm + 0x9e3779b9n) & M;
      return mix(sm);
    };
    let [a, b, c, d] = [next(), next(), next(), next()];
    const rotl = (x: bigint, k: bigint): bigint => ((x << k) | (x >> (32n - k))) & M;
    const ref: number[] = [];
    for (let i = 0; i < 1000; i++) {
      ref.push(Number(rotl((b * 5n) & M, 7n) * 9n & M));
      const t = (b << 9n) & M;
      c ^= a;
      d ^= b;
      b ^= c;
      a ^= d;
      c ^= t;
      d = rotl(d, 11n);
    }
    const r = createRng(7);
    expect(Array.from({ length: 1000 }, () => r.uint32())).toEqual(ref);
  });

  it('same seed and stream → same numbers; other seed or stream → different', () => {
    expect(createRng(5).normals(100)).toEqual(createRng(5).normals(100));
    expect(createRng(5).normals(100)).not.toEqual(createRng(6).normals(100));
    expect(createRng(5).normals(100)).not.toEqual(createRng(5, 1).normals(100));
  });

  it('normals(n) continues the same sequence as n calls of normal(), including odd counts', () => {
    const a = createRng(9);
    const bulk = [...a.normals(3), ...a.normals(4)];
    const b = createRng(9);
    const single = Array.from({ length: 7 }, () => Math.fround(b.normal()));
    expect(bulk).toEqual(single);
  });

  it('normals are standard normal: mean 0, variance 1, symmetric tails', () => {
    const n = 200_000;
    const x = createRng(123).normals(n);
    let sum = 0;
    let sq = 0;
    let beyond2 = 0;
    for (const v of x) {
      sum += v;
      sq += v * v;
      if (Math.abs(v) > 2) beyond2++;
    }
    const mean = sum / n;
    expect(Math.abs(mean)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(sq / n - mean * mean - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(beyond2 / n).toBeCloseTo(0.0455, 2);
  });

  it('uniforms lie in (0, 1) with mean ½', () => {
    const r = createRng(1);
    let sum = 0;
    for (let i = 0; i < 100_000; i++) {
      const u = r.uniform();
      expect(u > 0 && u < 1).toBe(true);
      sum += u;
    }
    expect(sum / 100_000).toBeCloseTo(0.5, 2);
  });

  it.each([-1, 1.5, 2 ** 32, Number.NaN])('rejects seed %s with a clear message', (seed) => {
    expect(() => checkSeed(seed)).toThrow(/is not an integer in \[0, 4294967295\]; pass a whole number such as 42/);
    expect(() => createRng(seed)).toThrow(RangeError);
  });
});
