/**
 * Which ONNX Runtime execution providers are installed here. onnxruntime-node bundles CPU everywhere, DirectML on
 * Windows and CoreML on macOS; the CUDA provider libraries exist only after `npm run setup:cuda` on Linux x64.
 * Probing files first keeps `--device auto` from making ORT print native loader errors on CPU-only machines.
 * WebGPU (bundled, with no file to look for) is probed by opening an adapter in a child process (webgpu-probe.ts),
 * and only for a device other than `cpu`.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ExecutionProvider, ProviderInfo } from '../contract/api.ts';
import { PROVIDERS, type DevicePreference } from '../contract/generation-settings.ts';
import { autoProviders, type AutoChoice, type Provider, type ProviderAvailability } from '../engine/runtime/session.ts';
import { defaultConfigDir } from './settings-store.ts';
import { webgpuStatus, type ProbeNeed, type WebGpuStatus } from './webgpu-probe.ts';

/** Folder holding onnxruntime-node's native binaries for this platform. */
export function ortBinaryDir(platform: string = process.platform, arch: string = process.arch): string {
  const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
  return join(dirname(entry), '..', 'bin', 'napi-v6', platform, arch);
}

/** Probes the installed providers for this platform (injectable for tests). */
export function probeProviders(platform: string = process.platform, arch: string = process.arch, exists: (path: string) => boolean = existsSync): ProviderAvailability {
  const available: Provider[] = ['cpu'];
  const missing: Partial<Record<Provider, string>> = {};
  const bin = ortBinaryDir(platform, arch);
  if (platform === 'linux' && arch === 'x64') {
    const libs = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];
    if (libs.every((lib) => exists(join(bin, lib)))) available.push('cuda');
    else missing.cuda = 'CUDA provider libraries are not installed; on an NVIDIA machine run `npm run setup:cuda`';
  } else missing.cuda = `onnxruntime-node ships CUDA for Linux x64 only (this is ${platform}/${arch})`;
  if (platform === 'win32') available.push('dml');
  else missing.dml = 'DirectML exists on Windows only';
  if (platform === 'darwin') available.push('coreml');
  else missing.coreml = 'CoreML exists on macOS only';
  return { available, missing };
}

/** What opening a model on one device choice needs to know about this machine's providers. */
export interface RuntimeChoice {
  /** The providers installed here; WebGPU among them when the probe found an adapter (or a kept measurement did). */
  installed: ProviderAvailability;
  /** How `auto` chooses here (device `auto` only). */
  auto?: AutoChoice;
  /** What the WebGPU probe found; absent for device `cpu`, which never probes. */
  webgpu?: WebGpuStatus;
}

/** Options of {@link probeRuntime} and {@link providerReport}. */
export interface RuntimeProbeOptions {
  /** Measure WebGPU against the CPU again instead of using the kept measurement. */
  remeasure?: boolean;
  /** Where measurements are kept (default: the user's config folder). */
  configDir?: string;
  platform?: string;
  arch?: string;
  exists?: (path: string) => boolean;
  /** The WebGPU probe (default {@link webgpuStatus}; injected by tests). */
  webgpu?: (need: ProbeNeed) => Promise<WebGpuStatus>;
}

/**
 * The providers for opening a model on `device`. `cpu` probes nothing. An explicit provider checks WebGPU's adapter
 * (kept per process) for its shader-f16. `auto` takes the platform's GPU provider when installed (CUDA on Linux,
 * DirectML, CoreML), then WebGPU when it measured at least WEBGPU_AUTO_SPEEDUP× the CPU's speed on this machine (measured
 * once and kept in the config folder), then the CPU; the reason WebGPU was left out heads the fallback reason.
 */
export async function probeRuntime(device: DevicePreference, options: RuntimeProbeOptions = {}): Promise<RuntimeChoice> {
  const platform = options.platform ?? process.platform;
  const installed = probeProviders(platform, options.arch ?? process.arch, options.exists ?? existsSync);
  if (device === 'cpu') return { installed };
  const need: ProbeNeed = options.remeasure ? 'remeasure' : device === 'auto' ? 'measurement' : 'adapter';
  const probe = options.webgpu ?? ((n: ProbeNeed) => webgpuStatus(n, { configDir: options.configDir ?? defaultConfigDir(), platform, ...(options.arch ? { arch: options.arch } : {}) }));
  const webgpu = await probe(need);
  const available: Provider[] = [...installed.available];
  const missing = { ...installed.missing };
  if (webgpu.available) available.push('webgpu');
  else missing.webgpu = webgpu.reason ?? 'no WebGPU adapter was found';
  const choice: RuntimeChoice = { installed: { available, missing }, webgpu };
  if (device !== 'auto') return choice;
  const order: Provider[] = autoProviders(platform).filter((p) => p !== 'cpu' && available.includes(p));
  const skipped: AutoChoice['skipped'] = {};
  for (const p of autoProviders(platform)) if (p !== 'cpu' && !available.includes(p)) skipped[p] = `${p} unavailable (${missing[p] ?? 'not available on this platform'})`;
  if (!webgpu.available) skipped.webgpu = `webgpu unavailable (${missing.webgpu ?? ''})`;
  else if (webgpu.auto?.use) order.push('webgpu');
  else skipped.webgpu = webgpu.auto?.reason ?? 'webgpu not measured on this machine yet (the first run with device auto measures it)';
  return { ...choice, auto: { order: [...order, 'cpu'], skipped } };
}

/** Every provider for `getSystemInfo`, the CLI's help and the Settings view: whether it is available here, and why not. */
export interface ProviderReport {
  providers: ProviderInfo[];
  /** What `auto` runs on here, and why WebGPU is or is not used. */
  auto: { provider: ExecutionProvider; reason?: string };
}

/**
 * Reports every provider with what the probe knows, starting no measurement (unless `remeasure`): WebGPU's adapter
 * is checked (once per process), its shader-f16 and measured speed come from the kept measurement.
 */
export async function providerReport(options: RuntimeProbeOptions = {}): Promise<ProviderReport> {
  const choice = await probeRuntime('auto', { ...options, webgpu: options.webgpu ?? ((need) => webgpuStatus(need === 'measurement' ? 'adapter' : need, { configDir: options.configDir ?? defaultConfigDir(), ...(options.platform ? { platform: options.platform } : {}), ...(options.arch ? { arch: options.arch } : {}) })) });
  const { available, missing } = choice.installed;
  const providers: ProviderInfo[] = PROVIDERS.map((id) => {
    const info: ProviderInfo = { id, available: available.includes(id) };
    const reason = missing[id];
    if (!info.available && reason !== undefined) info.reason = reason;
    if (id === 'webgpu' && choice.webgpu) {
      const w = choice.webgpu;
      if (w.available) info.shaderF16 = w.shaderF16;
      if (w.auto) info.speedup = { ratio: w.auto.speedup, atMost: w.auto.atMost, measuredAt: w.auto.measuredAt, reason: w.auto.reason };
    }
    return info;
  });
  const provider = choice.auto?.order[0] ?? 'cpu';
  const reason = choice.auto?.skipped.webgpu;
  return { providers, auto: { provider, ...(reason === undefined ? {} : { reason }) } };
}
