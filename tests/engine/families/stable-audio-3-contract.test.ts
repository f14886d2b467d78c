/**
 * Contract variants of Stable Audio 3 bundles, recognised by graph input names (research/stableaudio.md §4.2,
 * §4.5): the known ones map to their tensor names; anything else is refused with the expected and found names,
 * also when real graphs are opened (the graph's own names are checked before its manifest entry).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StableAudio3Model } from '../../../src-main/engine/families/stable-audio-3/model.ts';
import { detectContract, detectDecoder, detectDitVariant, Sa3ContractError } from '../../../src-main/engine/families/stable-audio-3/contract.ts';
import { GraphMismatchError } from '../../../src-main/engine/runtime/session.ts';
import { textToAudio } from '../../../src-main/engine/pipelines/text-to-audio.ts';
import { openModel } from '../../../src-main/host/packs/load.ts';
import { writePack } from '../../../src-main/host/packs/write.ts';
import { GraphBuilder } from '../../../src-main/packs/graph/builder.ts';
import { buildSa3StandinPack } from '../../../src-main/packs/sa3/index.ts';
import type { BuiltPack, StableAudio3ManifestDraft } from '../../../src-main/packs/types.ts';

const COMMUNITY = ['x', 't', 'cross_attn_cond', 'global_embed', 'local_add_cond', 'padding_mask'];
const OFFICIAL = ['x', 't', 't5_hidden', 't5_mask', 'seconds_total', 'local_add_cond'];

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-sa3-contract-'));
});
afterAll(async () => rm(work, { recursive: true, force: true }));

describe('detectDitVariant (names only)', () => {
  it('recognises the community and the official input sets in any order, and takes their single output', () => {
    expect(detectDitVariant('dit', { inputs: COMMUNITY, outputs: ['out'] })).toEqual({ variant: 'community', output: 'out' });
    expect(detectDitVariant('dit', { inputs: [...OFFICIAL].reverse(), outputs: ['velocity'] })).toEqual({ variant: 'official', output: 'velocity' });
    expect(detectDitVariant('dit', { inputs: COMMUNITY, outputs: ['v_pred'] }).output).toBe('v_pred');
  });

  it('names what it found, each variant\'s inputs, and what is missing and unexpected', () => {
    const inputs = COMMUNITY.map((n) => (n === 'global_embed' ? 'global_cond' : n));
    let error: unknown;
    try {
      detectDitVariant('sa3/dit.onnx', { inputs, outputs: ['out'] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Sa3ContractError);
    expect(error).toBeInstanceOf(GraphMismatchError);
    const message = (error as Error).message;
    expect(message).toContain("sa3/dit.onnx: the DiT's inputs match no known Stable Audio 3 contract");
    expect(message).toContain('found: x, t, cross_attn_cond, global_cond, local_add_cond, padding_mask');
    expect(message).toContain('community (community bundles, e.g. lsb/stable-audio-3-small-music-onnx): x, t, cross_attn_cond, global_embed, local_add_cond, padding_mask');
    expect(message).toContain('missing: global_embed; unexpected: global_cond');
    expect(message).toContain('missing: t5_hidden, t5_mask, seconds_total; unexpected: cross_attn_cond, global_cond, padding_mask');
  });

  it('refuses ambiguous outputs, unknown decoders and mixed bundles', () => {
    expect(() => detectDitVariant('dit', { inputs: COMMUNITY, outputs: ['a', 'b'] })).toThrow(/the DiT has outputs a, b; expected a single output, or exactly one of: out, velocity, v/);
    expect(() => detectDecoder('dec', { inputs: ['z'], outputs: ['audio'] })).toThrow(/the decoder's inputs match no known Stable Audio 3 contract.\n {2}found: z\n {2}expected: latents {2}or {2}latent/);
    const text = { inputs: ['input_ids', 'attention_mask'], outputs: ['last_hidden_state'] };
    const decoder = { inputs: ['latents'], outputs: ['audio'] };
    const name = (c: string) => `p/${c}`;
    expect(() => detectContract({ textEncoder: text, dit: { inputs: COMMUNITY, outputs: ['out'] }, decoder }, name)).toThrow(/p\/dit: the community DiT .* needs a number conditioner graph/);
    expect(() => detectContract({ textEncoder: text, numberConditioner: { inputs: ['seconds'], outputs: ['embedding'] }, dit: { inputs: OFFICIAL, outputs: ['velocity'] }, decoder }, name)).toThrow(
      /p\/numberConditioner: the official DiT embeds seconds_total itself/,
    );
  });
});

/** A DiT graph whose inputs are `names` (all float32 [1, …]); it returns x. Enough for ORT to load it. */
function ditWithInputs(names: readonly string[]): Uint8Array {
  const g = new GraphBuilder('renamed_dit');
  const x = g.input('x', 'float32', [1, 256, 'T']);
  for (const n of names) if (n !== 'x') g.input(n, 'float32', [1]);
  g.output(g.op('Identity', [x]), 'out', 'float32', [1, 256, 'T']);
  return g.toBytes();
}

/** The stand-in pack with its DiT replaced by `dit`, the manifest listing `declared` as the DiT's inputs. */
function withDit(dit: Uint8Array, declared: readonly string[]): BuiltPack<StableAudio3ManifestDraft> {
  const built = buildSa3StandinPack({ id: 'sa3-renamed' });
  const manifest = built.manifest;
  const inputs = declared.map((name) => (name === 'x' ? { name, type: 'float32' as const, dims: [1, 256, 'T'] } : { name, type: 'float32' as const, dims: [1] }));
  return { files: { ...built.files, 'dit.onnx': dit }, manifest: { ...manifest, components: { ...manifest.components, dit: { ...manifest.components.dit, inputs } } } };
}

describe('opening real graphs', () => {
  const renamed = COMMUNITY.map((n) => (n === 'global_embed' ? 'global_cond' : n));

  it('a DiT with a renamed input (global_embed → global_cond) is refused with the expected and found names', async () => {
    const pack = await writePack(withDit(ditWithInputs(renamed), renamed), join(work, 'renamed'));
    const error = await openModel(pack, { device: 'cpu', intraOpThreads: 1 }).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(Sa3ContractError);
    expect((error as Error).message).toMatch(/sa3-renamed\/dit.onnx: the DiT's inputs match no known Stable Audio 3 contract.\n {2}found: x, t, cross_attn_cond, global_cond, local_add_cond, padding_mask\n[\s\S]*missing: global_embed; unexpected: global_cond/);
  });

  it('the graph\'s own names are checked, not the manifest\'s: a manifest claiming the community names does not hide the rename', async () => {
    const pack = await writePack(withDit(ditWithInputs(renamed), COMMUNITY), join(work, 'lying'));
    await expect(openModel(pack, { device: 'cpu', intraOpThreads: 1 })).rejects.toThrow(/found: x, t, cross_attn_cond, global_cond, local_add_cond, padding_mask/);
  });

  it('the official variant (t5_hidden, t5_mask, seconds_total; pcm decoder; no number conditioner) generates what the community one does', async () => {
    const official = await openModel(await writePack(buildSa3StandinPack({ variant: 'official', id: 'sa3-official' }), join(work, 'official')), { device: 'cpu', intraOpThreads: 1 });
    const community = await openModel(await writePack(buildSa3StandinPack({ id: 'sa3-community' }), join(work, 'community')), { device: 'cpu', intraOpThreads: 1 });
    try {
      expect('contract' in official && official.contract).toEqual({
        textEncoder: { hidden: 'hidden_states' },
        dit: { variant: 'official', output: 'velocity' },
        decoder: { latents: 'latent', output: 'pcm', layout: 'interleaved-pcm' },
      });
      const request = { seconds: 30, seed: 4, steps: 8, guidance: 1, sampler: 'pingpong' as const, eta: 0, regions: [{ start: 0, end: 15, prompt: 'bell and rain, left' }, { start: 15, end: 30, prompt: 'warm pad' }] };
      const a = await textToAudio(official, request);
      const b = await textToAudio(community, request);
      // Equal on every frame the community DiT attends to; the official contract has no padding_mask, so the frames
      // past the audio plus its headroom (trimmed from the output) may differ.
      if (!(community instanceof StableAudio3Model)) throw new Error('the community stand-in opens as a stable-audio-3 model');
      const [, C, T] = a.latent.dims;
      const valid = community.validFrames({ seconds: 30, frames: T, window: T });
      expect(valid).toBe(387);
      for (let c = 0; c < C; c++) {
        expect(Buffer.from(a.latent.data.slice(c * T, c * T + valid).buffer).equals(Buffer.from(b.latent.data.slice(c * T, c * T + valid).buffer))).toBe(true);
      }
      let worst = 0;
      for (let ch = 0; ch < 2; ch++) for (let i = 0; i < a.channels[ch].length; i++) worst = Math.max(worst, Math.abs(a.channels[ch][i] - b.channels[ch][i]));
      expect(worst).toBeLessThanOrEqual(1 / 32768); // int16 PCM rounding
    } finally {
      await Promise.all([official.dispose(), community.dispose()]);
    }
  });

  it('a DiT with a symbolic batch takes a window batch in one call and gives what the fixed-batch DiT gives row by row', async () => {
    const batched = await openModel(await writePack(buildSa3StandinPack({ ditBatch: 'symbolic', id: 'sa3-batched' }), join(work, 'batched')), { device: 'cpu', intraOpThreads: 1 });
    const fixed = await openModel(await writePack(buildSa3StandinPack({ id: 'sa3-fixed' }), join(work, 'fixed')), { device: 'cpu', intraOpThreads: 1 });
    try {
      if (!(batched instanceof StableAudio3Model) || !(fixed instanceof StableAudio3Model)) throw new Error('stand-ins open as stable-audio-3 models');
      const rowsPerCall = (m: StableAudio3Model): number[] => {
        const seen: number[] = [];
        const dit = m.sessions.dit;
        m.sessions.dit = { ...dit, run: (feeds) => (seen.push(feeds.x.dims[0]), dit.run(feeds)) };
        return seen;
      };
      const batchedRows = rowsPerCall(batched);
      const fixedRows = rowsPerCall(fixed);
      const request = { seconds: 40, seed: 9, steps: 8, guidance: 2, sampler: 'pingpong' as const, eta: 0, prompt: 'rain on the right', tiling: { windowBatch: 4 } };
      const a = await textToAudio(batched, request);
      const b = await textToAudio(fixed, request);
      expect(a.unetRows).toBe(b.unetRows);
      expect(fixedRows.every((r) => r === 1)).toBe(true);
      expect(Math.max(...batchedRows)).toBeGreaterThanOrEqual(4); // several windows × [uncond, cond] per call
      expect(batchedRows.reduce((x, y) => x + y, 0)).toBe(a.unetRows);
      let worst = 0;
      for (let i = 0; i < a.latent.data.length; i++) worst = Math.max(worst, Math.abs(a.latent.data[i] - b.latent.data[i]));
      expect(worst).toBeLessThan(1e-4);
    } finally {
      await Promise.all([batched.dispose(), fixed.dispose()]);
    }
  });
});
