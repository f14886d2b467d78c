/**
 * Exact GN-synchronised chunked VAE decoding (research/longform.md §5.2): the GroupNorm rewrite is faithful, chunked
 * decoding with shared statistics matches the one-pass decode of an attention-free decoder, plain per-chunk GroupNorm
 * does not, and the decode stops between chunk runs when cancelled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TensorSpec } from '../../../src-main/contract/manifest.ts';
import { CancelledError } from '../../../src-main/engine/errors.ts';
import { planChunks } from '../../../src-main/engine/longform/chunks.ts';
import { decodeWithSharedStats, statisticsPasses, type SharedStatsDecodeOptions, type SharedStatsLayer } from '../../../src-main/engine/longform/vae-shared-stats.ts';
import { openSession, type ModelSession } from '../../../src-main/engine/runtime/session.ts';
import { createRng } from '../../../src-main/engine/tensor/rng.ts';
import { f32, type F32 } from '../../../src-main/engine/tensor/tensor.ts';
import { GraphBuilder } from '../../../src-main/packs/graph/builder.ts';
import { type GroupNormLayer, rewriteGroupNormForSharedStats, sharedStatsSignature } from '../../../src-main/packs/graph/groupnorm-stats.ts';
import { conv1d, createNet, finishNet, groupNorm, silu, upsampleNearest2x } from '../../../src-main/packs/graph/nn.ts';
import { buildShapePack } from '../../../src-main/packs/shape/index.ts';
import type { AudioLdmManifestDraft, BuiltPack } from '../../../src-main/packs/types.ts';

interface Signature {
  inputs: readonly TensorSpec[];
  outputs: readonly TensorSpec[];
}

/** The original decoder and its shared-statistics rewrite, both on ORT CPU with one thread. */
interface Pair {
  original: ModelSession;
  shared: ModelSession;
  layers: GroupNormLayer[];
}

async function openPair(name: string, bytes: Uint8Array, expected: Signature): Promise<Pair> {
  const { bytes: rewritten, layers } = rewriteGroupNormForSharedStats(bytes);
  const original = await openSession(bytes, { name, device: 'cpu', expected, intraOpThreads: 1 });
  const shared = await openSession(rewritten, { name: `${name}-shared`, device: 'cpu', expected: sharedStatsSignature(expected, layers), intraOpThreads: 1 });
  return { original, shared, layers };
}

/** decodeWithSharedStats over a session: its `run` and its tensor names. */
function decodeShared(session: ModelSession, layers: readonly SharedStatsLayer[], latent: F32, options: SharedStatsDecodeOptions): Promise<F32> {
  const graph = { name: session.name, inputs: session.signature.inputs.map((t) => t.name), outputs: session.signature.outputs.map((t) => t.name) };
  return decodeWithSharedStats((feeds) => session.run(feeds), graph, layers, latent, options);
}

async function decodeOnce(session: ModelSession, input: string, output: string, x: F32): Promise<F32> {
  const out = (await session.run({ [input]: x }))[output];
  if (!(out.data instanceof Float32Array)) throw new Error(`${output} is not float32`);
  return f32(out.data, out.dims);
}

/** max|Δ| / max|ref| and ‖Δ‖₂ / ‖ref‖₂. */
function relativeErrors(actual: F32, reference: F32): { max: number; rms: number } {
  expect(actual.dims).toEqual(reference.dims);
  let maxDiff = 0;
  let maxRef = 0;
  let diff2 = 0;
  let ref2 = 0;
  for (let i = 0; i < reference.data.length; i++) {
    const d = actual.data[i] - reference.data[i];
    maxDiff = Math.max(maxDiff, Math.abs(d));
    maxRef = Math.max(maxRef, Math.abs(reference.data[i]));
    diff2 += d * d;
    ref2 += reference.data[i] * reference.data[i];
  }
  return { max: maxDiff / maxRef, rms: Math.sqrt(diff2 / ref2) };
}

/** Chunked decoding with each chunk's own GroupNorm statistics (the original graph), crop-and-stitch. */
async function decodePerChunkNorm(session: ModelSession, latent: F32, core: number, halo: number): Promise<F32> {
  const [, channels, total, bins] = latent.dims;
  const out = new Float32Array(4 * total * 64);
  for (const c of planChunks(total, core, halo)) {
    const width = c.end - c.start;
    const part = new Float32Array(channels * width * bins);
    for (let ch = 0; ch < channels; ch++) part.set(latent.data.subarray((ch * total + c.start) * bins, (ch * total + c.end) * bins), ch * width * bins);
    const mel = await decodeOnce(session, 'latent', 'mel', f32(part, [1, channels, width, bins]));
    out.set(mel.data.subarray(4 * (c.keepStart - c.start) * 64, 4 * (c.keepEnd - c.start) * 64), 4 * c.keepStart * 64);
  }
  return f32(out, [1, 1, 4 * total, 64]);
}

const latentOf = (t: number, seed: number): F32 => f32(createRng(seed).normals(8 * t * 16), [1, 8, t, 16]);

let standard: BuiltPack<AudioLdmManifestDraft>;
let free: BuiltPack<AudioLdmManifestDraft>;
let withAttention: Pair;
let attentionFree: Pair;
let vaeHalo: number;

beforeAll(async () => {
  standard = buildShapePack();
  free = buildShapePack({ vaeAttention: false });
  vaeHalo = free.manifest.decode.vaeHaloLatentFrames;
  const spec = (p: BuiltPack<AudioLdmManifestDraft>) => p.manifest.components.vaeDecoder;
  withAttention = await openPair('vae', standard.files[spec(standard).file], spec(standard));
  attentionFree = await openPair('vae-noattn', free.files[spec(free).file], spec(free));
});

afterAll(async () => {
  for (const p of [withAttention, attentionFree]) {
    await p?.original.dispose();
    await p?.shared.dispose();
  }
});

describe('rewriteGroupNormForSharedStats', () => {
  it('finds every GroupNorm of the shape-s VAE decoder as one dependency chain', () => {
    // Mid block 2 ResBlocks × 2 (+1 attention norm), 3 levels × 2 ResBlocks × 2, norm_out.
    expect(withAttention.layers).toHaveLength(18);
    expect(attentionFree.layers).toHaveLength(17);
    const layers = attentionFree.layers;
    layers.forEach((l, k) => {
      expect(l.index).toBe(k);
      expect(l.groups).toBe(32);
      expect(l.eps).toBeCloseTo(1e-6, 12);
      expect(l.upstream).toEqual(Array.from({ length: k }, (_, j) => j));
      expect(l.meanInput).toBe(`gn${k}_mean`);
      expect(l.countOutput).toBe(`gn${k}_count`);
    });
    expect(new Set(layers.map((l) => l.inputName)).size).toBe(layers.length);
    expect(statisticsPasses(layers)).toHaveLength(17);
  });

  it('is faithful: with the statistics of the whole input it reproduces the original decoder (attention included)', async () => {
    for (const [pair, t] of [[withAttention, 24], [attentionFree, 40]] as const) {
      const latent = latentOf(t, 1);
      const reference = await decodeOnce(pair.original, 'latent', 'mel', latent);
      // One chunk whose core is the whole input: every GroupNorm gets exactly its own full-input statistics.
      const shared = await decodeShared(pair.shared, pair.layers, latent, { core: t, halo: 0 });
      const err = relativeErrors(shared, reference);
      console.log(`faithful rewrite (${pair.layers.length} GN, T ${t}): max rel ${err.max.toExponential(2)}, rms rel ${err.rms.toExponential(2)}`);
      expect(err.max).toBeLessThanOrEqual(1e-5);
    }
  });

  it('handles rank-3 [N, C, T] GroupNorms with time upsampling', async () => {
    const g = new GraphBuilder('rank3_gn_net');
    const net = createNet(g, createRng(11));
    const x = g.input('signal', 'float32', [1, 4, 'T']);
    let h = groupNorm(net, conv1d(net, x, 4, 8, 3), 8, 4, 1e-5, 1);
    h = conv1d(net, upsampleNearest2x(net, silu(net, h), 1), 8, 8, 3);
    h = conv1d(net, silu(net, groupNorm(net, h, 8, 2, 1e-6, 1)), 8, 2, 3);
    g.output(h, 'y', 'float32', [1, 2, 'F']);
    const expected: Signature = {
      inputs: [{ name: 'signal', type: 'float32', dims: [1, 4, 'T'] }],
      outputs: [{ name: 'y', type: 'float32', dims: [1, 2, 'F'] }],
    };
    const pair = await openPair('rank3', finishNet(net, 'rank-3 GroupNorm test net').bytes, expected);
    expect(pair.layers.map((l) => [l.groups, l.upstream])).toEqual([[4, []], [2, [0]]]);
    const t = 50;
    const signal = f32(createRng(12).normals(4 * t), [1, 4, t]);
    const reference = await decodeOnce(pair.original, 'signal', 'y', signal);
    expect(reference.dims).toEqual([1, 2, 2 * t]);
    const chunked = await decodeShared(pair.shared, pair.layers, signal, { core: 10, halo: 4 });
    expect(relativeErrors(chunked, reference).max).toBeLessThanOrEqual(1e-5);
    await pair.original.dispose();
    await pair.shared.dispose();
  });

  it('names the graph when it has no GroupNorm', () => {
    const g = new GraphBuilder('plain_relu_graph');
    g.output(g.op('Relu', [g.input('x', 'float32', [1, 4, 'T'])]), 'y', 'float32', [1, 4, 'T']);
    expect(() => rewriteGroupNormForSharedStats(g.toBytes())).toThrow(/graph 'plain_relu_graph': no GroupNorm pattern/);
  });
});

describe('statisticsPasses', () => {
  it('finalises layers in one pass when none depends on another, and a chain one per pass', () => {
    const layer = (index: number, upstream: number[]): SharedStatsLayer => ({
      index,
      groups: 1,
      upstream,
      meanInput: `m${index}`,
      varInput: `v${index}`,
      sumOutput: `s${index}`,
      sumsqOutput: `q${index}`,
      countOutput: `n${index}`,
    });
    // Two parallel branches (1, 2) after 0, joined by 3.
    expect(statisticsPasses([layer(0, []), layer(1, [0]), layer(2, [0]), layer(3, [0, 1, 2])])).toEqual([[0], [1, 2], [3]]);
    expect(() => statisticsPasses([layer(0, [5])])).toThrow(/layer 5, which is not in the layer list/);
  });
});

describe('decodeWithSharedStats', () => {
  it('matches the one-pass decode of the attention-free shape-s VAE to 1e-4, where per-chunk GroupNorm does not', async () => {
    // Two chunks are enough to show the joins exact: 128 frames in cores of 64 (each run sees 64 + 2·13 frames).
    const [t, core, halo] = [128, 64, vaeHalo];
    expect(halo).toBe(13);
    const latent = latentOf(t, 2);
    const reference = await decodeOnce(attentionFree.original, 'latent', 'mel', latent);
    expect(reference.dims).toEqual([1, 1, 4 * t, 64]);
    const chunks = planChunks(t, core, halo);
    expect(chunks.length).toBeGreaterThan(1);

    const progress: Array<[number, number]> = [];
    const started = performance.now();
    const shared = await decodeShared(attentionFree.shared, attentionFree.layers, latent, {
      core,
      halo,
      onProgress: (done, total) => progress.push([done, total]),
    });
    const seconds = (performance.now() - started) / 1000;
    const runs = (attentionFree.layers.length + 1) * chunks.length;
    expect(progress).toHaveLength(runs);
    expect(progress[runs - 1]).toEqual([runs, runs]);

    const exact = relativeErrors(shared, reference);
    const plain = relativeErrors(await decodePerChunkNorm(attentionFree.original, latent, core, halo), reference);
    console.log(
      `T ${t}, core ${core}, halo ${halo}, ${chunks.length} chunks, ${attentionFree.layers.length} GN, ${runs} runs in ${seconds.toFixed(1)} s\n` +
        `  shared statistics: max rel ${exact.max.toExponential(2)}, rms rel ${exact.rms.toExponential(2)}\n` +
        `  per-chunk GroupNorm: max rel ${plain.max.toExponential(2)}, rms rel ${plain.rms.toExponential(2)}`,
    );
    expect(exact.max).toBeLessThanOrEqual(1e-4);
    expect(exact.rms).toBeLessThanOrEqual(1e-4);
    // The same chunks with per-chunk GroupNorm are far off: the test can fail.
    expect(plain.max).toBeGreaterThan(100 * Math.max(exact.max, 1e-6));
    expect(plain.max).toBeGreaterThan(1e-3);
  });

  it('stops between chunk runs when cancelled', async () => {
    const latent = latentOf(60, 3);
    const options = { core: 16, halo: vaeHalo };
    const chunks = planChunks(60, options.core, options.halo).length;
    const controller = new AbortController();
    let runs = 0;
    const decoding = decodeShared(attentionFree.shared, attentionFree.layers, latent, {
      ...options,
      signal: controller.signal,
      onProgress: (done, total) => {
        runs = done;
        expect(total).toBe((attentionFree.layers.length + 1) * chunks);
        if (done === chunks + 1) controller.abort();
      },
    });
    await expect(decoding).rejects.toBeInstanceOf(CancelledError);
    expect(runs).toBe(chunks + 1);
    await expect(decodeShared(attentionFree.shared, attentionFree.layers, latent, { ...options, signal: AbortSignal.abort() })).rejects.toThrow(
      /cancelled during VAE decode/,
    );
  });

  it('refuses a session that is not the rewritten graph', async () => {
    await expect(decodeShared(attentionFree.original, attentionFree.layers, latentOf(8, 4), { core: 8, halo: 0 })).rejects.toThrow(
      /not a shared-statistics decoder for these 17 GroupNorm layers \(missing: core_start/,
    );
  });
});

describe('buildShapePack({ vaeAttention })', () => {
  it('keeps the default pack and marks the attention-free build in its version', () => {
    const explicit = buildShapePack({ vaeAttention: true });
    for (const [name, bytes] of Object.entries(standard.files)) expect(Buffer.compare(explicit.files[name], bytes), name).toBe(0);
    expect(Buffer.compare(free.files['vae_decoder.onnx'], standard.files['vae_decoder.onnx'])).not.toBe(0);
    expect(Buffer.compare(free.files['unet.onnx'], standard.files['unet.onnx'])).toBe(0);
    expect(free.manifest.version).toBe(`${standard.manifest.version}.noattn`);
  });
});
