/**
 * The only importer of onnxruntime-node. Creates sessions with an execution-provider preference and CPU fallback,
 * checks graphs against their manifest, validates every feed before `run`, rethrows ORT's run failures as a
 * {@link ModelRunError} naming the graph and each feed, and times the time spent inside ORT. A provider may get a
 * graph of its own (the host's float16 denoiser for a WebGPU adapter with shader-f16); the session says which
 * precision it runs.
 */
import * as ort from 'onnxruntime-node';
import { errorMessage } from '../../contract/errors.ts';
import type { TensorSpec } from '../../contract/manifest.ts';
import { ModelRunError } from '../errors.ts';
import type { DType, Tensor } from '../tensor/tensor.ts';
import { actualSignature, checkFeeds, checkGraphSignature, GraphMismatchError, type ActualSignature, type GraphSignature } from './validate.ts';
import type { DevicePreference } from '../../contract/generation-settings.ts';

export { FeedMismatchError, GraphMismatchError, type ActualSignature, type GraphSignature } from './validate.ts';


/** Where a session's bytes come from: the graph bytes, or a path ORT reads itself (large graphs). */
export type ModelSource = Uint8Array | string;

/** Options for {@link openSession}. */
export interface SessionOptions {
  /** Human name used in errors (`unet`, `vocoder`). */
  name: string;
  device: DevicePreference;
  /** The manifest's declaration of the graph's inputs and outputs; checked at load. */
  expected: { inputs: readonly TensorSpec[]; outputs: readonly TensorSpec[] };
  /** CPU threads inside an operator (0 = ORT default: one per core). */
  intraOpThreads?: number;
  /** Platform used to pick providers for `auto` (injected; the host passes its platform name). */
  platform?: string;
  /**
   * Providers the host found installed (see host/runtime-probe.ts) and why the others are missing. Providers
   * not listed are skipped without a load attempt (which would print native loader errors); when absent, every
   * provider is tried.
   */
  installed?: ProviderAvailability;
  /**
   * Sees the graph's actual inputs and outputs before they are compared with `expected`; a family adapter uses it
   * to recognise contract variants by input names and to throw its own, more precise {@link GraphMismatchError}.
   */
  inspect?: (actual: ActualSignature) => void;
  /**
   * How `auto` chooses here, when the host has decided it (host/runtime-probe.ts: WebGPU only where it measured
   * faster than the CPU); default: {@link autoProviders} of `platform`.
   */
  auto?: AutoChoice;
  /**
   * A graph of its own for one provider, asked for just before that provider is tried: the bytes and their precision
   * (the host's float16 denoiser for a WebGPU adapter with shader-f16), or undefined to open `source`. If the variant
   * does not load there, `source` is tried on the same provider before the next one.
   */
  variant?: (provider: Provider) => Promise<{ source: ModelSource; precision: SessionPrecision } | undefined>;
  /** The precision `source` computes in (default fp32; a pack may ship a float16 UNet). */
  precision?: SessionPrecision;
}

/** The precision a session's graph computes in (its inputs and outputs are float32 either way). */
export type SessionPrecision = 'fp32' | 'fp16' | 'int8';

/** `auto`'s providers for this host, best first (CPU last), and why the others were left out. */
export interface AutoChoice {
  order: readonly Provider[];
  /** Why a provider is not in `order`, naming it: `webgpu`: "webgpu measured 0.01x the CPU's speed on this machine (…)". */
  skipped: Partial<Record<Provider, string>>;
}

/** A concrete execution provider. */
export type Provider = Exclude<DevicePreference, 'auto'>;

/** What the host knows about installed providers. */
export interface ProviderAvailability {
  available: readonly Provider[];
  /** Why a provider is unavailable, e.g. "CUDA libraries not installed: run `npm run setup:cuda`". */
  missing: Partial<Record<Provider, string>>;
}

/** A loaded graph. `run` validates feeds and returns engine tensors. */
export interface ModelSession {
  readonly name: string;
  /** The provider that actually runs the graph (`cpu`, `cuda`, …). */
  readonly provider: Provider;
  /** Why a preferred provider was not used; undefined when the preference was honoured. */
  readonly fallbackReason?: string;
  /** The precision the graph computes in. */
  readonly precision: SessionPrecision;
  readonly signature: GraphSignature;
  run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
  /** Seconds spent inside ORT `run` since creation. */
  runSeconds(): number;
  dispose(): Promise<void>;
}

/**
 * The WebGPU EP's options (onnxruntime-common's WebGpuExecutionProviderOption; the Node binding reads preferredLayout,
 * validationMode, the buffer cache modes, enableRobustness and forceCpuNodeNames). Measured on SwiftShader with the
 * shape-s UNet at [2, 8, 8, 16] (seconds per call after the first; a loaded 2-core machine, so ranges):
 * - preferredLayout NHWC: 6.5–9.9 s against NCHW's 17.8–19.9 s (the binding's default ran like NCHW: 21.6–22.7 s).
 * - storageBufferCacheMode: `bucket` (ORT's default) 6.5–9.9 s, `simple` 8.0–13.1 s: no gain, the default stays.
 * validationMode stays `basic` (`disabled` may crash the process on a WebGPU error, the binding's docs say).
 * NOTE: `enableGraphCapture` and `preferredOutputLocation` are documented as ORT-Web-only; docs/ARCHITECTURE.md
 * "Execution providers" says what the Node binding does with them and why the latent still comes back every call.
 */
export const WEBGPU_OPTIONS = { preferredLayout: 'NHWC', storageBufferCacheMode: 'bucket' } as const satisfies Omit<ort.InferenceSession.WebGpuExecutionProviderOption, 'name'>;

const ORT_PROVIDER: Record<Exclude<DevicePreference, 'auto' | 'cpu'>, string> = { cuda: 'cuda', dml: 'dml', coreml: 'coreml', webgpu: 'webgpu' };

/** The providers `auto` tries, best first, for a platform (CPU always last). */
export function autoProviders(platform: string): Provider[] {
  if (platform === 'linux') return ['cuda', 'cpu'];
  if (platform === 'win32') return ['dml', 'cpu'];
  if (platform === 'darwin') return ['coreml', 'cpu'];
  return ['cpu'];
}

/**
 * The providers an open tries, in order, with the notes on the ones `auto` left out (they head the fallback
 * reason): CPU alone for `cpu`, the provider then CPU for an explicit one.
 */
export function providerOrder(device: DevicePreference, options: Pick<SessionOptions, 'auto' | 'platform'> = {}): { order: Provider[]; notes: string[] } {
  if (device === 'cpu') return { order: ['cpu'], notes: [] };
  if (device !== 'auto') return { order: [device, 'cpu'], notes: [] };
  if (!options.auto) return { order: autoProviders(options.platform ?? 'unknown'), notes: [] };
  const order = options.auto.order.filter((p) => p !== 'cpu');
  const notes = Object.values(options.auto.skipped).filter((why) => why !== undefined);
  return { order: [...order, 'cpu'], notes };
}

/** Opens a session on the preferred provider, falling back to CPU with the reason recorded. */
export async function openSession(source: ModelSource, options: SessionOptions): Promise<ModelSession> {
  const { order, notes } = providerOrder(options.device, options);
  const failures: string[] = [...notes];
  for (const provider of order) {
    if (provider !== 'cpu' && options.installed && !options.installed.available.includes(provider)) {
      failures.push(`${provider} unavailable (${options.installed.missing[provider] ?? 'not available on this platform'})`);
      continue;
    }
    const candidates: Array<{ source: ModelSource; precision: SessionPrecision }> = [{ source, precision: options.precision ?? 'fp32' }];
    // A variant that cannot be made (an int8 pass refusing a float16 graph, say) leaves the pack's graph, with the reason.
    let variant: Awaited<ReturnType<NonNullable<SessionOptions['variant']>>>;
    try {
      variant = await options.variant?.(provider);
    } catch (error) {
      failures.push(`${provider}: the denoiser's own graph could not be made (${errorMessage(error).split('\n')[0].slice(0, 200)}); runs the pack's graph`);
    }
    if (variant) candidates.unshift(variant);
    for (const [i, candidate] of candidates.entries()) {
      try {
        const session = await create(candidate.source, provider, options);
        let signature: GraphSignature;
        try {
          options.inspect?.(actualSignature(session));
          signature = checkGraphSignature(options.name, session, options.expected);
        } catch (error) {
          await session.release();
          throw error;
        }
        const reason = failures.length > 0 ? failures.join('; ') : undefined;
        return wrap(session, options.name, provider, candidate.precision, signature, reason);
      } catch (error) {
        if (error instanceof GraphMismatchError || (provider === 'cpu' && i === candidates.length - 1)) throw annotate(error, options.name);
        const what = i < candidates.length - 1 ? `${provider} ${candidate.precision} graph unavailable` : `${provider} unavailable`;
        failures.push(`${what} (${providerFailure(provider, error)})${provider === 'cuda' ? ' - run `npm run setup:cuda` on an NVIDIA machine' : ''}`);
      }
    }
  }
  throw new Error(`${options.name}: no execution provider could load the graph`);
}

/**
 * Session options per execution provider (documented in docs/ARCHITECTURE.md "Execution providers"):
 * - all: every graph optimisation (constant folding, fusions, layout), sequential execution (our graphs are
 *   chains; parallel branches gain nothing and cost a second thread pool), warnings and errors only.
 * - cpu: one intra-op pool (0 = ORT's default: one thread per physical core) unless the user set threads; the CPU
 *   memory arena on, since a long piece calls the same shapes thousands of times; memory-pattern planning off: it
 *   keeps a planned block per input shape on top of the arena (full-size AudioLDM-S, measured: VAE chunk 2.02 → 1.18
 *   GiB, UNet after batches 2/6/4 2.28 → 1.81 GiB) and saved no run time (docs/BENCHMARKS.md, 2026-12-05).
 * - cuda: device 0 (the only CUDA option onnxruntime-node's binding reads); the CPU arena off (only feeds and
 *   outputs live in host memory, and the arena would keep the largest of them for the whole session).
 * - dml: DirectML requires memory patterns off and sequential execution (onnxruntime's DirectML EP docs).
 * - coreml: CoreML compiles the graph for CPU, GPU and Neural Engine; the CPU arena stays on for fallback nodes.
 * - webgpu: {@link WEBGPU_OPTIONS} (layout and buffer cache, measured); memory patterns off (ORT turns them off for
 *   WebGPU itself), the CPU arena on for nodes the EP leaves to the CPU (shape arithmetic, int64 gathers).
 */
export function sessionOptionsFor(provider: Provider, intraOpThreads: number | undefined): ort.InferenceSession.SessionOptions {
  const common = { graphOptimizationLevel: 'all', executionMode: 'sequential', logSeverityLevel: 3 } as const;
  switch (provider) {
    case 'cpu':
      return { ...common, executionProviders: ['cpu'], intraOpNumThreads: intraOpThreads ?? 0, enableCpuMemArena: true, enableMemPattern: false };
    case 'cuda':
      return { ...common, executionProviders: [{ name: 'cuda', deviceId: 0 }], intraOpNumThreads: intraOpThreads ?? 0, enableCpuMemArena: false, enableMemPattern: true };
    case 'dml':
      return { ...common, executionProviders: [ORT_PROVIDER.dml], intraOpNumThreads: intraOpThreads ?? 0, enableCpuMemArena: true, enableMemPattern: false };
    case 'coreml':
      return { ...common, executionProviders: [ORT_PROVIDER.coreml], intraOpNumThreads: intraOpThreads ?? 0, enableCpuMemArena: true, enableMemPattern: true };
    case 'webgpu':
      return { ...common, executionProviders: [{ name: 'webgpu', ...WEBGPU_OPTIONS }], intraOpNumThreads: intraOpThreads ?? 0, enableCpuMemArena: true, enableMemPattern: false };
  }
}

async function create(source: ModelSource, provider: Provider, options: SessionOptions): Promise<ort.InferenceSession> {
  const sessionOptions = sessionOptionsFor(provider, options.intraOpThreads);
  return typeof source === 'string' ? ort.InferenceSession.create(source, sessionOptions) : ort.InferenceSession.create(source, sessionOptions);
}

function wrap(session: ort.InferenceSession, name: string, provider: Provider, precision: SessionPrecision, signature: GraphSignature, fallbackReason: string | undefined): ModelSession {
  let seconds = 0;
  let disposed = false;
  return {
    name,
    provider,
    fallbackReason,
    precision,
    signature,
    async run(feeds) {
      if (disposed) throw new Error(`${name}: session was disposed`);
      checkFeeds(name, signature, feeds);
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [key, t] of Object.entries(feeds)) ortFeeds[key] = new ort.Tensor(t.type, t.data, t.dims);
      const start = performance.now();
      let out: ort.InferenceSession.ReturnType;
      try {
        out = await session.run(ortFeeds);
      } catch (error) {
        throw new ModelRunError(name, feeds, error);
      }
      seconds += (performance.now() - start) / 1000;
      const result: Record<string, Tensor> = {};
      for (const [key, t] of Object.entries(out)) result[key] = fromOrt(name, key, t);
      return result;
    },
    runSeconds: () => seconds,
    async dispose() {
      if (disposed) return;
      disposed = true;
      await session.release();
    },
  };
}

function fromOrt(graph: string, name: string, t: ort.Tensor): Tensor {
  const type = t.type as DType;
  if (type === 'float32' && t.data instanceof Float32Array) return { type, data: t.data, dims: [...t.dims] };
  if (type === 'int64' && t.data instanceof BigInt64Array) return { type, data: t.data, dims: [...t.dims] };
  if (type === 'int32' && t.data instanceof Int32Array) return { type, data: t.data, dims: [...t.dims] };
  if (type === 'bool' && t.data instanceof Uint8Array) return { type, data: t.data, dims: [...t.dims] };
  throw new Error(`${graph}: output '${name}' has unsupported type ${t.type}`);
}

function firstLine(error: unknown): string {
  return errorMessage(error).split('\n')[0].slice(0, 200);
}

/**
 * Why `provider` could not open a graph, in one line. ORT's WebGPU messages start with a long source location and
 * check expression ("…webgpu_context.cc:136 … was false. Failed to get a WebGPU adapter: No supported adapters"):
 * the sentence after it is the reason.
 */
export function providerFailure(provider: Provider, error: unknown): string {
  if (provider === 'webgpu') {
    const message = errorMessage(error);
    const adapter = /Failed to get a WebGPU adapter:[^\n]*/.exec(message);
    if (adapter) return adapter[0].trim();
    const sentence = / was false\. ([^\n]+)/.exec(message) ?? /\.cc:\d+ \S+ ([^\n]+)/.exec(message);
    if (sentence) return sentence[1].trim().slice(0, 200);
  }
  return firstLine(error);
}

function annotate(error: unknown, name: string): Error {
  if (error instanceof GraphMismatchError) return error;
  const message = errorMessage(error);
  return new Error(`${name}: ONNX Runtime could not load the graph: ${message.split('\n')[0]}`, { cause: error });
}
