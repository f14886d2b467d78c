/** The project document contract: valid documents round-trip; every rule violation is reported by its path. */
import { describe, expect, it } from 'vitest';
import {
  CURRENT_PROJECT_SCHEMA_VERSION,
  createEmptyProject,
  makeId,
  parseProject,
  ProjectError,
  type ProjectDocument,
} from '../../src-main/contract/project.ts';
import { counterIds, expectValidDocument, region, sampleProject, take } from './project-fixtures.ts';

/** Parses and returns the ProjectError, failing the test if parsing succeeds or throws anything else. */
function errorOf(doc: unknown): ProjectError {
  try {
    parseProject(doc, 'test.json');
  } catch (e) {
    expect(e).toBeInstanceOf(ProjectError);
    if (e instanceof ProjectError) return e;
  }
  throw new Error('expected parseProject to fail');
}

function edited(edit: (doc: ProjectDocument) => void): ProjectDocument {
  const doc = sampleProject();
  edit(doc);
  return doc;
}

describe('parseProject: valid documents', () => {
  it('round-trips through JSON unchanged, as a fresh object', () => {
    const doc = sampleProject();
    const parsed = parseProject(JSON.parse(JSON.stringify(doc)), 'sample');
    expect(parsed).toEqual(doc);
    expect(parsed).not.toBe(doc);
    expect(parseProject(JSON.parse(JSON.stringify(parsed)), 'again')).toEqual(parsed);
    expectValidDocument(parsed);
  });

  it('accepts touching regions, an empty project, and a null seed', () => {
    const doc = edited((d) => {
      d.regions.rgn_b.start = d.regions.rgn_a.end;
    });
    expect(parseProject(doc, 'touching').regions.rgn_b.start).toBe(10);
    const empty = createEmptyProject('New', new Date('2025-01-02T03:04:05.000Z'), { newId: counterIds(), createdWith: 'Tessera 0.1.0' });
    expect(empty).toMatchObject({ schemaVersion: CURRENT_PROJECT_SCHEMA_VERSION, name: 'New', createdAt: '2025-01-02T03:04:05.000Z' });
    expect(empty.tracks).toHaveLength(1);
    expect(empty.tracks[0].id).toBe('trk_1');
    expectValidDocument(empty);
  });

  it('makeId refuses a generator that returns a malformed id', () => {
    expect(makeId('rgn', () => 'rgn_ok-1')).toBe('rgn_ok-1');
    expect(() => makeId('rgn', () => 'trk_1')).toThrow(/id generator returned 'trk_1'/);
    expect(() => createEmptyProject('x', new Date(), { newId: () => 'bad id', createdWith: 'Tessera 0.1' })).toThrow(ProjectError);
  });
});

describe('parseProject: each violation names its field', () => {
  const cases: Array<[string, (d: ProjectDocument) => void, string, RegExp]> = [
    ['start not before end', (d) => void (d.regions.rgn_b.end = 10), 'regions.rgn_b.start', /less than end/],
    ['regionIds entry with no region', (d) => d.tracks[1].regionIds.push('rgn_zz'), 'tracks.1.regionIds.1', /names no region/],
    ['region pointing at another track', (d) => void (d.regions.rgn_c.trackId = 'trk_a'), 'tracks.1.regionIds.0', /has trackId 'trk_a'/],
    ['trackId naming no track', (d) => void (d.regions.rgn_c.trackId = 'trk_nope'), 'regions.rgn_c.trackId', /names no track/],
    ['region listed by no track', (d) => void (d.tracks[1].regionIds = []), 'regions.rgn_c.trackId', /does not list this region/],
    ['region listed twice', (d) => d.tracks[0].regionIds.push('rgn_b'), 'tracks.0.regionIds.2', /already listed/],
    ['overlap on one track', (d) => void (d.regions.rgn_b.start = 9.5), 'regions.rgn_b.start', /overlaps region 'rgn_a'/],
    ['activeTakeId not a take', (d) => void (d.regions.rgn_a.activeTakeId = 'take_9'), 'regions.rgn_a.activeTakeId', /none of this region's takes/],
    ['take seconds not finite', (d) => void (d.regions.rgn_a.takes[0].seconds = Infinity), 'regions.rgn_a.takes.0.seconds', /finite/],
    ['take seconds NaN', (d) => void (d.regions.rgn_a.takes[1].seconds = NaN), 'regions.rgn_a.takes.1.seconds', /number/],
    ['duplicate take ids', (d) => void (d.regions.rgn_a.takes[1].id = 'take_1'), 'regions.rgn_a.takes.1.id', /unique/],
    ['duplicate track ids', (d) => void (d.tracks[1].id = 'trk_a'), 'tracks.1.id', /unique/],
    ['region id differing from its key', (d) => void (d.regions.rgn_c.id = 'rgn_d'), 'regions.rgn_c.id', /must equal its key/],
    ['fades longer than the region', (d) => void (d.regions.rgn_c.fadeIn = 27), 'regions.rgn_c.fadeOut', /exceeds the region's length/],
    ['locked seed without a seed', (d) => void (d.regions.rgn_a.seed = null), 'regions.rgn_a.lockedSeed', /needs a seed/],
    ['malformed track id', (d) => void (d.tracks[0].id = 'track-1' as `trk_${string}`), 'tracks.0.id', /"trk_"/],
    ['take file outside takes/', (d) => void (d.regions.rgn_a.takes[0].file = 'takes/../project.json'), 'regions.rgn_a.takes.0.file', /under takes\//],
    ['colour not #rrggbb', (d) => void (d.tracks[0].colour = 'red'), 'tracks.0.colour', /#rrggbb/],
    ['pan out of range', (d) => void (d.tracks[0].pan = 1.5), 'tracks.0.pan', /1/],
    ['unknown sampler', (d) => void ((d.regions.rgn_a.generation as { sampler: string }).sampler = 'euler'), 'regions.rgn_a.generation.sampler', /ddim/],
    ['negative start', (d) => void (d.regions.rgn_a.start = -1), 'regions.rgn_a.start', /0/],
    ['createdAt not ISO', (d) => void (d.createdAt = 'yesterday'), 'createdAt', /ISO 8601/],
  ];
  it.each(cases)('%s → %s', (_label, edit, path, message) => {
    const error = errorOf(edited(edit));
    expect(error.code).toBe('invalid-argument');
    const issue = error.issues.find((i) => i.path === path);
    expect(issue, `issues: ${JSON.stringify(error.issues)}`).toBeDefined();
    expect(issue?.message).toMatch(message);
    expect(error.message).toContain(`${path}: `);
    expect(error.message).toContain('test.json is not a valid Tessera project');
  });

  it('lists every problem at once', () => {
    const error = errorOf(
      edited((d) => {
        d.regions.rgn_b.start = 9; // overlap with rgn_a
        d.regions.rgn_c.activeTakeId = 'take_x';
        d.tracks[1].regionIds.push('rgn_missing');
      }),
    );
    expect(error.issues.map((i) => i.path).sort()).toEqual(['regions.rgn_b.start', 'regions.rgn_c.activeTakeId', 'tracks.1.regionIds.1']);
  });

  it('names unknown and missing fields and bad region keys', () => {
    const doc = JSON.parse(JSON.stringify(sampleProject())) as Record<string, unknown> & { regions: Record<string, unknown> };
    doc.colour = 'x';
    delete doc.tempo;
    doc.regions.bad = region('rgn_bad', 'trk_a', 40, 50);
    const paths = errorOf(doc).issues.map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(['colour', 'tempo', 'regions.bad']));
    expect(errorOf(doc).message).toMatch(/tempo: .*\(missing\)/);
  });

  it('rejects a newer schemaVersion with a future-version error', () => {
    const error = errorOf({ ...sampleProject(), schemaVersion: 7 });
    expect(error.code).toBe('future-version');
    expect(error.message).toMatch(/made by a newer Tessera \(schemaVersion 7 > 1\); update Tessera/);
  });

  it('rejects what is not plain JSON: class instances, cycles, deep nesting, throwing getters', () => {
    const withDate = sampleProject() as unknown as { regions: { rgn_a: { takes: Array<{ parameters: Record<string, unknown> }> } } };
    withDate.regions.rgn_a.takes[0].parameters.when = new Date();
    expect(errorOf(withDate).issues[0]).toMatchObject({ path: 'regions.rgn_a.takes.0.parameters.when' });

    const cyclic = sampleProject() as unknown as { settings: Record<string, unknown> };
    cyclic.settings.self = cyclic;
    expect(errorOf(cyclic).issues[0].message).toMatch(/cycle/);

    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const nested = sampleProject();
    nested.regions.rgn_a.takes[0].parameters.deep = deep as [];
    expect(errorOf(nested).issues[0].message).toMatch(/nested/);

    const getter = { ...sampleProject() };
    Object.defineProperty(getter, 'name', { enumerable: true, get: () => { throw new Error('boom'); } });
    expect(errorOf(getter).message).toMatch(/boom/);

    // Shared (not cyclic) subtrees are allowed, but counted as the tree the schema walks: 2^50 values refused fast.
    let shared: unknown = 0;
    for (let i = 0; i < 50; i++) shared = [shared, shared];
    const dag = sampleProject();
    dag.regions.rgn_a.takes[0].parameters.dag = shared as [];
    expect(errorOf(dag).issues[0]).toMatchObject({ path: '(root)', message: expect.stringMatching(/5000000 values or more/) });
    let small: unknown = 0;
    for (let i = 0; i < 10; i++) small = [small, small];
    dag.regions.rgn_a.takes[0].parameters.dag = small as [];
    expect(parseProject(dag, 'dag').regions.rgn_a.takes[0].parameters.dag).toEqual(JSON.parse(JSON.stringify(small)));
  });

  it('keeps the take parameters as JSON and the region order of each track', () => {
    const doc = edited((d) => {
      d.tracks[0].regionIds.reverse();
      d.regions.rgn_b.takes = [take('take_5')];
    });
    const parsed = parseProject(doc, 'x');
    expect(parsed.tracks[0].regionIds).toEqual(['rgn_b', 'rgn_a']);
    expect(parsed.regions.rgn_b.takes[0].parameters).toEqual(take('take_5').parameters);
  });
});
