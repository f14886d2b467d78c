/** The catalog: the bundled file validates and every downloadable entry's manifest would load; bad entries are named. */
import { describe, expect, it } from 'vitest';
import { CatalogError, parseCatalog, type CatalogEntry } from '../../../src-main/contract/catalog.ts';
import { bundledCatalog, findEntry, formatLicence } from '../../../src-main/host/models/catalog.ts';
import { planInstall } from '../../../src-main/host/models/plan.ts';
import { mirrorEntry } from './mirror.ts';

const catalog = bundledCatalog();
const files = { 'manifest.json': { content: Buffer.from('{}'), lfs: false }, 'onnx/unet.onnx': { content: Buffer.alloc(10), lfs: true } };
const parseOne = (entry: Record<string, unknown>) => parseCatalog({ schemaVersion: 1, entries: [entry] }, 'test catalog');

describe('resources/models/catalog.json', () => {
  it('holds the Stable Audio 3 bundles as downloads and AudioLDM S/M/L as checkpoints converted here, with licences', () => {
    const byId = new Map(catalog.entries.map((e) => [e.id, e]));
    expect([...byId.keys()].sort()).toEqual(['audioldm-l-full', 'audioldm-m-full', 'audioldm-s-full-v2', 'stable-audio-3-small-music', 'stable-audio-3-small-sfx']);
    const music = byId.get('stable-audio-3-small-music') as CatalogEntry;
    expect(music).toMatchObject({ family: 'stable-audio-3', licence: { name: 'Stability AI Community License', commercialUse: 'limited' }, source: { kind: 'hub' } });
    expect(music.source.kind === 'hub' && music.source.repos[0].repo).toBe('lsb/stable-audio-3-small-music-onnx');
    for (const id of ['audioldm-s-full-v2', 'audioldm-m-full', 'audioldm-l-full']) {
      // Issue 13: the cvssp diffusers checkpoints are downloaded and converted in TypeScript (they were export-only).
      expect(byId.get(id)).toMatchObject({ family: 'audioldm', licence: { name: 'CC BY-NC-SA 4.0', commercialUse: 'no' }, source: { kind: 'convert', converter: 'diffusers-audioldm', repos: [{ repo: `cvssp/${id}` }] } });
    }
  });

  it('every download entry\'s draft manifest validates against the current manifest schema once pinned', () => {
    for (const entry of catalog.entries) {
      if (entry.source.kind !== 'hub') continue;
      const revisions = Object.fromEntries(entry.source.repos.map((p) => [p.repo, 'a'.repeat(40)]));
      const plan = planInstall(entry, { acceptLicence: true, revisions });
      expect(plan.files.length).toBeGreaterThan(0);
    }
  });

  it('Stable Audio 3 music is pinned and plans without --revision; the SFX add-on names what to enter and its candidate', () => {
    const music = findEntry(catalog, 'stable-audio-3-small-music');
    const plan = planInstall(music, { acceptLicence: true });
    expect(new Set(plan.files.map((f) => f.revision))).toEqual(new Set(['d523962dc41a9c632a4928ff9e02538bb11f1806']));
    expect(plan.files.find((f) => f.name === 'tokenizer.json')?.catalogBytes).toBe(34_362_428);
    expect(() => planInstall(music, { acceptLicence: true, revisions: { 'lsb/stable-audio-3-small-music-onnx': 'main' } })).toThrow(/expected a full 40-hex-digit commit hash/);
    const sfx = findEntry(catalog, 'stable-audio-3-small-sfx');
    expect(() => planInstall(sfx, { acceptLicence: true })).toThrow(
      /pins no commit for bgkb\/encoder-onnx \(UNPINNED\).*enter it in the Models view's download dialog, or pass --revision bgkb\/encoder-onnx=<40-hex commit> on the command line \(a candidate seen in public ports, unchecked: bgkb\/encoder-onnx=51015c9ea6184387287cdbc028ac683e58e3297c\)/,
    );
    expect(planInstall(sfx, { acceptLicence: true, revisions: { 'bgkb/encoder-onnx': '51015c9ea6184387287cdbc028ac683e58e3297c' } }).files).toHaveLength(15);
    // No bundled entry is export-only any more (issue 13); an export entry still explains how to export and import.
    const exported = parseOne({ ...mirrorEntry(files), manifest: undefined, source: { kind: 'export', tool: 'tools/export-audioldm', from: { repo: 'cvssp/audioldm-m-full', revision: 'UNPINNED' }, command: 'python3 tools/export-audioldm/export_audioldm.py --model m-full --out DIR' } });
    expect(() => planInstall(exported.entries[0], { acceptLicence: true })).toThrow(
      /exported from cvssp\/audioldm-m-full with tools\/export-audioldm[\s\S]*export_audioldm\.py --model m-full[\s\S]*npm run models -- import/,
    );
    expect(() => findEntry(catalog, 'nope')).toThrow(/'nope' is not in the model catalog; known models: stable-audio-3-small-music, /);
  });

  it('the licence text shows name, link, commercial use and conditions', () => {
    const text = formatLicence(findEntry(catalog, 'audioldm-s-full-v2'));
    expect(text).toMatch(/distributed under the CC BY-NC-SA 4\.0/);
    expect(text).toMatch(/https:\/\/creativecommons\.org\/licenses\/by-nc-sa\/4\.0\//);
    expect(text).toMatch(/Commercial use: +NOT allowed \(non-commercial use only\)/);
  });
});

describe('catalog schema', () => {
  it('accepts a consistent entry', () => {
    expect(parseOne(mirrorEntry(files)).entries[0].id).toBe('sketch-mirror');
  });

  it.each([
    ['an unknown family', (e: Record<string, unknown>) => (e.family = 'musicgen'), /entries\.0\.family: .*Expected \("audioldm" \| "stable-audio-3"\) but received "musicgen"/],
    ['a branch as revision', (e: Record<string, unknown>) => ((e.source as { repos: Array<{ revision: string }> }).repos[0].revision = 'main'), /must be a 40-hex-digit commit hash, or "UNPINNED\[:note\]"/],
    ['a path leaving the repo', (e: Record<string, unknown>) => ((e.source as { repos: Array<{ files: Array<{ path: string }> }> }).repos[0].files[1].path = '../x.onnx'), /must be a relative path of plain names/],
    ['a wrong total size', (e: Record<string, unknown>) => (e.size = { bytes: 1, estimate: false }), /size\.bytes 1 is not the sum of the file sizes/],
    ['"included" without manifest.json', (e: Record<string, unknown>) => ((e.source as { repos: Array<{ files: unknown[] }> }).repos[0].files.splice(0, 1)), /"manifest": "included" but no file is named manifest\.json/],
    ['two files with one name', (e: Record<string, unknown>) => ((e.source as { repos: Array<{ files: unknown[] }> }).repos[0].files.push({ path: 'other/unet.onnx', bytes: 0 })), /would both be saved as 'unet\.onnx'/],
    ['no licence link', (e: Record<string, unknown>) => delete (e.licence as Record<string, unknown>).url, /licence\.url/],
  ])('refuses %s', (_name, edit, message) => {
    expect(() => parseOne(mirrorEntry(files, edit))).toThrow(CatalogError);
    expect(() => parseOne(mirrorEntry(files, edit))).toThrow(message);
  });

  it('refuses duplicate ids', () => {
    expect(() => parseCatalog({ schemaVersion: 1, entries: [mirrorEntry(files), mirrorEntry(files)] }, 'c')).toThrow(/entries\.1 \(sketch-mirror\): duplicate id/);
  });
});
