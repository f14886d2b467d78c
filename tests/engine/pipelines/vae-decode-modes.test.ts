/** The pipeline's VAE decoding modes: window (default) and shared GroupNorm statistics, on real sessions. */
import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../../src-main/engine/errors.ts';
import { textToAudio, type TextToAudioRequest } from '../../../src-main/engine/pipelines/text-to-audio.ts';
import { openAudioLdmModel } from '../../../src-main/host/packs/load.ts';
import { builtinPack, openBuiltin } from '../../helpers/packs.ts';

const request: TextToAudioRequest = { prompt: 'rain', seconds: 12, seed: 3, steps: 2, guidance: 2.5, sampler: 'ddim', eta: 0 };

describe('vaeDecode', () => {
  it('shared on shape-s runs every chunk with the piece-wide statistics: same length, finite, different from window mode', async () => {
    const model = await openAudioLdmModel(await builtinPack('shape-s'), { device: 'cpu', intraOpThreads: 1, sharedStatsDecoder: true });
    try {
      expect(model.sharedStatsDecoder && 'layers' in model.sharedStatsDecoder ? model.sharedStatsDecoder.layers.length : 0).toBe(18);
      const chunks: number[] = [];
      const shared = await textToAudio(model, { ...request, vaeDecode: 'shared' }, { onProgress: (p) => p.stage === 'decode' && p.chunks !== undefined && chunks.push(p.chunks) });
      const windowed = await textToAudio(model, { ...request, vaeDecode: 'window' });
      expect(shared.audio.length).toBe(12 * 16000);
      expect(shared.audio.every(Number.isFinite)).toBe(true);
      // 12 s = 304 latent frames → 2 chunks; 18 GroupNorms in one chain → 19 passes.
      expect(chunks[chunks.length - 1]).toBe(2 * 19);
      let diff = 0;
      for (let i = 0; i < shared.audio.length; i++) diff = Math.max(diff, Math.abs(shared.audio[i] - windowed.audio[i]));
      expect(diff).toBeGreaterThan(1e-4);
    } finally {
      await model.dispose();
    }
  });

  it('shared on a decoder without GroupNorm (sketch) is window decoding, which is already exact there', async () => {
    const model = await openAudioLdmModel(await builtinPack('sketch'), { device: 'cpu', intraOpThreads: 1, sharedStatsDecoder: true });
    try {
      expect(model.sharedStatsDecoder && 'unavailable' in model.sharedStatsDecoder ? model.sharedStatsDecoder.unavailable : '').toMatch(/no GroupNorm pattern/);
      const a = await textToAudio(model, { ...request, vaeDecode: 'shared' });
      const b = await textToAudio(model, { ...request, vaeDecode: 'window' });
      expect(Buffer.from(a.audio.buffer).equals(Buffer.from(b.audio.buffer))).toBe(true);
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
