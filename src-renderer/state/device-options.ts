/**
 * The settings' compute-device picker: Automatic plus every execution provider the host probed (`getSystemInfo`),
 * unavailable ones kept in the list, disabled, with the host's reason. Pure, so the wording is unit-tested.
 */
import type { DevicePreference, ExecutionProvider, ProviderInfo, SystemInfo } from '../../src-main/contract/api.ts';
import { WEBGPU_AUTO_SPEEDUP } from '../../src-main/contract/generation-settings.ts';

/** One choice of the picker. */
export interface DeviceOption {
  id: DevicePreference;
  name: string;
  /** The help line: what it is, or why it cannot be used here. */
  detail: string;
  available: boolean;
}

const PROVIDER_TEXT: Record<ExecutionProvider, { name: string; what: string }> = {
  cpu: { name: 'CPU', what: 'Runs everywhere; slowest' },
  cuda: { name: 'CUDA', what: 'NVIDIA GPU' },
  dml: { name: 'DirectML', what: 'GPU on Windows' },
  coreml: { name: 'Core ML', what: 'Apple GPU / Neural Engine' },
  webgpu: { name: 'WebGPU', what: 'Any GPU with a Vulkan, D3D12 or Metal driver' },
};

/** Providers Automatic tries, best first, when the host does not say what it picks (hosts before WebGPU). */
const AUTO_ORDER: readonly ExecutionProvider[] = ['cuda', 'dml', 'coreml'];

/** A provider's name for people ("DirectML"). */
export function providerName(id: DevicePreference): string {
  return id === 'auto' ? 'Automatic' : PROVIDER_TEXT[id].name;
}

/** WebGPU's extra facts: float16 support and its measured speed against the CPU. */
function webgpuFacts(p: ProviderInfo): string {
  const f16 = p.shaderF16 === undefined ? '' : p.shaderF16 ? ' · float16 (shader-f16)' : ' · float32 only (no shader-f16)';
  const speed = p.speedup === undefined ? ' · speed not measured yet' : ` · ${p.speedup.atMost ? 'at most ' : ''}${formatSpeedup(p.speedup.ratio)} the CPU's speed`;
  return f16 + speed;
}

/** WebGPU's speed measurement in one line for the Settings view. */
export function webgpuMeasurement(webgpu: ProviderInfo | undefined): string {
  if (webgpu === undefined || !webgpu.available) return 'WebGPU is not available here.';
  if (webgpu.speedup === undefined) return 'Not measured yet: the first generation on Automatic times WebGPU against the CPU.';
  const { ratio, atMost, measuredAt } = webgpu.speedup;
  const verdict = ratio >= WEBGPU_AUTO_SPEEDUP && !atMost ? 'Automatic uses it' : `Automatic uses the CPU (WebGPU needs ${WEBGPU_AUTO_SPEEDUP}× the CPU's speed)`;
  return `Measured ${atMost ? 'at most ' : ''}${formatSpeedup(ratio)} the CPU's speed on ${measuredAt.slice(0, 10)}: ${verdict}.`;
}

/** A speed ratio for people: "0.01×", "3.4×". */
export function formatSpeedup(ratio: number): string {
  return `${ratio >= 10 ? ratio.toFixed(0) : ratio >= 1 ? ratio.toFixed(1) : ratio.toFixed(2)}×`;
}

/** The provider Automatic runs on here: the host's answer, else the first available of CUDA, DirectML, CoreML, else CPU. */
export function autoProvider(info: SystemInfo | null): ExecutionProvider {
  if (info?.auto !== undefined) return info.auto.provider;
  return AUTO_ORDER.find((id) => info?.providers.some((p) => p.id === id && p.available) === true) ?? 'cpu';
}

/** What Automatic does here: the host's answer (with WebGPU's measured speed) when it gives one. */
function autoDetail(info: SystemInfo | null, providers: readonly ProviderInfo[]): string {
  const auto = info?.auto;
  if (auto !== undefined) {
    const webgpu = providers.find((p) => p.id === 'webgpu');
    const why = auto.provider === 'webgpu' || webgpu?.speedup === undefined ? '' : ` (WebGPU measured ${webgpu.speedup.atMost ? 'at most ' : ''}${formatSpeedup(webgpu.speedup.ratio)} the CPU's speed here)`;
    return auto.provider === 'cpu' ? `Uses the CPU here${why}` : `Uses ${PROVIDER_TEXT[auto.provider].name} here, else the CPU${why}`;
  }
  const best = AUTO_ORDER.find((id) => providers.some((p) => p.id === id && p.available));
  return best === undefined ? 'Uses the CPU here: no GPU provider is available' : `Uses ${PROVIDER_TEXT[best].name} here, else the CPU`;
}

/**
 * The picker's choices: Automatic (saying what it picks here), then each probed provider; the chosen `current`
 * is always listed, even when the host no longer reports it, so the user sees what is set.
 */
export function deviceOptions(info: SystemInfo | null, current: DevicePreference): DeviceOption[] {
  const providers = info?.providers ?? [{ id: 'cpu' as const, available: true }];
  const options: DeviceOption[] = [{ id: 'auto', name: 'Automatic', detail: autoDetail(info, providers), available: true }];
  for (const p of providers) {
    const text = PROVIDER_TEXT[p.id];
    options.push({
      id: p.id,
      name: text.name,
      detail: p.available ? `${text.what} · available${p.id === 'webgpu' ? webgpuFacts(p) : ''}` : (p.reason ?? `${text.what} · not available on this machine`),
      available: p.available,
    });
  }
  if (!options.some((o) => o.id === current)) {
    options.push({ id: current, name: providerName(current), detail: 'Not reported by this machine', available: false });
  }
  return options;
}
