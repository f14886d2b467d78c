/**
 * What the WebGPU probe runs inside its child process (host/webgpu-probe-main.ts): whether ONNX Runtime gets a
 * WebGPU adapter here, whether that adapter runs float16 kernels (shader-f16), and the time of a workload on a
 * provider. Every WebGPU session is created with CPU fallback disabled (`session.disable_cpu_ep_fallback`), so a
 * graph that opens ran every node on the adapter.
 */
import * as ort from 'onnxruntime-node';
import { errorMessage } from '../../contract/errors.ts';
import type { Tensor } from '../tensor/tensor.ts';
import { providerFailure, sessionOptionsFor, type Provider } from './session.ts';

/** A graph with feeds that run it. */
export interface CheckGraph {
  bytes: Uint8Array;
  feeds: Record<string, Tensor>;
}

/** What {@link checkWebGpuAdapter} found. */
export interface AdapterCheck {
  available: boolean;
  /** Why WebGPU is unavailable (ORT's reason, e.g. "Failed to get a WebGPU adapter: No supported adapters"). */
  reason?: string;
  /** The adapter runs float16 kernels (shader-f16): a float16 graph opened and ran with CPU fallback disabled. */
  shaderF16: boolean;
  /** Why float16 kernels do not run (e.g. "Program Transpose requires f16 but the device does not support it."). */
  f16Reason?: string;
}

/** Opens `graph` on WebGPU with every node on the adapter and runs it once; throws ORT's error otherwise. */
async function runOnAdapter(graph: CheckGraph): Promise<void> {
  const session = await ort.InferenceSession.create(graph.bytes, { ...sessionOptionsFor('webgpu', 1), extra: { session: { disable_cpu_ep_fallback: '1' } } });
  try {
    await session.run(toOrt(graph.feeds));
  } finally {
    await session.release();
  }
}

/**
 * Whether WebGPU runs here: `plain` (float32) must open and run on the adapter; then `half` (the same graph in float16,
 * packs/graph/float16.ts) tells whether the adapter has shader-f16. The first WebGPU session of a process picks its
 * adapter for good, so this belongs in a process of its own.
 */
export async function checkWebGpuAdapter(plain: CheckGraph, half: CheckGraph): Promise<AdapterCheck> {
  const bundled = ort.listSupportedBackends().some((b) => b.name === 'webgpu' && b.bundled);
  if (!bundled) return { available: false, reason: `this onnxruntime-node build has no WebGPU provider for ${ort.env.versions.node ?? 'this platform'}`, shaderF16: false };
  try {
    await runOnAdapter(plain);
  } catch (e) {
    return { available: false, reason: providerFailure('webgpu', e), shaderF16: false };
  }
  try {
    await runOnAdapter(half);
    return { available: true, shaderF16: true };
  } catch (e) {
    return { available: true, shaderF16: false, f16Reason: providerFailure('webgpu', e) };
  }
}

/** Options of {@link timeRuns}. */
export interface TimeRunsOptions {
  /** Untimed runs first (shader compilation, arena growth). */
  warmups: number;
  /** Timed runs at most. */
  runs: number;
  /** CPU threads (0 = ORT's default), as a real CPU session. */
  intraOpThreads?: number;
  /** Stops timing early when it returns true for the seconds so far (the verdict cannot change any more). */
  enough?: (seconds: readonly number[]) => boolean;
}

/** Seconds of each timed `run` of `graph` on `provider`, with that provider's session options. */
export async function timeRuns(graph: CheckGraph, provider: Provider, options: TimeRunsOptions): Promise<number[]> {
  const session = await ort.InferenceSession.create(graph.bytes, sessionOptionsFor(provider, options.intraOpThreads));
  try {
    const feeds = toOrt(graph.feeds);
    for (let i = 0; i < options.warmups; i++) await session.run(feeds);
    const seconds: number[] = [];
    while (seconds.length < options.runs && !(options.enough?.(seconds) ?? false)) {
      const start = performance.now();
      await session.run(feeds);
      seconds.push((performance.now() - start) / 1000);
    }
    return seconds;
  } catch (e) {
    throw new Error(`timing on ${provider} failed: ${errorMessage(e).split('\n')[0]}`, { cause: e });
  } finally {
    await session.release();
  }
}

function toOrt(feeds: Record<string, Tensor>): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(feeds)) out[name] = new ort.Tensor(t.type, t.data, t.dims);
  return out;
}
