/**
 * Which ONNX Runtime execution providers are installed here. onnxruntime-node bundles CPU everywhere, DirectML on
 * Windows and CoreML on macOS; the CUDA provider libraries exist only after `npm run setup:cuda` on Linux x64.
 * Probing files first keeps `--device auto` from making ORT print native loader errors on CPU-only machines.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Provider, ProviderAvailability } from '../engine/runtime/session.ts';

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
