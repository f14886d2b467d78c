/**
 * Every API method fuzzed with random and malformed payloads (issue 4 §7): each call gets a coded result, an input
 * the schema refuses never reaches the implementation, and the server keeps serving afterwards.
 */
import fc from 'fast-check';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { API_INPUT_SCHEMAS, STUDIO_METHODS, isErrorCode, type StudioInput, type StudioMethod } from '../../../src-main/contract/api.ts';
import { connectStudioApi } from '../../../src-main/contract/rpc/client.ts';
import { serveStudioApi } from '../../../src-main/host/rpc/server.ts';
import { createMemoryTransportPair } from '../../../src-main/contract/rpc/transport.ts';
import { sampleProject } from '../../contract/project-fixtures.ts';
import { createFakeStudio } from './fake-studio.ts';

const RUNS_PER_METHOD = 1000;

/** Plausible values for the API's field names, so that near-valid inputs (one field wrong) are common too. */
const fieldValue = fc.oneof(
  fc.constantFrom('trk_a', 'rgn_a', 'prj_1', 'job_1', '/tmp/x', 'Song', '', 'trk_', 'rgn_ bad', '\0', 'cpu', 'cuda', 'gpu', 'wav16', 'mp3', 'takes/a.wav', -14, -100),
  fc.constantFrom(0, 1, 4, -1, 1.5, 1e9, Number.NaN, true, false, null),
  fc.constant(sampleProject()),
  fc.constant({ ...sampleProject(), tempo: -1 }),
  fc.array(fc.constantFrom('rgn_a', 'rgn_b', 'trk_a', 7), { maxLength: 4 }),
  fc.record({ device: fc.constantFrom('auto', 'cpu', 'tpu'), intraOpThreads: fc.constantFrom(null, 2, 0, 2.5) }, { requiredKeys: [] }),
  fc.anything({ maxDepth: 2 }),
);
const FIELDS = ['dir', 'name', 'projectId', 'document', 'trackId', 'regionIds', 'jobId', 'hard', 'settings', 'accept', 'format', 'loudness', 'path', 'id', 'acceptLicence', 'replace', 'extra'];
const nearValid = fc.dictionary(fc.constantFrom(...FIELDS), fieldValue, { maxKeys: 4 });

/** One valid input per method, the seed of the mutations below. */
const VALID: { [K in StudioMethod]: StudioInput<K> } = {
  createProject: { dir: '/tmp/song', name: 'Song' },
  openProject: { dir: '/tmp/song' },
  saveProject: { projectId: 'prj_1', document: sampleProject() },
  saveProjectAs: { projectId: 'prj_1', dir: '/tmp/song2', document: sampleProject() },
  autosaveProject: { projectId: 'prj_1', document: sampleProject() },
  resolveRecovery: { projectId: 'prj_1', accept: true },
  listProjects: {},
  closeProject: { projectId: 'prj_1' },
  enqueueGeneration: { projectId: 'prj_1', trackId: 'trk_a', regionIds: ['rgn_a'], document: sampleProject() },
  enqueueExport: { projectId: 'prj_1', format: 'flac24', loudness: -14, stems: true },
  resolveAsset: { projectId: 'prj_1', path: 'takes/a.wav' },
  getSystemInfo: {},
  listCatalog: {},
  installModel: { id: 'stable-audio-3-small-music', acceptLicence: true },
  cancelModelInstall: { id: 'stable-audio-3-small-music' },
  importModel: { dir: '/tmp/pack', replace: true },
  removeModel: { id: 'sketch-mirror' },
  cancelJob: { jobId: 'job_1', hard: true },
  listJobs: { projectId: 'prj_1' },
  listModels: {},
  getSettings: {},
  setSettings: { settings: { device: 'cpu', intraOpThreads: null, autosaveSeconds: 60 } },
  ping: {},
};

/** The valid input, or it with one field replaced, removed or added. */
function mutations(method: StudioMethod): fc.Arbitrary<unknown> {
  const base: Record<string, unknown> = { ...VALID[method] };
  const keys = [...Object.keys(base), 'extra'];
  return fc.oneof(
    fc.constant(base),
    fc.tuple(fc.constantFrom(...keys), fieldValue).map(([key, value]) => ({ ...base, [key]: value })),
    fc.constantFrom(...keys).map((key) => Object.fromEntries(Object.entries(base).filter(([k]) => k !== key))),
  );
}

const payloadFor = (method: StudioMethod): fc.Arbitrary<unknown> => fc.oneof(
  { weight: 3, arbitrary: mutations(method) },
  { weight: 2, arbitrary: nearValid },
  { weight: 2, arbitrary: fc.anything({ maxDepth: 3, withNullPrototype: true, withBoxedValues: true, withSparseArray: true }) },
  { weight: 1, arbitrary: fc.constantFrom(undefined, null, [], '', 'x', 0, {}) },
);

/** What the server receives: the payload after the JSON round trip of the argument list. */
function asReceived(value: unknown): unknown {
  const args: unknown = JSON.parse(JSON.stringify([value]));
  return Array.isArray(args) ? args[0] : undefined;
}

describe('fuzzing every method', () => {
  it.each(STUDIO_METHODS.map((m) => [m]))(
    `%s: ${RUNS_PER_METHOD} random payloads all get a coded result; refused ones never reach the implementation`,
    async (method: StudioMethod) => {
      const [a, b] = createMemoryTransportPair();
      const fake = createFakeStudio();
      const errors: unknown[] = [];
      const server = serveStudioApi(a, fake.impl, { onError: (e) => errors.push(e) });
      const client = connectStudioApi(b);
      const call = client.api[method] as (input: unknown) => ReturnType<typeof client.api.ping>;
      let refused = 0;
      await fc.assert(
        fc.asyncProperty(payloadFor(method), async (input) => {
          const before = fake.calls.length;
          const result = await call(input);
          const valid = v.is(API_INPUT_SCHEMAS[method], asReceived(input));
          if (!valid) {
            refused++;
            expect(result.ok).toBe(false);
            if (!result.ok) {
              expect(result.error.code).toBe('invalid-argument');
              expect(result.error.message).toMatch(new RegExp(`^${method}: `));
            }
            expect(fake.calls.length).toBe(before);
          } else {
            expect(fake.calls.length).toBe(before + 1);
            if (!result.ok) expect(isErrorCode(result.error.code)).toBe(true);
          }
        }),
        { numRuns: RUNS_PER_METHOD, seed: 4242 + STUDIO_METHODS.indexOf(method) },
      );
      expect(refused).toBeGreaterThan(RUNS_PER_METHOD / 4);
      expect(refused).toBeLessThan(RUNS_PER_METHOD); // valid inputs were generated too, and reached the implementation
      expect(await client.api.ping({})).toEqual({ ok: true, value: { pong: true, version: '0.1.0' } });
      expect(errors).toEqual([]);
      client.close();
      server.close();
    },
  );

  it('survives 2000 raw garbage messages on the transport and keeps serving', async () => {
    const [a, b] = createMemoryTransportPair();
    const fake = createFakeStudio();
    serveStudioApi(a, fake.impl);
    const raw = fc.oneof(
      fc.string(),
      fc.json(),
      fc.record({ t: fc.constantFrom('q', 's', 'x'), m: fc.oneof(fc.string(), fc.constantFrom('ping', '__proto__', 'toString', 'constructor')), a: fc.anything(), i: fc.option(fc.string()) }).map((m) =>
        JSON.stringify(m),
      ),
    );
    for (const message of fc.sample(raw, { numRuns: 2000, seed: 7 })) b.post(message);
    const client = connectStudioApi(b);
    expect(await client.api.ping({})).toEqual({ ok: true, value: { pong: true, version: '0.1.0' } });
    // Garbage that happened to be a well-formed `ping` call may have reached it; nothing else did.
    expect(fake.calls.every((c) => c.method === 'ping')).toBe(true);
    client.close();
  });

  it('answers unknown and prototype method names with invalid-argument', async () => {
    const [a, b] = createMemoryTransportPair();
    serveStudioApi(a, createFakeStudio().impl);
    const replies: unknown[] = [];
    b.on((data) => replies.push(JSON.parse(data)));
    for (const [i, m] of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'deleteEverything'].entries()) {
      b.post(JSON.stringify({ t: 'q', m, a: [{}], i: `id${i}` }));
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(replies).toHaveLength(5);
    for (const reply of replies) expect(reply).toMatchObject({ t: 's', r: { ok: false, error: { code: 'invalid-argument' } } });
  });
});
