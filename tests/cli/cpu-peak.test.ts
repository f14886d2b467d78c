/**
 * cli/cpu-peak.ts: the bench's float32 peak. /proc/cpuinfo parsing (physical cores, not hyperthreads), the FMA width
 * per microarchitecture (Zen 4's AVX-512 on 256-bit units), the formula with every input in its text, the overrides,
 * and a clock measurement that lands in a plausible range.
 */
import { describe, expect, it } from 'vitest';
import { fmaWidth, fp32Peak, measureClockGhz, parseCpuInfo } from '../../src-main/cli/cpu-peak.ts';

/** A /proc/cpuinfo with `n` processors of the given fields; `core` maps a processor to its core id. */
function cpuinfo(n: number, fields: Record<string, string>, core: (i: number) => number = (i) => i): string {
  return Array.from({ length: n }, (_, i) =>
    [`processor\t: ${i}`, `physical id\t: 0`, `core id\t\t: ${core(i)}`, ...Object.entries(fields).map(([k, v]) => `${k}\t: ${v}`)].join('\n'),
  ).join('\n\n');
}

const ZEN4 = { vendor_id: 'AuthenticAMD', 'cpu family': '25', 'model name': 'AMD EPYC', 'cpu MHz': '2596.132', flags: 'fpu sse sse2 avx fma avx2 avx512f avx512bw avx512_bf16' };
const SAPPHIRE = { vendor_id: 'GenuineIntel', 'cpu family': '6', 'model name': 'Intel(R) Xeon(R) Platinum 8480+', 'cpu MHz': '2000.000', flags: 'sse sse2 avx fma avx2 avx512f amx_tile avx512_fp16' };

describe('parseCpuInfo', () => {
  it('counts physical cores from (physical id, core id) pairs, so hyperthreads do not double the peak', () => {
    const cpu = parseCpuInfo(cpuinfo(4, SAPPHIRE, (i) => i % 2));
    expect(cpu.logicalCpus).toBe(4);
    expect(cpu.physicalCores).toBe(2);
    expect(cpu.vendor).toBe('GenuineIntel');
    expect(cpu.flags.has('avx512f')).toBe(true);
  });

  it('reads the family, model name and the largest cpu MHz', () => {
    const text = cpuinfo(2, ZEN4).replace('cpu MHz\t: 2596.132', 'cpu MHz\t: 3000.5');
    const cpu = parseCpuInfo(text);
    expect(cpu).toMatchObject({ family: 25, modelName: 'AMD EPYC', physicalCores: 2, mhz: 3000.5 });
  });
});

describe('fmaWidth', () => {
  const width = (fields: Record<string, string>): { units: number; lanes: number } => {
    const { units, lanes } = fmaWidth(parseCpuInfo(cpuinfo(1, fields)));
    return { units, lanes };
  };

  it('gives Zen 4 two 256-bit units although it reports AVX-512, and full 512-bit units to Intel Xeon and Zen 5', () => {
    expect(width(ZEN4)).toEqual({ units: 2, lanes: 8 });
    expect(width(SAPPHIRE)).toEqual({ units: 2, lanes: 16 });
    expect(width({ ...ZEN4, 'cpu family': '26' })).toEqual({ units: 2, lanes: 16 });
  });

  it('gives AVX2 + FMA two 256-bit units and plain AVX one', () => {
    expect(width({ ...ZEN4, flags: 'sse avx fma avx2' })).toEqual({ units: 2, lanes: 8 });
    expect(width({ ...ZEN4, flags: 'sse avx' })).toEqual({ units: 1, lanes: 8 });
  });

  it('knows the multiply latency the clock measurement divides by: 3 cycles on AMD Zen, 4 on Intel', () => {
    expect(fmaWidth(parseCpuInfo(cpuinfo(1, ZEN4))).mulLatency).toBe(3);
    expect(fmaWidth(parseCpuInfo(cpuinfo(1, SAPPHIRE))).mulLatency).toBe(4);
  });
});

describe('fp32Peak', () => {
  const zen4 = parseCpuInfo(cpuinfo(2, ZEN4));

  it('multiplies cores × FMA units × lanes × 2 × clock and prints every input', () => {
    const peak = fp32Peak(zen4, { measuredGhz: 3.7 });
    expect(peak.gflops).toBeCloseTo(2 * 2 * 8 * 2 * 3.7, 9);
    expect(peak.formula).toContain('2 physical cores × 2 FMA units × 8 fp32 lanes × 2 FLOP × 3.70 GHz = 237 GFLOP/s');
    expect(peak.formula).toContain('measured');
    expect(peak.formula).toContain('/proc/cpuinfo says 2.60');
  });

  it('prefers a given clock to the measured one, the measured one to cpu MHz, and takes threads for cores', () => {
    expect(fp32Peak(zen4, { ghz: 3, measuredGhz: 3.7 }).gflops).toBeCloseTo(2 * 32 * 3, 9);
    expect(fp32Peak(zen4, {}).gflops).toBeCloseTo(2 * 32 * 2.596132, 6);
    expect(fp32Peak(zen4, {}).formula).toContain("'cpu MHz'");
    expect(fp32Peak(zen4, { ghz: 3, threads: 1 }).gflops).toBeCloseTo(32 * 3, 9);
  });

  it('returns a given peak as it is, and says what to give when nothing is known', () => {
    expect(fp32Peak(zen4, { peakGflops: 333 })).toEqual({ gflops: 333, formula: expect.stringContaining('as given') });
    const unknown = fp32Peak(undefined, {});
    expect(unknown.gflops).toBeNaN();
    expect(unknown.formula).toContain('--peak-gflops');
  });
});

describe('measureClockGhz', () => {
  it('measures a clock between 0.5 and 7 GHz', () => {
    const ghz = measureClockGhz(3, 20, 200_000);
    expect(ghz).toBeGreaterThan(0.5);
    expect(ghz).toBeLessThan(7);
  });
});
