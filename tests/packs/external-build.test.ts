/**
 * Graphs written with their weights in external data while serialising (GraphBuilder.toExternal, BuiltGraph.external):
 * the layout of graphs over protobuf's 2 GB (AudioLDM-L's UNet), byte for byte what externalizing a serialised graph
 * gives, and readable by ONNX Runtime.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSession } from '../../src-main/engine/runtime/session.ts';
import { createRng } from '../../src-main/engine/tensor/rng.ts';
import { f32 } from '../../src-main/engine/tensor/tensor.ts';
import { GraphBuilder } from '../../src-main/packs/graph/builder.ts';
import { externalizeInitializers } from '../../src-main/packs/graph/external-data.ts';
import { createNet, finishNet, linear } from '../../src-main/packs/graph/nn.ts';

/** Two linear layers (64 → 256 → 8): weights of 64 KiB and 8 KiB go external, the biases stay inline. */
function build() {
  const g = new GraphBuilder('mlp');
  const net = createNet(g, createRng(3));
  const x = g.input('x', 'float32', [1, 64]);
  g.output(linear(net, linear(net, x, 64, 256), 256, 8), 'y', 'float32', [1, 8]);
  return finishNet(net, 'test');
}

describe('external data written while serialising', () => {
  it('equals externalizing the serialised graph, and ONNX Runtime reads it', async () => {
    const whole = build().bytes;
    const expected = externalizeInitializers(whole, ['mlp.onnx.data']);
    const built = build();
    const split = built.external?.(['mlp.onnx.data']);
    if (!split) throw new Error('a finished net offers external()');
    expect(Buffer.from(split.graph).equals(Buffer.from(expected.graph))).toBe(true);
    expect(Buffer.from(split.shards['mlp.onnx.data']).equals(Buffer.from(expected.shards['mlp.onnx.data']))).toBe(true);
    expect(split.graph.length).toBeLessThan(whole.length / 4);

    const dir = await mkdtemp(join(tmpdir(), 'tessera-external-'));
    try {
      await writeFile(join(dir, 'mlp.onnx'), split.graph);
      await writeFile(join(dir, 'mlp.onnx.data'), split.shards['mlp.onnx.data']);
      await writeFile(join(dir, 'whole.onnx'), whole);
      const signature = { inputs: [{ name: 'x', type: 'float32' as const, dims: [1, 64] }], outputs: [{ name: 'y', type: 'float32' as const, dims: [1, 8] }] };
      const a = await openSession(join(dir, 'mlp.onnx'), { name: 'external', device: 'cpu', intraOpThreads: 1, expected: signature });
      const b = await openSession(join(dir, 'whole.onnx'), { name: 'whole', device: 'cpu', intraOpThreads: 1, expected: signature });
      try {
        const x = f32(Float32Array.from({ length: 64 }, (_, i) => Math.sin(i)), [1, 64]);
        const ya = (await a.run({ x })).y.data as Float32Array;
        const yb = (await b.run({ x })).y.data as Float32Array;
        expect(Array.from(ya)).toEqual(Array.from(yb));
      } finally {
        await a.dispose();
        await b.dispose();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
