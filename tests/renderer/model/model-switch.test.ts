/** Samplers by model family, and switching a region's model with that model's defaults as one undo step. */
import { applyPatches } from 'immer';
import { describe, expect, it } from 'vitest';
import { FAMILY_SETTINGS } from '../../../src-main/contract/generation-settings.ts';
import { parseProject } from '../../../src-main/contract/project.ts';
import {
  FAMILY_SAMPLERS,
  SAMPLERS,
  addRegion,
  changeModel,
  defaultSamplerForFamily,
  defaultSamplerForModel,
  modelDefaults,
  samplerFits,
  samplerFitsModel,
  samplersForFamily,
  samplersForModel,
  type ModelChoice,
} from '../../../src-renderer/model/edits.ts';
import { emptyHistory, push, undo, undoLabel } from '../../../src-renderer/model/history.ts';
import { sampleProject } from '../../contract/project-fixtures.ts';

const MODELS: ModelChoice[] = [
  { id: 'sketch', family: 'audioldm', defaultSteps: 10, defaultGuidance: 2.5 },
  { id: 'stable-audio-3-standin', family: 'stable-audio-3', defaultSteps: 8, defaultGuidance: 1 },
];

describe('samplers by family', () => {
  it('offers DDIM and DPM-Solver++ 2M for AudioLDM, ping-pong for stable-audio-3', () => {
    expect(samplersForFamily('audioldm')).toEqual(['ddim', 'dpmpp-2m']);
    expect(samplersForFamily('stable-audio-3')).toEqual(['pingpong']);
    expect(defaultSamplerForFamily('audioldm')).toBe('ddim');
    expect(defaultSamplerForFamily('stable-audio-3')).toBe('pingpong');
  });

  it('offers every sampler for an unknown family (a model that is not installed) and defaults to DDIM', () => {
    expect(samplersForFamily(undefined)).toEqual(SAMPLERS);
    expect(samplersForFamily('future-family')).toEqual(SAMPLERS);
    // Own keys only: a family called like an Object.prototype member is unknown, not a crash.
    expect(samplersForFamily('constructor')).toEqual(SAMPLERS);
    expect(defaultSamplerForFamily('toString')).toBe('ddim');
    expect(defaultSamplerForFamily(undefined)).toBe('ddim');
  });

  it('says which samplers fit', () => {
    expect(samplerFits('stable-audio-3', 'ddim')).toBe(false);
    expect(samplerFits('stable-audio-3', 'pingpong')).toBe(true);
    expect(samplerFits('audioldm', 'pingpong')).toBe(false);
    expect(samplerFits('audioldm', 'dpmpp-2m')).toBe(true);
    expect(samplerFits(undefined, 'pingpong')).toBe(true);
  });

  it('names only samplers of the contract, each family at least one', () => {
    for (const list of Object.values(FAMILY_SAMPLERS)) {
      expect(list.length).toBeGreaterThan(0);
      for (const s of list) expect(SAMPLERS).toContain(s);
    }
    // Every contract sampler belongs to some family.
    expect(new Set(Object.values(FAMILY_SAMPLERS).flat())).toEqual(new Set(SAMPLERS));
  });
});

describe('modelDefaults', () => {
  it('takes the model’s steps and guidance and its family’s sampler', () => {
    expect(modelDefaults('stable-audio-3-standin', MODELS)).toEqual({ model: 'stable-audio-3-standin', steps: 8, guidance: 1, sampler: 'pingpong' });
    expect(modelDefaults('sketch', MODELS)).toEqual({ model: 'sketch', steps: 10, guidance: 2.5, sampler: 'ddim' });
  });

  it('changes only the id for a model it does not know', () => {
    expect(modelDefaults('missing', MODELS)).toEqual({ model: 'missing' });
  });

  it('leaves out defaults outside the document’s limits instead of refusing the switch', () => {
    const odd: ModelChoice[] = [{ id: 'odd', family: 'audioldm', defaultSteps: 5000, defaultGuidance: 250 }];
    expect(modelDefaults('odd', odd)).toEqual({ model: 'odd', sampler: 'ddim' });
  });
});

describe('changeModel', () => {
  it('switches model, steps, guidance and sampler in one undo step labelled "Change model"', () => {
    const doc = sampleProject();
    doc.regions.rgn_b.generation = { ...doc.regions.rgn_b.generation, steps: 30, guidance: 4, sampler: 'dpmpp-2m' };
    const edit = changeModel(doc, 'rgn_b', 'stable-audio-3-standin', MODELS);
    expect(edit.label).toBe('Change model');
    expect(parseProject(edit.document, 'edit result')).toEqual(edit.document);
    expect(applyPatches(doc, edit.patches)).toEqual(edit.document);
    expect(edit.document.regions.rgn_b.generation).toEqual({ ...doc.regions.rgn_b.generation, model: 'stable-audio-3-standin', steps: 8, guidance: 1, sampler: 'pingpong' });
    // Other regions and fields stay.
    expect(edit.document.regions.rgn_a).toBe(doc.regions.rgn_a);
    expect(edit.document.regions.rgn_b.prompt).toBe(doc.regions.rgn_b.prompt);

    const history = push(emptyHistory(), edit);
    expect(undoLabel(history)).toBe('Change model');
    const undone = undo(history, edit.document);
    expect(undone?.document).toEqual(doc);
    expect(undone?.history && undoLabel(undone.history)).toBeNull();
  });

  it('switches back to AudioLDM with DDIM', () => {
    const doc = sampleProject();
    const there = changeModel(doc, 'rgn_a', 'stable-audio-3-standin', MODELS).document;
    const back = changeModel(there, 'rgn_a', 'sketch', MODELS);
    expect(back.document.regions.rgn_a.generation).toMatchObject({ model: 'sketch', steps: 10, guidance: 2.5, sampler: 'ddim' });
  });
});

describe('addRegion with a model family', () => {
  it('gives a region of a stable-audio-3 default model the ping-pong sampler', () => {
    const doc = sampleProject();
    doc.settings = { ...doc.settings, defaultModel: 'stable-audio-3-standin' };
    const edit = addRegion(doc, { newId: () => 'rgn_new', trackId: 'trk_a', start: 21, end: 25, models: MODELS });
    expect(edit.document.regions.rgn_new.generation).toMatchObject({ model: 'stable-audio-3-standin', steps: 8, guidance: 1, sampler: 'pingpong' });
  });
});

describe('samplers a model reports (ModelInfo.samplers)', () => {
  // A model that runs only one of its family's samplers, listed by the host.
  const DPM_ONLY: ModelChoice = { id: 'dpm-only', family: 'audioldm', defaultSteps: 20, defaultGuidance: 3, samplers: ['dpmpp-2m'] };

  it('win over the family’s, which win over every sampler', () => {
    expect(samplersForModel(DPM_ONLY)).toEqual(['dpmpp-2m']);
    expect(defaultSamplerForModel(DPM_ONLY)).toBe('dpmpp-2m');
    expect(samplerFitsModel(DPM_ONLY, 'ddim')).toBe(false);
    expect(samplersForModel({ family: 'stable-audio-3' })).toEqual(['pingpong']);
    expect(samplersForModel(undefined)).toEqual(SAMPLERS);
    expect(samplerFitsModel(undefined, 'pingpong')).toBe(true);
    expect(defaultSamplerForModel(undefined)).toBe('ddim');
    // An empty list says nothing: the family decides.
    expect(samplersForModel({ family: 'audioldm', samplers: [] })).toEqual(['ddim', 'dpmpp-2m']);
  });

  it('decide the sampler of a model switch and of a new region', () => {
    expect(modelDefaults('dpm-only', [DPM_ONLY])).toEqual({ model: 'dpm-only', steps: 20, guidance: 3, sampler: 'dpmpp-2m' });
    const doc = sampleProject();
    doc.settings = { ...doc.settings, defaultModel: 'dpm-only' };
    const edit = addRegion(doc, { newId: () => 'rgn_new', trackId: 'trk_a', start: 21, end: 25, models: [DPM_ONLY] });
    expect(edit.document.regions.rgn_new.generation.sampler).toBe('dpmpp-2m');
  });

  it('family samplers are the contract’s table', () => {
    for (const [family, settings] of Object.entries(FAMILY_SETTINGS)) expect(FAMILY_SAMPLERS[family]).toEqual(settings.samplers);
  });
});
