/**
 * The converter's WeightSource over a checkpoint (host/models/convert/weights.ts): a non-square Linear is transposed
 * from PyTorch's [out, in], shapes are checked (size-1 axes aside), a missing or mis-shaped tensor is named in the
 * words users see, tensors the graph never took are listed, each tensor is handed over once and then forgotten, and
 * loading stops when cancelled.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCheckpoint, type CheckpointReader } from '../../../../src-main/host/models/checkpoint/index.ts';
import { ConvertError } from '../../../../src-main/host/models/convert/errors.ts';
import { loadComponentWeights, tensorsToLoad } from '../../../../src-main/host/models/convert/weights.ts';
import { TINY_MODEL } from './golden.ts';

const FILE = 'unet/diffusion_pytorch_model.safetensors';
let reader: CheckpointReader;

beforeAll(async () => {
  reader = await openCheckpoint(join(TINY_MODEL, FILE));
});
afterAll(async () => reader.close());

const load = (ignore?: (k: string) => boolean) => loadComponentWeights(reader, { component: 'unet', file: FILE, ...(ignore ? { ignore } : {}) });

describe('ComponentWeights', () => {
  it('serves a non-square Linear (class_embedding, stored [32, 512]) transposed to the graph\'s [512, 32]', async () => {
    const stored = await reader.read('class_embedding.weight');
    const weights = await load();
    const t = weights.tensor('class_embedding.weight', [512, 32], { transpose: true });
    expect(t.length).toBe(512 * 32);
    // Element (i, o) of [in, out] is stored[o][i].
    for (const [i, o] of [[0, 0], [1, 0], [0, 1], [511, 31], [300, 7]]) expect(t[i * 32 + o]).toBe(stored[o * 512 + i]);
  });

  it('accepts size-1 axes (a norm affine [C] for dims [C, 1, 1]) and hands each tensor over once', async () => {
    const weights = await load();
    expect(weights.tensor('conv_norm_out.weight', [8, 1, 1])).toHaveLength(8);
    expect(() => weights.tensor('conv_norm_out.weight', [8])).toThrow(/asked for twice/);
  });

  it('names a missing tensor, its expected shape and what to do', async () => {
    const weights = await load();
    const error = (() => {
      try {
        weights.tensor('down_blocks.9.resnets.0.conv1.weight', [8, 8, 3, 3]);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConvertError);
    expect((error as ConvertError).code).toBe('model-error');
    expect((error as ConvertError).message).toBe(
      `checkpoint ${FILE} has no tensor 'down_blocks.9.resnets.0.conv1.weight' that unet needs (expected [8, 8, 3, 3]); ` +
        'the folder is not an AudioLDM checkpoint of this layout, or it is incomplete: download it again',
    );
  });

  it('names a mis-shaped tensor with the expected and the actual shape (transposed Linear: [out, in])', async () => {
    const weights = await load();
    expect(() => weights.tensor('class_embedding.weight', [32, 512], { transpose: true })).toThrow(
      `checkpoint ${FILE}: tensor 'class_embedding.weight' has shape [32, 512] but unet needs [512, 32]`,
    );
    expect(() => weights.tensor('conv_in.weight', [8, 4, 3, 3])).toThrow(/tensor 'conv_in.weight' has shape \[8, 8, 3, 3\] but unet needs \[8, 4, 3, 3\]/);
  });

  it('lists the tensors never taken, except ignored ones, which are not even read', async () => {
    const all = reader.tensors().map((t) => t.name);
    const weights = await load((k) => k.startsWith('up_blocks.'));
    weights.tensor('conv_in.weight', [8, 8, 3, 3]);
    const unused = weights.unused();
    expect(unused).not.toContain('conv_in.weight');
    expect(unused.some((k) => k.startsWith('up_blocks.'))).toBe(false);
    expect(unused).toHaveLength(all.filter((k) => !k.startsWith('up_blocks.')).length - 1);
    expect(tensorsToLoad(reader, (k) => k.startsWith('up_blocks.')).bytes).toBeLessThan(tensorsToLoad(reader).bytes);
  });

  it('stops between tensors when cancelled', async () => {
    const abort = new AbortController();
    let reads = 0;
    const error = await loadComponentWeights(reader, {
      component: 'unet',
      file: FILE,
      signal: abort.signal,
      onBytes: () => {
        reads++;
        if (reads === 3) abort.abort();
      },
    }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ConvertError);
    expect((error as ConvertError).code).toBe('cancelled');
    expect(reads).toBe(3);
  });
});
