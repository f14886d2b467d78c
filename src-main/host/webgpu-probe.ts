/**
 * The WebGPU probe: whether ONNX Runtime finds a WebGPU adapter here (and the reason when not), whether it runs
 * float16 kernels (shader-f16), and whether `auto` should use it: only where a reference workload ran at least
 * {@link AUTO_SPEEDUP}× faster than on the CPU.
 *
 * It runs in a short-lived child process (webgpu-probe-main.ts, started by webgpu-probe-launch.ts: spawned under Node,
 * forked by main in the desktop app): a native GPU driver may crash or hang the process that opens an adapter, and
 * the first WebGPU session of a process picks that process's adapter for good. The
 * adapter check is kept per process; the measurement is kept per machine in the config folder
 * (`webgpu-measurements.json`, keyed by {@link measurementKey}) so it runs once, until asked to run again.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import type { AdapterCheck } from '../engine/runtime/device-check.ts';
import { errorMessage } from '../contract/errors.ts';
import { WEBGPU_AUTO_SPEEDUP } from '../contract/generation-settings.ts';
import { defaultProbeLauncher, spawnProbeLauncher, type ProbeChild, type ProbeLauncher } from './webgpu-probe-launch.ts';

/** `auto` uses WebGPU only when the reference workload ran at least this many times faster than on the CPU. */
export const AUTO_SPEEDUP = WEBGPU_AUTO_SPEEDUP;
/** Seconds the child gets to start and answer whether an adapter exists; then "probe timed out". */
export const ADAPTER_LIMIT_SECONDS = 20;
/** Seconds the CPU half of a measurement may take (a few runs of a 2 GFLOP workload). */
export const CPU_PHASE_LIMIT_SECONDS = 60;
/**
 * Seconds the WebGPU half of a measurement gets at least (session, shader compilation, warm-up and timed runs),
 * or {@link WEBGPU_PHASE_CPU_MULTIPLE}× the CPU's run time when that is longer. An adapter that is still in its first
 * run then is far slower than the CPU (SwiftShader takes seconds per run): it is stopped and measured as at most that
 * fast, instead of spending minutes proving it.
 */
export const WEBGPU_PHASE_MIN_SECONDS = 5;
/** See {@link WEBGPU_PHASE_MIN_SECONDS}. */
export const WEBGPU_PHASE_CPU_MULTIPLE = 40;
/** Marks the child's report lines (on stdout native code may print too). */
export const PROBE_LINE_PREFIX = '@@tessera-webgpu-probe ';

/** One line the child reports. */
export type ProbeReport =
  | ({ kind: 'adapter' } & AdapterCheck)
  | { kind: 'cpu'; seconds: number[] }
  | { kind: 'webgpu'; seconds: number[] }
  | { kind: 'error'; message: string };

/** The reference workload's timings (seconds per run). */
export interface WebGpuTiming {
  cpuSeconds: number[];
  webgpuSeconds: number[];
  /** The WebGPU half was stopped after this many seconds without a timed run (see WEBGPU_PHASE_MIN_SECONDS). */
  cutOffAfter?: number;
  /** Why the workload did not run on WebGPU although an adapter was found. */
  error?: string;
}

/** What one run of the probe child found. */
export interface ProbeOutcome {
  adapter: AdapterCheck;
  /** Present when the child was asked to measure and an adapter was found. */
  timing?: WebGpuTiming;
}

/** `auto`'s verdict on WebGPU from a measurement. */
export interface AutoVerdict {
  use: boolean;
  /** WebGPU's speed as a multiple of the CPU's (an upper bound when `atMost`). */
  speedup: number;
  atMost: boolean;
  /** In words, e.g. "webgpu measured 0.01x the CPU's speed on this machine". */
  reason: string;
}

/** What the probe knows about WebGPU here. */
export interface WebGpuStatus {
  available: boolean;
  /** Why WebGPU is unavailable. */
  reason?: string;
  shaderF16: boolean;
  /** Why float16 kernels do not run on the adapter. */
  f16Reason?: string;
  /** `auto`'s verdict from the measurement kept for this machine; undefined when none was made yet. */
  auto?: AutoVerdict & { measuredAt: string };
}

/**
 * How much probing a caller needs: `adapter` (is there one, shader-f16; the kept measurement if any), `measurement`
 * (as `adapter`, and measure when this machine has no kept measurement: what `auto` needs), `remeasure` (measure
 * again now).
 */
export type ProbeNeed = 'adapter' | 'measurement' | 'remeasure';

/** Options of {@link webgpuStatus} (every one injectable for tests). */
export interface ProbeOptions {
  /** The config folder holding `webgpu-measurements.json`. */
  configDir: string;
  env?: NodeJS.ProcessEnv;
  platform?: string;
  arch?: string;
  /** Runs the probe child (default: {@link runProbeChild}). */
  run?: (measure: boolean) => Promise<ProbeOutcome>;
  /** The Vulkan driver manifests installed (default: those in {@link icdDirs}; Linux only). */
  icdFiles?: readonly string[];
  /** The clock for `measuredAt`. */
  now?: () => Date;
}

/** The median of a non-empty list. */
function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function times(x: number): string {
  return `${x >= 10 ? x.toFixed(0) : x.toFixed(2)}x`;
}

/** `auto`'s verdict: WebGPU's median run against the CPU's; at least {@link AUTO_SPEEDUP}× faster to be used. */
export function autoVerdict(t: WebGpuTiming): AutoVerdict {
  if (t.error !== undefined || t.cpuSeconds.length === 0) {
    return { use: false, speedup: 0, atMost: true, reason: `webgpu could not be measured on this machine (${t.error ?? 'no CPU timing'})` };
  }
  const cpu = median(t.cpuSeconds);
  const atMost = t.webgpuSeconds.length === 0;
  const speedup = atMost ? cpu / (t.cutOffAfter ?? Infinity) : cpu / median(t.webgpuSeconds);
  const use = !atMost && speedup >= AUTO_SPEEDUP;
  const detail = atMost
    ? `its first run had not finished after ${(t.cutOffAfter ?? 0).toFixed(1)} s; the CPU's takes ${(cpu * 1000).toFixed(0)} ms`
    : `${(median(t.webgpuSeconds) * 1000).toFixed(1)} ms against the CPU's ${(cpu * 1000).toFixed(1)} ms per run`;
  const rule = use ? 'auto uses it' : `auto uses it from ${AUTO_SPEEDUP}x`;
  return { use, speedup, atMost, reason: `webgpu measured ${atMost ? 'at most ' : ''}${times(speedup)} the CPU's speed on this machine (${detail}; ${rule})` };
}

/** The installed onnxruntime-node's version (its package.json). */
export function onnxruntimeVersion(): string {
  try {
    const require = createRequire(import.meta.url);
    const file = join(dirname(require.resolve('onnxruntime-node')), '..', 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Environment variables that choose Vulkan drivers and layers (a measurement holds for one setting of them). */
const VULKAN_ENV = ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'VK_ADD_DRIVER_FILES', 'VK_INSTANCE_LAYERS', 'VK_LOADER_LAYERS_ENABLE', 'DRI_PRIME', 'MESA_VK_DEVICE_SELECT'];
/** Variables naming Vulkan driver manifests directly (then the loader's folders need not hold any). */
const DRIVER_ENV = ['VK_ICD_FILENAMES', 'VK_DRIVER_FILES', 'VK_ADD_DRIVER_FILES'];

/**
 * Where Linux's Vulkan loader finds installed drivers (its manifest search path): a driver installed or removed is a
 * new machine here, and none at all means no WebGPU adapter without starting a process.
 */
export function icdDirs(env: NodeJS.ProcessEnv): string[] {
  const split = (value: string | undefined, fallback: string): string[] => (value === undefined || value === '' ? fallback : value).split(':').filter((d) => d !== '');
  const home = env.HOME === undefined ? [] : [join(env.XDG_DATA_HOME ?? join(env.HOME, '.local', 'share'), 'vulkan', 'icd.d')];
  const config = split(env.XDG_CONFIG_DIRS, '/etc/xdg').map((d) => join(d, 'vulkan', 'icd.d'));
  const data = split(env.XDG_DATA_DIRS, '/usr/local/share:/usr/share').map((d) => join(d, 'vulkan', 'icd.d'));
  return [...new Set([...config, '/etc/vulkan/icd.d', ...home, ...data, '/usr/local/share/vulkan/icd.d', '/usr/share/vulkan/icd.d'])];
}

/**
 * What a measurement holds for: onnxruntime-node's version, the platform, the Vulkan environment, and on Linux the
 * installed Vulkan drivers' manifests.
 */
export function measurementKey(o: { ortVersion: string; platform: string; arch: string; env: NodeJS.ProcessEnv; icdFiles?: readonly string[] }): string {
  const env = VULKAN_ENV.filter((k) => o.env[k] !== undefined).map((k) => `${k}=${o.env[k] ?? ''}`);
  const icd = o.icdFiles && o.icdFiles.length > 0 ? [`icd=${[...o.icdFiles].sort().join(',')}`] : [];
  return [`onnxruntime-node ${o.ortVersion}`, `${o.platform}/${o.arch}`, ...env, ...icd].join('; ');
}

function installedIcdFiles(platform: string, env: NodeJS.ProcessEnv): string[] {
  if (platform !== 'linux') return [];
  return icdDirs(env).flatMap((dir) => {
    try {
      return readdirSync(dir).map((f) => join(dir, f));
    } catch {
      return [];
    }
  });
}

/** One kept measurement. */
export interface MeasurementRecord {
  measuredAt: string;
  adapter: AdapterCheck;
  timing: WebGpuTiming;
}

/** The file holding this machine's measurements. */
export function measurementsFile(configDir: string): string {
  return join(configDir, 'webgpu-measurements.json');
}

function isRecord(x: unknown): x is MeasurementRecord {
  if (x === null || typeof x !== 'object') return false;
  const r = x as Partial<MeasurementRecord>;
  const nums = (a: unknown): boolean => Array.isArray(a) && a.every((n) => typeof n === 'number' && Number.isFinite(n));
  return typeof r.measuredAt === 'string' && typeof r.adapter?.available === 'boolean' && typeof r.adapter.shaderF16 === 'boolean' && nums(r.timing?.cpuSeconds) && nums(r.timing?.webgpuSeconds);
}

/** Every kept measurement by key; an unreadable or damaged file counts as none (the next `auto` measures again). */
export async function readMeasurements(configDir: string): Promise<Record<string, MeasurementRecord>> {
  try {
    const json = JSON.parse(await readFile(measurementsFile(configDir), 'utf8')) as unknown;
    if (json === null || typeof json !== 'object') return {};
    return Object.fromEntries(Object.entries(json).filter(([, r]) => isRecord(r))) as Record<string, MeasurementRecord>;
  } catch {
    return {};
  }
}

async function keepMeasurement(configDir: string, key: string, record: MeasurementRecord | undefined): Promise<void> {
  const all = await readMeasurements(configDir);
  if (record) all[key] = record;
  else delete all[key];
  await mkdir(configDir, { recursive: true });
  await writeFileAtomic(measurementsFile(configDir), `${JSON.stringify(all, null, 2)}\n`);
}

// Per process: one adapter check and one measurement per key (a remeasure replaces the latter).
const adapterRuns = new Map<string, Promise<ProbeOutcome>>();
const measuredRuns = new Map<string, Promise<ProbeOutcome>>();

/** Forgets this process's probe results (tests). */
export function resetWebGpuProbe(): void {
  adapterRuns.clear();
  measuredRuns.clear();
}

function fromOutcome(adapter: AdapterCheck, record: MeasurementRecord | undefined): WebGpuStatus {
  const status: WebGpuStatus = { available: adapter.available, shaderF16: adapter.shaderF16 };
  if (adapter.reason !== undefined) status.reason = adapter.reason;
  if (adapter.f16Reason !== undefined) status.f16Reason = adapter.f16Reason;
  if (record) status.auto = { ...autoVerdict(record.timing), measuredAt: record.measuredAt };
  return status;
}

/**
 * What is known about WebGPU here, probing as much as `need` asks (see {@link ProbeNeed}). With a kept measurement,
 * `measurement` starts no process at all: the record says whether an adapter was found, its shader-f16 and the
 * verdict. An adapter that is gone since then fails at session creation and falls back to the CPU with its reason.
 */
export async function webgpuStatus(need: ProbeNeed, options: ProbeOptions): Promise<WebGpuStatus> {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const arch = options.arch ?? process.arch;
  const icdFiles = options.icdFiles ?? installedIcdFiles(platform, env);
  const key = measurementKey({ ortVersion: onnxruntimeVersion(), platform, arch, env, icdFiles });
  if (platform === 'linux' && icdFiles.length === 0 && DRIVER_ENV.every((k) => !env[k])) {
    // WebGPU reaches the GPU through Vulkan on Linux: without a driver manifest there is no adapter to find, and no
    // reason to spend a process on learning that (a CPU-only machine runs `auto` at no cost).
    return { available: false, shaderF16: false, reason: `no Vulkan driver is installed (no driver manifest in ${icdDirs(env).join(', ')}); install your GPU's Vulkan driver to use WebGPU` };
  }
  const run = options.run ?? ((measure: boolean) => runProbeChild(measure));
  const kept = (await readMeasurements(options.configDir))[key];
  if (need === 'measurement' && kept) return fromOutcome(kept.adapter, kept);
  if (need === 'adapter') {
    // A measurement made by this process answers the adapter question too.
    const outcome = await (measuredRuns.get(key) ?? cached(adapterRuns, key, () => run(false)));
    return fromOutcome(outcome.adapter, kept);
  }
  let measuring = need === 'remeasure' ? undefined : measuredRuns.get(key);
  if (!measuring) {
    measuring = run(true);
    measuredRuns.set(key, measuring);
    measuring.catch(() => measuredRuns.delete(key));
  }
  const outcome = await measuring;
  if (!outcome.adapter.available || !outcome.timing) {
    // Nothing to keep: without an adapter the next process asks again (a driver may have been installed).
    if (kept) await keepMeasurement(options.configDir, key, undefined).catch(() => undefined);
    return fromOutcome(outcome.adapter, undefined);
  }
  const record: MeasurementRecord = { measuredAt: (options.now?.() ?? new Date()).toISOString(), adapter: outcome.adapter, timing: outcome.timing };
  // A config folder that cannot be written costs a measurement per process, nothing else.
  await keepMeasurement(options.configDir, key, record).catch(() => undefined);
  return fromOutcome(outcome.adapter, record);
}

function cached<T>(map: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let p = map.get(key);
  if (!p) {
    p = make();
    map.set(key, p);
    p.catch(() => map.delete(key));
  }
  return p;
}

/** Options of {@link runProbeChild}. */
export interface ProbeChildOptions {
  /** Starts the child (default {@link defaultProbeLauncher}: the app's broker in a utility process, else this Node binary). */
  launch?: ProbeLauncher;
  /** Runs this command as the child instead (plain Node; ignored with `launch`). */
  command?: { executable: string; args: string[] };
  adapterLimitSeconds?: number;
  webgpuPhaseMinSeconds?: number;
}

/** An adapter check that failed before the child could answer. */
function unavailable(reason: string): ProbeOutcome {
  return { adapter: { available: false, reason, shaderF16: false } };
}

/** The last non-empty line of a child's stderr, as a crash reason's detail. */
function lastWords(stderr: string): string {
  return stderr.trim().split('\n').filter((l) => l.trim() !== '').at(-1)?.slice(0, 200) ?? 'no message';
}

/**
 * Runs the probe child once (with `--measure`: the reference workload too) and collects its reports, enforcing the
 * time limits: no adapter answer within {@link ADAPTER_LIMIT_SECONDS} → "probe timed out"; a WebGPU half over its
 * limit is stopped and counted as cut off. The child is killed once the outcome is known. Never rejects: a child that
 * cannot start or crashes is a reason. The same lines give the same outcome whichever launcher ran the child.
 */
export function runProbeChild(measure: boolean, options: ProbeChildOptions = {}): Promise<ProbeOutcome> {
  const adapterLimit = options.adapterLimitSeconds ?? ADAPTER_LIMIT_SECONDS;
  const webgpuMin = options.webgpuPhaseMinSeconds ?? WEBGPU_PHASE_MIN_SECONDS;
  let child: ProbeChild;
  try {
    const launch = options.launch ?? (options.command ? spawnProbeLauncher(options.command) : defaultProbeLauncher());
    child = launch(measure);
  } catch (e) {
    return Promise.resolve(unavailable(`the WebGPU probe could not start: ${errorMessage(e)}`));
  }
  return new Promise((resolve) => {
    const started = performance.now();
    let adapter: AdapterCheck | undefined;
    let cpuSeconds: number[] | undefined;
    let webgpuStarted = 0;
    let timing: WebGpuTiming | undefined;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const finish = (outcome: ProbeOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill();
      resolve(outcome);
    };
    const deadline = (seconds: number, onExpiry: () => void): void => {
      clearTimeout(timer);
      timer = setTimeout(onExpiry, seconds * 1000);
    };
    deadline(adapterLimit, () => finish(unavailable(`probe timed out: no answer from the WebGPU driver within ${adapterLimit} s`)));
    child.onLine((line) => {
      if (!line.startsWith(PROBE_LINE_PREFIX)) return;
      let report: ProbeReport;
      try {
        report = JSON.parse(line.slice(PROBE_LINE_PREFIX.length)) as ProbeReport;
      } catch {
        return;
      }
      if (report.kind === 'adapter') {
        adapter = { available: report.available, shaderF16: report.shaderF16, ...(report.reason === undefined ? {} : { reason: report.reason }), ...(report.f16Reason === undefined ? {} : { f16Reason: report.f16Reason }) };
        if (!measure || !adapter.available) finish({ adapter });
        else deadline(CPU_PHASE_LIMIT_SECONDS, () => finish({ adapter: adapter as AdapterCheck, timing: { cpuSeconds: [], webgpuSeconds: [], error: `the CPU half took over ${CPU_PHASE_LIMIT_SECONDS} s` } }));
      } else if (report.kind === 'cpu' && adapter) {
        cpuSeconds = report.seconds;
        webgpuStarted = performance.now();
        const limit = Math.max(webgpuMin, WEBGPU_PHASE_CPU_MULTIPLE * cpuSeconds.reduce((a, b) => a + b, 0));
        const cpu = cpuSeconds;
        deadline(limit, () => finish({ adapter: adapter as AdapterCheck, timing: { cpuSeconds: cpu, webgpuSeconds: [], cutOffAfter: (performance.now() - webgpuStarted) / 1000 } }));
      } else if (report.kind === 'webgpu' && adapter && cpuSeconds) {
        timing = { cpuSeconds, webgpuSeconds: report.seconds };
        finish({ adapter, timing });
      } else if (report.kind === 'error') {
        if (adapter) finish({ adapter, timing: { cpuSeconds: cpuSeconds ?? [], webgpuSeconds: [], error: report.message } });
        else finish(unavailable(`the WebGPU probe failed: ${report.message}`));
      }
    });
    child.onEnd((end) => {
      if ('startError' in end) return finish(unavailable(`the WebGPU probe could not start: ${end.startError}`));
      const words = lastWords(end.stderr);
      if (!adapter) finish(unavailable(`the WebGPU probe crashed (${end.how}; ${words}) after ${((performance.now() - started) / 1000).toFixed(1)} s`));
      else finish({ adapter, timing: timing ?? { cpuSeconds: cpuSeconds ?? [], webgpuSeconds: [], error: `the probe ended during the measurement (${end.how}; ${words})` } });
    });
  });
}
