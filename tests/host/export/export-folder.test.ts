/**
 * An export into a folder is all-or-nothing for the folder: files are staged in a hidden staging folder and moved
 * into place only once all are written; stems a previous export of the same project wrote and this one does not
 * are removed (only while they are still exactly what Tessera wrote, per the folder's `.tessera-export.json`);
 * the user's own files are never touched; a process killed mid-export (SIGKILL) leaves its staging behind, which
 * the next export into that folder removes, and no `.partial` file is ever left among the user's files.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportProject } from '../../../src-main/host/export/export.ts';
import type { ExportTrack } from '../../../src-main/host/export/types.ts';
import { region, sine, track } from './helpers.ts';

const RATE = 48000;
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
let work: string;
let count = 0;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'tessera-export-folder-'));
});
afterAll(async () => rm(work, { recursive: true, force: true }));

const folder = async (): Promise<string> => {
  const dir = join(work, `out${count++}`);
  await mkdir(dir);
  return dir;
};
const tracks = (...names: string[]): ExportTrack[] =>
  names.map((name, k) => track(name, [region([sine(RATE / 2, RATE, 220 * (k + 1), 0.2)], RATE)]));
const listing = async (dir: string) => (await readdir(dir)).sort();

describe('stale stems', () => {
  it('a new export of the same project removes the stems it no longer writes, and only those', async () => {
    const out = await folder();
    await writeFile(join(out, 'notes.txt'), 'my notes');
    await writeFile(join(out, '07_Mine.wav'), 'a stem-like name that Tessera never wrote');
    await exportProject(tracks('Drums', 'Bass', 'Pad', 'Keys'), out, { format: 'wav16', project: '/projects/song' });
    expect(await listing(out)).toEqual(['.tessera-export.json', '01_Drums.wav', '02_Bass.wav', '03_Pad.wav', '04_Keys.wav', '07_Mine.wav', 'Mix.wav', 'notes.txt']);
    await writeFile(join(out, '04_Keys.wav'), 'edited by the user after the export');

    const second = await exportProject(tracks('Drums'), out, { format: 'wav16', project: '/projects/song' });
    expect(second.files.map((f) => f.fileName)).toEqual(['Mix.wav', '01_Drums.wav']);
    // 02_Bass and 03_Pad were Tessera's and unchanged: gone. 04_Keys was changed by the user: kept.
    expect(await listing(out)).toEqual(['.tessera-export.json', '01_Drums.wav', '04_Keys.wav', '07_Mine.wav', 'Mix.wav', 'notes.txt']);
    expect(await readFile(join(out, '04_Keys.wav'), 'utf8')).toBe('edited by the user after the export');
    expect(await readFile(join(out, 'notes.txt'), 'utf8')).toBe('my notes');
  });

  it('another project exporting into the same folder leaves the first project’s stems alone', async () => {
    const out = await folder();
    await exportProject(tracks('Drums', 'Bass'), out, { format: 'flac16', project: '/projects/a' });
    await exportProject(tracks('Voice'), out, { format: 'flac16', project: '/projects/b' });
    expect(await listing(out)).toEqual(['.tessera-export.json', '01_Drums.flac', '01_Voice.flac', '02_Bass.flac', 'Mix.flac']);
    // Project a again, now one track: its own 02_Bass goes; b's 01_Voice stays.
    await exportProject(tracks('Drums'), out, { format: 'flac16', project: '/projects/a' });
    expect(await listing(out)).toEqual(['.tessera-export.json', '01_Drums.flac', '01_Voice.flac', 'Mix.flac']);
  });

  it('a damaged or hostile export record never deletes anything outside its own unchanged files', async () => {
    const out = await folder();
    const victim = join(work, `victim${count}.txt`);
    await writeFile(victim, 'outside');
    await writeFile(join(out, 'keep.wav'), 'user');
    const record = { kind: 'tessera-export', version: 1, exports: [{ project: 'p', files: [{ name: `../${victim.split('/').pop() ?? ''}`, bytes: 7, sha256: '0'.repeat(64) }, { name: 'keep.wav', bytes: 4, sha256: '0'.repeat(64) }] }] };
    await writeFile(join(out, '.tessera-export.json'), JSON.stringify(record));
    await exportProject(tracks('One'), out, { format: 'wav16', project: 'p' });
    expect(await readFile(victim, 'utf8')).toBe('outside');
    expect(await listing(out)).toEqual(['.tessera-export.json', '01_One.wav', 'Mix.wav', 'keep.wav']);
    await writeFile(join(out, '.tessera-export.json'), '{ not json');
    await exportProject(tracks('Two'), out, { format: 'wav16', project: 'p' });
    expect(await listing(out)).toEqual(['.tessera-export.json', '01_One.wav', '01_Two.wav', 'Mix.wav', 'keep.wav']);
  });
});

describe('a process killed mid-export', () => {
  it('leaves the previous export intact, and the next export removes its staging; no .partial file remains', async () => {
    const out = await folder();
    await exportProject(tracks('Low', 'Mid'), out, { format: 'wav16', project: 'kill-test' });
    const before = await readFile(join(out, 'Mix.wav'));
    // A leftover of an older Tessera that staged next to the final names.
    await writeFile(join(out, '.Mix.wav.0123456789ab.partial'), 'old partial');

    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/export-freeze.ts', import.meta.url)), out], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    let line: string;
    try {
      line = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => resolve(d.toString().trim()));
        child.once('exit', (code) => reject(new Error(`child exited (${code}) before staging: ${stderr}`)));
      });
    } finally {
      child.kill('SIGKILL'); // frozen mid-export (or already gone): never left running
      await exited;
    }
    expect(line).toBe('staged');

    const crashed = await listing(out);
    const staging = crashed.filter((n) => /^\.tessera-export-\d+-[0-9a-f]+\.staging$/.test(n));
    expect(staging).toHaveLength(1);
    expect((await readdir(join(out, staging[0]))).length).toBeGreaterThan(0);
    expect(await readFile(join(out, 'Mix.wav'))).toEqual(before);
    expect(crashed.filter((n) => !n.startsWith('.'))).toEqual(['01_Low.wav', '02_Mid.wav', 'Mix.wav']);

    await exportProject(tracks('Low'), out, { format: 'wav16', project: 'kill-test' });
    expect(await listing(out)).toEqual(['.tessera-export.json', '01_Low.wav', 'Mix.wav']);
  }, 60_000);
});
