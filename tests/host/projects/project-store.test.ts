/** The project store: create/open/save round-trips, save-as, autosave and recovery, bad files left untouched. */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectError, type ProjectDocument } from '../../../src-main/contract/project.ts';
import { projectPaths } from '../../../src-main/host/projects/layout.ts';
import {
  acceptRecovery,
  autosave,
  closeProject,
  createProject,
  discardRecovery,
  openProject,
  pathsOf,
  saveProject,
  saveProjectAs,
} from '../../../src-main/host/projects/project-store.ts';
import { writeTakeFile } from '../../../src-main/host/projects/takes.ts';
import { counterIds, region, sampleProject, take } from '../../contract/project-fixtures.ts';

let work: string;
let n = 0;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-projects-'));
});
afterAll(async () => rm(work, { recursive: true, force: true }));

const fresh = (label: string): string => join(work, `${label}-${++n}`);
const options = { newId: counterIds(), createdWith: 'Tessera 0.1.0', now: () => new Date('2025-04-01T12:00:00.000Z') };

/** Expects `promise` to reject with a ProjectError of `code` and returns it. */
async function rejection(promise: Promise<unknown>, code: ProjectError['code']): Promise<ProjectError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProjectError);
  expect((error as ProjectError).code).toBe(code);
  return error as ProjectError;
}

const sha = async (path: string): Promise<string> => createHash('sha256').update(await readFile(path)).digest('hex');

/** A folder holding `sample` as project.json, not opened. */
async function projectFolder(label: string, doc: unknown = sampleProject()): Promise<string> {
  const dir = fresh(label);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'project.json'), typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2));
  return dir;
}

describe('create, open, save', () => {
  it('creates the folder layout and an empty project, then reopens it identical', async () => {
    const dir = fresh('new');
    const created = await createProject(dir, 'My piece', options);
    expect(created.document).toMatchObject({ name: 'My piece', createdWith: 'Tessera 0.1.0', createdAt: '2025-04-01T12:00:00.000Z' });
    expect((await readdir(dir)).sort()).toEqual(['.tessera', 'peaks', 'project.json', 'takes']);
    expect(await readdir(join(dir, '.tessera'))).toEqual(['lock']);
    await closeProject(created.handle);
    expect(await readdir(join(dir, '.tessera'))).toEqual([]);

    const opened = await openProject(dir);
    expect(opened.document).toEqual(created.document);
    expect(opened).toMatchObject({ recovery: null, migratedFrom: null, staleLockReplaced: false, missingTakes: [], warnings: [] });
    await closeProject(opened.handle);
  });

  it('saves a document and opens exactly it again', async () => {
    const dir = fresh('save');
    const { handle } = await createProject(dir, 'Sample', options);
    const doc = sampleProject();
    await saveProject(handle, doc);
    const text = await readFile(join(dir, 'project.json'), 'utf8');
    expect(JSON.parse(text)).toEqual(doc);
    await closeProject(handle);
    const opened = await openProject(dir);
    expect(opened.document).toEqual(doc);
    expect(opened.missingTakes.sort()).toEqual(['takes/take_1.wav', 'takes/take_2.wav']);
    await closeProject(opened.handle);
  });

  it('refuses to create over a non-empty folder or a file, and an invalid name, without touching them', async () => {
    const dir = await projectFolder('exists');
    const before = await sha(join(dir, 'project.json'));
    expect((await rejection(createProject(dir, 'x', options), 'invalid-argument')).message).toMatch(/already holds a project/);
    expect(await sha(join(dir, 'project.json'))).toBe(before);
    await rejection(createProject(join(dir, 'project.json'), 'x', options), 'invalid-argument');
    const empty = fresh('bad-name');
    await rejection(createProject(empty, '', options), 'invalid-argument');
    await expect(stat(empty)).rejects.toThrow();
  });

  it('refuses an invalid document on save, naming the field, and keeps the saved file', async () => {
    const dir = fresh('invalid-save');
    const { handle } = await createProject(dir, 'x', options);
    const before = await sha(join(dir, 'project.json'));
    const bad = sampleProject();
    bad.regions.rgn_b.start = 5;
    const error = await rejection(saveProject(handle, bad), 'invalid-argument');
    expect(error.issues.map((i) => i.path)).toContain('regions.rgn_b.start');
    expect(await sha(join(dir, 'project.json'))).toBe(before);
    await closeProject(handle);
    await rejection(saveProject(handle, sampleProject()), 'invalid-argument'); // closed handle
  });

  it('gives not-found for a missing folder and a folder without project.json', async () => {
    expect((await rejection(openProject(fresh('missing')), 'not-found')).message).toMatch(/no folder/);
    const dir = fresh('empty');
    await mkdir(dir);
    expect((await rejection(openProject(dir), 'not-found')).message).toMatch(/not a Tessera project: it has no project.json/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('writes take files once and never over an existing one', async () => {
    const dir = fresh('takes');
    const { handle } = await createProject(dir, 'x', options);
    const file = await writeTakeFile(pathsOf(handle), 'take_1.wav', new Uint8Array([1, 2, 3]));
    expect(file).toBe('takes/take_1.wav');
    await rejection(writeTakeFile(pathsOf(handle), 'take_1.wav', new Uint8Array([9])), 'invalid-argument');
    await rejection(writeTakeFile(pathsOf(handle), '../evil.wav', new Uint8Array([9])), 'invalid-argument');
    expect([...(await readFile(join(dir, file)))]).toEqual([1, 2, 3]);
    expect(await readdir(join(dir, 'takes'))).toEqual(['take_1.wav']);
    await closeProject(handle);
  });
});

describe('save as', () => {
  it('copies takes and peaks, writes the document, and moves the lock to the new folder', async () => {
    const dir = fresh('orig');
    const { handle } = await createProject(dir, 'x', options);
    const doc = sampleProject();
    for (const t of doc.regions.rgn_a.takes) await writeTakeFile(pathsOf(handle), `${t.id}.wav`, new Uint8Array([t.seed, 0, 1]));
    await mkdir(join(dir, 'peaks', 'rgn_a'), { recursive: true });
    await writeFile(join(dir, 'peaks', 'rgn_a', 'take_1.peaks'), 'peaks');
    await saveProject(handle, sampleProject());
    doc.name = 'Copy';
    await autosave(handle, doc);

    const target = fresh('copy');
    const copy = await saveProjectAs(handle, target, doc);
    expect(copy.document.name).toBe('Copy');
    expect(copy.missingTakes).toEqual([]);
    expect([...(await readFile(join(target, 'takes', 'take_2.wav')))]).toEqual([2, 0, 1]);
    expect(await readFile(join(target, 'peaks', 'rgn_a', 'take_1.peaks'), 'utf8')).toBe('peaks');
    expect(JSON.parse(await readFile(join(target, 'project.json'), 'utf8'))).toEqual(doc);
    // The original keeps its saved document, loses its journal (the work moved) and is unlocked.
    expect(await readdir(join(dir, '.tessera'))).toEqual([]);
    const original = await openProject(dir);
    expect(original.document.name).toBe('Sample');
    expect(original.recovery).toBeNull();
    await closeProject(original.handle);
    await rejection(openProject(target), 'locked');
    await rejection(saveProject(handle, doc), 'invalid-argument'); // old handle closed
    await closeProject(copy.handle);
  });

  it('refuses a non-empty target or one inside the project, and leaves both as they were', async () => {
    const { handle } = await createProject(fresh('as-src'), 'x', options);
    const busy = await projectFolder('busy');
    await rejection(saveProjectAs(handle, busy), 'invalid-argument');
    expect(await readdir(busy)).toEqual(['project.json']);
    await rejection(saveProjectAs(handle, join(pathsOf(handle).dir, 'inner')), 'invalid-argument');
    await rejection(saveProjectAs(handle, pathsOf(handle).dir), 'invalid-argument');
    await saveProject(handle, sampleProject()); // still open and usable
    await closeProject(handle);
  });
});

describe('autosave and recovery', () => {
  it('offers an autosave newer than project.json after a crash, and accept keeps it until a save', async () => {
    const dir = fresh('recover');
    const { handle } = await createProject(dir, 'x', options);
    await saveProject(handle, sampleProject());
    const edited: ProjectDocument = sampleProject();
    edited.regions.rgn_d = region('rgn_d', 'trk_b', 40, 50, { prompt: 'ocean waves' });
    edited.tracks[1].regionIds.push('rgn_d');
    const savedAt = await autosave(handle, edited);
    expect(savedAt).toBe('2025-04-01T12:00:00.000Z');
    // Simulate the crash: the handle is dropped without closing (the lock is released as the process would on exit).
    await utimes(join(dir, 'project.json'), new Date('2025-04-01T11:00:00Z'), new Date('2025-04-01T11:00:00Z'));
    await rm(projectPaths(dir).lock, { recursive: true });

    const opened = await openProject(dir);
    expect(opened.document).toEqual(sampleProject());
    expect(opened.recovery).toEqual({ savedAt: '2025-04-01T12:00:00.000Z', document: edited });
    const accepted = await acceptRecovery(opened.handle);
    expect(accepted.document).toEqual(edited);
    expect(await readdir(join(dir, '.tessera'))).toContain('autosave.json');
    await saveProject(opened.handle, accepted.document);
    expect(await readdir(join(dir, '.tessera'))).not.toContain('autosave.json');
    await closeProject(opened.handle);
    const again = await openProject(dir);
    expect(again.document).toEqual(edited);
    expect(again.recovery).toBeNull();
    await closeProject(again.handle);
  });

  it('offers nothing for an autosave older than project.json, equal to it, or after discard and clean close', async () => {
    const dir = fresh('no-recover');
    const first = await createProject(dir, 'x', { ...options, now: () => new Date('2000-01-01T00:00:00Z') });
    await saveProject(first.handle, sampleProject());
    const edited = sampleProject();
    edited.name = 'Edited';
    await autosave(first.handle, edited); // dated 2000: older than the file
    await closeProject(first.handle, { keepAutosave: true });
    const older = await openProject(dir);
    expect(older.recovery).toBeNull();
    await autosave(older.handle, older.document); // equal to the saved document: nothing to offer, journal cleared
    await closeProject(older.handle, { keepAutosave: true });
    expect(await readdir(join(dir, '.tessera'))).toEqual([]);
  });

  it('discardRecovery deletes the journal; a clean close deletes it too; autosave of the saved doc clears it', async () => {
    const dir = fresh('discard');
    const a = await createProject(dir, 'x', { ...options, now: () => new Date(Date.now() + 60_000) });
    await saveProject(a.handle, sampleProject());
    const edited = sampleProject();
    edited.tempo = 140;
    await autosave(a.handle, edited);
    expect(await autosave(a.handle, sampleProject())).toBeNull();
    expect(await readdir(join(dir, '.tessera'))).not.toContain('autosave.json');
    await autosave(a.handle, edited);
    await closeProject(a.handle, { keepAutosave: true });

    const b = await openProject(dir);
    expect(b.recovery?.document.tempo).toBe(140);
    await discardRecovery(b.handle);
    await closeProject(b.handle);
    const c = await openProject(dir);
    expect(c.recovery).toBeNull();
    await autosave(c.handle, edited);
    await closeProject(c.handle);
    expect(await readdir(join(dir, '.tessera'))).toEqual([]);
  });

  it('ignores an unreadable journal with a warning instead of failing the open', async () => {
    const dir = await projectFolder('bad-journal');
    await mkdir(join(dir, '.tessera'));
    await writeFile(join(dir, '.tessera', 'autosave.json'), '{"kind":"tessera-autosave","savedAt":"2099-01-01T00:00:00Z","document":{"schemaVersion":1}}');
    const opened = await openProject(dir);
    expect(opened.recovery).toBeNull();
    expect(opened.warnings[0]).toMatch(/autosave.*could not be used/);
    await closeProject(opened.handle);
  });
});

describe('bad files: clear errors, files untouched', () => {
  const cases: Array<[string, string, ProjectError['code'], RegExp]> = [
    ['truncated JSON', JSON.stringify(sampleProject()).slice(0, 500), 'corrupt', /is not valid JSON/],
    ['an empty file', '', 'corrupt', /is not valid JSON \(the file is empty\)/],
    ['not UTF-8', '\xff\xfe{', 'corrupt', /not UTF-8/],
    ['a schema violation', JSON.stringify({ ...sampleProject(), tempo: 'fast' }), 'corrupt', /tempo: /],
    ['a cross-field violation', JSON.stringify({ ...sampleProject(), tracks: [] }), 'corrupt', /regions\.rgn_a\.trackId: /],
    ['a future version', JSON.stringify({ ...sampleProject(), schemaVersion: 3 }), 'future-version', /made by a newer Tessera \(schemaVersion 3 > 1\); update Tessera/],
    ['an unknown old version', JSON.stringify({ ...sampleProject(), schemaVersion: 0 }), 'corrupt', /schemaVersion 0, which this Tessera cannot read/],
  ];
  it.each(cases)('%s → %s', async (_label, content, code, message) => {
    const dir = fresh('bad');
    await mkdir(dir);
    const file = join(dir, 'project.json');
    await writeFile(file, content === '\xff\xfe{' ? Buffer.from([0xff, 0xfe, 0x7b]) : content);
    const before = await sha(file);
    const { mtimeMs } = await stat(file);
    const error = await rejection(openProject(dir), code);
    expect(error.message).toMatch(message);
    expect(error.message).toContain(file);
    expect(await sha(file)).toBe(before);
    expect((await stat(file)).mtimeMs).toBe(mtimeMs);
    expect(await readdir(dir)).toEqual(['.tessera', 'project.json']);
    expect(await readdir(join(dir, '.tessera'))).toEqual([]); // the lock was given back
  });

  it('mentions an autosave that may hold the work when project.json is corrupt', async () => {
    const dir = fresh('corrupt-with-journal');
    const { handle } = await createProject(dir, 'x', options);
    await autosave(handle, sampleProject());
    await closeProject(handle, { keepAutosave: true });
    await writeFile(join(dir, 'project.json'), '{');
    expect((await rejection(openProject(dir), 'corrupt')).message).toMatch(/An autosave from 2025-04-01T12:00:00.000Z is in/);
  });

  it('migrates an old version in memory, keeps a copy of the original on first save', async () => {
    const old = { ...sampleProject(), schemaVersion: 0, bpm: 96 } as Record<string, unknown>;
    delete old.tempo;
    const dir = await projectFolder('migrate', old);
    const file = join(dir, 'project.json');
    const before = await sha(file);
    const migrations = {
      0: (doc: unknown) => {
        const { bpm, ...rest } = doc as { bpm: number };
        return { ...rest, tempo: bpm, schemaVersion: 1 };
      },
    };
    const opened = await openProject(dir, { migrations });
    expect(opened.migratedFrom).toBe(0);
    expect(opened.document).toEqual(sampleProject());
    expect(await sha(file)).toBe(before); // opening never writes
    await saveProject(opened.handle, opened.document);
    expect(await sha(join(dir, '.tessera', 'project.v0.json'))).toBe(before);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ schemaVersion: 1, tempo: 96 });
    await closeProject(opened.handle);
    const broken = await projectFolder('migrate-bad', old);
    expect((await rejection(openProject(broken, { migrations: { 0: (d: unknown) => d } }), 'corrupt')).message).toMatch(
      /migration from schemaVersion 0 produced schemaVersion 0, expected 1/,
    );
  });
});

describe('a second take on the same region', () => {
  it('round-trips takes with their parameters', async () => {
    const dir = fresh('takes-doc');
    const { handle } = await createProject(dir, 'x', options);
    const doc = sampleProject();
    doc.regions.rgn_c.takes.push(take('take_9', 99));
    doc.regions.rgn_c.activeTakeId = 'take_9';
    await saveProject(handle, doc);
    await closeProject(handle);
    const opened = await openProject(dir);
    expect(opened.document.regions.rgn_c.takes[0]).toEqual(take('take_9', 99));
    await closeProject(opened.handle);
  });
});

describe('the demo project', () => {
  it('opens with the store from a copy of resources/examples/demo-project', async () => {
    const dir = fresh('demo');
    await mkdir(dir);
    const source = new URL('../../../resources/examples/demo-project/project.json', import.meta.url);
    await writeFile(join(dir, 'project.json'), await readFile(source));
    const opened = await openProject(dir);
    expect(opened.document.settings.defaultModel).toBe('sketch');
    expect(opened).toMatchObject({ recovery: null, missingTakes: [], warnings: [] });
    await closeProject(opened.handle);
  });
});
