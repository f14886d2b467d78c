/**
 * The full-size checkpoint generator of the conversion benchmark (tools/make-audioldm-checkpoint.ts): its configs are
 * ones the converter's parsers accept, and the VAE encoder it lists by hand (the part the converter skips, which only
 * gives the file its real size) is exactly what diffusers saves: the audioldm-tiny fixture's VAE, written by real
 * diffusers, has the same encoder tensors with the same shapes at its widths.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseClapTextConfig, parseHifiGanConfig } from '../../src-main/packs/audioldm/config-text-vocoder.ts';
import { parseUnetConfig, parseVaeConfig } from '../../src-main/packs/audioldm/config-unet-vae.ts';
import { AUDIOLDM_TINY } from '../helpers/audioldm-fixture.ts';
import { audioLdmSConfigs, vaeEncoderTensors } from '../../tools/make-audioldm-checkpoint.ts';

describe('make-audioldm-checkpoint', () => {
  it("lists the VAE encoder and quant_conv exactly as diffusers saves them (the fixture's VAE at widths 8:16:32)", async () => {
    const bytes = await readFile(join(AUDIOLDM_TINY, 'model', 'vae', 'diffusion_pytorch_model.safetensors'));
    const length = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')) as Record<string, { shape: number[] }>;
    const saved = Object.entries(header)
      .filter(([k]) => k.startsWith('encoder.') || k.startsWith('quant_conv.'))
      .map(([k, t]) => `${k} ${t.shape.join('x')}`)
      .sort();
    const listed = vaeEncoderTensors([8, 16, 32], 8, 2)
      .map((t) => `${t.name} ${t.shape.join('x')}`)
      .sort();
    expect(saved.length).toBeGreaterThan(40);
    expect(listed).toEqual(saved);
  });

  it("writes AudioLDM-S's configs at width 128, which the converter's parsers accept", () => {
    const c = audioLdmSConfigs(128);
    expect(parseUnetConfig(c['unet/config.json']).blockOutChannels).toEqual([128, 256, 384, 640]);
    expect(parseVaeConfig(c['vae/config.json']).blockOutChannels).toEqual([128, 256, 512]);
    expect(parseClapTextConfig(c['text_encoder/config.json'])).toMatchObject({ hiddenSize: 768, numHiddenLayers: 12, vocabSize: 50265 });
    expect(parseHifiGanConfig(c['vocoder/config.json'])).toMatchObject({ upsampleInitialChannel: 1024 });
  });
});
