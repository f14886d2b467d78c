/**
 * The device flags of `generate` and `render` (`--device`, `--precision`, `--remeasure`), their help text, and the
 * help's report of this machine's providers (host/runtime-probe.ts: WebGPU's adapter, shader-f16 and measured speed).
 */
import { DEVICES, INT8_PROVIDERS, PRECISIONS, PROVIDERS, WEBGPU_AUTO_SPEEDUP, type DevicePreference, type ExecutionProvider, type PrecisionPreference } from '../contract/generation-settings.ts';
import { CliError } from './args.ts';
import { providerReport, type ProviderReport } from '../host/runtime-probe.ts';

/** The flags' help lines, their text starting at column `indent` as the command's other flags. */
export function deviceFlagsHelp(indent: number): string {
  const pad = (flag: string): string => `  ${flag.padEnd(indent - 2)}`;
  const cont = ' '.repeat(indent);
  return [
    `${pad('--device NAME')}${DEVICES.join(' | ')} (default: auto: the platform's GPU provider when`,
    `${cont}installed, else webgpu where it measured ≥ ${WEBGPU_AUTO_SPEEDUP}× the CPU's speed on this machine, else cpu);`,
    `${cont}an unavailable device falls back to cpu with the reason`,
    `${pad('--precision NAME')}${PRECISIONS.join(' | ')}: the denoiser in float16 on a WebGPU adapter with shader-f16`,
    `${cont}(auto, default; normalisations stay float32), as the model pack ships it (fp32), or with its`,
    `${cont}Linear/Conv layers in int8 on the CPU (int8: faster on AVX-512 VNNI CPUs, ≈ 38 dB SNR)`,
    `${pad('--remeasure')}measure WebGPU against the CPU again before auto chooses (kept per machine)`,
  ].join('\n');
}

/**
 * `--precision auto|fp32` applies to every provider; `int8` to the providers that run it (the CPU), so that
 * `--device auto --precision int8` quantizes when the CPU is chosen and leaves a GPU's graph alone. A device that
 * cannot run the precision asked for (`--device webgpu --precision int8`) is refused, naming what to do.
 */
export function precisionFor(device: DevicePreference, choice: PrecisionPreference | undefined): Partial<Record<ExecutionProvider, PrecisionPreference>> | undefined {
  if (choice === undefined) return undefined;
  if (choice === 'int8' && device !== 'auto' && !INT8_PROVIDERS.includes(device)) {
    throw new CliError(`--precision int8 runs on ${INT8_PROVIDERS.join(', ')} only, not on --device ${device}; use --device cpu, or --precision auto|fp32 on ${device}`);
  }
  return Object.fromEntries(PROVIDERS.filter((p) => choice !== 'int8' || INT8_PROVIDERS.includes(p)).map((p) => [p, choice]));
}

/** This machine's providers in a few lines, for `--help`. */
export function describeProviders(report: ProviderReport): string {
  const lines = report.providers.map((p) => {
    if (!p.available) return `  ${p.id.padEnd(8)}unavailable${p.reason === undefined ? '' : `: ${p.reason}`}`;
    const facts: string[] = ['available'];
    if (p.shaderF16 !== undefined) facts.push(p.shaderF16 ? 'float16 (shader-f16)' : 'float32 only (no shader-f16)');
    if (p.speedup) facts.push(p.speedup.reason.replace(/^webgpu /, ''));
    else if (p.id === 'webgpu') facts.push('speed against the CPU not measured yet (the first auto run, or --remeasure)');
    return `  ${p.id.padEnd(8)}${facts.join('; ')}`;
  });
  // Why auto passes over an available WebGPU (its measured speed); an unavailable one's reason is on its own line.
  const webgpuAvailable = report.providers.some((p) => p.id === 'webgpu' && p.available);
  const auto = `  auto    runs on ${report.auto.provider}${report.auto.reason === undefined || report.auto.provider === 'webgpu' || !webgpuAvailable ? '' : ` (${report.auto.reason})`}`;
  return `Devices on this machine:\n${lines.join('\n')}\n${auto}\n`;
}

/** The help's device report, probing WebGPU's adapter (a second or two, in a child process). */
export async function providersHelp(): Promise<string> {
  return describeProviders(await providerReport());
}
