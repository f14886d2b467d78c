/**
 * The denoiser's precision per device (host/packs/precision.ts): float16 only for WebGPU with shader-f16 under
 * precision `auto`, converted at open with float32 inputs and outputs; a float16 graph is left as it is.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { denoiserVariant, isFloat16Model, wantsFloat16 } from '../../src-main/host/packs/precision.ts';
import { adapterCheckGraphs } from '../../src-main/host/webgpu-probe-graphs.ts';

const { onnx } = onnxProto;
const f16Adapter = { webgpu: { available: true, shaderF16: true } };
const f32Adapter = { webgpu: { available: true, shaderF16: false } };
let dir: string;
let plainPath: string;
let halfPath: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tessera-precision-'));
  const { plain, half } = adapterCheckGraphs();
  plainPath = join(dir, 'unet.onnx');
  halfPath = join(dir, 'unet-fp16.onnx');
  await writeFile(plainPath, plain.bytes);
  await writeFile(halfPath, half.bytes);
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

describe('denoiser precision', () => {
  it('float16 only on WebGPU with shader-f16 and precision auto', () => {
    expect(wantsFloat16('webgpu', f16Adapter, undefined)).toBe(true);
    expect(wantsFloat16('webgpu', f16Adapter, { webgpu: 'auto' })).toBe(true);
    expect(wantsFloat16('webgpu', f16Adapter, { webgpu: 'fp32' })).toBe(false);
    expect(wantsFloat16('webgpu', f32Adapter, undefined)).toBe(false);
    expect(wantsFloat16('cpu', f16Adapter, undefined)).toBe(false);
    expect(wantsFloat16('cuda', f16Adapter, { cuda: 'auto' })).toBe(false);
  });

  it('converts a float32 graph at open (float32 inputs and outputs) and leaves a float16 one alone', async () => {
    const variant = denoiserVariant(plainPath, f16Adapter, undefined);
    expect(variant).toBeDefined();
    const converted = await variant?.('webgpu');
    expect(converted?.precision).toBe('fp16');
    const bytes = converted?.source;
    if (!(bytes instanceof Uint8Array)) throw new Error('expected converted bytes');
    const model = onnx.ModelProto.decode(bytes);
    expect(isFloat16Model(model)).toBe(true);
    expect(model.graph?.input?.[0].type?.tensorType?.elemType).toBe(1);
    expect(model.graph?.output?.[0].type?.tensorType?.elemType).toBe(1);
    expect(await denoiserVariant(halfPath, f16Adapter, undefined)?.('webgpu')).toEqual({ source: halfPath, precision: 'fp16' });
    expect(await denoiserVariant(plainPath, f16Adapter, undefined)?.('cpu')).toBeUndefined();
    expect(await denoiserVariant(plainPath, f16Adapter, { webgpu: 'fp32' })?.('webgpu')).toBeUndefined();
    expect(isFloat16Model(onnx.ModelProto.decode(adapterCheckGraphs().plain.bytes))).toBe(false);
  });
});
