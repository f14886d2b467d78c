/**
 * WebGPU tests run on SwiftShader, the software Vulkan driver that Debian's chromium ships (CI installs chromium).
 * No test depends on GPU hardware. The driver must be chosen in the environment before the process's first WebGPU
 * session (ONNX Runtime picks the adapter once per process), so test files call {@link useSoftwareAdapter} at the top.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** SwiftShader's Vulkan driver manifest, from Debian's chromium package. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/**
 * Points this process (and the children it starts) at SwiftShader, with a private XDG_RUNTIME_DIR (0700, as the
 * Vulkan loader expects). Returns why the WebGPU tests must be skipped here, or undefined; in CI a missing driver
 * is an error, not a skip.
 */
export function useSoftwareAdapter(): string | undefined {
  if (!existsSync(SWIFTSHADER_ICD)) {
    const why = `${SWIFTSHADER_ICD} is missing: install chromium (it ships SwiftShader's Vulkan driver) to run the WebGPU tests`;
    if (process.env.CI) throw new Error(`${why}; CI installs chromium in .ci/run, so this machine's setup is broken`);
    return why;
  }
  process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  process.env.XDG_RUNTIME_DIR = mkdtempSync(join(tmpdir(), 'tessera-xdg-'));
  return undefined;
}

/** The largest absolute difference between two arrays of the same length, and the first's peak. */
export function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): { diff: number; peak: number } {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} and ${b.length}`);
  let diff = 0;
  let peak = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    peak = Math.max(peak, Math.abs(a[i]));
  }
  return { diff, peak };
}
