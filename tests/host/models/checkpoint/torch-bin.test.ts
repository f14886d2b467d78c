/**
 * The PyTorch .bin reader on checkpoints written here by tests/helpers/torch-writer.ts (whose pickle and zip
 * CPython's `pickle` and `zipfile` load: checked once by hand, see the helper): dtypes, shared storages with
 * offsets, parameters, ZIP64, what a read touches, and malformed or hostile files.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFileSource } from '../../../../src-main/host/models/checkpoint/byte-source.ts';
import { openCheckpoint } from '../../../../src-main/host/models/checkpoint/open.ts';
import { TorchBinReader } from '../../../../src-main/host/models/checkpoint/torch-bin.ts';
import { CheckpointError } from '../../../../src-main/host/models/checkpoint/types.ts';
import { bf16Bytes, f16Bytes, f32Bytes, i64Bytes, PickleWriter, stateDictPickle, torchSave, type TorchSaveOptions } from '../../../helpers/torch-writer.ts';
import { countingSource, safetensorsBytes } from './safetensors-writer.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-torch-bin-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
let fileCount = 0;
async function write(bytes: Uint8Array, name = `ckpt-${fileCount++}.bin`): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, bytes);
  return path;
}

const stateDict: TorchSaveOptions = {
  storages: [
    { key: '0', dtype: 'F32', bytes: f32Bytes([1, 2, 3, 4, 5, 6, 7, 8]) },
    { key: '1', dtype: 'F16', bytes: f16Bytes([0.5, -1.5, 2 ** -24, 1024]) },
    { key: '2', dtype: 'BF16', bytes: bf16Bytes([-3, 0.25]) },
    { key: '3', dtype: 'I64', bytes: i64Bytes([0, 1, 2]) },
  ],
  tensors: [
    { name: 'conv.weight', storage: '0', shape: [2, 2] },
    { name: 'conv.bias', storage: '0', shape: [3], offset: 5, parameter: true }, // a view into the same storage
    { name: 'half.weight', storage: '1', shape: [2, 1, 2] },
    { name: 'brain.weight', storage: '2', shape: [2] },
    { name: 'position_ids', storage: '3', shape: [1, 3] },
    { name: 'unit.dims', storage: '0', shape: [1, 2, 1], offset: 6, stride: [99, 1, 7] }, // size-1 strides do not count
  ],
};

describe('torch .bin: torch.save state dicts', () => {
  it('lists the OrderedDict in order with dtypes and shapes, and reads each tensor', async () => {
    const reader = await openCheckpoint(await write(torchSave(stateDict)));
    try {
      expect(reader.tensors().map((t) => [t.name, t.dtype, t.shape])).toEqual([
        ['conv.weight', 'F32', [2, 2]],
        ['conv.bias', 'F32', [3]],
        ['half.weight', 'F16', [2, 1, 2]],
        ['brain.weight', 'BF16', [2]],
        ['position_ids', 'I64', [1, 3]],
        ['unit.dims', 'F32', [1, 2, 1]],
      ]);
      expect(Array.from(await reader.read('conv.weight'))).toEqual([1, 2, 3, 4]);
      expect(Array.from(await reader.read('conv.bias'))).toEqual([6, 7, 8]);
      expect(Array.from(await reader.read('half.weight'))).toEqual([0.5, -1.5, 2 ** -24, 1024]);
      expect(Array.from(await reader.read('brain.weight'))).toEqual([-3, 0.25]);
      expect(Array.from(await reader.read('unit.dims'))).toEqual([7, 8]);
      await expect(reader.read('position_ids')).rejects.toThrow(/'position_ids' \[1, 3\] in '.*' has dtype I64, which cannot be read as float32/);
      const ids = await reader.readBytes('position_ids');
      expect(Array.from(new BigInt64Array(ids.buffer, ids.byteOffset, 3), Number)).toEqual([0, 1, 2]);
      await expect(reader.read('conv.wieght')).rejects.toMatchObject({ code: 'not-found', message: expect.stringMatching(/no tensor 'conv\.wieght'.*e\.g\. 'conv\.weight', 'conv\.bias'/) });
    } finally {
      await reader.close();
    }
  });

  it('reads a ZIP64 archive under another prefix and without a byteorder record (older torch)', async () => {
    const path = await write(torchSave({ ...stateDict, zip64: true, prefix: 'diffusion_pytorch_model', byteorder: null }));
    const reader = await TorchBinReader.open(path);
    expect(reader.formatVersion).toBe('3');
    expect(Array.from(await reader.read('conv.bias'))).toEqual([6, 7, 8]);
    await reader.close();
  });

  it('reads the directory and pickle when opened, and only the tensor range when reading one tensor', async () => {
    const n = 1 << 18; // 1 MiB per storage, 8 storages
    const storages = Array.from({ length: 8 }, (_, k) => ({ key: String(k), dtype: 'F32' as const, bytes: f32Bytes(new Float32Array(n).fill(k)) }));
    const tensors = storages.map((s) => ({ name: `block.${s.key}.weight`, storage: s.key, shape: [n / 2, 2] }));
    const path = await write(torchSave({ storages, tensors }));
    const source = countingSource(await openFileSource(path));
    const reader = await TorchBinReader.fromSource(source);
    const opened = source.bytesRead();
    expect(opened).toBeLessThan(64 * 1024 + 4096); // the zip tail search, the directory, data.pkl, local headers
    const info = reader.tensors().find((t) => t.name === 'block.6.weight');
    const values = await reader.read('block.6.weight');
    expect(values.length).toBe(n);
    expect(values.every((v) => v === 6)).toBe(true);
    expect(source.reads.slice(-1)).toEqual([[info?.offset, 4 * n]]);
    expect(source.bytesRead() - opened).toBe(4 * n);
    await reader.close();
  });

  it('lists a non-contiguous view but refuses to read it, naming its strides', async () => {
    const path = await write(torchSave({ ...stateDict, tensors: [{ name: 'transposed', storage: '0', shape: [2, 2], stride: [1, 2] }] }));
    const reader = await TorchBinReader.open(path);
    expect(reader.tensors()[0].shape).toEqual([2, 2]);
    await expect(reader.read('transposed')).rejects.toThrow(/Tensor 'transposed' \[2, 2\] in '.*' is a non-contiguous view \(strides \[1, 2\], row-major would be \[2, 1\]\).*contiguous\(\)/);
    await reader.close();
  });

  it('refuses a storage dtype it cannot convert (complex64) when read', async () => {
    const path = await write(torchSave({ storages: [{ key: '0', dtype: 'C64', bytes: new Uint8Array(16) }], tensors: [{ name: 'z', storage: '0', shape: [2] }] }));
    const reader = await TorchBinReader.open(path);
    expect(reader.tensors()[0].dtype).toBe('C64');
    await expect(reader.read('z')).rejects.toThrow(/'z' \[2\] .* has dtype C64, which cannot be read as float32 \(supported: F32, F16, BF16, F64\)/);
    await reader.close();
  });
});

describe('torch .bin: malformed and hostile files', () => {
  const refuse = async (bytes: Uint8Array, message: RegExp, code?: string): Promise<void> => {
    const path = await write(bytes);
    const error = await TorchBinReader.open(path).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain(path);
    if (code) expect((error as CheckpointError).code).toBe(code);
  };
  const withPickle = (pickle: Uint8Array): Uint8Array => torchSave({ ...stateDict, pickle });

  it('refuses GLOBAL os.system + REDUCE before calling anything', async () => {
    const evil = new PickleWriter().proto().global('os', 'system').str('touch /tmp/pwned').raw(0x85, 0x52, 0x2e).bytes();
    await refuse(withPickle(evil), /forbidden pickle opcode GLOBAL \(os\.system is not a state-dict global; allowed: torch\._utils\._rebuild_tensor_v2.*\) at byte 2: the file may run code; it was not loaded/, 'model-error');
  });

  it('refuses STACK_GLOBAL of builtins.eval (protocol 4 style)', async () => {
    const s = (text: string): number[] => [0x8c, text.length, ...new TextEncoder().encode(text)];
    const evil = new PickleWriter().raw(0x80, 4, ...s('builtins'), 0x94, ...s('eval'), 0x94, 0x93, 0x2e).bytes();
    await refuse(withPickle(evil), /forbidden pickle opcode STACK_GLOBAL \(builtins\.eval is not a state-dict global.*\) at byte 20: the file may run code/);
  });

  it('refuses opcodes outside the state-dict set: INST, NEWOBJ, an unknown byte', async () => {
    const inst = new PickleWriter().proto().raw(0x28, 0x69, ...new TextEncoder().encode('os\nsystem\n'), 0x2e).bytes();
    await refuse(withPickle(inst), /forbidden pickle opcode INST \(0x69: imports and calls a global\) at byte 3: the file may run code; it was not loaded/);
    const newobj = new PickleWriter().proto().global('collections', 'OrderedDict').raw(0x29, 0x81, 0x2e).bytes();
    await refuse(withPickle(newobj), /forbidden pickle opcode NEWOBJ \(0x81: calls a class\) at byte 30/);
    await refuse(withPickle(new PickleWriter().proto().raw(0xff).bytes()), /forbidden pickle opcode 0xff \(not a pickle opcode\) at byte 2/);
  });

  it('refuses REDUCE on an allowed global that is not a constructor, and BUILD on a non-dict', async () => {
    const call = new PickleWriter().proto().global('torch', 'FloatStorage').raw(0x29, 0x52, 0x2e).bytes();
    await refuse(withPickle(call), /forbidden pickle opcode REDUCE \(calls torch\.FloatStorage, which is not a constructor\) at byte 25/);
    const build = new PickleWriter().proto().raw(0x5d, 0x7d, 0x62, 0x2e).bytes();
    await refuse(withPickle(build), /forbidden pickle opcode BUILD \(sets the state of an object that is not a dict\) at byte 4/);
  });

  it('refuses a truncated file', async () => {
    const whole = torchSave(stateDict);
    await refuse(whole.subarray(0, whole.length - 10), /no end-of-central-directory record \(the file is truncated, or not a zip archive\)/, 'corrupt');
    await refuse(whole.subarray(0, 3), /does not start with a zip header/, 'corrupt');
  });

  it('refuses a storage record whose size does not match its element count', async () => {
    const bytes = torchSave({ ...stateDict, storages: stateDict.storages.map((s) => (s.key === '0' ? { ...s, numel: 9 } : s)) });
    await refuse(bytes, /Tensor 'conv\.weight' \[2, 2\] .*storage '0' holds 9 F32 elements \(36 bytes\), but its record has 32 bytes/, 'corrupt');
  });

  it('refuses a view that reaches past its storage, and a missing storage record', async () => {
    await refuse(torchSave({ ...stateDict, tensors: [{ name: 'over', storage: '0', shape: [4], offset: 6 }] }), /Tensor 'over' \[4\] .* reaches element 10 of storage '0', which has 8/);
    // The pickle names storage '9'; the archive around it has no data/9 record.
    const pickle = stateDictPickle([{ key: '9', dtype: 'F32', bytes: f32Bytes([1, 2]) }], [{ name: 'w', storage: '9', shape: [2] }]);
    const noRecord = torchSave({ storages: [], tensors: [], pickle });
    await refuse(noRecord, /Tensor 'w' \[2\] .* uses storage '9', but the archive has no record archive\/data\/9/);
  });

  it('refuses the legacy format, a big-endian archive, and a pickle that is not a state dict', async () => {
    await refuse(new PickleWriter().proto().raw(0x4e, 0x2e).bytes(), /legacy \(pre-1\.6\) format/, 'model-error');
    await refuse(torchSave({ ...stateDict, byteorder: 'big' }), /was saved "big"-endian; only little-endian/, 'model-error');
    await refuse(withPickle(new PickleWriter().proto().raw(0x5d, 0x2e).bytes()), /holds a list, not a state dict.*Save model\.state_dict\(\)/);
  });

  it('refuses a malformed pickle stream by byte offset', async () => {
    await refuse(withPickle(new PickleWriter().proto().raw(0x58, 100, 0, 0, 0, 0x41).bytes()), /pickle \(data\.pkl\) is malformed at byte 2: needs 100 more bytes/, 'corrupt');
    await refuse(withPickle(new PickleWriter().proto().raw(0x68, 7).bytes()), /malformed at byte 2: memo key 7 was never stored/);
  });
});

describe('openCheckpoint', () => {
  it('chooses the reader by magic bytes, whatever the extension', async () => {
    const bin = await write(torchSave(stateDict), 'weights.dat');
    const st = await write(safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [1], bytes: f32Bytes([2]) }]), 'weights2.dat');
    const misnamed = await write(safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [1], bytes: f32Bytes([3]) }]), 'safetensors-named.bin');
    const a = await openCheckpoint(bin);
    const b = await openCheckpoint(st);
    const c = await openCheckpoint(misnamed);
    expect(a).toBeInstanceOf(TorchBinReader);
    expect(Array.from(await b.read('w'))).toEqual([2]);
    expect(Array.from(await c.read('w'))).toEqual([3]);
    await Promise.all([a.close(), b.close(), c.close()]);
    // Neither magic: the extension decides which reader explains the problem.
    await expect(openCheckpoint(await write(new Uint8Array(16), 'zeros.bin'))).rejects.toThrow(/'.*zeros\.bin' is not a PyTorch zip checkpoint/);
    await expect(openCheckpoint(await write(new Uint8Array(16), 'zeros.safetensors'))).rejects.toThrow(/'.*zeros\.safetensors' is not a valid safetensors file/);
  });
});
