import { createHash } from 'node:crypto';

import { Tokenizer } from '@huggingface/tokenizers';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import * as v from 'valibot';
import { beforeAll, describe, expect, it } from 'vitest';

import { AudioLdmManifestSchema, type AudioLdmComponentName } from '../../src-main/contract/manifest.ts';
import { createRng } from '../../src-main/engine/tensor/rng.ts';
import { FULL_SHAPE_WIDTH, buildShapePack, shapeSizes } from '../../src-main/packs/shape/index.ts';
import { SHAPE_PRIOR_GAMMA, buildUnet } from '../../src-main/packs/shape/unet.ts';
import { vaeDecoderHaloLatentFrames } from '../../src-main/packs/shape/vae-decoder.ts';
import { vocoderHaloMelFrames } from '../../src-main/packs/shape/vocoder.ts';
import type { AudioLdmManifestDraft, BuiltPack } from '../../src-main/packs/types.ts';

const COMPONENTS: AudioLdmComponentName[] = ['textEncoder', 'unet', 'vaeDecoder', 'vocoder'];

let pack: BuiltPack<AudioLdmManifestDraft>;
const sessions = {} as Record<AudioLdmComponentName, ort.InferenceSession>;

beforeAll(async () => {
  pack = buildShapePack();
  for (const c of COMPONENTS) sessions[c] = await ort.InferenceSession.create(pack.files[pack.manifest.components[c].file]);
});

function f32(data: Float32Array, dims: number[]): ort.Tensor {
  return new ort.Tensor('float32', data, dims);
}

async function run(c: AudioLdmComponentName, feeds: Record<string, ort.Tensor>): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const out = await sessions[c].run(feeds);
  const t = out[pack.manifest.components[c].outputs[0].name];
  if (!(t.data instanceof Float32Array)) throw new Error(`${c}: output is not float32`);
  return { data: t.data, dims: t.dims };
}

function expectFiniteAndVarying(data: Float32Array): void {
  let min = Infinity;
  let max = -Infinity;
  for (const x of data) {
    expect(Number.isFinite(x)).toBe(true);
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  expect(max - min).toBeGreaterThan(1e-2);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function unetFeeds(t: number, seed: number): Record<string, ort.Tensor> {
  const rng = createRng(seed);
  const labels = rng.normals(2 * 512).map((x) => x / Math.sqrt(512));
  return {
    sample: f32(rng.normals(2 * 8 * t * 16), [2, 8, t, 16]),
    timestep: f32(Float32Array.from([501, 501]), [2]),
    class_labels: f32(labels, [2, 512]),
  };
}

describe('shape-s pack', () => {
  it('is deterministic: two builds give identical bytes', () => {
    const again = buildShapePack();
    expect(Object.keys(again.files).sort()).toEqual(Object.keys(pack.files).sort());
    for (const [name, bytes] of Object.entries(pack.files)) expect(Buffer.compare(again.files[name], bytes), name).toBe(0);
    expect(again.manifest).toEqual(pack.manifest);
    // The width-128 test below builds only the UNet: the pack's UNet is exactly buildUnet(shapeSizes(width).unet,
    // stream 2) plus the prior skip (built on its output; without it the UNet is the bare AudioLDM-S graph).
    const unet = buildUnet(shapeSizes(32).unet, createRng(0, 2), { priorSkip: SHAPE_PRIOR_GAMMA }).bytes;
    expect(Buffer.compare(unet, pack.files['unet.onnx'])).toBe(0);
    const other = buildShapePack({ seed: 1 });
    expect(Buffer.compare(other.files['unet.onnx'], pack.files['unet.onnx'])).not.toBe(0);
  });

  it('has a manifest that validates once hashes are filled in', () => {
    const sha = (name: string) => createHash('sha256').update(pack.files[name]).digest('hex');
    const { components, tokenizer } = pack.manifest;
    const full = {
      ...pack.manifest,
      tokenizer: { ...tokenizer, sha256: sha(tokenizer.file) },
      components: Object.fromEntries(COMPONENTS.map((c) => [c, { ...components[c], sha256: sha(components[c].file) }])),
    };
    const result = v.safeParse(AudioLdmManifestSchema, full);
    expect(result.issues ?? []).toEqual([]);
    expect(pack.manifest.id).toBe('shape-s');
    expect(buildShapePack({ id: 'shape-s-test' }).manifest.id).toBe('shape-s-test');
    expect(pack.manifest.decode).toEqual({ vaeHaloLatentFrames: 13, vocoderHaloMelFrames: 23 });
  });

  it('computes the full-size receptive fields of research/longform.md §5.3 and §6', () => {
    const full = shapeSizes(FULL_SHAPE_WIDTH);
    expect(vaeDecoderHaloLatentFrames(full.vaeDecoder)).toBe(17);
    expect(vocoderHaloMelFrames(full.vocoder)).toBe(23);
    expect(full.vocoder.initialChannels).toBe(1024);
    expect(full.vaeDecoder).toEqual({ channels: 128, resBlocks: 2 });
  });

  it('declares graph inputs and outputs exactly as the manifest does', () => {
    for (const c of COMPONENTS) {
      const spec = pack.manifest.components[c];
      expect(sessions[c].inputNames, c).toEqual(spec.inputs.map((i) => i.name));
      expect(sessions[c].outputNames, c).toEqual(spec.outputs.map((o) => o.name));
    }
  });

  it('text encoder: tokenized prompts give distinct L2-normalised embeddings', async () => {
    const tokenizer = new Tokenizer(JSON.parse(new TextDecoder().decode(pack.files['tokenizer.json'])), {});
    const a = tokenizer.encode('A dog barking in the rain').ids;
    const b = tokenizer.encode('').ids;
    expect(b).toEqual([0, 2]);
    expect(tokenizer.encode('zebra').ids).toEqual([0, 3, 2]);
    const s = a.length;
    const ids = BigInt64Array.from([...a, ...b, ...Array<number>(s - b.length).fill(1)].map((x) => BigInt(x)));
    const mask = BigInt64Array.from([...a.map(() => 1n), ...b.map(() => 1n), ...Array<bigint>(s - b.length).fill(0n)]);
    const out = await run('textEncoder', {
      input_ids: new ort.Tensor('int64', ids, [2, s]),
      attention_mask: new ort.Tensor('int64', mask, [2, s]),
    });
    expect(out.dims).toEqual([2, 512]);
    for (let r = 0; r < 2; r++) {
      const row = out.data.subarray(r * 512, (r + 1) * 512);
      expect(Math.hypot(...row)).toBeCloseTo(1, 5);
    }
    expect(maxAbsDiff(out.data.subarray(0, 512), out.data.subarray(512))).toBeGreaterThan(1e-2);
    // Padding is inert: the empty prompt alone gives the same embedding as its padded row.
    const alone = await run('textEncoder', {
      input_ids: new ort.Tensor('int64', BigInt64Array.from([0n, 2n]), [1, 2]),
      attention_mask: new ort.Tensor('int64', BigInt64Array.from([1n, 1n]), [1, 2]),
    });
    expect(maxAbsDiff(alone.data, out.data.slice(512))).toBeLessThan(1e-6);
  });

  it('UNet: noise_pred has the sample shape and depends on timestep and class labels', async () => {
    const feeds = unetFeeds(16, 3);
    const out = await run('unet', feeds);
    expect(out.dims).toEqual([2, 8, 16, 16]);
    expectFiniteAndVarying(out.data);
    const later = await run('unet', { ...feeds, timestep: f32(Float32Array.from([901, 901]), [2]) });
    expect(maxAbsDiff(later.data, out.data)).toBeGreaterThan(1e-3);
    // Row 1 with row 0's class label: only the conditioning differs.
    const labels = feeds.class_labels.data;
    if (!(labels instanceof Float32Array)) throw new Error('labels');
    const swapped = Float32Array.from([...labels.subarray(0, 512), ...labels.subarray(0, 512)]);
    const other = await run('unet', { ...feeds, class_labels: f32(swapped, [2, 512]) });
    const row = 8 * 16 * 16;
    expect(maxAbsDiff(other.data.subarray(0, row), out.data.subarray(0, row))).toBeLessThan(1e-6);
    expect(maxAbsDiff(other.data.subarray(row), out.data.subarray(row))).toBeGreaterThan(1e-3);
  });

  it('VAE decoder: latent [B,8,T,16] → mel [B,1,4T,64] for any T', async () => {
    const rng = createRng(4);
    const out = await run('vaeDecoder', { latent: f32(rng.normals(2 * 8 * 16 * 16), [2, 8, 16, 16]) });
    expect(out.dims).toEqual([2, 1, 64, 64]);
    expectFiniteAndVarying(out.data);
    for (const t of [1, 3]) {
      const small = await run('vaeDecoder', { latent: f32(rng.normals(8 * t * 16), [1, 8, t, 16]) });
      expect(small.dims).toEqual([1, 1, 4 * t, 64]);
    }
  });

  it('vocoder: mel [B,F,64] → waveform [B, 160F+32]', async () => {
    const f = 64;
    const out = await run('vocoder', { mel: f32(createRng(5).normals(2 * f * 64), [2, f, 64]) });
    expect(out.dims).toEqual([2, 160 * f + 32]);
    expectFiniteAndVarying(out.data);
  });

  it('vocoder is shift-equivariant in the interior with the manifest halo, and not with a small one', async () => {
    const frames = 150;
    const mel = createRng(6).normals(frames * 64);
    const full = (await run('vocoder', { mel: f32(mel, [1, frames, 64]) })).data;
    const chunkError = async (a: number, n: number, halo: number): Promise<number> => {
      const sub = (await run('vocoder', { mel: f32(mel.slice(a * 64, (a + n) * 64), [1, n, 64]) })).data;
      expect(sub.length).toBe(160 * n + 32);
      // Interior mel frames [a+halo, a+n−halo) ↔ samples [160·halo, 160·(n−halo)) of the chunk.
      return maxAbsDiff(sub.subarray(160 * halo, 160 * (n - halo)), full.subarray(160 * (a + halo), 160 * (a + n - halo)));
    };
    const halo = pack.manifest.decode.vocoderHaloMelFrames;
    expect(await chunkError(30, 2 * halo + 40, halo)).toBeLessThanOrEqual(1e-5);
    expect(await chunkError(50, 2 * halo + 17, halo)).toBeLessThanOrEqual(1e-5);
    expect(await chunkError(30, 48, 4)).toBeGreaterThan(1e-3);
  });

  it('width 128 builds AudioLDM-S: the UNet holds 185 M parameters (±25 %)', () => {
    // Measured: 185 036 552 trainable elements, exactly audioldm_count.py's 185.04 M (~15 s to generate).
    const built = buildUnet(shapeSizes(FULL_SHAPE_WIDTH).unet, createRng(0, 2));
    const model = onnxProto.onnx.ModelProto.decode(built.bytes);
    let elements = 0;
    for (const init of model.graph?.initializer ?? []) {
      if (init.dataType === 1) elements += (init.dims ?? []).reduce<number>((a, d) => a * Number(d), 1);
    }
    expect(elements).toBeGreaterThan(185e6 * 0.75);
    expect(elements).toBeLessThan(185e6 * 1.25);
    expect(built.parameters).toBe(185_036_552);
    // The one test that must build the full width (740 MB of weights, ~15 s here): its own timeout keeps it a small
    // fraction of the limit on a loaded machine.
  }, 600_000);
});
