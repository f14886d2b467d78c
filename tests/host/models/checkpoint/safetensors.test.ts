/**
 * The safetensors reader on the audioldm-tiny fixture (tests/fixtures/audioldm-tiny/model, a copy of ../shared/fixtures, README §2) and on
 * files written here: every tensor's shape against the component configs, values against a second route (the header
 * and bytes decoded by hand with DataView), conversions, malformed files, and that a read touches only its range.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openFileSource } from '../../../../src-main/host/models/checkpoint/byte-source.ts';
import { openCheckpoint } from '../../../../src-main/host/models/checkpoint/open.ts';
import { SafetensorsReader } from '../../../../src-main/host/models/checkpoint/safetensors.ts';
import { CheckpointError, type TensorInfo } from '../../../../src-main/host/models/checkpoint/types.ts';
import { bf16Bytes, f16Bytes, f32Bytes, f64Bytes, i64Bytes } from '../../../helpers/torch-writer.ts';
import { countingSource, safetensorsBytes } from './safetensors-writer.ts';
import { AUDIOLDM_TINY } from '../../../helpers/audioldm-fixture.ts';

const MODEL = join(AUDIOLDM_TINY, 'model') + '/';
const FILES = {
  text_encoder: 'text_encoder/model.safetensors',
  unet: 'unet/diffusion_pytorch_model.safetensors',
  vae: 'vae/diffusion_pytorch_model.safetensors',
  vocoder: 'vocoder/model.safetensors',
} as const;

function config(component: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(MODEL, component, 'config.json'), 'utf8')) as Record<string, unknown>;
}

/** The second route: header and F32 data decoded with DataView from the whole file, independent of the reader. */
function byHand(path: string): Map<string, { dtype: string; shape: number[]; values?: Float64Array }> {
  const buf = readFileSync(path);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out = new Map<string, { dtype: string; shape: number[]; values?: Float64Array }>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    let values: Float64Array | undefined;
    if (e.dtype === 'F32') {
      const [begin, end] = e.data_offsets;
      values = new Float64Array((end - begin) / 4);
      for (let i = 0; i < values.length; i++) values[i] = view.getFloat32(8 + n + begin + 4 * i, true);
    }
    out.set(name, { dtype: e.dtype, shape: e.shape, values });
  }
  return out;
}

const params = (list: TensorInfo[], dtype = 'F32'): number => list.filter((t) => t.dtype === dtype).reduce((s, t) => s + t.shape.reduce((p, d) => p * d, 1), 0);

describe('safetensors: the audioldm-tiny fixture', () => {
  beforeAll(() => {
  });

  it('reads every float tensor of all four files, equal to the bytes decoded by hand', async () => {
    for (const file of Object.values(FILES)) {
      const path = join(MODEL, file);
      const expected = byHand(path);
      const reader = await openCheckpoint(path);
      try {
        const list = reader.tensors();
        expect(list.map((t) => t.name)).toEqual([...expected.keys()]); // header order, not sorted
        for (const t of list) {
          const e = expected.get(t.name);
          expect(t.dtype).toBe(e?.dtype);
          expect(t.shape).toEqual(e?.shape);
          if (t.dtype !== 'F32') continue;
          const values = await reader.read(t.name);
          expect(values.length).toBe(e?.values?.length);
          expect(Array.from(values)).toEqual(Array.from(e?.values ?? []));
        }
      } finally {
        await reader.close();
      }
    }
  });

  it('has the parameter counts the fixture README states', async () => {
    const counts: Record<string, number> = {};
    for (const [component, file] of Object.entries(FILES)) {
      const reader = await SafetensorsReader.open(join(MODEL, file));
      counts[component] = params(reader.tensors());
      expect(reader.metadata).toEqual({ format: 'pt' });
      await reader.close();
    }
    // README §2; the vocoder's count excludes its two [64] buffers (mean, scale), which are stored too.
    expect(counts).toEqual({ text_encoder: 323_648, unet: 752_312, vae: 226_193, vocoder: 68_467 + 128 });
  });

  it('has the shapes each component config implies', async () => {
    const unet = config('unet');
    const vae = config('vae');
    const voc = config('vocoder');
    const text = config('text_encoder');
    const shapes = async (file: string): Promise<Map<string, number[]>> => {
      const reader = await SafetensorsReader.open(join(MODEL, file));
      const map = new Map(reader.tensors().map((t) => [t.name, t.shape]));
      await reader.close();
      return map;
    };
    const u = await shapes(FILES.unet);
    const blocks = unet.block_out_channels as number[];
    expect(u.get('conv_in.weight')).toEqual([blocks[0], unet.in_channels, 3, 3]);
    expect(u.get('conv_out.weight')).toEqual([unet.out_channels, blocks[0], 3, 3]);
    expect(u.get('class_embedding.weight')).toEqual([4 * blocks[0], unet.projection_class_embeddings_input_dim]);
    expect(u.get('mid_block.resnets.0.conv1.weight')).toEqual([blocks[3], blocks[3], 3, 3]);
    const v = await shapes(FILES.vae);
    const vb = vae.block_out_channels as number[];
    expect(v.get('encoder.conv_in.weight')).toEqual([vb[0], vae.in_channels, 3, 3]);
    expect(v.get('decoder.conv_in.weight')).toEqual([vb[vb.length - 1], vae.latent_channels, 3, 3]);
    expect(v.get('post_quant_conv.weight')).toEqual([vae.latent_channels, vae.latent_channels, 1, 1]);
    const h = await shapes(FILES.vocoder);
    expect(h.get('conv_pre.weight')).toEqual([voc.upsample_initial_channel, voc.model_in_dim, 7]);
    expect(h.get('mean')).toEqual([voc.model_in_dim]);
    const t = await shapes(FILES.text_encoder);
    expect(t.get('text_model.embeddings.word_embeddings.weight')).toEqual([text.vocab_size, text.hidden_size]);
    expect(t.get('text_model.embeddings.position_embeddings.weight')).toEqual([text.max_position_embeddings, text.hidden_size]);
    expect(t.get('text_model.embeddings.position_ids')).toEqual([1, text.max_position_embeddings]);
  });

  it('refuses an I64 buffer as float32, naming tensor and dtype, and returns its raw bytes', async () => {
    const reader = await SafetensorsReader.open(join(MODEL, FILES.text_encoder));
    try {
      await expect(reader.read('text_model.embeddings.position_ids')).rejects.toThrow(/'text_model\.embeddings\.position_ids' \[1, 514\].*dtype I64.*cannot be read as float32.*readBytes/);
      const bytes = await reader.readBytes('text_model.embeddings.position_ids');
      const ids = new BigInt64Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 8);
      expect(Array.from(ids, Number)).toEqual(Array.from({ length: 514 }, (_, i) => i)); // transformers' arange buffer
      await expect(reader.read('text_model.no_such.weight')).rejects.toThrow(/has no tensor 'text_model\.no_such\.weight'.*e\.g\. 'text_model\./);
    } finally {
      await reader.close();
    }
  });
});

describe('safetensors: written files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tessera-safetensors-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const write = async (name: string, bytes: Uint8Array): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return path;
  };

  it('converts F16, BF16 and F64 to float32 exactly', async () => {
    const half = [0, -0.5, 1.25, 65504, 2 ** -24, -(2 ** -14), 3.140625];
    const brain = [1, -2.5, 1.5 * 2 ** 127, 2 ** -100];
    const double = [0.1, -1e-3, 12345.678];
    const path = await write('dtypes.safetensors', safetensorsBytes([
      { name: 'h', dtype: 'F16', shape: [7], bytes: f16Bytes(half) },
      { name: 'b', dtype: 'BF16', shape: [2, 2], bytes: bf16Bytes(brain) },
      { name: 'd', dtype: 'F64', shape: [3], bytes: f64Bytes(double) },
      { name: 'scalar', dtype: 'F32', shape: [], bytes: f32Bytes([7.5]) },
      { name: 'empty', dtype: 'F32', shape: [0, 4], bytes: new Uint8Array(0) },
    ]));
    const reader = await openCheckpoint(path);
    expect(Array.from(await reader.read('h'))).toEqual(half);
    expect(Array.from(await reader.read('b'))).toEqual(Array.from(Float32Array.from(brain)));
    expect(Array.from(await reader.read('d'))).toEqual(Array.from(Float32Array.from(double)));
    expect(Array.from(await reader.read('scalar'))).toEqual([7.5]);
    expect((await reader.read('empty')).length).toBe(0);
    await reader.close();
    await expect(reader.read('h')).rejects.toThrow(/is closed/);
  });

  it('reads only the header when opened and only the tensor range when reading one tensor', async () => {
    const big = 1 << 18; // 1 MiB of F32 per tensor, 8 tensors
    const tensors = Array.from({ length: 8 }, (_, k) => ({ name: `layer.${k}.weight`, dtype: 'F32', shape: [big], bytes: f32Bytes(new Float32Array(big).fill(k + 0.5)) }));
    const path = await write('big.safetensors', safetensorsBytes(tensors));
    const source = countingSource(await openFileSource(path));
    const reader = await SafetensorsReader.fromSource(source);
    const headerBytes = source.bytesRead();
    expect(headerBytes).toBeLessThan(2048);
    const info = reader.tensors().find((t) => t.name === 'layer.5.weight');
    const values = await reader.read('layer.5.weight');
    expect(values.every((v) => v === 5.5)).toBe(true);
    expect(source.reads.slice(-1)).toEqual([[info?.offset, 4 * big]]);
    expect(source.bytesRead() - headerBytes).toBe(4 * big); // one tensor, not the 8 MiB file
    await reader.close();
  });

  const malformed: [string, () => Uint8Array, RegExp][] = [
    ['truncated data', () => safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [4], bytes: f32Bytes([1, 2, 3, 4]) }]).subarray(0, -3), /tensor 'w' ends at data byte 16, but the file holds only 13 data bytes: the file is truncated.*Download/],
    ['header length beyond the file', () => {
      const b = safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [1], bytes: f32Bytes([1]) }]);
      new DataView(b.buffer).setBigUint64(0, 1n << 40n, true);
      return b;
    }, /header length says 1099511627776 bytes, but the file has only \d+ bytes after it/],
    ['a file shorter than 8 bytes', () => new Uint8Array(5), /has 5 bytes, fewer than the 8-byte header length/],
    ['invalid JSON', () => {
      const b = safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [1], bytes: f32Bytes([1]) }]);
      b[8] = 0x5b; // '[' … never closed as the object it was
      b[9] = 0x7b;
      return b;
    }, /JSON header does not parse/],
    ['wrong byte size for the shape', () => safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [2, 3], bytes: f32Bytes([1, 2, 3, 4, 5]) }]), /tensor 'w' \(F32 \[2, 3\]\) needs 24 bytes, but its data_offsets \[0, 20\] span 20/],
    ['overlapping ranges', () => safetensorsBytes([
      { name: 'a', dtype: 'F32', shape: [2], bytes: f32Bytes([1, 2]) },
      { name: 'b', dtype: 'F32', shape: [2], bytes: f32Bytes([3, 4]) },
    ], (h) => { (h.b as { data_offsets: number[] }).data_offsets = [4, 12]; }), /tensor 'b' starts at data byte 4, inside the previous tensor.*overlap/],
    ['a gap between ranges', () => safetensorsBytes([
      { name: 'a', dtype: 'F32', shape: [1], bytes: f32Bytes([1, 2]) },
    ], (h) => { (h.a as { data_offsets: number[] }).data_offsets = [4, 8]; }), /tensor 'a' starts at data byte 4, leaving a gap after byte 0/],
    ['unexplained trailing bytes', () => {
      const b = safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [1], bytes: f32Bytes([1]) }]);
      const longer = new Uint8Array(b.length + 4);
      longer.set(b);
      return longer;
    }, /the tensors cover 4 data bytes, but the file holds 8: 4 unexplained bytes/],
    ['an unknown dtype', () => safetensorsBytes([{ name: 'w', dtype: 'F12', shape: [1], bytes: f32Bytes([1]) }]), /tensor 'w' in '.*' has unknown dtype "F12" \(known: F64, F32/],
    ['a negative dimension', () => safetensorsBytes([{ name: 'w', dtype: 'F32', shape: [1], bytes: f32Bytes([1]) }], (h) => { (h.w as { shape: number[] }).shape = [-1]; }), /tensor 'w' has shape \[-1\], not a list of non-negative integers/],
  ];
  for (const [what, bytes, message] of malformed) {
    it(`refuses ${what} with a message that names the problem`, async () => {
      const path = await write(`bad-${what.replace(/\W+/g, '-')}.safetensors`, bytes());
      const error = await SafetensorsReader.open(path).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(CheckpointError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toContain(path);
    });
  }

  it('refuses an int64 tensor as float32 and a missing file by name', async () => {
    const path = await write('ints.safetensors', safetensorsBytes([{ name: 'ids', dtype: 'I64', shape: [3], bytes: i64Bytes([1, 2, 3]) }]));
    const reader = await openCheckpoint(path);
    await expect(reader.read('ids')).rejects.toThrow(/Tensor 'ids' \[3\] in '.*ints\.safetensors' has dtype I64/);
    await reader.close();
    await expect(openCheckpoint(join(dir, 'nope.safetensors'))).rejects.toMatchObject({ code: 'not-found', message: expect.stringMatching(/Could not open checkpoint '.*nope\.safetensors'/) });
  });
});
