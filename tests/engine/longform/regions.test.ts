/** Regional prompts: validation names the region and field; weights ramp by raised cosine and sum to one. */
import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../../src-main/engine/errors.ts';
import { checkRegions, conditionsOf, conditionWeights, type Region } from '../../../src-main/engine/longform/regions.ts';

const two: Region[] = [
  { start: 0, end: 60, prompt: 'low drone' },
  { start: 60, end: 180, prompt: 'noise' },
];

describe('checkRegions', () => {
  it('accepts regions that tile the piece', () => {
    expect(() => checkRegions(two, 180, 2)).not.toThrow();
  });

  it.each([
    ['empty list', [], 10, 2, 'regions', /regions is empty/],
    ['start ≥ end', [{ start: 0, end: 5, prompt: 'a' }, { start: 5, end: 5, prompt: 'b' }], 5, 0, 'regions[1].start', /regions\[1\]\.start 5 s must be before its end 5 s/],
    ['overlap', [{ start: 0, end: 6, prompt: 'a' }, { start: 5, end: 10, prompt: 'b' }], 10, 1, 'regions[1].start', /overlaps regions\[0\], which ends at 6 s/],
    ['gap', [{ start: 0, end: 4, prompt: 'a' }, { start: 5, end: 10, prompt: 'b' }], 10, 1, 'regions[1].start', /gap between regions\[0\] \(ends 4 s\) and regions\[1\] \(starts 5 s\)/],
    ['not starting at 0', [{ start: 1, end: 10, prompt: 'a' }], 10, 1, 'regions[0].start', /first region must start at 0 s/],
    ['past the end', [{ start: 0, end: 12, prompt: 'a' }], 10, 1, 'regions[0].end', /regions\[0\]\.end 12 s is past the end of the 10 s piece/],
    ['short of the end', [{ start: 0, end: 8, prompt: 'a' }], 10, 1, 'regions[0].end', /the last region ends at 8 s but the piece lasts 10 s/],
    ['transition longer than a neighbour', [{ start: 0, end: 1, prompt: 'a' }, { start: 1, end: 10, prompt: 'b' }], 10, 2, 'transition', /transition 2 s is longer than regions\[0\] \(1 s\)/],
    ['NaN edge', [{ start: 0, end: Number.NaN, prompt: 'a' }], 10, 1, 'regions[0].end', /regions\[0\]\.end NaN must be a number of seconds/],
    ['negative guidance', [{ start: 0, end: 10, prompt: 'a', guidance: -1 }], 10, 1, 'regions[0].guidance', /regions\[0\]\.guidance -1 must be a number ≥ 0/],
    ['negative transition', two, 180, -1, 'transition', /transition -1 s must be a number ≥ 0/],
  ] as Array<[string, Region[], number, number, string, RegExp]>)('%s', (_name, regions, seconds, transition, field, message) => {
    let error: unknown;
    try {
      checkRegions(regions, seconds, transition);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as InvalidRequestError).field).toBe(field);
    expect((error as Error).message).toMatch(message);
  });

  it('a single region may be shorter than the transition (there is no boundary)', () => {
    expect(() => checkRegions([{ start: 0, end: 1, prompt: 'a' }], 1, 2)).not.toThrow();
  });
});

describe('conditionsOf and conditionWeights', () => {
  it('shares a condition between regions with the same prompt, negative prompt and guidance', () => {
    const regions: Region[] = [
      { start: 0, end: 10, prompt: 'a' },
      { start: 10, end: 20, prompt: 'b' },
      { start: 20, end: 30, prompt: 'a' },
      { start: 30, end: 40, prompt: 'a', guidance: 4 },
    ];
    const c = conditionsOf(regions, 2.5);
    expect(c.map((x) => [x.prompt, x.guidance, x.regions])).toEqual([['a', 2.5, [0, 2]], ['b', 2.5, [1]], ['a', 4, [3]]]);
  });

  it('raised-cosine ramps centred on boundaries; weights sum to one at every frame', () => {
    const fps = 25;
    const frames = 180 * fps;
    const conditions = conditionsOf(two, 2.5);
    const [a, b] = conditionWeights(two, conditions, frames, fps, 2);
    for (let t = 0; t < frames; t++) expect(a[t] + b[t]).toBeCloseTo(1, 6);
    const at = (s: number) => Math.floor(s * fps);
    expect(a[at(10)]).toBe(1);
    expect(a[at(58.9)]).toBe(1);
    expect(b[at(61.1)]).toBe(1);
    expect(a[at(60) - 1]).toBeCloseTo(0.5, 1); // frame centred at 59.98 s
    // Frame 1487 is centred at 59.5 s, 0.5 s before the boundary: ½(1 + sin(π·0.5/2)).
    expect(a[at(59.5)]).toBeCloseTo(0.5 * (1 + Math.sin((Math.PI * 0.5) / 2)), 5);
    // Monotone fade through the transition.
    for (let t = at(59); t < at(61); t++) expect(a[t + 1]).toBeLessThanOrEqual(a[t]);
  });

  it('zero transition switches hard at the boundary', () => {
    const [a, b] = conditionWeights(two, conditionsOf(two, 1), 4500, 25, 0);
    expect(a[1499]).toBe(1);
    expect(b[1500]).toBe(1);
  });
});
