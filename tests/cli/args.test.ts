/** The CLI's one numeric parser and the region parser: plain decimal only, errors that say what to write. */
import { describe, expect, it } from 'vitest';
import { checkRegionOrder, CliError, parseNumber, parseNumberList, parseRegion, plainDecimal } from '../../src-main/cli/args.ts';

const seconds = { check: (n: number) => n > 0, expected: 'a number of seconds greater than 0', example: '8' };

describe('parseNumber', () => {
  it.each([
    ['8', 8],
    ['0.25', 0.25],
    ['.5', 0.5],
    ['5.', 5],
    ['007', 7],
    ['1200', 1200],
  ])('accepts the plain decimal %j', (raw, value) => {
    expect(parseNumber('duration', raw, seconds)).toBe(value);
  });

  it('accepts a negative value where the range allows it', () => {
    expect(parseNumber('loudness', '-14', { check: (n) => n < 0, expected: 'a loudness in LUFS below 0', example: '-14' })).toBe(-14);
  });

  it('an absent option stays undefined', () => {
    expect(parseNumber('duration', undefined, seconds)).toBeUndefined();
  });

  it.each(['0x10', '1e3', '1E3', ' 5', '5 ', '5s', 'Infinity', '-Infinity', 'NaN', '', '+5', '1_000', '0b101', '0o7', '1.2.3', '-', '.', '٣'])(
    'refuses %j, naming the option, the value, the expected form and an example',
    (raw) => {
      let error: unknown;
      try {
        parseNumber('duration', raw, seconds);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CliError);
      expect((error as Error).message).toBe(
        `--duration ${JSON.stringify(raw)} is not valid: expected a number of seconds greater than 0, written in plain decimal (digits with an optional "-" and "."; no spaces, units, exponents, hex or Infinity), e.g. --duration 8`,
      );
    },
  );

  it('a plain decimal out of range: the range and an example', () => {
    expect(() => parseNumber('duration', '0', seconds)).toThrow('--duration "0" is not valid: expected a number of seconds greater than 0, e.g. --duration 8');
    expect(() => parseNumber('steps', '2.5', { check: Number.isInteger, expected: 'a whole number', example: '25' })).toThrow('--steps "2.5" is not valid: expected a whole number, e.g. --steps 25');
  });

  it('a decimal too large to be finite is refused, not read as Infinity', () => {
    expect(plainDecimal('9'.repeat(400))).toBeUndefined();
    expect(() => parseNumber('duration', '9'.repeat(400), seconds)).toThrow(CliError);
  });
});

describe('parseNumberList', () => {
  it('parses each item by the same rules and names the bad one', () => {
    expect(parseNumberList('durations', '30,60,180', seconds)).toEqual([30, 60, 180]);
    expect(() => parseNumberList('durations', '30,0x3c', seconds)).toThrow(/^--durations "0x3c" is not valid: expected a comma-separated list of a number of seconds greater than 0, written in plain decimal .*e\.g\. --durations 8$/);
    expect(() => parseNumberList('durations', '30,,60', seconds)).toThrow(/--durations "" is not valid/);
  });
});

describe('parseRegion', () => {
  it('reads START:END:PROMPT; the prompt may hold colons', () => {
    expect(parseRegion('0:12.5:noise: with a colon', 0)).toEqual({ start: 0, end: 12.5, prompt: 'noise: with a colon' });
  });

  it('an end that is not after the start says so, with both values and how to write a region', () => {
    expect(() => parseRegion('5:0:x', 0)).toThrow(
      '--region #1 "5:0:x": its end (0 s) is not after its start (5 s); write START:END:PROMPT in seconds with END after START, e.g. --region "0:60:low drone" --region "60:180:noise"',
    );
    expect(() => parseRegion('3:3:x', 1)).toThrow(/^--region #2 "3:3:x": its end \(3 s\) is not after its start \(3 s\)/);
  });

  it.each(['0x0:10:x', '0:1e1:x', '0:Infinity:x', '0: 10:x', '0:10s:x'])('refuses the non-decimal edge in %j', (raw) => {
    expect(() => parseRegion(raw, 0)).toThrow(/START and END must be numbers of seconds, got ".*" and ".*" \(plain decimal/);
  });

  it('a value without two colons is not a region', () => {
    expect(() => parseRegion('0-60:drone', 0)).toThrow(/^--region #1 "0-60:drone" is not START:END:PROMPT \(seconds\); write START:END:PROMPT/);
  });
});

describe('checkRegionOrder', () => {
  it('names the request file region whose end is not after its start', () => {
    expect(() => checkRegionOrder([{ start: 0, end: 5, prompt: 'a' }, { start: 5, end: 5, prompt: 'b' }], '--request r.json')).toThrow(
      /^--request r\.json: regions\[1\] ends \(5 s\) not after its start \(5 s\)/,
    );
    expect(() => checkRegionOrder([{ start: 0, end: 5, prompt: 'a' }], '--request r.json')).not.toThrow();
  });
});
