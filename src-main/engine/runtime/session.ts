/**
 * The only importer of onnxruntime-node. Creates sessions with an execution-provider preference and CPU fallback,
 * checks graphs against their manifest, validates every feed before `run`, rethrows ORT's run failures as a
 * {@link ModelRunError} naming the graph and each feed, and times the time spent inside ORT.
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
  readonly provider: Exclude<DevicePreference, 'auto'>;
  /** Why a preferred provider was not used; undefined when the preference was honoured. */
  readonly fallbackReason?: string;
  readonly signature: GraphSignature;
  run(feeds: Record<string, Tensor>): Promise<Record<string, Tensor>>;
  /** Seconds spent inside ORT `run` since creation. */
  runSeconds(): number;
  dispose(): Promise<void>;
}

const ORT_PROVIDER: Record<Exclude<DevicePreference, 'auto' | 'cpu'>, string> = { cuda: 'cuda', dml: 'dml', coreml: 'coreml' };

/** The providers `auto` tries, best first, for a platform (CPU always last). */
export function autoProviders(platform: string): Array<Exclude<DevicePreference, 'auto'>> {
  if (platform === 'linux') return ['cuda', 'cpu'];
  if (platform === 'win32') return ['dml', 'cpu'];
  if (platform === 'darwin') return ['coreml', 'cpu'];
  return ['cpu'];
}

/** Opens a session on the preferred provider, falling back to CPU with the reason recorded. */
export async function openSession(source: ModelSource, options: SessionOptions): Promise<ModelSession> {
  const order = options.device === 'auto' ? autoProviders(options.platform ?? 'unknown') : options.device === 'cpu' ? ['cpu' as const] : [options.device, 'cpu' as const];
  const failures: string[] = [];
  for (const provider of order) {
    if (provider !== 'cpu' && options.installed && !options.installed.available.includes(provider)) {
      failures.push(`${provider} unavailable (${options.installed.missing[provider] ?? 'not available on this platform'})`);
      continue;
    }
    try {
      const session = await create(source, provider, options);
      let signature: GraphSignature;
      try {
        options.inspect?.(actualSignature(session));
        signature = checkGraphSignature(options.name, session, options.expected);
      } catch (error) {
        await session.release();
        throw error;
      }
      const reason = failures.length > 0 ? failures.join('; ') : undefined;
      return wrap(session, options.name, provider, signature, reason);
    } catch (error) {
      if (error instanceof GraphMismatchError || provider === 'cpu') throw annotate(error, options.name);
      failures.push(`${provider} unavailable (${firstLine(error)})${provider === 'cuda' ? ' - run `npm run setup:cuda` on an NVIDIA machine' : ''}`);
    }
  }
  throw new Error(`${options.name}: no execution provider could load the graph`);
}

/**
 * Session options per execution provider (documented in docs/ARCHITECTURE.md "Execution providers"):
 * - all: every graph optimisation (constant folding, fusions, layout), sequential execution (our graphs are
 *   chains; parallel branches gain nothing and cost a second thread pool), warnings and errors only.
 * - cpu: one intra-op pool (0 = ORT's default: one thread per physical core) unless the user set threads; the CPU
 *   memory arena and memory-pattern planning on, since a long piece calls the same shapes thousands of times.
 * - cuda: device 0 (the only CUDA option onnxruntime-node's binding reads); the CPU arena off (only feeds and
 *   outputs live in host memory, and the arena would keep the largest of them for the whole session).
 * - dml: DirectML requires memory patterns off and sequential execution (onnxruntime's DirectML EP docs).
 * - coreml: CoreML compiles the graph for CPU, GPU and Neural Engine; the CPU arena stays on for fallback nodes.
 */
export function sessionOptionsFor(provider: Exclude<DevicePreference, 'auto'>, intraOpThreads: number | undefined): ort.InferenceSession.SessionOptions {
  const common = { graphOptimizationLevel: 'all', executionMode: 'sequential', logSeverityLevel: 3 } as const;
  switch (provider) {
    case 'cpu':
      return { ...common, executionProviders: ['cpu'], intraOpNumThreads: intraOpThreads ?? 0, enableCpuMemArena: true, enableMemPattern: true };
    case 'cuda':
      return { ...common, executionProviders: [{ name: 'cuda', deviceId: 0 }], intraOpNumThreads: intraOpThreads ?? 0, enableCpuMemArena: false, enableMemPattern: true };
    case 'dml':
      return { ...common, executionProviders: [ORT_PROVIDER.dml], intraOpNumThreads: intraOpThreads ?? 0, enableCpuMemArena: true, enableMemPattern: false };
    case 'coreml':
      return { ...common, executionProviders: [ORT_PROVIDER.coreml], intraOpNumThreads: intraOpThreads ?? 0, enableCpuMemArena: true, enableMemPattern: true };
  }
}

async function create(source: ModelSource, provider: Exclude<DevicePreference, 'auto'>, options: SessionOptions): Promise<ort.InferenceSession> {
  const sessionOptions = sessionOptionsFor(provider, options.intraOpThreads);
  return typeof source === 'string' ? ort.InferenceSession.create(source, sessionOptions) : ort.InferenceSession.create(source, sessionOptions);
}

function wrap(session: ort.InferenceSession, name: string, provider: Exclude<DevicePreference, 'auto'>, signature: GraphSignature, fallbackReason: string | undefined): ModelSession {
  let seconds = 0;
  let disposed = false;
  return {
    name,
    provider,
    fallbackReason,
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

function annotate(error: unknown, name: string): Error {
  if (error instanceof GraphMismatchError) return error;
  const message = errorMessage(error);
  return new Error(`${name}: ONNX Runtime could not load the graph: ${message.split('\n')[0]}`, { cause: error });
}
