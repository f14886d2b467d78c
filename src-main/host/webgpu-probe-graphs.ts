/**
 * The graphs the WebGPU probe runs (host/webgpu-probe-main.ts), built here with the project's graph builder: a tiny
 * convolution to find an adapter, its float16 conversion to find shader-f16, and the reference workload `auto`
 * times on the CPU and on WebGPU.
 */
import type { CheckGraph } from '../engine/runtime/device-check.ts';
import { GraphBuilder } from '../packs/graph/builder.ts';
import { convertToFloat16 } from '../packs/graph/float16.ts';

/** A fixed pseudo-random sequence in [-scale, scale) (Park–Miller; the same bytes on every machine). */
function values(count: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed;
  for (let i = 0; i < count; i++) {
    s = (s * 16807) % 2147483647;
    out[i] = (s / 2147483647 - 0.5) * 2 * scale;
  }
  return out;
}

/** A 3×3 convolution and ReLU over [1, 8, 4, 4]: the smallest graph that exercises a shader, in float32 and float16. */
export function adapterCheckGraphs(): { plain: CheckGraph; half: CheckGraph } {
  const b = new GraphBuilder('webgpu_adapter_check');
  const x = b.input('x', 'float32', [1, 8, 4, 4]);
  const y = b.op('Conv', [x, b.f32('w', values(8 * 8 * 9, 7, 0.1), [8, 8, 3, 3])], { pads: [1, 1, 1, 1] });
  b.output(b.op('Relu', [y]), 'y', 'float32', [1, 8, 4, 4]);
  const bytes = b.toBytes();
  const feeds = { x: { type: 'float32' as const, data: values(128, 11, 1), dims: [1, 8, 4, 4] } };
  return { plain: { bytes, feeds }, half: { bytes: convertToFloat16(bytes), feeds } };
}

/** The reference workload's shape: UNet-like activations [batch, channels, height, width]. */
export const REFERENCE_SHAPE = [2, 256, 32, 8] as const;

/**
 * The workload `auto` times (about 2 GFLOP, a slice of one UNet call at AudioLDM-S's middle width): three 3×3
 * convolutions with bias and ReLU at 256 channels on [2, 256, 32, 8], then one attention over its 256 positions
 * (x·xᵀ, softmax, ·x: the MatMuls of an attention block).
 */
export function referenceWorkload(): CheckGraph {
  const [n, c, h, w] = REFERENCE_SHAPE;
  const b = new GraphBuilder('webgpu_reference_workload');
  let x = b.input('x', 'float32', [n, c, h, w]);
  for (let i = 0; i < 3; i++) {
    const weight = b.f32('w', values(c * c * 9, 101 + i, 0.02), [c, c, 3, 3]);
    const bias = b.f32('b', values(c, 201 + i, 0.02), [c]);
    x = b.op('Relu', [b.op('Conv', [x, weight, bias], { pads: [1, 1, 1, 1] })]);
  }
  const tokens = b.op('Transpose', [b.op('Reshape', [x, b.i64('shape', [n, c, h * w])])], { perm: [0, 2, 1] });
  const scores = b.op('Softmax', [b.op('MatMul', [tokens, b.op('Transpose', [tokens], { perm: [0, 2, 1] })])], { axis: -1 });
  b.output(b.op('MatMul', [scores, tokens]), 'y', 'float32', [n, h * w, c]);
  return { bytes: b.toBytes(), feeds: { x: { type: 'float32', data: values(n * c * h * w, 301, 1), dims: [n, c, h, w] } } };
}
