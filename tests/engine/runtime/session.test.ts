/**
 * Runtime: provider selection and fallback, graph checks at load, run failures, disposal; on real ORT sessions over
 * tiny graphs.
 */
import { describe, expect, it } from 'vitest';
import { CodedError, toApiError } from '../../../src-main/contract/errors.ts';
import type { TensorSpec } from '../../../src-main/contract/manifest.ts';
import { ModelRunError } from '../../../src-main/engine/errors.ts';
import { autoProviders, openSession, providerOrder, sessionOptionsFor, type SessionOptions } from '../../../src-main/engine/runtime/session.ts';
import { f32 } from '../../../src-main/engine/tensor/tensor.ts';
import { probeProviders } from '../../../src-main/host/runtime-probe.ts';
import { GraphBuilder } from '../../../src-main/packs/graph/builder.ts';

/** y = x + 1 over [N, 3]. */
function addOne(): Uint8Array {
  const g = new GraphBuilder('add_one');
  const x = g.input('x', 'float32', ['N', 3]);
  g.output(g.op('Add', [x, g.scalar(1)]), 'y', 'float32', ['N', 3]);
  return g.toBytes();
}
const spec: { inputs: TensorSpec[]; outputs: TensorSpec[] } = {
  inputs: [{ name: 'x', type: 'float32', dims: ['N', 3] }],
  outputs: [{ name: 'y', type: 'float32', dims: ['N', 3] }],
};
const options = (o: Partial<SessionOptions>): SessionOptions => ({ name: 'add_one', device: 'cpu', expected: spec, platform: 'linux', ...o });
const cpuOnly = { available: ['cpu' as const], missing: { cuda: 'CUDA provider libraries are not installed; run `npm run setup:cuda`' } };

describe('openSession', () => {
  it('runs on CPU and returns engine tensors', async () => {
    const s = await openSession(addOne(), options({}));
    expect(s.provider).toBe('cpu');
    expect(s.fallbackReason).toBeUndefined();
    const out = await s.run({ x: f32(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]) });
    expect(out.y.dims).toEqual([2, 3]);
    expect(Array.from(out.y.data as Float32Array)).toEqual([2, 3, 4, 5, 6, 7]);
    expect(s.runSeconds()).toBeGreaterThan(0);
    await s.dispose();
    await expect(s.run({ x: f32(new Float32Array(3), [1, 3]) })).rejects.toThrow(/session was disposed/);
  });

  it('auto on Linux without CUDA libraries uses CPU and says why, without trying CUDA', async () => {
    const s = await openSession(addOne(), options({ device: 'auto', installed: cpuOnly }));
    expect(s.provider).toBe('cpu');
    expect(s.fallbackReason).toMatch(/cuda unavailable \(CUDA provider libraries are not installed; run `npm run setup:cuda`\)/);
  });

  it('an explicit provider that is not installed falls back to CPU with the reason', async () => {
    const s = await openSession(addOne(), options({ device: 'coreml', installed: { available: ['cpu'], missing: { coreml: 'CoreML exists on macOS only' } } }));
    expect(s.provider).toBe('cpu');
    expect(s.fallbackReason).toBe('coreml unavailable (CoreML exists on macOS only)');
  });

  it('a provider that fails to load falls back to CPU with ORT’s reason', async () => {
    // NOTE: ONNX Runtime prints its own loader error to stderr here; the session still opens on CPU.
    const s = await openSession(addOne(), options({ device: 'dml' }));
    expect(s.provider).toBe('cpu');
    expect(s.fallbackReason).toMatch(/^dml unavailable \(/);
  });

  it('bytes that are not an ONNX model give a load error naming the graph', async () => {
    await expect(openSession(new Uint8Array([1, 2, 3, 4]), options({}))).rejects.toThrow(/^add_one: ONNX Runtime could not load the graph/);
  });

  it('checks the graph against the declared signature at load', async () => {
    const wrong = { inputs: [{ name: 'x', type: 'float32' as const, dims: ['N', 4] }], outputs: spec.outputs };
    await expect(openSession(addOne(), options({ expected: wrong }))).rejects.toThrow(/input 'x': dim 1 expected 4, graph has 3/);
  });
});

/** y = a + b over [2, 3]: the graph fixes two rows, while the declaration below says any number of rows (N). */
function addFixedRows(): Uint8Array {
  const g = new GraphBuilder('add_fixed_rows');
  const a = g.input('a', 'float32', [2, 3]);
  const b = g.input('b', 'float32', [2, 3]);
  g.output(g.op('Add', [a, b]), 'y', 'float32', [2, 3]);
  return g.toBytes();
}

/** y = a + b with independent row counts N and M: ORT's Add refuses rows it cannot broadcast. */
function addAnyRows(): Uint8Array {
  const g = new GraphBuilder('add_any_rows');
  const a = g.input('a', 'float32', ['N', 3]);
  const b = g.input('b', 'float32', ['M', 3]);
  g.output(g.op('Add', [a, b]), 'y', 'float32', ['N', 3]);
  return g.toBytes();
}

describe('run failures inside ONNX Runtime', () => {
  /** Runs `feeds` on a session whose declaration lets them through the feed check; returns what `run` threw. */
  async function failure(bytes: Uint8Array, name: string, declared: readonly TensorSpec[], feeds: Record<string, ReturnType<typeof f32>>): Promise<unknown> {
    const s = await openSession(bytes, options({ name, expected: { inputs: declared, outputs: [{ name: 'y', type: 'float32', dims: ['N', 3] }] } }));
    try {
      await s.run(feeds);
    } catch (e) {
      return e;
    } finally {
      await s.dispose();
    }
    throw new Error('the run did not fail');
  }

  it('a shape the graph fixes differently: a model-error naming the graph and every feed, keeping ORT’s message and cause', async () => {
    const declared: TensorSpec[] = [
      { name: 'a', type: 'float32', dims: ['N', 3] },
      { name: 'b', type: 'float32', dims: ['N', 3] },
    ];
    const e = await failure(addFixedRows(), 'pack/add_fixed_rows.onnx', declared, { a: f32(new Float32Array(15), [5, 3]), b: f32(new Float32Array(15), [5, 3]) });
    expect(e).toBeInstanceOf(ModelRunError);
    expect(e).toBeInstanceOf(CodedError);
    const error = e as ModelRunError;
    expect(error.code).toBe('model-error');
    expect(error.graph).toBe('pack/add_fixed_rows.onnx');
    expect(error.message).toMatch(/^pack\/add_fixed_rows\.onnx: ONNX Runtime failed to run the graph: /);
    expect(error.message).toContain("feeds: 'a' float32 [5, 3], 'b' float32 [5, 3]");
    // ORT's own words stay in the message, and the original error is the cause.
    expect(error.cause).toBeInstanceOf(Error);
    expect(error.message).toContain((error.cause as Error).message.split('\n')[0]);
    expect(error.message).toMatch(/invalid dimensions/i);
    expect(toApiError(error, { fallback: 'internal' })).toMatchObject({ code: 'model-error' });
  });

  it('shapes a kernel cannot combine (Add of 2 and 4 rows): the same report with each feed’s dims', async () => {
    // NOTE: ONNX Runtime prints the failing kernel's error to stderr itself; the test only reads what `run` threw.
    const declared: TensorSpec[] = [
      { name: 'a', type: 'float32', dims: ['N', 3] },
      { name: 'b', type: 'float32', dims: ['M', 3] },
    ];
    const e = await failure(addAnyRows(), 'add_any_rows', declared, { a: f32(new Float32Array(6), [2, 3]), b: f32(new Float32Array(12), [4, 3]) });
    expect(e).toBeInstanceOf(ModelRunError);
    expect((e as ModelRunError).message).toMatch(/^add_any_rows: ONNX Runtime failed to run the graph: .*\n {2}feeds: 'a' float32 \[2, 3\], 'b' float32 \[4, 3\]\n/s);
    expect((e as ModelRunError).cause).toBeDefined();
  });
});

describe('session options per provider', () => {
  it('tunes threads, arena, memory patterns and the EP entry per provider', () => {
    expect(sessionOptionsFor('cpu', undefined)).toMatchObject({ executionProviders: ['cpu'], intraOpNumThreads: 0, enableCpuMemArena: true, enableMemPattern: false, graphOptimizationLevel: 'all', executionMode: 'sequential' });
    expect(sessionOptionsFor('cpu', 3).intraOpNumThreads).toBe(3);
    expect(sessionOptionsFor('cuda', undefined)).toMatchObject({ executionProviders: [{ name: 'cuda', deviceId: 0 }], enableCpuMemArena: false });
    // DirectML refuses memory patterns and parallel execution.
    expect(sessionOptionsFor('dml', undefined)).toMatchObject({ executionProviders: ['dml'], enableMemPattern: false, executionMode: 'sequential' });
    expect(sessionOptionsFor('coreml', 2)).toMatchObject({ executionProviders: ['coreml'], intraOpNumThreads: 2 });
  });
});

describe('provider policy', () => {
  it('auto prefers the platform GPU provider, CPU last', () => {
    expect(autoProviders('linux')).toEqual(['cuda', 'cpu']);
    expect(autoProviders('win32')).toEqual(['dml', 'cpu']);
    expect(autoProviders('darwin')).toEqual(['coreml', 'cpu']);
    expect(autoProviders('freebsd')).toEqual(['cpu']);
  });

  it('probeProviders finds CUDA only when its libraries are present (Linux x64)', () => {
    const none = probeProviders('linux', 'x64', () => false);
    expect(none.available).toEqual(['cpu']);
    expect(none.missing.cuda).toMatch(/npm run setup:cuda/);
    expect(probeProviders('linux', 'x64', () => true).available).toEqual(['cpu', 'cuda']);
    expect(probeProviders('win32', 'x64', () => false).available).toEqual(['cpu', 'dml']);
    expect(probeProviders('darwin', 'arm64', () => false).available).toEqual(['cpu', 'coreml']);
    expect(probeProviders('linux', 'arm64', () => true).missing.cuda).toMatch(/Linux x64 only/);
  });
});

describe('auto as the host decided it, and provider-specific graphs', () => {
  it('providerOrder: the host\'s auto order with the reasons it left providers out; cpu alone; explicit then cpu', () => {
    const auto = { order: ['webgpu', 'cpu'] as const, skipped: { cuda: 'cuda unavailable (not installed)' } };
    expect(providerOrder('auto', { auto })).toEqual({ order: ['webgpu', 'cpu'], notes: ['cuda unavailable (not installed)'] });
    // CPU is last even when the host's list forgets it.
    expect(providerOrder('auto', { auto: { order: ['cuda'], skipped: {} } }).order).toEqual(['cuda', 'cpu']);
    expect(providerOrder('auto', { platform: 'win32' })).toEqual({ order: ['dml', 'cpu'], notes: [] });
    expect(providerOrder('cpu', { auto })).toEqual({ order: ['cpu'], notes: [] });
    expect(providerOrder('webgpu')).toEqual({ order: ['webgpu', 'cpu'], notes: [] });
  });

  it('auto on CPU after the host left WebGPU out: the reason heads the fallback reason', async () => {
    const skipped = { webgpu: "webgpu measured 0.01x the CPU's speed on this machine" };
    const s = await openSession(addOne(), options({ device: 'auto', installed: { available: ['cpu', 'webgpu'], missing: {} }, auto: { order: ['cpu'], skipped } }));
    expect(s.provider).toBe('cpu');
    expect(s.fallbackReason).toBe("webgpu measured 0.01x the CPU's speed on this machine");
    await s.dispose();
  });

  it('a variant that does not load falls back to the source on the same provider, which then reports its precision', async () => {
    const asked: string[] = [];
    const s = await openSession(addOne(), options({
      variant: (provider) => {
        asked.push(provider);
        return Promise.resolve({ source: new Uint8Array([1, 2, 3]), precision: 'fp16' });
      },
    }));
    expect(asked).toEqual(['cpu']);
    expect(s.provider).toBe('cpu');
    expect(s.precision).toBe('fp32');
    expect(s.fallbackReason).toMatch(/^cpu fp16 graph unavailable \(/);
    await s.dispose();
    const plain = await openSession(addOne(), options({ precision: 'fp16' }));
    expect(plain.precision).toBe('fp16');
    await plain.dispose();
  });

  it('a variant that loads is what runs, with its precision', async () => {
    const g = new GraphBuilder('add_two');
    g.output(g.op('Add', [g.input('x', 'float32', ['N', 3]), g.scalar(2)]), 'y', 'float32', ['N', 3]);
    const s = await openSession(addOne(), options({ variant: () => Promise.resolve({ source: g.toBytes(), precision: 'fp16' }) }));
    expect(s.precision).toBe('fp16');
    expect(s.fallbackReason).toBeUndefined();
    expect(Array.from((await s.run({ x: f32(new Float32Array([1, 2, 3]), [1, 3]) })).y.data as Float32Array)).toEqual([3, 4, 5]);
    await s.dispose();
  });
});
