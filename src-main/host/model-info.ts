/** What `listModels` and `getSystemInfo` report: installed packs with licence and size, and probed providers. */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionProvider, ModelInfo, ProviderInfo } from '../contract/api.ts';
import { FAMILY_SETTINGS } from '../contract/generation-settings.ts';
import { listInstalled } from './models/store.ts';
import { BUILTIN_PACKS, ensureBuiltinPack, findInstalledPack, listedBuiltins } from './packs/builtin.ts';
import type { VerifiedPack } from './packs/load.ts';
import { providerReport, type RuntimeProbeOptions } from './runtime-probe.ts';

/**
 * Every provider with whether it is available here and, if not, why: `getSystemInfo`'s list (providerReport), so a
 * model's devices include WebGPU exactly when the probe found an adapter (checked once per process).
 */
export async function providerInfo(options: RuntimeProbeOptions = {}): Promise<ProviderInfo[]> {
  return (await providerReport(options)).providers;
}

async function folderBytes(dir: string): Promise<number> {
  const names = await readdir(dir);
  const sizes = await Promise.all(names.map((n) => stat(join(dir, n)).then((s) => (s.isFile() ? s.size : 0), () => 0)));
  return sizes.reduce((a, b) => a + b, 0);
}

/** The record of one verified pack. */
export async function modelInfo(pack: VerifiedPack, builtin: boolean, devices: ExecutionProvider[]): Promise<ModelInfo> {
  const m = pack.manifest;
  return {
    id: m.id,
    name: m.name,
    family: m.family,
    version: m.version,
    builtin,
    description: m.description,
    sampleRate: m.audio.sampleRate,
    channels: m.audio.channels,
    nativeSeconds: m.latent.nativeWindowFrames / m.latent.framesPerSecond,
    defaultSteps: m.defaults.steps,
    defaultGuidance: m.defaults.guidance,
    samplers: [m.defaults.sampler, ...FAMILY_SETTINGS[m.family].samplers.filter((s) => s !== m.defaults.sampler)],
    licence: { ...m.licence },
    sizeBytes: await folderBytes(pack.dir),
    devices,
  };
}

/**
 * The packs that can generate: listed built-in ones (built on first use), then installed ones that verify. `probe`
 * reaches the provider probe (tests inject WebGPU's status).
 */
export async function listInstalledModels(cacheDir?: string, modelsDir?: string, probe: RuntimeProbeOptions = {}): Promise<ModelInfo[]> {
  // Unlisted built-ins (test oracles) stay out of the model menu; they are still reached by id. The probe runs while
  // they are found or built.
  const [providers, builtins] = await Promise.all([providerInfo(probe), Promise.all(listedBuiltins().map((id) => ensureBuiltinPack(id, cacheDir)))]);
  const devices = providers.filter((p) => p.available).map((p) => p.id);
  const infos = await Promise.all(builtins.map((p) => modelInfo(p, true, devices)));
  if (modelsDir !== undefined) {
    for (const installed of await listInstalled(modelsDir)) {
      if (installed.problem || installed.id in BUILTIN_PACKS) continue;
      // A pack that no longer verifies (edited, truncated) is left out here; the model manager shows it as damaged.
      const pack = await findInstalledPack(installed.id, modelsDir).catch(() => undefined);
      if (pack) infos.push(await modelInfo(pack, false, devices));
    }
  }
  return infos;
}
