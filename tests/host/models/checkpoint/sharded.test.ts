/**
 * Sharded checkpoints through their index (`*.safetensors.index.json`, `pytorch_model.bin.index.json`), and the
 * fixture's vocoder rewritten as a .bin and as two safetensors shards, read back equal to the original.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findComponentWeights, openCheckpoint } from '../../../../src-main/host/models/checkpoint/open.ts';
import { ShardedCheckpoint } from '../../../../src-main/host/models/checkpoint/sharded.ts';
import type { CheckpointReader } from '../../../../src-main/host/models/checkpoint/types.ts';
import { f32Bytes, torchSave } from '../../../helpers/torch-writer.ts';
import { safetensorsBytes } from './safetensors-writer.ts';
import { AUDIOLDM_TINY } from '../../../helpers/audioldm-fixture.ts';

const VOCODER = join(AUDIOLDM_TINY, 'model', 'vocoder') + '/';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-sharded-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function all(reader: CheckpointReader): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (const t of reader.tensors()) out.set(t.name, Array.from(await reader.read(t.name)));
  return out;
}

describe('sharded checkpoints', () => {
  const shardA = safetensorsBytes([{ name: 'a.weight', dtype: 'F32', shape: [2], bytes: f32Bytes([1, 2]) }]);
  const shardB = safetensorsBytes([
    { name: 'b.weight', dtype: 'F32', shape: [1, 2], bytes: f32Bytes([3, 4]) },
    { name: 'b.bias', dtype: 'F32', shape: [1], bytes: f32Bytes([5]) },
  ]);
  const index = (weightMap: Record<string, string>): string => JSON.stringify({ metadata: { total_size: 20 }, weight_map: weightMap });

  it('reads safetensors and .bin shards through their index as one checkpoint', async () => {
    const st = join(dir, 'st');
    await mkdir(st);
    await writeFile(join(st, 'model-00001-of-00002.safetensors'), shardA);
    await writeFile(join(st, 'model-00002-of-00002.safetensors'), shardB);
    await writeFile(join(st, 'model.safetensors.index.json'), index({ 'a.weight': 'model-00001-of-00002.safetensors', 'b.weight': 'model-00002-of-00002.safetensors', 'b.bias': 'model-00002-of-00002.safetensors' }));
    const reader = await openCheckpoint(join(st, 'model.safetensors.index.json'));
    expect(reader).toBeInstanceOf(ShardedCheckpoint);
    expect([...(await all(reader)).entries()]).toEqual([['a.weight', [1, 2]], ['b.weight', [3, 4]], ['b.bias', [5]]]);
    await expect(reader.read('c.weight')).rejects.toThrow(/No shard of '.*model\.safetensors\.index\.json' holds tensor 'c\.weight' \(3 tensors in 2 shards\)/);
    await reader.close();

    const bin = join(dir, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'pytorch_model-00001-of-00002.bin'), torchSave({ storages: [{ key: '0', dtype: 'F32', bytes: f32Bytes([1, 2]) }], tensors: [{ name: 'a.weight', storage: '0', shape: [2] }] }));
    await writeFile(join(bin, 'pytorch_model-00002-of-00002.bin'), torchSave({ storages: [{ key: '0', dtype: 'F32', bytes: f32Bytes([3, 4, 5]) }], tensors: [{ name: 'b.weight', storage: '0', shape: [1, 2] }, { name: 'b.bias', storage: '0', shape: [1], offset: 2 }] }));
    await writeFile(join(bin, 'pytorch_model.bin.index.json'), index({ 'a.weight': 'pytorch_model-00001-of-00002.bin', 'b.weight': 'pytorch_model-00002-of-00002.bin', 'b.bias': 'pytorch_model-00002-of-00002.bin' }));
    expect(await findComponentWeights(bin)).toBe(join(bin, 'pytorch_model.bin.index.json'));
    expect(await findComponentWeights(st)).toBe(join(st, 'model.safetensors.index.json'));
    const binReader = await openCheckpoint(join(bin, 'pytorch_model.bin.index.json'));
    expect([...(await all(binReader)).entries()]).toEqual([['a.weight', [1, 2]], ['b.weight', [3, 4]], ['b.bias', [5]]]);
    await binReader.close();
  });

  it('refuses an index that puts a tensor in the wrong shard, a tensor in two shards, or a shard outside its folder', async () => {
    const bad = join(dir, 'bad');
    await mkdir(bad);
    await writeFile(join(bad, 'one.safetensors'), shardA);
    await writeFile(join(bad, 'two.safetensors'), shardB);
    await writeFile(join(bad, 'dup.safetensors'), shardA);
    await writeFile(join(bad, 'wrong.index.json'), index({ 'a.weight': 'two.safetensors', 'b.weight': 'two.safetensors' }));
    await expect(openCheckpoint(join(bad, 'wrong.index.json'))).rejects.toThrow(/puts tensor 'a\.weight' in 'two\.safetensors', but that shard does not hold it/);
    await writeFile(join(bad, 'dup.index.json'), index({ 'a.weight': 'one.safetensors', 'x': 'dup.safetensors' }));
    await expect(openCheckpoint(join(bad, 'dup.index.json'))).rejects.toThrow(/Tensor 'a\.weight' is in two shards of '.*': 'one\.safetensors' and 'dup\.safetensors'/);
    await writeFile(join(bad, 'escape.index.json'), index({ 'a.weight': '../one.safetensors' }));
    await expect(openCheckpoint(join(bad, 'escape.index.json'))).rejects.toThrow(/names shard "\.\.\/one\.safetensors", which is not a file beside it/);
    await writeFile(join(bad, 'nomap.index.json'), '{"metadata": {}}');
    await expect(openCheckpoint(join(bad, 'nomap.index.json'))).rejects.toMatchObject({ code: 'corrupt', message: expect.stringMatching(/shard index '.*nomap\.index\.json': it has no weight_map/) });
  });
});

describe('the fixture vocoder as .bin and as shards', () => {
  beforeAll(() => {
  });

  it('reads back every tensor equal to the safetensors original', async () => {
    const original = await openCheckpoint(join(VOCODER, 'model.safetensors'));
    const values = await all(original);
    const infos = original.tensors();
    await original.close();

    // One storage per tensor, as torch.save writes a state dict of separate parameters.
    const storages = infos.map((t, i) => ({ key: String(i), dtype: 'F32' as const, bytes: f32Bytes(values.get(t.name) ?? []) }));
    const binPath = join(dir, 'vocoder.bin');
    await writeFile(binPath, torchSave({ storages, tensors: infos.map((t, i) => ({ name: t.name, storage: String(i), shape: t.shape, parameter: i % 2 === 0 })) }));
    const bin = await openCheckpoint(binPath);
    expect(bin.tensors().map((t) => [t.name, t.shape])).toEqual(infos.map((t) => [t.name, t.shape]));
    expect(await all(bin)).toEqual(values);
    await bin.close();

    const half = Math.ceil(infos.length / 2);
    const parts = [infos.slice(0, half), infos.slice(half)];
    const weightMap: Record<string, string> = {};
    for (const [k, part] of parts.entries()) {
      const file = `model-0000${k + 1}-of-00002.safetensors`;
      await writeFile(join(dir, file), safetensorsBytes(part.map((t) => ({ name: t.name, dtype: 'F32', shape: t.shape, bytes: f32Bytes(values.get(t.name) ?? []) }))));
      for (const t of part) weightMap[t.name] = file;
    }
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ weight_map: weightMap }));
    const sharded = await openCheckpoint(join(dir, 'model.safetensors.index.json'));
    expect(await all(sharded)).toEqual(values);
    await sharded.close();
  });
});
