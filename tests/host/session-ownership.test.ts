/**
 * Each connection (a browser tab, an Electron window) acts only on the projects it opened or created, or took
 * over under the host's rule (a project whose session went away while its jobs ran goes to the next client that
 * opens it). Another connection's projectId is `not-found` for every method that names a project, and nothing of
 * that project changes.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API_INPUT_SCHEMAS, STUDIO_METHODS, type ApiResult, type StudioEventName, type StudioEvents, type StudioMethod } from '../../src-main/contract/api.ts';
import { parseProject, type ProjectDocument } from '../../src-main/contract/project.ts';
import { createStudioHost, type StudioHost } from '../../src-main/host/studio-host.ts';
import type { StudioSession } from '../../src-main/host/studio/session.ts';
import { region } from '../contract/project-fixtures.ts';
import { TEST_CACHE_DIR } from '../helpers/packs.ts';

let work: string;
let host: StudioHost;
let events: { name: StudioEventName; payload: unknown }[];

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-owner-'));
  events = [];
  host = createStudioHost({ cacheDir: TEST_CACHE_DIR, projectsDir: join(work, 'projects'), settingsFile: null, log: () => undefined, emit: (name, payload) => void events.push({ name, payload }) });
});
afterEach(async () => {
  await host.dispose();
  await rm(work, { recursive: true, force: true });
});

function value<T>(result: ApiResult<T>): T {
  if (!result.ok) throw new Error(`${result.error.code}: ${result.error.message}`);
  return result.value;
}

/** Resolves with the first event named `name` whose payload passes `test`, seen already or to come. */
async function waitFor<K extends StudioEventName>(name: K, test: (p: StudioEvents[K]) => boolean): Promise<StudioEvents[K]> {
  for (;;) {
    const seen = events.find((e) => e.name === name && test(e.payload as StudioEvents[K]));
    if (seen) return seen.payload as StudioEvents[K];
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A document with one region on the first track (sketch, `seconds` long, `steps` steps). */
function withRegion(doc: ProjectDocument, seconds: number, steps: number): ProjectDocument {
  const track = doc.tracks[0];
  const r = region('rgn_1', track.id, 0, seconds, { generation: { model: 'sketch', steps, guidance: 2.5, sampler: 'ddim', eta: 0, method: 'auto', transition: 2 } });
  return parseProject({ ...doc, tracks: [{ ...track, regionIds: [r.id] }], regions: { [r.id]: r } }, 'test document');
}

/** The methods whose input names a project (read from the API's own schemas, so a new one is covered too). */
const PROJECT_METHODS = STUDIO_METHODS.filter((name) => {
  const schema: unknown = API_INPUT_SCHEMAS[name];
  return typeof schema === 'object' && schema !== null && 'entries' in schema && typeof schema.entries === 'object' && schema.entries !== null && 'projectId' in schema.entries;
});

/** Calls `name` on `session` with an input that would succeed for the project's owner. */
function call(session: StudioSession, name: StudioMethod, input: Record<string, unknown>): Promise<ApiResult<unknown>> {
  const method = session.api[name] as (input: unknown) => Promise<ApiResult<unknown>>;
  return method.call(session.api, input);
}

describe('a connection acts only on its own projects', () => {
  it('every method that names a project refuses another connection\'s project with not-found, and the project stays as it was', async () => {
    // resolveAsset names a project too, but is answered for the asset transports, which have no connection: see studio-host.ts.
    expect(PROJECT_METHODS.filter((m) => m !== 'resolveAsset').sort()).toEqual(['autosaveProject', 'closeProject', 'enqueueExport', 'enqueueGeneration', 'listJobs', 'resolveRecovery', 'saveProject', 'saveProjectAs']);
    const owner = host.session();
    const other = host.session();
    const opened = value(await owner.api.createProject({ name: 'Mine' }));
    const saved = await readFile(join(opened.dir, 'project.json'), 'utf8');
    const doc = { ...opened.document, tempo: 77 };
    const inputs: Record<string, Record<string, unknown>> = {
      saveProject: { document: doc },
      saveProjectAs: { dir: join(work, 'stolen'), document: doc },
      autosaveProject: { document: doc },
      resolveRecovery: { accept: false },
      closeProject: {},
      enqueueGeneration: { trackId: opened.document.tracks[0].id, document: withRegion(doc, 1, 1) },
      enqueueExport: { format: 'wav16', outDir: join(work, 'stolen-export') },
      listJobs: {},
    };
    for (const name of PROJECT_METHODS.filter((m) => m !== 'resolveAsset')) {
      await expect(call(other, name, { projectId: opened.projectId, ...inputs[name] }), name).rejects.toMatchObject({
        code: 'not-found',
        message: `project '${opened.projectId}' is not open in this window; open its folder here first (a project that another window has open stays with that window until it closes it)`,
      });
    }
    expect(await readFile(join(opened.dir, 'project.json'), 'utf8')).toBe(saved);
    expect(await stat(join(work, 'stolen')).catch(() => undefined)).toBeUndefined();
    expect(await stat(join(opened.dir, '.tessera', 'autosave.json')).catch(() => undefined)).toBeUndefined();
    expect(events.filter((e) => e.name === 'jobUpdated')).toEqual([]);
    // The owner still has it open and can work on it.
    expect(value(await owner.api.saveProject({ projectId: opened.projectId, document: doc })).tempo).toBe(77);
    value(await owner.api.closeProject({ projectId: opened.projectId }));
  });

  it('jobs: another connection can neither cancel nor list them', async () => {
    const owner = host.session();
    const other = host.session();
    const opened = value(await owner.api.createProject({ name: 'Jobs' }));
    // An export of a project without takes fails at once, in this process: a job without an engine.
    const { jobId } = value(await owner.api.enqueueExport({ projectId: opened.projectId, format: 'wav16' }));
    await waitFor('jobFinished', (f) => f.jobId === jobId);
    await expect(other.api.cancelJob({ jobId })).rejects.toMatchObject({ code: 'not-found', message: `job '${jobId}' is not a job of a project open in this window` });
    expect(value(await other.api.listJobs({}))).toEqual([]);
    expect(value(await owner.api.listJobs({})).map((j) => j.jobId)).toEqual([jobId]);
    value(await owner.api.cancelJob({ jobId }));
    // Unknown jobs keep their own error.
    await expect(other.api.cancelJob({ jobId: 'job_nope' })).rejects.toMatchObject({ code: 'not-found', message: "job 'job_nope' does not exist" });
  });

  it('a closed project is no longer the closing connection\'s either', async () => {
    const owner = host.session();
    const opened = value(await owner.api.createProject({ name: 'Closed' }));
    value(await owner.api.closeProject({ projectId: opened.projectId }));
    await expect(owner.api.saveProject({ projectId: opened.projectId, document: opened.document })).rejects.toMatchObject({ code: 'not-found' });
  });

  it('a project orphaned with a running job belongs to the client that opens it next, and to no other', async () => {
    const first = host.session();
    const opened = value(await first.api.createProject({ name: 'Orphan' }));
    const doc = withRegion(opened.document, 120, 30);
    const { jobId } = value(await first.api.enqueueGeneration({ projectId: opened.projectId, trackId: doc.tracks[0].id, document: doc }));
    await waitFor('jobProgress', (p) => p.jobId === jobId);
    await first.close(); // the tab went away while the job ran: the project stays open, orphaned

    const bystander = host.session();
    await expect(bystander.api.listJobs({ projectId: opened.projectId })).rejects.toMatchObject({ code: 'not-found' });
    await expect(bystander.api.cancelJob({ jobId, hard: true })).rejects.toMatchObject({ code: 'not-found' });

    const heir = host.session();
    const adopted = value(await heir.api.openProject({ dir: opened.dir }));
    expect(adopted.projectId).toBe(opened.projectId);
    expect(value(await heir.api.listJobs({ projectId: adopted.projectId })).map((j) => j.jobId)).toEqual([jobId]);
    value(await heir.api.cancelJob({ jobId, hard: true }));
    await waitFor('jobFinished', (f) => f.jobId === jobId);
    // The bystander did not gain it by the take-over.
    await expect(bystander.api.saveProject({ projectId: adopted.projectId, document: doc })).rejects.toMatchObject({ code: 'not-found' });
    expect(value(await heir.api.saveProject({ projectId: adopted.projectId, document: doc })).regions).toHaveProperty('rgn_1');
  });
});
