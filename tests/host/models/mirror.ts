/**
 * A REAL small pack for the fake hub: the built-in sketch pack's files (built by the project's own graph builder)
 * under another manifest id (`sketch-mirror`), laid out like a hub repo (graphs under `onnx/` via LFS, small files
 * as regular git files). Installing it gives a distinct pack that generates through the CLI.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCatalog, type Catalog } from '../../../src-main/contract/catalog.ts';
import { builtinPack } from '../../helpers/packs.ts';
import type { FakeFile } from './fake-hub.ts';

export const MIRROR_ID = 'sketch-mirror';
export const MIRROR_REPO = 'tessera-test/sketch-mirror';
/** A pinned commit of the fake repo. */
export const MIRROR_REV = '5e1f2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c';

/** Repo path → file of the mirror pack (manifest id set to `id`). */
export async function sketchMirrorFiles(id = MIRROR_ID): Promise<Record<string, FakeFile>> {
  const dir = (await builtinPack('sketch')).dir;
  const files: Record<string, FakeFile> = {};
  for (const name of (await readdir(dir)).sort()) {
    const content = await readFile(join(dir, name));
    if (name === 'manifest.json') {
      const manifest = JSON.parse(content.toString('utf8')) as Record<string, unknown>;
      manifest.id = id;
      manifest.name = 'Sketch mirror (test pack served by a fake hub)';
      files[name] = { content: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`), lfs: false };
    } else if (name.endsWith('.onnx')) files[`onnx/${name}`] = { content, lfs: true };
    else files[name] = { content, lfs: false };
  }
  return files;
}

/** A catalog entry (JSON) for the mirror pack; `edit` may change it. */
export function mirrorEntry(files: Record<string, FakeFile>, edit: (e: Record<string, unknown>) => void = () => undefined, id = MIRROR_ID): Record<string, unknown> {
  const list = Object.entries(files).map(([path, f]) => ({ path, bytes: f.content.length }));
  const entry: Record<string, unknown> = {
    id,
    name: 'Sketch mirror',
    family: 'audioldm',
    description: 'The sketch demo pack served by a fake hub (tests).',
    size: { bytes: list.reduce((s, f) => s + f.bytes, 0), estimate: false },
    licence: {
      name: 'CC0-1.0',
      url: 'https://creativecommons.org/publicdomain/zero/1.0/',
      text: 'Public domain dedication: no conditions.',
      commercialUse: 'yes',
      conditions: [],
    },
    source: { kind: 'hub', repos: [{ repo: MIRROR_REPO, revision: MIRROR_REV, files: list }] },
    manifest: 'included',
  };
  edit(entry);
  return entry;
}

/** A validated catalog of the given entries. */
export function catalogOf(...entries: Array<Record<string, unknown>>): Catalog {
  return parseCatalog({ schemaVersion: 1, entries }, 'test catalog');
}
