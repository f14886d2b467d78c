/** The demo project shipped in resources/examples: valid, on the sketch model, prompts the sketch pack understands. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseProject } from '../../src-main/contract/project.ts';
import sketchRecipe from '../../resources/packs/sketch/recipe.json' with { type: 'json' };
import { expectValidDocument } from './project-fixtures.ts';

const DEMO = new URL('../../resources/examples/demo-project/project.json', import.meta.url);

describe('demo project', () => {
  const doc = parseProject(JSON.parse(readFileSync(DEMO, 'utf8')), 'resources/examples/demo-project/project.json');

  it('parses and obeys every document rule', () => {
    expectValidDocument(doc);
  });

  it('is a small piece: two or three tracks, about a minute, several regions, no takes yet', () => {
    const regions = Object.values(doc.regions);
    expect(doc.tracks.length).toBeGreaterThanOrEqual(2);
    expect(doc.tracks.length).toBeLessThanOrEqual(3);
    expect(regions.length).toBeGreaterThanOrEqual(4);
    const end = Math.max(...regions.map((r) => r.end));
    expect(end).toBeGreaterThanOrEqual(50);
    expect(end).toBeLessThanOrEqual(75);
    expect(regions.every((r) => r.takes.length === 0 && r.activeTakeId === null)).toBe(true);
  });

  it('uses the sketch model with fixed seeds, and only words of its vocabulary in prompts', () => {
    const vocabulary = new Set(Object.keys(sketchRecipe.words));
    expect(doc.settings.defaultModel).toBe('sketch');
    for (const region of Object.values(doc.regions)) {
      expect(region.generation.model).toBe('sketch');
      expect(region.seed).not.toBeNull();
      const words = `${region.prompt} ${region.negativePrompt}`.toLowerCase().split(/[^a-z]+/).filter(Boolean);
      expect(words.length).toBeGreaterThan(0);
      for (const word of words) expect(vocabulary, `'${word}' in ${region.id}`).toContain(word);
    }
  });
});
