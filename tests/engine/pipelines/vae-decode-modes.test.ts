/** The pipeline's VAE decoding modes: window (default) and shared GroupNorm statistics, on real sessions. */
import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../../src-main/engine/errors.ts';
import { AudioLdmModel } from '../../../src-main/engine/families/audioldm/model.ts';
import { textToAudio, type TextToAudioRequest } from '../../../src-main/engine/pipelines/text-to-audio.ts';
import { loadTokenizer, openAudioLdmModel } from '../../../src-main/host/packs/load.ts';
import { builtinPack, openBuiltin } from '../../helpers/packs.ts';

const request: TextToAudioRequest = { prompt: 'rain', seconds: 12, seed: 3, steps: 2, guidance: 2.5, sampler: 'ddim', eta: 0 };

describe('vaeDecode', () => {
  it('shared on shape-s runs every chunk with the piece-wide statistics: same length, finite, different from window mode', async () => {
    const opened = await openAudioLdmModel(await builtinPack('shape-s'), { device: 'cpu', intraOpThreads: 1, sharedStatsDecoder: true });
    try {
      expect(opened.sharedStatsDecoder && 'layers' in opened.sharedStatsDecoder ? opened.sharedStatsDecoder.layers.length : 0).toBe(18);
      // Chunks of 32 latent frames instead of the native 256, so two chunks cost 2.56 s of audio, not 12 s: the
      // check is the same (every chunk decoded with the piece's statistics) at a tenth of the work.
      const manifest = { ...opened.manifest, latent: { ...opened.manifest.latent, nativeWindowFrames: 32 } };
      const model = new AudioLdmModel(manifest, opened.sessions, await loadTokenizer(await builtinPack('shape-s')), opened.sharedStatsDecoder);
      const small = { ...request, seconds: 2.56 };
      const chunks: number[] = [];
      const shared = await textToAudio(model, { ...small, vaeDecode: 'shared' }, { onProgress: (p) => p.stage === 'decode' && p.chunks !== undefined && chunks.push(p.chunks) });
      const windowed = await textToAudio(model, { ...small, vaeDecode: 'window' });
      expect(shared.audio.length).toBe(2.56 * 16000);
      expect(shared.audio.every(Number.isFinite)).toBe(true);
      // 2.56 s = 64 latent frames → 2 chunks of 32; 18 GroupNorms in one chain → 19 passes.
      expect(chunks[chunks.length - 1]).toBe(2 * 19);
      let diff = 0;
      for (let i = 0; i < shared.audio.length; i++) diff = Math.max(diff, Math.abs(shared.audio[i] - windowed.audio[i]));
      expect(diff).toBeGreaterThan(1e-4);
      // The result says which plan decoded it, and its seams are that plan's chunk joins (one, at 32 frames).
      expect(shared.vaeDecode).toEqual({ requested: 'shared', used: 'shared' });
      expect(windowed.vaeDecode).toEqual({ requested: 'window', used: 'window' });
      expect(shared.seams.decode).toEqual([32 / manifest.latent.framesPerSecond]);
    } finally {
      await opened.dispose();
    }
  });

  it('shared on a decoder without GroupNorm (sketch) is window decoding, which is already exact there', async () => {
    const model = await openAudioLdmModel(await builtinPack('sketch'), { device: 'cpu', intraOpThreads: 1, sharedStatsDecoder: true });
    try {
      expect(model.sharedStatsDecoder && 'unavailable' in model.sharedStatsDecoder ? model.sharedStatsDecoder.unavailable : '').toMatch(/no GroupNorm pattern/);
      const a = await textToAudio(model, { ...request, vaeDecode: 'shared' });
      const b = await textToAudio(model, { ...request, vaeDecode: 'window' });
      expect(Buffer.from(a.audio.buffer).equals(Buffer.from(b.audio.buffer))).toBe(true);
      // …and the result says so, with the reason.
      expect(a.vaeDecode).toMatchObject({ requested: 'shared', used: 'window', fallbackReason: expect.stringMatching(/not available for this model .*no GroupNorm pattern.*decoded in windows/) });
      expect(a.seams.decode).toEqual(b.seams.decode);
    } finally {
      await model.dispose();
    }
  });

  it('asking for shared decoding from a model opened without it is a clear error', async () => {
    const model = await openBuiltin('shape-s');
    try {
      const run = textToAudio(model, { ...request, vaeDecode: 'shared' });
      await expect(run).rejects.toBeInstanceOf(InvalidRequestError);
      await expect(run).rejects.toThrow(/shared-statistics decoding needs the model opened with it/);
      await expect(textToAudio(model, { ...request, vaeDecode: 'exact' as 'shared' })).rejects.toThrow(/VAE decode mode 'exact' is unknown; use one of: window, shared/);
    } finally {
      await model.dispose();
    }
  });
});
