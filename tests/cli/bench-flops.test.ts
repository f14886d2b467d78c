/**
 * cli/bench.ts's arithmetic: FLOPs per stage from the recorded session runs (each distinct feed shape counted once
 * from the graph, every run added) and the table lines that divide them by seconds and by the CPU's peak.
 */
import { describe, expect, it } from 'vitest';
import { flopLines, stageFlops, type RunRecord } from '../../src-main/cli/bench.ts';
import { GraphBuilder } from '../../src-main/packs/graph/builder.ts';

/** y = x · W with W [8, 4]: 2 · rows · 8 · 4 FLOPs for x [rows, 8]. */
function matmulGraph(): Uint8Array {
  const g = new GraphBuilder('mm');
  const x = g.input('x', 'float32', ['R', 8]);
  g.output(g.op('MatMul', [x, g.f32('w', new Float32Array(32), [8, 4])]), 'y', 'float32', ['R', 4]);
  return g.toBytes();
}

describe('stageFlops', () => {
  it('adds every run of a stage, counting each distinct shape from its graph once', async () => {
    const log: RunRecord[] = [
      { session: 'unet', shapes: { x: [2, 8] }, seconds: 0.5 },
      { session: 'unet', shapes: { x: [2, 8] }, seconds: 0.25 },
      { session: 'vaeDecoder', shapes: { x: [3, 8] }, seconds: 1 },
      { session: 'vaeDecoder', shapes: { x: [5, 8] }, seconds: 1 },
    ];
    const read: string[] = [];
    const flops = await stageFlops(log, async (session) => {
      read.push(session);
      return matmulGraph();
    });
    expect(flops.denoise).toEqual({ flops: 2 * (2 * 2 * 8 * 4), runs: 2, ortSeconds: 0.75, unresolved: 0 });
    expect(flops.decode).toEqual({ flops: 2 * 3 * 8 * 4 + 2 * 5 * 8 * 4, runs: 2, ortSeconds: 2, unresolved: 0 });
    expect(flops.encode).toEqual({ flops: 0, runs: 0, ortSeconds: 0, unresolved: 0 });
    // One read per stage that ran, none for stages that did not.
    expect(read).toEqual(['unet', 'vaeDecoder']);
  });
});

describe('flopLines', () => {
  const row = {
    model: 'm',
    steps: 10,
    encode: 0.5,
    denoisePerStep: 2,
    decode: 4,
    vocode: 1,
    unetCall: { seconds: 1, flops: 200e9, batch: 2 },
    flops: {
      encode: { flops: 1e9, runs: 1, ortSeconds: 0.4, unresolved: 0 },
      denoise: { flops: 4000e9, runs: 20, ortSeconds: 19, unresolved: 0 },
      decode: { flops: 400e9, runs: 1, ortSeconds: 3.9, unresolved: 0 },
      vocode: { flops: 50e9, runs: 1, ortSeconds: 0.9, unresolved: 0 },
    },
  };

  it('divides each stage by its wall seconds (denoise: all steps) and the UNet call by its ORT seconds', () => {
    const lines = flopLines(row, 250);
    expect(lines.map((l) => [l[1], l[2], l[4], l[5]])).toEqual([
      ['encode', '1.00', '2.0', '0.8 %'],
      ['denoise', '4000.00', '200.0', '80.0 %'],
      ['decode', '400.00', '100.0', '40.0 %'],
      ['vocode', '50.00', '50.0', '20.0 %'],
      ['UNet call (batch 2)', '200.00', '200.0', '80.0 %'],
    ]);
  });

  it('leaves the share out when the peak is unknown', () => {
    expect(flopLines(row, Number.NaN).every((l) => l[5] === '-')).toBe(true);
  });
});
