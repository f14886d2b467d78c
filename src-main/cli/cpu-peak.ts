/**
 * The CPU's float32 peak for the bench's "share of peak": physical cores × FMA units × SIMD lanes × 2 FLOPs × clock,
 * every input printed with where it came from, so that a reader can check the figure or override it.
 *
 * - Cores: physical cores (ONNX Runtime's default intra-op threads: one per physical core), from /proc/cpuinfo's
 *   (physical id, core id) pairs; else the logical CPUs.
 * - FMA units × lanes: by ISA and microarchitecture, as the vendors document them. AVX-512 is 2 units × 16 lanes on
 *   Intel Xeon Scalable (Skylake-SP onward; some Silver/Bronze parts have 1) and AMD Zen 5, but AMD Zen 4 executes a
 *   512-bit FMA as two halves on its two 256-bit units: 2 × 8, as Zen 2/3 with AVX2.
 * - Clock: the clock the cores run at under load. /proc/cpuinfo's `cpu MHz` is often the nominal (TSC) clock, and under
 *   a hypervisor the boost clock is hidden (2.6 GHz reported on a Zen 4 VM that runs at 3.7 GHz), so on x86 the clock
 *   is measured: a dependent chain of float64 multiplies retires one multiply per latency (3 cycles on AMD Zen 2–5,
 *   4 on Intel since Skylake), best of many short bursts so that other load on the machine does not lower it.
 * Any input, or the whole peak, can be given instead (`--cpu-ghz`, `--peak-gflops`; TESSERA_CPU_GHZ,
 * TESSERA_PEAK_GFLOPS).
 */

/** What /proc/cpuinfo says about the CPU (the first processor's fields; cores counted over all). */
export interface CpuInfo {
  vendor: string;
  /** `cpu family` (x86), 0 when absent. */
  family: number;
  modelName: string;
  flags: ReadonlySet<string>;
  /** Physical cores: distinct (physical id, core id) pairs, else the number of processors. */
  physicalCores: number;
  logicalCpus: number;
  /** `cpu MHz` (the largest over processors), undefined when absent. */
  mhz?: number;
}

/** Parses /proc/cpuinfo text. */
export function parseCpuInfo(text: string): CpuInfo {
  const blocks = text.split(/\n\s*\n/).filter((b) => /^processor\s*:/m.test(b));
  const field = (block: string, name: string): string | undefined => {
    const m = new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(block);
    return m ? m[1].trim() : undefined;
  };
  const first = blocks[0] ?? text;
  const cores = new Set<string>();
  let mhz: number | undefined;
  for (const b of blocks) {
    const pid = field(b, 'physical id');
    const cid = field(b, 'core id');
    if (pid !== undefined && cid !== undefined) cores.add(`${pid}:${cid}`);
    const m = Number(field(b, 'cpu MHz'));
    if (Number.isFinite(m) && m > 0) mhz = Math.max(mhz ?? 0, m);
  }
  const logicalCpus = Math.max(1, blocks.length);
  return {
    vendor: field(first, 'vendor_id') ?? field(first, 'CPU implementer') ?? 'unknown',
    family: Number(field(first, 'cpu family') ?? 0) || 0,
    modelName: field(first, 'model name') ?? 'unknown CPU',
    flags: new Set((field(first, 'flags') ?? field(first, 'Features') ?? '').split(/\s+/).filter(Boolean)),
    physicalCores: cores.size > 0 ? cores.size : logicalCpus,
    logicalCpus,
    ...(mhz !== undefined ? { mhz } : {}),
  };
}

/** FMA throughput of one core: units × float32 lanes, and the vector ISA that sets it. */
export interface FmaWidth {
  units: number;
  lanes: number;
  isa: string;
  /** Cycles of a dependent float64 multiply on this microarchitecture, when known (clock measurement). */
  mulLatency?: number;
}

/** The FMA width of `cpu` (see the file comment for the table and its sources). */
export function fmaWidth(cpu: CpuInfo): FmaWidth {
  const f = cpu.flags;
  const amd = cpu.vendor === 'AuthenticAMD';
  const intel = cpu.vendor === 'GenuineIntel';
  const mulLatency = amd && cpu.family >= 0x17 ? 3 : intel ? 4 : undefined;
  const withLatency = (w: FmaWidth): FmaWidth => (mulLatency === undefined ? w : { ...w, mulLatency });
  if (f.has('avx512f')) {
    // Zen 4 (family 0x19) splits 512-bit FMAs over two 256-bit units; Zen 5 (0x1a) and Intel Xeon have full-width units.
    if (amd && cpu.family <= 0x19) return withLatency({ units: 2, lanes: 8, isa: 'AVX-512 (Zen 4: 2 × 256-bit FMA units)' });
    return withLatency({ units: 2, lanes: 16, isa: 'AVX-512' });
  }
  if (f.has('fma') && f.has('avx2')) return withLatency({ units: 2, lanes: 8, isa: 'AVX2 + FMA' });
  if (f.has('avx')) return withLatency({ units: 1, lanes: 8, isa: 'AVX (no FMA: one add and one multiply port)' });
  if (f.has('asimd')) return { units: 2, lanes: 4, isa: 'NEON (2 × 128-bit FMA units assumed)' };
  return withLatency({ units: 1, lanes: 4, isa: 'SSE (no FMA)' });
}

/** The peak and how it was obtained. */
export interface CpuPeak {
  gflops: number;
  /** The formula with its inputs, or the override, in words. */
  formula: string;
}

/** Sources of the peak's inputs besides /proc/cpuinfo. */
export interface PeakOptions {
  /** A given peak (GFLOP/s): replaces the formula. */
  peakGflops?: number;
  /** A given clock (GHz). */
  ghz?: number;
  /** A measured clock (GHz, see {@link measureClockGhz}); used when `ghz` is absent. */
  measuredGhz?: number;
  /** Cores the sessions use (ONNX Runtime's intra-op threads), when the user set them; default the physical cores. */
  threads?: number;
}

/** The float32 peak of `cpu` for `options`. */
export function fp32Peak(cpu: CpuInfo | undefined, options: PeakOptions): CpuPeak {
  if (options.peakGflops !== undefined) return { gflops: options.peakGflops, formula: `${options.peakGflops} GFLOP/s as given (--peak-gflops / TESSERA_PEAK_GFLOPS)` };
  if (!cpu) return { gflops: Number.NaN, formula: 'unknown: no /proc/cpuinfo on this system; give --peak-gflops (or TESSERA_PEAK_GFLOPS)' };
  const width = fmaWidth(cpu);
  const cores = options.threads ?? cpu.physicalCores;
  const coreNote = options.threads === undefined ? 'physical cores' : 'intra-op threads';
  let ghz: number;
  let clockNote: string;
  if (options.ghz !== undefined) {
    ghz = options.ghz;
    clockNote = 'as given (--cpu-ghz / TESSERA_CPU_GHZ)';
  } else if (options.measuredGhz !== undefined) {
    ghz = options.measuredGhz;
    clockNote = `measured (dependent float64 multiplies, ${width.mulLatency} cycles each)${cpu.mhz !== undefined ? `; /proc/cpuinfo says ${(cpu.mhz / 1000).toFixed(2)}` : ''}`;
  } else if (cpu.mhz !== undefined) {
    ghz = cpu.mhz / 1000;
    clockNote = "/proc/cpuinfo 'cpu MHz' (may be the nominal clock: give --cpu-ghz for the boost clock)";
  } else {
    return { gflops: Number.NaN, formula: 'unknown clock: give --cpu-ghz or --peak-gflops' };
  }
  const gflops = cores * width.units * width.lanes * 2 * ghz;
  return {
    gflops,
    formula:
      `${cores} ${coreNote} × ${width.units} FMA units × ${width.lanes} fp32 lanes × 2 FLOP × ${ghz.toFixed(2)} GHz = ${gflops.toFixed(0)} GFLOP/s ` +
      `(${cpu.modelName}, ${width.isa}; clock ${clockNote})`,
  };
}

/**
 * The core clock in GHz from a dependent chain of float64 multiplies, each `latency` cycles: the best of `bursts`
 * bursts of `length` multiplies (other load only lengthens a burst). About 0.3 ms per burst at 3 GHz.
 */
export function measureClockGhz(latency: number, bursts = 200, length = 1_000_000): number {
  let best = Number.POSITIVE_INFINITY;
  let sink = 0;
  for (let b = 0; b < bursts + 10; b++) {
    let x = 1 + b * 1e-9;
    const start = process.hrtime.bigint();
    for (let i = 0; i < length; i++) x *= 1.0000001;
    const ns = Number(process.hrtime.bigint() - start);
    sink += x;
    // The first bursts run before the loop is optimised.
    if (b >= 10) best = Math.min(best, ns);
  }
  if (!(sink > 0)) throw new Error('clock measurement: the multiply chain did not run');
  return (latency * length) / best;
}
