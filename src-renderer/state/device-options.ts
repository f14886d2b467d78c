/**
 * The settings' compute-device picker: Automatic plus every execution provider the host probed (`getSystemInfo`),
 * unavailable ones kept in the list, disabled, with the host's reason. Pure, so the wording is unit-tested.
 */
import type { DevicePreference, ExecutionProvider, SystemInfo } from '../../src-main/contract/api.ts';

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
};

/** Providers Automatic tries, best first (the host's order: CUDA, DirectML, CoreML, else CPU). */
const AUTO_ORDER: readonly ExecutionProvider[] = ['cuda', 'dml', 'coreml'];

/** A provider's name for people ("DirectML"). */
export function providerName(id: DevicePreference): string {
  return id === 'auto' ? 'Automatic' : PROVIDER_TEXT[id].name;
}

/**
 * The picker's choices: Automatic (saying what it picks here), then each probed provider; the chosen `current`
 * is always listed, even when the host no longer reports it, so the user sees what is set.
 */
export function deviceOptions(info: SystemInfo | null, current: DevicePreference): DeviceOption[] {
  const providers = info?.providers ?? [{ id: 'cpu' as const, available: true }];
  const best = AUTO_ORDER.find((id) => providers.some((p) => p.id === id && p.available));
  const auto: DeviceOption = {
    id: 'auto',
    name: 'Automatic',
    detail: best === undefined ? 'Uses the CPU here: no GPU provider is available' : `Uses ${PROVIDER_TEXT[best].name} here, else the CPU`,
    available: true,
  };
  const options: DeviceOption[] = [auto];
  for (const p of providers) {
    const text = PROVIDER_TEXT[p.id];
    options.push({
      id: p.id,
      name: text.name,
      detail: p.available ? `${text.what} · available` : (p.reason ?? `${text.what} · not available on this machine`),
      available: p.available,
    });
  }
  if (!options.some((o) => o.id === current)) {
    options.push({ id: current, name: providerName(current), detail: 'Not reported by this machine', available: false });
  }
  return options;
}
