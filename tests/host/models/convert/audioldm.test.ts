/**
 * The audioldm-tiny diffusers folder converted in TypeScript (host/models/convert) and opened by the engine
 * reproduces diffusers 0.33.1 stage by stage through the model's own calls (tests/fixtures/audioldm-tiny/README.md
 * §3, tolerances §4): the text embeddings of the prompt, "" and the negative prompt "static", one UNet prediction at
 * timestep 501, one VAE decode and one vocoder run. Also: the manifest the converter fills, progress, cancelling,
 * and a pack whose graphs keep their weights in external-data files.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudioLdmManifest } from '../../../../src-main/contract/manifest.ts';
import type { AudioLdmModel } from '../../../../src-main/engine/families/audioldm/model.ts';
import { f32, sliceBatch } from '../../../../src-main/engine/tensor/tensor.ts';
import type { ConvertStage } from '../../../../src-main/host/models/convert/audioldm.ts';
import { ConvertError } from '../../../../src-main/host/models/convert/errors.ts';
import { openAudioLdmModel, verifyPack } from '../../../../src-main/host/packs/load.ts';
import { convertTiny, expectGolden, goldenF32, tempDir } from './golden.ts';

const PROMPT = 'a dog barks in the rain';

let work: string;
let model: AudioLdmModel;
let manifest: AudioLdmManifest;
let warnings: string[];
const progress: Array<[ConvertStage, number, number]> = [];

beforeAll(async () => {
  work = await tempDir('tessera-convert-');
  const result = await convertTiny(work, 'pack', { onProgress: (stage, done, total) => progress.push([stage, done, total]) });
  warnings = result.warnings;
  if (result.pack.manifest.family !== 'audioldm') throw new Error('expected an audioldm pack');
  manifest = result.pack.manifest;
  model = await openAudioLdmModel(result.pack, { device: 'cpu', intraOpThreads: 1 });
}, 60_000);

afterAll(async () => {
  await model?.dispose();
  await rm(work, { recursive: true, force: true });
});

describe('a converted audioldm-tiny pack through the engine', () => {
  it('encodes the prompt, "" and the negative prompt as diffusers does (L2-normalised CLAP text_embeds)', async () => {
    const { rows } = await model.encodeConditions([PROMPT, '', 'static']);
    expect(rows.dims).toEqual([3, 512]);
    expectGolden(sliceBatch(rows, 0, 2).data, await goldenF32('text_embeds'), 'text_embeds');
    expectGolden(sliceBatch(rows, 2, 3).data, await goldenF32('text_embeds_negative'), 'text_embeds_negative');
  });

  it("predicts diffusers' noise at timestep 501", async () => {
    const eps = await model.predict(f32(await goldenF32('unet_sample'), [2, 8, 64, 16]), 501, f32(await goldenF32('text_embeds'), [2, 512]));
    expectGolden(eps.data, await goldenF32('unet_noise_pred'), 'unet_noise_pred');
  });

  it("decodes diffusers' mel from a scaled latent and vocodes its waveform", async () => {
    const mel = await model.decode(f32(await goldenF32('vae_latent'), [1, 8, 64, 16]));
    expect(mel.dims).toEqual([1, 1, 256, 64]);
    expectGolden(mel.data, await goldenF32('vae_mel'), 'vae_mel');
    const wave = await model.vocode(f32(await goldenF32('vae_mel'), [1, 1, 256, 64]));
    expect(wave.dims).toEqual([1, 160 * 256 + 32]);
    expectGolden(wave.data, await goldenF32('vocoder_waveform'), 'vocoder_waveform');
  });

  it('fills the manifest from the configs as the exporter does', () => {
    expect(manifest.latent).toEqual({ channels: 8, frequencyBins: 16, framesPerSecond: 25, timeMultiple: 8, nativeWindowFrames: 256 });
    expect(manifest.mel).toEqual({ bins: 64, hop: 160, framesPerLatentFrame: 4, vocoderExtraSamples: 32 });
    expect(manifest.vaeScalingFactor).toBe(0.9227914214134216);
    expect(manifest.scheduler).toEqual({
      trainTimesteps: 1000,
      betaStart: 0.0015,
      betaEnd: 0.0195,
      betaSchedule: 'scaled_linear',
      predictionType: 'epsilon',
      timestepSpacing: 'leading',
      stepsOffset: 1,
      setAlphaToOne: false,
    });
    expect(manifest.defaults).toEqual({ steps: 10, guidance: 2.5, sampler: 'ddim', eta: 0 });
    expect(manifest.tokenizer).toMatchObject({ file: 'tokenizer.json', maxLength: 512, padId: 1, unkId: 3 });
    // VAE: 3 levels of 3 resnets, as AudioLDM's (±17 at S's 2 layers per block, the exporter's value); vocoder ±23.
    expect(manifest.decode).toEqual({ vaeHaloLatentFrames: 17, vocoderHaloMelFrames: 23 });
    expect(manifest.licence.name).toBe('CC BY-NC-SA 4.0');
    expect(manifest.description).toMatch(/diffusers' split \(4, 6, 10 heads per level\)/);
  });

  it('reports only unexpected unused tensors (none here) and progress that only grows, ending with the write', async () => {
    expect(warnings).toEqual([]);
    const stages = [...new Set(progress.map(([s]) => s))];
    expect(stages).toEqual(['textEncoder', 'unet', 'vaeDecoder', 'vocoder', 'write']);
    const reads = progress.filter(([s]) => s !== 'write');
    const total = reads[0][2];
    expect(reads.every(([, , t]) => t === total)).toBe(true);
    expect(reads.every(([, d], i) => i === 0 || d >= reads[i - 1][1])).toBe(true);
    expect(reads.at(-1)?.[1]).toBe(total);
    expect(await readFile(join(work, 'pack', 'LICENCE.txt'), 'utf8')).toMatch(/Creative Commons Attribution-NonCommercial-ShareAlike 4\.0/);
  });
});

describe('cancelling a conversion', () => {
  it('stops at the next tensor once the signal fires and writes nothing', async () => {
    const abort = new AbortController();
    const error = await convertTiny(work, 'cancelled', {
      signal: abort.signal,
      onProgress: (stage) => {
        if (stage === 'unet') abort.abort();
      },
    }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ConvertError);
    expect((error as ConvertError).code).toBe('cancelled');
    expect((error as Error).message).toMatch(/cancelled while reading unet; nothing was installed/);
    expect((await readdir(work)).filter((n) => n.startsWith('cancelled'))).toEqual([]);
  });
});

describe('graphs with external data', () => {
  it('moves the weights of graphs over the limit into listed, hashed .data files that load and give the same numbers', async () => {
    const { pack } = await convertTiny(work, 'external', { externalDataAbove: 2_000_000 });
    if (pack.manifest.family !== 'audioldm') throw new Error('expected an audioldm pack');
    const c = pack.manifest.components;
    // Only the UNet (3 MB) is over 2 MB.
    expect(c.unet.externalData?.map((f) => f.file)).toEqual(['unet.onnx.data']);
    expect(c.textEncoder.externalData).toBeUndefined();
    expect((await readFile(join(pack.dir, 'unet.onnx'))).length).toBeLessThan(500_000); // of 3 MB: tensors under 1 KiB stay inside
    await verifyPack(pack.dir);
    const opened = await openAudioLdmModel(pack, { device: 'cpu', intraOpThreads: 1 });
    try {
      const eps = await opened.predict(f32(await goldenF32('unet_sample'), [2, 8, 64, 16]), 501, f32(await goldenF32('text_embeds'), [2, 512]));
      expectGolden(eps.data, await goldenF32('unet_noise_pred'), 'unet_noise_pred (external data)');
    } finally {
      await opened.dispose();
    }
  }, 60_000);
});
