import { describe, expect, it } from 'vitest';
import { parseProject } from '../../../src-main/contract/project.ts';
import { setProjectFields } from '../../../src-renderer/model/edits.ts';
import { emptyHistory, push, undo, undoLabel } from '../../../src-renderer/model/history.ts';
import { sampleProject } from '../../contract/project-fixtures.ts';

describe('project edits', () => {
  it('changes name, tempo, sample rate and the defaults of new regions, one labelled undo step each', () => {
    const doc = sampleProject();
    const tempo = setProjectFields(doc, { tempo: 140 });
    expect(tempo.label).toBe('Change tempo');
    expect(tempo.document.tempo).toBe(140);
    const all = setProjectFields(tempo.document, { name: '  Night Drive ', sampleRate: 44100, defaultModel: 'stable-audio-3-standin', defaultMethod: 'multidiffusion', defaultTransition: 4 });
    expect(all.label).toBe('Change project settings');
    expect(all.document).toMatchObject({ name: 'Night Drive', sampleRate: 44100, settings: { defaultModel: 'stable-audio-3-standin', defaultMethod: 'multidiffusion', defaultTransition: 4 } });
    expect(() => parseProject(all.document, 'edited')).not.toThrow();
    let history = push(push(emptyHistory(), tempo), all);
    expect(undoLabel(history)).toBe('Change project settings');
    const back = undo(history, all.document);
    if (!back) throw new Error('nothing to undo');
    history = back.history;
    expect(back.document).toEqual(tempo.document);
    expect(undo(history, back.document)?.document).toEqual(doc);
  });

  it('refuses values outside the document limits, naming the value and the range', () => {
    const doc = sampleProject();
    expect(() => setProjectFields(doc, { tempo: 0 })).toThrow(/Tempo \(BPM\) must be a number from 1 to 999, got 0/);
    expect(() => setProjectFields(doc, { sampleRate: 44100.5 })).toThrow(/Sample rate \(Hz\) must be a whole number from 8000 to 384000/);
    expect(() => setProjectFields(doc, { name: '   ' })).toThrow(/Project name must not be empty/);
    expect(() => setProjectFields(doc, { defaultModel: 'Bad Model' })).toThrow(/'Bad Model' is not a model id/);
    expect(() => setProjectFields(doc, { defaultTransition: 601 })).toThrow(/Default transition \(s\) must be a number from 0 to 600/);
    expect(() => setProjectFields(doc, { defaultMethod: 'granular' as 'auto' })).toThrow(/Default method must be one of/);
  });
});
