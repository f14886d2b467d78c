/** Runtime: provider selection and fallback, graph checks at load, disposal; on real ORT sessions over tiny graphs. */
import { describe, expect, it } from 'vitest';
import type { TensorSpec } from '../../../src-main/contract/manifest.ts';
import { autoProviders, openSession, sessionOptionsFor, type SessionOptions } from '../../../src-main/engine/runtime/session.ts';
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

describe('session options per provider', () => {
  it('tunes threads, arena, memory patterns and the EP entry per provider', () => {
    expect(sessionOptionsFor('cpu', undefined)).toMatchObject({ executionProviders: ['cpu'], intraOpNumThreads: 0, enableCpuMemArena: true, enableMemPattern: true, graphOptimizationLevel: 'all', executionMode: 'sequential' });
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
