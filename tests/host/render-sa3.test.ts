/**
 * `runPiece` with a stereo model: the stable-audio-3 stand-in's piece is sliced into per-region takes that are
 * 44.1 kHz stereo WAV files (and their peaks), each exactly its region long.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProjectDocument } from '../../src-main/contract/project.ts';
import type { StableAudio3Model } from '../../src-main/engine/families/stable-audio-3/model.ts';
import { applyTakes } from '../../src-main/contract/takes.ts';
import { pieceJob, piecesOf } from '../../src-main/host/generation/plan.ts';
import { projectTakeWriter, runPiece } from '../../src-main/host/generation/run-piece.ts';
import { decodeNpy } from '../../src-main/host/projects/npy.ts';
import { decodeWav } from '../../src-main/host/wav.ts';
import { region, sampleProject } from '../contract/project-fixtures.ts';
import { openStandin } from '../helpers/packs.ts';

let work: string;
let model: StableAudio3Model;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-render-sa3-'));
  model = await openStandin();
});
afterAll(async () => {
  await model?.dispose();
  await rm(work, { recursive: true, force: true });
});

describe('runPiece with the stable-audio-3 stand-in', () => {
  it('writes one 44.1 kHz stereo take per region, left and right as the prompts pan them', async () => {
    const generation = { model: 'stable-audio-3-standin', steps: 8, guidance: 1, sampler: 'pingpong' as const, eta: 0, method: 'auto' as const, transition: 2 };
    const doc: ProjectDocument = {
      ...sampleProject(),
      tracks: [{ ...sampleProject().tracks[0], regionIds: ['rgn_a', 'rgn_b'] }],
      regions: {
        rgn_a: region('rgn_a', 'trk_a', 4, 34, { prompt: 'low drone on the left', negativePrompt: '', generation }),
        rgn_b: region('rgn_b', 'trk_a', 34, 64.5, { prompt: 'bright hiss on the right', negativePrompt: '', generation }),
      },
    };
    const pieces = piecesOf(doc, doc.tracks[0]);
    expect(pieces).toHaveLength(1);
    const previews: number[] = [];
    const { takes, result } = await runPiece(model, pieceJob(pieces[0]), projectTakeWriter(work), { onAudio: (start, channels) => previews.push(start, channels.length) });
    const document = applyTakes(doc, takes);
    expect(takes.map((t) => t.regionId)).toEqual(['rgn_a', 'rgn_b']);
    expect(previews.filter((_, i) => i % 2 === 1).every((n) => n === 2)).toBe(true);
    // The piece's final latent is kept bit for bit beside the takes (stereo DiT latent: [256, T, 1]).
    const latent = decodeNpy(new Uint8Array(await readFile(join(work, takes[0].take.latent?.file ?? ''))), 'latent');
    expect(latent.shape).toEqual(result.latent.dims.slice(1));
    expect(Buffer.from(latent.data.buffer).equals(Buffer.from(result.latent.data.buffer, result.latent.data.byteOffset, result.latent.data.byteLength))).toBe(true);
    const rms = (a: Float32Array): number => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
    const middle = (a: Float32Array): Float32Array => a.subarray(Math.round(a.length * 0.1), Math.round(a.length * 0.9));
    for (const [k, { take, regionId }] of takes.entries()) {
      const r = document.regions[regionId];
      expect(r.activeTakeId).toBe(take.id);
      expect(take.sampleRate).toBe(44100);
      const wav = decodeWav(await readFile(join(work, take.file)));
      expect(wav.sampleRate).toBe(44100);
      expect(wav.channels).toHaveLength(2);
      for (const c of wav.channels) expect(c).toHaveLength(Math.round((r.end - r.start) * 44100));
      const [loud, silent] = k === 0 ? [wav.channels[0], wav.channels[1]] : [wav.channels[1], wav.channels[0]];
      expect(rms(middle(loud))).toBeGreaterThan(0.1);
      expect(rms(middle(silent))).toBe(0);
      expect((await stat(join(work, 'peaks', take.id))).isDirectory()).toBe(true);
    }
  });
});
