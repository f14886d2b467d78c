/**
 * The pipeline's VAE decoding modes on real sessions: window, estimated (the default where the decoder has GroupNorm
 * and was opened with its rewrite) and shared GroupNorm statistics.
 */
import { describe, expect, it } from 'vitest';
import { InvalidRequestError } from '../../../src-main/engine/errors.ts';
import { AudioLdmModel } from '../../../src-main/engine/families/audioldm/model.ts';
import { checkRequest, textToAudio, type TextToAudioRequest } from '../../../src-main/engine/pipelines/text-to-audio.ts';
import { loadTokenizer, openAudioLdmModel } from '../../../src-main/host/packs/load.ts';
import { builtinPack, openBuiltin, standinPack } from '../../helpers/packs.ts';

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

  it('estimated on shape-s: the default with the rewrite, 2 runs per window chunk, the window plan\'s joins; window mode runs on the same session', async () => {
    const opened = await openAudioLdmModel(await builtinPack('shape-s'), { device: 'cpu', intraOpThreads: 1, sharedStatsDecoder: true });
    const plain = await openBuiltin('shape-s');
    try {
      // The rewrite replaces the original VAE session instead of opening a second one.
      expect(opened.sessions.vaeDecoder).toBe(opened.sharedStatsDecoder && 'session' in opened.sharedStatsDecoder ? opened.sharedStatsDecoder.session : undefined);
      expect(opened.defaultVaeDecode).toBe('estimated');
      expect(plain.defaultVaeDecode).toBe('window');
      // Cores of 32 latent frames, as above; window chunks add a halo of 36 per side, so 4.48 s = 112 frames → 4 chunks.
      const tokenizer = await loadTokenizer(await builtinPack('shape-s'));
      const small = (m: typeof opened): AudioLdmModel => new AudioLdmModel({ ...m.manifest, latent: { ...m.manifest.latent, nativeWindowFrames: 32 } }, m.sessions, tokenizer, m.sharedStatsDecoder);
      const [model, original] = [small(opened), small(plain)];
      const r = { ...request, seconds: 4.48 };
      const chunks: number[] = [];
      const byDefault = await textToAudio(model, r, { onProgress: (p) => p.stage === 'decode' && p.chunks !== undefined && chunks.push(p.chunks) });
      const estimated = await textToAudio(model, { ...r, vaeDecode: 'estimated' });
      const windowed = await textToAudio(model, { ...r, vaeDecode: 'window' });
      const windowedOriginal = await textToAudio(original, r);
      expect(byDefault.vaeDecode).toEqual({ requested: 'estimated', used: 'estimated' });
      expect(windowedOriginal.vaeDecode).toEqual({ requested: 'window', used: 'window' });
      expect(chunks[chunks.length - 1]).toBe(2 * 4);
      expect(estimated.seams.decode).toHaveLength(3);
      expect(Buffer.from(byDefault.audio.buffer).equals(Buffer.from(estimated.audio.buffer))).toBe(true);
      expect(estimated.audio.every(Number.isFinite)).toBe(true);
      expect(estimated.seams.decode).toEqual(windowed.seams.decode);
      let fromWindow = 0;
      let rewriteVsOriginal = 0;
      let peak = 0;
      for (let i = 0; i < windowed.audio.length; i++) {
        fromWindow = Math.max(fromWindow, Math.abs(estimated.audio[i] - windowed.audio[i]));
        rewriteVsOriginal = Math.max(rewriteVsOriginal, Math.abs(windowed.audio[i] - windowedOriginal.audio[i]));
        peak = Math.max(peak, Math.abs(windowedOriginal.audio[i]));
      }
      // Estimated differs from window mode; window mode on the rewritten session is the original's to float32 rounding.
      expect(fromWindow).toBeGreaterThan(1e-3 * peak);
      expect(rewriteVsOriginal).toBeLessThanOrEqual(1e-4 * peak);
    } finally {
      await opened.dispose();
      await plain.dispose();
    }
  });

  it('estimated on a decoder without GroupNorm (sketch) is window decoding bit for bit, and sketch defaults to window', async () => {
    const model = await openAudioLdmModel(await builtinPack('sketch'), { device: 'cpu', intraOpThreads: 1, sharedStatsDecoder: true });
    try {
      expect(model.defaultVaeDecode).toBe('window');
      const a = await textToAudio(model, { ...request, vaeDecode: 'estimated' });
      const b = await textToAudio(model, request);
      expect(Buffer.from(a.audio.buffer).equals(Buffer.from(b.audio.buffer))).toBe(true);
      expect(a.vaeDecode).toMatchObject({ requested: 'estimated', used: 'window', fallbackReason: expect.stringMatching(/estimated-statistics decoding is not available for this model .*no GroupNorm pattern.*decoded in windows/) });
      expect(b.vaeDecode).toEqual({ requested: 'window', used: 'window' });
      expect(a.seams.decode).toEqual(b.seams.decode);
    } finally {
      await model.dispose();
    }
  });

  it('estimated needs the rewrite (a clear error without it) and an audioldm model', async () => {
    const model = await openBuiltin('shape-s');
    try {
      await expect(textToAudio(model, { ...request, vaeDecode: 'estimated' })).rejects.toThrow(/estimated-statistics decoding needs the model opened with it/);
    } finally {
      await model.dispose();
    }
    const standin = (await standinPack()).manifest;
    expect(() => checkRequest(standin, { ...request, sampler: 'pingpong', vaeDecode: 'estimated' })).toThrow(/'estimated' needs GroupNorm statistics that stable-audio-3 decoders do not expose/);
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
