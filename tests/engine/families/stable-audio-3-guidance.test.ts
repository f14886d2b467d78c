/**
 * Classifier-free guidance of the stable-audio-3 family against the reference's own outputs: the fixture in
 * tests/fixtures/sa3-guidance was computed by Stability-AI/stable-audio-3's DiTWrapper/DiffusionTransformer.forward
 * (its network replaced by recorded velocities; README there), so APG in denoised space, the padding mask, the blend
 * and CFG rescale are checked against that code, not against a formula written here. The unconditional inputs the
 * reference builds (all-zero cross-attention, global_embed kept) are checked on the stand-in's real sessions.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apgGuidance } from '../../../src-main/engine/families/stable-audio-3/guidance.ts';
import { StableAudio3Model as Model, type StableAudio3Model } from '../../../src-main/engine/families/stable-audio-3/model.ts';
import { sliceBatch } from '../../../src-main/engine/tensor/tensor.ts';
import { loadTokenizer } from '../../../src-main/host/packs/load.ts';
import { standinVocabulary } from '../../../src-main/packs/sa3/index.ts';
import { openStandin, standinPack } from '../../helpers/packs.ts';

interface Case {
  name: string;
  C: number;
  T: number;
  t: number;
  cfgScale: number;
  apgScale: number;
  scalePhi: number;
  validFrames: number;
  x: number[];
  vCond: number[];
  vUncond: number[];
  v: number[];
  recorded: { uncondCrossAttnAllZero: boolean | null; uncondGlobalEmbedEqualsCond: boolean | null; innerBatch: number };
}
const fixture = JSON.parse(readFileSync(new URL('../../fixtures/sa3-guidance/cases.json', import.meta.url), 'utf8')) as { cases: Case[] };

describe('apgGuidance matches the reference DiT forward (tests/fixtures/sa3-guidance)', () => {
  const guided = fixture.cases.filter((c) => c.cfgScale !== 1);
  it('the fixture covers the defaults (apg 1, φ 0), plain CFG, the blend and rescale, with masked frames', () => {
    expect(guided.some((c) => c.apgScale === 1 && c.scalePhi === 0)).toBe(true);
    expect(guided.some((c) => c.apgScale === 0)).toBe(true);
    expect(guided.some((c) => c.apgScale === 0.5 && c.scalePhi !== 0)).toBe(true);
    expect(guided.some((c) => c.validFrames < c.T)).toBe(true);
  });

  it.each(guided.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const v = apgGuidance(
      { x: Float32Array.from(c.x), cond: Float32Array.from(c.vCond), uncond: Float32Array.from(c.vUncond), timestep: c.t, scale: c.cfgScale, start: 0, window: c.T, piece: { seconds: 0, frames: c.T, window: c.T } },
      c.validFrames,
      { apgScale: c.apgScale, scalePhi: c.scalePhi },
    );
    let worst = 0;
    for (let i = 0; i < v.length; i++) worst = Math.max(worst, Math.abs(v[i] - c.v[i]) / (1 + Math.abs(c.v[i])));
    expect(worst).toBeLessThan(2e-5);
    // The reference got cond rows first, then uncond rows built from zeros with the same global embedding.
    expect(c.recorded).toMatchObject({ innerBatch: 2, uncondCrossAttnAllZero: true, uncondGlobalEmbedEqualsCond: true });
  });

  it('a window that starts past the valid frames is masked from its first frame (tiled pieces)', () => {
    const c = guided.find((k) => k.apgScale === 1 && k.scalePhi === 0 && k.validFrames < k.T);
    if (!c) throw new Error('fixture lacks a default case with masked frames');
    const input = { x: Float32Array.from(c.x), cond: Float32Array.from(c.vCond), uncond: Float32Array.from(c.vUncond), timestep: c.t, scale: c.cfgScale, window: c.T, piece: { seconds: 0, frames: 100, window: c.T } };
    // The same window 50 frames into a piece whose valid frames end 50 + validFrames in: identical output.
    const shifted = apgGuidance({ ...input, start: 50 }, 50 + c.validFrames);
    const local = apgGuidance({ ...input, start: 0 }, c.validFrames);
    expect(Array.from(shifted)).toEqual(Array.from(local));
  });
});

describe('unconditional rows (the reference: zero cross-attention, global_embed kept)', () => {
  const L = 256;
  const H = 768;
  let model: StableAudio3Model;
  beforeAll(async () => {
    model = await openStandin();
  });
  afterAll(async () => model?.dispose());
  const context = { seconds: 10, frames: 174, window: 174 };

  it('no negative prompt: every cross-attention row is zero, the duration token stays in global_embed', async () => {
    const { rows } = await model.encodeNegatives([''], context);
    const cond = (await model.encodeConditions([''], context)).rows.data;
    const row = rows.data;
    expect(row.subarray(0, (L + 1) * H).every((v) => v === 0)).toBe(true);
    expect(Array.from(row.subarray((L + 1) * H))).toEqual(Array.from(cond.subarray((L + 1) * H)));
    expect(row[(L + 1) * H + H - 1]).toBeCloseTo(10 / 384, 7);
  });

  it('a negative prompt is encoded with its padded rows zero and keeps its duration row', async () => {
    const pack = await standinPack();
    const padding = new Float32Array(H).fill(0.25);
    const withPadding = new Model(pack.manifest, model.sessions, await loadTokenizer(pack), padding);
    const { rows } = await withPadding.encodeNegatives(['rain', ''], context);
    const rain = sliceBatch(rows, 0, 1).data;
    expect(rain[standinVocabulary().indexOf('rain')]).toBe(1);
    expect(rain.subarray(H, L * H).every((v) => v === 0)).toBe(true); // padded rows: zero, not the padding embedding
    expect(rain[L * H + H - 1]).toBeCloseTo(10 / 384, 7); // duration row kept
    expect(sliceBatch(rows, 1, 2).data.subarray(0, (L + 1) * H).every((v) => v === 0)).toBe(true);
    // The conditional rows of the same model do carry the padding embedding in their padded rows.
    const cond = (await withPadding.encodeConditions(['rain'], context)).rows.data;
    expect(Array.from(cond.subarray(H, 2 * H))).toEqual(Array.from(padding));
    expect(Array.from(cond.subarray((L - 1) * H, L * H))).toEqual(Array.from(padding));
  });
});
