/**
 * The whole diffusers AudioLDMPipeline run of the fixture (README §3: "a dog barks in the rain", 2.56 s, 5 DDIM steps,
 * η 0, guidance 2.5, the golden initial latents; with and without the negative prompt "static") reproduced by the
 * engine's textToAudio on the converted pack, through the injected initial latent (RunOptions.initialLatent).
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AudioLdmModel } from '../../../../src-main/engine/families/audioldm/model.ts';
import { InvalidRequestError } from '../../../../src-main/engine/errors.ts';
import { textToAudio, type TextToAudioRequest } from '../../../../src-main/engine/pipelines/text-to-audio.ts';
import { f32 } from '../../../../src-main/engine/tensor/tensor.ts';
import { openAudioLdmModel } from '../../../../src-main/host/packs/load.ts';
import { convertTiny, expectGolden, goldenF32, tempDir } from './golden.ts';

let work: string;
let model: AudioLdmModel;

beforeAll(async () => {
  work = await tempDir('tessera-convert-pipe-');
  const { pack } = await convertTiny(work, 'pack');
  model = await openAudioLdmModel(pack, { device: 'cpu', intraOpThreads: 1 });
}, 60_000);

afterAll(async () => {
  await model?.dispose();
  await rm(work, { recursive: true, force: true });
});

const REQUEST: TextToAudioRequest = { prompt: 'a dog barks in the rain', seconds: 2.56, seed: 0, steps: 5, guidance: 2.5, sampler: 'ddim', eta: 0 };

describe("diffusers' AudioLDMPipeline through the engine on the converted pack", () => {
  it.each([
    ['without a negative prompt', undefined, 'pipe'],
    ['with the negative prompt "static"', 'static', 'pipe_neg'],
  ])('matches the final latent and the audio %s', async (_, negativePrompt, prefix) => {
    const initialLatent = f32(await goldenF32('pipe_initial_latents'), [1, 8, 64, 16]);
    const result = await textToAudio(model, { ...REQUEST, ...(negativePrompt === undefined ? {} : { negativePrompt }) }, { initialLatent });
    expect(result.clamped).toBe(false);
    expectGolden(result.latent.data, await goldenF32(`${prefix}_final_latent`), `${prefix}_final_latent`);
    expect(result.audio.length).toBe(40960);
    expectGolden(result.audio, await goldenF32(`${prefix}_audio`), `${prefix}_audio`);
  }, 30_000);

  it('refuses an initial latent whose dims are not the canvas, naming both', async () => {
    const wrong = f32(new Float32Array(8 * 32 * 16), [1, 8, 32, 16]);
    const error = await textToAudio(model, REQUEST, { initialLatent: wrong }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidRequestError);
    expect((error as InvalidRequestError).field).toBe('initialLatent');
    expect((error as Error).message).toMatch(/dims \[1, 8, 32, 16\] but this generation starts from \[1, 8, 64, 16\]/);
  });

  it('without it, draws x_T from the seed as before (the golden latents give another result)', async () => {
    const result = await textToAudio(model, REQUEST);
    const golden = await goldenF32('pipe_final_latent');
    expect(result.latent.data.some((x, i) => Math.abs(x - golden[i]) > 1)).toBe(true);
  }, 30_000);
});
