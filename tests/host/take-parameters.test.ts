/**
 * A take's recorded parameters describe an in-context generation by its spans, never by its kept latents' values:
 * once they carried every kept value as JSON, 17 MB per take in project.json and in the WAV's comment tag.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudioLdmModel } from '../../src-main/engine/families/audioldm/model.ts';
import { projectTakeWriter, runPiece, takeParameters } from '../../src-main/host/generation/run-piece.ts';
import type { PieceJob } from '../../src-main/host/generation/plan.ts';
import { openBuiltin } from '../helpers/packs.ts';

describe('take parameters of a generation in context', () => {
  let sketch: AudioLdmModel;
  let dir: string;
  beforeAll(async () => {
    sketch = await openBuiltin('sketch');
    dir = await mkdtemp(join(tmpdir(), 'tessera-params-'));
  });
  afterAll(async () => {
    await sketch?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('keep the spans, rounds and ramp of the context and none of its values', () => {
    const kept = { data: new Float32Array(8 * 200 * 16).fill(0.5), frames: 200, offset: -1, from: 0, to: 4 };
    const params = takeParameters({ id: 'sketch', version: '1' }, { seconds: 8, seed: 3, steps: 3, guidance: 2.5, sampler: 'ddim', eta: 0, prompt: 'low drone', context: { kept: [kept], free: { from: 4, to: 8 }, ramp: 1, rounds: 2 } }, 'cpu');
    expect(params).toEqual({
      generator: 'Tessera',
      model: 'sketch',
      modelVersion: '1',
      seconds: 8,
      seed: 3,
      steps: 3,
      guidance: 2.5,
      sampler: 'ddim',
      eta: 0,
      prompt: 'low drone',
      context: { kept: [{ frames: 200, offset: -1, from: 0, to: 4 }], free: { from: 4, to: 8 }, ramp: 1, rounds: 2 },
      device: 'cpu',
    });
  });

  it('a take generated in context records a small parameter set, and its WAV carries no latent dump', async () => {
    const first = await runPiece(sketch, { modelId: 'sketch', label: 'x', origin: 0, request: { seconds: 8, seed: 1, steps: 3, guidance: 2.5, sampler: 'ddim', eta: 0, prompt: 'low drone' }, slices: [{ start: 0, end: 8, title: 'first' }] } as PieceJob, async () => []);
    const [, , T] = first.result.latent.dims;
    const job = {
      modelId: 'sketch',
      label: 'redo',
      origin: 0,
      request: { seconds: 8, seed: 2, steps: 3, guidance: 2.5, sampler: 'ddim', eta: 0, prompt: 'bright tone', context: { kept: [{ data: first.result.latent.data, frames: T, offset: 0, from: 0, to: 4 }], free: { from: 4, to: 8 }, ramp: 1 } },
      slices: [{ regionId: 'rgn_x', start: 4, end: 8, title: 'redo' }],
    } as PieceJob;
    const { takes } = await runPiece(sketch, job, projectTakeWriter(dir));
    expect(takes).toHaveLength(1);
    const { take } = takes[0];
    expect(JSON.stringify(take.parameters).length).toBeLessThan(2000);
    expect(take.parameters.context).toEqual({ kept: [{ frames: T, offset: 0, from: 0, to: 4 }], free: { from: 4, to: 8 }, ramp: 1 });
    // 4 s of 16 kHz float32 mono: 256 000 bytes of audio plus headers and tags well under 4 KB.
    const wav = join(dir, take.file);
    expect((await stat(wav)).size).toBeLessThan(256_000 + 4096);
    expect((await readFile(wav)).includes(Buffer.from('"kept":[{"frames"'))).toBe(true);
  }, 60_000);
});
