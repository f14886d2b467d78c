import { describe, expect, it } from 'vitest';
import { LIMITS, MAX_PROMPT_CHARS, SAMPLERS as CONTRACT_SAMPLERS, TILING_METHODS } from '../../../src-main/contract/generation-settings.ts';
import type { ProjectDocument } from '../../../src-main/contract/project.ts';
import { applyTakes as contractApplyTakes } from '../../../src-main/contract/takes.ts';
import {
  METHODS,
  SAMPLERS,
  applyTakes,
  deleteTake,
  setActiveTake,
  setRegionFields,
  type RegionFieldsPatch,
} from '../../../src-renderer/model/edits.ts';
import { sampleProject, take } from '../../contract/project-fixtures.ts';
import { roundTrip } from './round-trip.ts';

describe('setRegionFields', () => {
  it.each<[RegionFieldsPatch, string]>([
    [{ prompt: 'thunder' }, 'Edit prompt'],
    [{ negativePrompt: 'noise' }, 'Edit negative prompt'],
    [{ seed: 99 }, 'Change seed'],
    [{ lockedSeed: false }, 'Unlock seed'],
    [{ seed: 5, lockedSeed: true }, 'Lock seed'],
    [{ gainDb: -3 }, 'Change gain'],
    [{ fadeIn: 1 }, 'Change fade-in'],
    [{ fadeOut: 2 }, 'Change fade-out'],
    [{ fadeIn: 1, fadeOut: 2 }, 'Change fades'],
    [{ generation: { model: 'tiny' } }, 'Change model'],
    [{ generation: { steps: 50 } }, 'Change steps'],
    [{ generation: { guidance: 7 } }, 'Change guidance'],
    [{ generation: { sampler: 'dpmpp-2m' } }, 'Change sampler'],
    [{ generation: { eta: 0.5 } }, 'Change eta'],
    [{ generation: { method: 'multidiffusion' } }, 'Change method'],
    [{ generation: { transition: 4 } }, 'Change transition'],
    [{ prompt: 'x', generation: { steps: 3 } }, 'Edit region'],
  ])('%o is labelled %s and sets the fields', (patch, label) => {
    const doc = sampleProject();
    const edit = setRegionFields(doc, 'rgn_a', patch);
    expect(edit.label).toBe(label);
    const { generation, ...fields } = patch;
    const next = roundTrip(doc, edit).regions.rgn_a;
    expect(next).toMatchObject(fields);
    expect(next.generation).toEqual({ ...doc.regions.rgn_a.generation, ...generation });
  });

  it('unlocks a locked seed when the seed is made random, and refuses to lock no seed', () => {
    const doc = sampleProject();
    expect(roundTrip(doc, setRegionFields(doc, 'rgn_a', { seed: null })).regions.rgn_a).toMatchObject({ seed: null, lockedSeed: false });
    expect(() => setRegionFields(doc, 'rgn_b', { lockedSeed: true })).toThrow(/Cannot lock the seed of region 'rgn_b' \("deep organ"\): it has none/);
    expect(() => setRegionFields(doc, 'rgn_a', { seed: null, lockedSeed: true })).toThrow(/set a seed first/);
  });

  it('clamps fades to the region, the fade being set giving way to the other', () => {
    const doc = sampleProject();
    expect(roundTrip(doc, setRegionFields(doc, 'rgn_a', { fadeIn: 20 })).regions.rgn_a).toMatchObject({ fadeIn: 9.5, fadeOut: 0.5 });
    expect(roundTrip(doc, setRegionFields(doc, 'rgn_a', { fadeOut: 20 })).regions.rgn_a).toMatchObject({ fadeIn: 0.5, fadeOut: 9.5 });
    expect(roundTrip(doc, setRegionFields(doc, 'rgn_a', { fadeIn: 8, fadeOut: 8 })).regions.rgn_a).toMatchObject({ fadeIn: 8, fadeOut: 2 });
    // 20.5 − 10 = 10.5, and 0.1 + (10.5 − 0.1) must not exceed 10.5 as parseProject adds it.
    const odd = roundTrip(doc, setRegionFields(doc, 'rgn_b', { fadeIn: 0.1, fadeOut: 99 })).regions.rgn_b;
    expect(odd.fadeIn + odd.fadeOut).toBeLessThanOrEqual(odd.end - odd.start);
    expect(() => setRegionFields(doc, 'rgn_a', { fadeIn: -1 })).toThrow(/Fade-in must be a number of seconds ≥ 0, got -1/);
  });

  it('fits fades where fadeIn + (length − fadeIn) rounds above the length', () => {
    const length = 11.665262338444036;
    const fadeIn = 2.5656455227363777;
    expect(fadeIn + (length - fadeIn)).toBeGreaterThan(length);
    const doc = sampleProject();
    doc.regions.rgn_c = { ...doc.regions.rgn_c, start: 0, end: length };
    const fitted = roundTrip(doc, setRegionFields(doc, 'rgn_c', { fadeIn, fadeOut: 99 })).regions.rgn_c;
    expect(fitted.fadeIn).toBe(fadeIn);
    expect(fitted.fadeOut).toBeCloseTo(length - fadeIn, 12);
  });

  it('refuses values outside the document limits, naming value and range', () => {
    const doc = sampleProject();
    const bad = (patch: RegionFieldsPatch) => () => setRegionFields(doc, 'rgn_a', patch);
    expect(bad({ generation: { steps: 0 } })).toThrow(/Steps must be a whole number from 1 to 1000, got 0/);
    expect(bad({ generation: { steps: 2.5 } })).toThrow(/got 2.5/);
    expect(bad({ generation: { guidance: 101 } })).toThrow(/Guidance must be a number from 0 to 100, got 101/);
    expect(bad({ generation: { sampler: 'euler' as 'ddim' } })).toThrow(`Sampler must be one of ${SAMPLERS.join(', ')}, got euler`);
    expect(bad({ generation: { method: 'magic' as 'auto' } })).toThrow(/Method must be one of multidiffusion, spotdiffusion, auto/);
    expect(bad({ generation: { model: 'Big Model' } })).toThrow(/model pack id.*got Big Model/);
    expect(bad({ seed: -1 })).toThrow(/Seed must be a whole number from 0 to 4294967295, got -1/);
    expect(bad({ gainDb: -130 })).toThrow(/Region gain \(dB\) must be a number from -120 to 24, got -130/);
    expect(bad({ prompt: 'x'.repeat(4001) })).toThrow(/Prompt is 4001 characters long, at most 4000/);
    expect(() => setRegionFields(doc, 'rgn_zz', { prompt: 'x' })).toThrow(/'rgn_zz'/);
    expect([...SAMPLERS]).toEqual(expect.arrayContaining(['ddim', 'dpmpp-2m']));
    expect(METHODS).toContain('auto');
  });
});

describe('takes', () => {
  it('switches the active take', () => {
    const doc = sampleProject();
    const edit = setActiveTake(doc, 'rgn_a', 'take_1');
    expect(edit.label).toBe('Switch take');
    expect(roundTrip(doc, edit).regions.rgn_a.activeTakeId).toBe('take_1');
    expect(() => setActiveTake(doc, 'rgn_a', 'take_9')).toThrow(/Take 'take_9' is not one of the takes of region 'rgn_a'.*\(take_1, take_2\)/);
    expect(() => setActiveTake(doc, 'rgn_b', 'take_1')).toThrow(/\(none\)/);
  });

  it('deletes a take, moving the active one to the newest remaining', () => {
    const doc = sampleProject();
    const edit = deleteTake(doc, 'rgn_a', 'take_2');
    expect(edit.label).toBe('Delete take');
    const once = roundTrip(doc, edit);
    expect(once.regions.rgn_a.takes.map((t) => t.id)).toEqual(['take_1']);
    expect(once.regions.rgn_a.activeTakeId).toBe('take_1');
    expect(roundTrip(once, deleteTake(once, 'rgn_a', 'take_1')).regions.rgn_a.activeTakeId).toBeNull();
    const keep = roundTrip(doc, deleteTake(doc, 'rgn_a', 'take_1')).regions.rgn_a;
    expect(keep.activeTakeId).toBe('take_2');
    expect(() => deleteTake(doc, 'rgn_a', 'take_7')).toThrow(/'take_7'/);
  });

  it('applies generated takes: each becomes active and plays from its start', () => {
    const doc = sampleProject();
    const trimmed = roundTrip(doc, setRegionFields(doc, 'rgn_b', { prompt: 'organ' }));
    const withOffset = { ...trimmed, regions: { ...trimmed.regions, rgn_a: { ...trimmed.regions.rgn_a, takeOffset: 2 } } };
    const edit = applyTakes(withOffset, [
      { regionId: 'rgn_a', take: take('take_3') },
      { regionId: 'rgn_gone', take: take('take_4') },
      { regionId: 'rgn_b', take: take('take_5') },
      { regionId: 'rgn_b', take: take('take_6') },
    ]);
    expect(edit.label).toBe('Generated takes');
    const next = roundTrip(withOffset, edit);
    expect(next.regions.rgn_a.takes.map((t) => t.id)).toEqual(['take_1', 'take_2', 'take_3']);
    expect(next.regions.rgn_a.activeTakeId).toBe('take_3');
    expect(next.regions.rgn_a.takeOffset).toBeUndefined();
    expect(next.regions.rgn_b.takes.map((t) => t.id)).toEqual(['take_5', 'take_6']);
    expect(next.regions.rgn_b.activeTakeId).toBe('take_6');
    expect(Object.keys(next.regions)).toEqual(Object.keys(doc.regions));
  });

  it('ignores a take it already has, so a repeated event changes nothing', () => {
    const doc = sampleProject();
    expect(applyTakes(doc, [{ regionId: 'rgn_a', take: take('take_1') }]).patches).toEqual([]);
  });
});

describe('generation settings from the contract table', () => {
  it('offers exactly the contract’s samplers and methods', () => {
    expect([...SAMPLERS]).toEqual([...CONTRACT_SAMPLERS]);
    expect([...METHODS]).toEqual([...TILING_METHODS]);
  });

  it('accepts each limit’s ends and refuses just past them', () => {
    const doc = sampleProject();
    const set = (generation: RegionFieldsPatch['generation']) => () => setRegionFields(doc, 'rgn_a', { generation });
    for (const name of ['steps', 'guidance', 'eta', 'transition'] as const) {
      const limit = LIMITS[name];
      expect(set({ [name]: limit.min })).not.toThrow();
      expect(set({ [name]: limit.max })).not.toThrow();
      expect(set({ [name]: limit.max + 1 })).toThrow(`got ${limit.max + 1}`);
      expect(set({ [name]: limit.min - 1 })).toThrow(`got ${limit.min - 1}`);
    }
    expect(() => setRegionFields(doc, 'rgn_a', { seed: LIMITS.seed.max })).not.toThrow();
    expect(() => setRegionFields(doc, 'rgn_a', { seed: LIMITS.seed.max + 1 })).toThrow(`from 0 to ${LIMITS.seed.max}`);
    expect(() => setRegionFields(doc, 'rgn_a', { prompt: 'x'.repeat(MAX_PROMPT_CHARS) })).not.toThrow();
  });
});

describe('applyTakes and the host', () => {
  it('makes the same document as the contract’s applyTakes, with patches that touch only the changed fields', () => {
    const doc = sampleProject();
    const withOffset: ProjectDocument = { ...doc, regions: { ...doc.regions, rgn_a: { ...doc.regions.rgn_a, takeOffset: 2 } } };
    const takes = [
      { regionId: 'rgn_a' as const, take: take('take_3') },
      { regionId: 'rgn_b' as const, take: take('take_5') },
    ];
    const edit = applyTakes(withOffset, takes);
    expect(edit.document).toEqual(contractApplyTakes(withOffset, takes));
    expect(new Set(edit.patches.map((p) => p.path.slice(0, 3).join('/')))).toEqual(
      new Set(['regions/rgn_a/takes', 'regions/rgn_a/activeTakeId', 'regions/rgn_a/takeOffset', 'regions/rgn_b/takes', 'regions/rgn_b/activeTakeId']),
    );
    // Regions it did not touch stay the same objects.
    expect(edit.document.regions.rgn_c).toBe(withOffset.regions.rgn_c);
  });
});
