/**
 * Fuzzing parseProject: arbitrary values and mutated valid documents. It must either return a document that obeys
 * every rule (checked by an independent oracle) or throw a ProjectError with a reason; nothing else, ever.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseProject, ProjectError, type ProjectDocument, type Region } from '../../src-main/contract/project.ts';
import { expectValidDocument, region, take } from './project-fixtures.ts';

const RUNS = 1500;

/** parseProject's outcome: the document, or the ProjectError (anything else fails the property). */
function attempt(input: unknown): ProjectDocument | ProjectError {
  try {
    return parseProject(input, 'fuzz.json');
  } catch (e) {
    if (!(e instanceof ProjectError)) throw new Error(`parseProject threw a non-ProjectError: ${String(e)}`, { cause: e });
    expect(e.message.length).toBeGreaterThan(0);
    if (e.code === 'invalid-argument') expect(e.issues.length).toBeGreaterThan(0);
    else expect(['future-version']).toContain(e.code);
    return e;
  }
}

/**
 * Keys that parseProject drops from free-form records on purpose (valibot's record() refuses them, so a project file
 * can never set a prototype); valid documents therefore never contain them. The test below pins that behaviour.
 */
const PROTOTYPE_KEYS = new Set(['__proto__', 'prototype', 'constructor']);
function hasPrototypeKey(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some(hasPrototypeKey);
  return Object.keys(value).some((k) => PROTOTYPE_KEYS.has(k) || hasPrototypeKey((value as Record<string, unknown>)[k]));
}
/** Take parameters as Tessera writes them: JSON without prototype keys. */
const parameters = fc
  .dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 3 })
  .filter((p) => !hasPrototypeKey(p));

const time = fc.double({ min: 0.01, max: 40, noNaN: true, noDefaultInfinity: true });

/** Valid documents: 0–4 tracks, 0–5 regions each, laid out with gaps, some with takes. */
const validProject: fc.Arbitrary<ProjectDocument> = fc
  .record({
    tracks: fc.array(
      fc.array(
        fc.record({
          gap: fc.double({ min: 0, max: 20, noNaN: true, noDefaultInfinity: true }),
          length: time,
          prompt: fc.string({ maxLength: 40 }),
          seed: fc.option(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { nil: null }),
          takes: fc.integer({ min: 0, max: 2 }),
          active: fc.boolean(),
          parameters,
        }),
        { maxLength: 5 },
      ),
      { maxLength: 4 },
    ),
    name: fc.string({ minLength: 1, maxLength: 30 }),
  })
  .map(({ tracks, name }) => {
    const doc: ProjectDocument = {
      schemaVersion: 1,
      name,
      tempo: 120,
      sampleRate: 48000,
      tracks: [],
      regions: {},
      settings: { defaultModel: 'sketch', defaultMethod: 'auto', defaultTransition: 2 },
      createdWith: 'Tessera 0.1.0',
      createdAt: '2025-01-01T00:00:00.000Z',
    };
    tracks.forEach((specs, t) => {
      const trackId = `trk_${t}` as const;
      doc.tracks.push({ id: trackId, name: `T${t}`, colour: '#123456', volumeDb: 0, pan: 0, mute: false, solo: false, stem: true, regionIds: [] });
      let cursor = 0;
      specs.forEach((spec, i) => {
        const id = `rgn_${t}_${i}` as const;
        const start = cursor + spec.gap;
        cursor = start + spec.length;
        const takes = Array.from({ length: spec.takes }, (_, k) => ({
          ...take(`take_${k}`),
          parameters: JSON.parse(JSON.stringify(spec.parameters)) as Region['takes'][number]['parameters'],
        }));
        const r: Region = region(id, trackId, start, cursor, {
          prompt: spec.prompt,
          seed: spec.seed,
          fadeIn: 0,
          fadeOut: 0,
          takes,
          activeTakeId: spec.active && takes.length > 0 ? takes[0].id : null,
        });
        doc.regions[id] = r;
        doc.tracks[t].regionIds.push(id);
      });
    });
    return doc;
  });

type Path = Array<string | number>;

/** Every path to a value inside `root` (objects and arrays included), in a stable order. */
function pathsOf(root: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (root !== null && typeof root === 'object') {
    for (const [key, child] of Object.entries(root)) pathsOf(child, [...prefix, Array.isArray(root) ? Number(key) : key], out);
  }
  return out;
}

function get(root: unknown, path: Path): unknown {
  let node = root;
  for (const key of path) node = (node as Record<string | number, unknown>)[key];
  return node;
}

function containerOf(root: unknown, path: Path): { parent: Record<string | number, unknown> | unknown[]; key: string | number } | null {
  if (path.length === 0) return null;
  const parent = get(root, path.slice(0, -1));
  return parent !== null && typeof parent === 'object' ? { parent: parent as Record<string | number, unknown>, key: path[path.length - 1] } : null;
}

const mutation = fc.record({
  kind: fc.constantFrom('replace', 'delete', 'copy', 'number', 'nudge', 'add-key', 'swap'),
  a: fc.nat(),
  b: fc.nat(),
  value: fc.jsonValue({ maxDepth: 2 }),
  number: fc.oneof(fc.double(), fc.integer({ min: -5, max: 60 }), fc.constantFrom(0, -0, 1e308, Number.MAX_SAFE_INTEGER)),
});

type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

/** Applies one mutation in place (the document is a JSON copy, so anything goes). */
function mutate(doc: unknown, m: Mutation): unknown {
  const paths = pathsOf(doc);
  const pa = paths[m.a % paths.length];
  const pb = paths[m.b % paths.length];
  if (pa.length === 0) return m.kind === 'replace' ? m.value : doc;
  const at = containerOf(doc, pa);
  if (!at) return doc;
  const { parent, key } = at;
  const target = parent as Record<string | number, unknown>;
  switch (m.kind) {
    case 'replace':
      target[key] = m.value;
      break;
    case 'delete':
      if (Array.isArray(parent) && typeof key === 'number') parent.splice(key, 1);
      else delete target[key];
      break;
    case 'copy': // values of other fields: duplicate ids, foreign references, overlapping times
      target[key] = structuredClone(get(doc, pb));
      break;
    case 'number':
      target[key] = m.number;
      break;
    case 'nudge': {
      const current = target[key];
      if (typeof current === 'number') target[key] = current + (m.number % 7);
      break;
    }
    case 'add-key': {
      const node = get(doc, pa);
      if (node !== null && typeof node === 'object' && !Array.isArray(node)) (node as Record<string, unknown>)[`x${m.b % 5}`] = m.value;
      break;
    }
    case 'swap': {
      const other = containerOf(doc, pb);
      if (other) {
        const o = other.parent as Record<string | number, unknown>;
        const tmp = target[key];
        target[key] = o[other.key];
        o[other.key] = tmp;
      }
      break;
    }
  }
  return doc;
}

describe('parseProject under fuzzing', () => {
  it(`valid documents always parse to themselves (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(validProject, (doc) => {
        const parsed = parseProject(JSON.parse(JSON.stringify(doc)), 'valid');
        expect(parsed).toEqual(doc);
        expectValidDocument(parsed);
      }),
      { numRuns: RUNS },
    );
  });

  it('prototype keys in take parameters are dropped, at any depth, and set no prototype', () => {
    const doc = fc.sample(validProject.filter((d) => Object.values(d.regions).some((r) => r.takes.length > 0)), { numRuns: 1, seed: 7 })[0];
    const region = Object.values(doc.regions).find((r) => r.takes.length > 0);
    if (!region) throw new Error('the sample has a region with a take (filtered above)');
    const json = JSON.parse(JSON.stringify(doc)) as ProjectDocument;
    const hostile = '{"keep":1,"__proto__":{"polluted":true},"nested":{"constructor":{"prototype":{"polluted":true}},"x":2}}';
    json.regions[region.id].takes[0].parameters = JSON.parse(hostile) as Region['takes'][number]['parameters'];
    const parsed = parseProject(json, 'hostile');
    expect(parsed.regions[region.id].takes[0].parameters).toEqual({ keep: 1, nested: { x: 2 } });
    expect(Object.getPrototypeOf(parsed.regions[region.id].takes[0].parameters)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it(`arbitrary JSON gives a document or a ProjectError (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.jsonValue(), (json) => {
        const result = attempt(json);
        if (!(result instanceof ProjectError)) expectValidDocument(result);
      }),
      { numRuns: RUNS },
    );
  });

  it(`arbitrary JS values (Maps, Dates, sparse arrays, null prototypes, -0, bigint) never escape as other errors (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(
        fc.anything({
          withBigInt: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withNullPrototype: true,
          withObjectString: true,
          withSparseArray: true,
          withTypedArray: true,
          withBoxedValues: true,
        }),
        (value) => {
          const result = attempt(value);
          if (!(result instanceof ProjectError)) expectValidDocument(result);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it(`mutated valid documents give a valid document or a ProjectError (${RUNS * 2} runs)`, () => {
    let accepted = 0;
    let rejected = 0;
    fc.assert(
      fc.property(validProject, fc.array(mutation, { minLength: 1, maxLength: 3 }), (doc, mutations) => {
        let json: unknown = JSON.parse(JSON.stringify(doc));
        for (const m of mutations) json = mutate(json, m);
        const result = attempt(json);
        if (result instanceof ProjectError) rejected++;
        else {
          accepted++;
          expectValidDocument(result);
        }
      }),
      { numRuns: RUNS * 2 },
    );
    // Both outcomes must actually occur, or the mutations test nothing.
    expect(accepted).toBeGreaterThan(RUNS / 20);
    expect(rejected).toBeGreaterThan(RUNS / 2);
  });

  it('mutations that break a cross-field rule are caught (targeted)', () => {
    fc.assert(
      fc.property(
        validProject.filter((d) => d.tracks.some((t) => t.regionIds.length >= 2)),
        fc.nat(),
        (doc, pick) => {
          const track = doc.tracks.find((t) => t.regionIds.length >= 2);
          if (!track) return;
          const i = pick % (track.regionIds.length - 1);
          const a = doc.regions[track.regionIds[i]];
          const b = doc.regions[track.regionIds[i + 1]];
          b.start = (a.start + a.end) / 2; // now b starts inside a
          if (b.start >= b.end) b.end = b.start + 1;
          const result = attempt(doc);
          expect(result).toBeInstanceOf(ProjectError);
          if (result instanceof ProjectError) expect(result.issues.map((x) => x.path)).toContain(`regions.${b.id}.start`);
        },
      ),
      { numRuns: 300 },
    );
  });
});
