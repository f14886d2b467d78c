/**
 * The denoiser's precision per device: on a WebGPU adapter with shader-f16, precision `auto` opens the UNet (audioldm)
 * or DiT (stable-audio-3) converted to float16 at open (packs/graph/float16.ts: normalisations, softmax and the
 * timestep embedding stay float32, inputs and outputs float32), as the exporter's `--fp16` does. On the CPU, precision
 * `int8` (asked for, never automatic) opens it with its Linear and Conv layers quantized to int8
 * (packs/graph/quantize.ts; ≈ 1.6–1.9× faster on an AVX-512 VNNI CPU, ≈ 38 dB SNR). Every other graph, and every
 * other provider, runs the pack's graph as it is. A pack whose denoiser is float16 already is left alone.
 */
import { readFile } from 'node:fs/promises';
import onnxProto from 'onnx-proto';
import { INT8_PROVIDERS, type PrecisionPreference } from '../../contract/generation-settings.ts';
import type { ExecutionProvider } from '../../contract/api.ts';
import type { SessionOptions } from '../../engine/runtime/session.ts';
import { convertModelToFloat16 } from '../../packs/graph/float16.ts';
import { quantizeModelInt8 } from '../../packs/graph/quantize.ts';
import type { RuntimeChoice } from '../runtime-probe.ts';

const { onnx } = onnxProto;
const FLOAT16 = 10;

/** True when the model computes in float16 somewhere already (a float16 initializer or Cast to float16). */
export function isFloat16Model(model: onnxProto.onnx.IModelProto): boolean {
  const graph = model.graph;
  if (!graph) return false;
  if ((graph.initializer ?? []).some((t) => t.dataType === FLOAT16)) return true;
  return (graph.node ?? []).some((n) => n.opType === 'Cast' && (n.attribute ?? []).some((a) => a.name === 'to' && Number(a.i) === FLOAT16));
}

/** Whether `provider` runs the denoiser in float16 under `preference` (per provider; `auto` when absent). */
export function wantsFloat16(provider: ExecutionProvider, runtime: Pick<RuntimeChoice, 'webgpu'>, preference: Partial<Record<ExecutionProvider, PrecisionPreference>> | undefined): boolean {
  return provider === 'webgpu' && runtime.webgpu?.shaderF16 === true && (preference?.webgpu ?? 'auto') === 'auto';
}

/**
 * The `variant` of the denoiser's session (engine/runtime/session.ts): its float16 conversion for a provider that
 * wants it. A graph that is float16 already opens as it is and says so; one the converter cannot read (weights in
 * external data files) stays float32.
 */
export function denoiserVariant(path: string, runtime: Pick<RuntimeChoice, 'webgpu'>, preference: Partial<Record<ExecutionProvider, PrecisionPreference>> | undefined): SessionOptions['variant'] {
  return async (provider) => {
    if (wantsInt8(provider, preference)) return int8Variant(path);
    if (!wantsFloat16(provider, runtime, preference)) return undefined;
    const model = onnx.ModelProto.decode(await readFile(path));
    if (isFloat16Model(model)) return { source: path, precision: 'fp16' };
    try {
      convertModelToFloat16(model);
    } catch {
      return undefined;
    }
    return { source: onnx.ModelProto.encode(model).finish(), precision: 'fp16' };
  };
}

/** Whether `provider` runs the denoiser in int8: asked for (`int8`) on a provider with int8 kernels (the CPU). */
export function wantsInt8(provider: ExecutionProvider, preference: Partial<Record<ExecutionProvider, PrecisionPreference>> | undefined): boolean {
  return INT8_PROVIDERS.includes(provider) && preference?.[provider] === 'int8';
}

/**
 * The denoiser quantized to int8 (the graph's first input, the latent, is the activation stream the pass follows). A
 * float16 graph, or one whose weights live in external data files, cannot be quantized here: the session then says
 * why it runs the pack's graph (the variant's error becomes its fallback reason).
 */
async function int8Variant(path: string): Promise<{ source: Uint8Array; precision: 'int8' }> {
  const model = onnx.ModelProto.decode(await readFile(path));
  if (isFloat16Model(model)) throw new Error('int8 needs a float32 denoiser; this pack ships a float16 one (choose precision fp32)');
  quantizeModelInt8(model);
  return { source: onnx.ModelProto.encode(model).finish(), precision: 'int8' };
}
