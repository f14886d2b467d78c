/**
 * The stable-audio-3 stand-in laid out as the real `lsb/stable-audio-3-small-music-onnx` repo at its pinned commit,
 * for a fake hub: the catalog's real file names (`onnx/dit_q4.onnx` with its weights in `onnx/dit_q4_chunk_{0..3}.data`,
 * the text encoder and decoder likewise, `tokenizer/tokenizer.json`, the licence files), and the bundled catalog's
 * real entry with the stand-in's sizes. Installing it runs the catalog's own draft manifest (external data, the
 * 1292-frame window, the decode chunking) against graphs that load and sound.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packFileName, parseCatalog, type Catalog } from '../../src-main/contract/catalog.ts';
import { externalizeInitializers } from '../../src-main/packs/graph/external-data.ts';
import { buildSa3StandinPack, wordEmbedding } from '../../src-main/packs/sa3/index.ts';

/** The catalog entry ids and the repos they download from. */
export const SA3_MUSIC_ID = 'stable-audio-3-small-music';
export const SA3_SFX_ID = 'stable-audio-3-small-sfx';
export const LSB_REPO = 'lsb/stable-audio-3-small-music-onnx';
export const BGKB_REPO = 'bgkb/encoder-onnx';

/** The stand-in SFX DiT's padding embedding: along "hiss", so padded prompt rows make a hiss (docs/SA3-STANDIN.md). */
export const SFX_PADDING = wordEmbedding('hiss', 0.004);

const ROOT = join(import.meta.dirname, '..', '..');

/** The bundled catalog's entry for `id`, as JSON. */
export function bundledEntry(id: string): Record<string, unknown> {
  const catalog = JSON.parse(readFileSync(join(ROOT, 'resources', 'models', 'catalog.json'), 'utf8')) as { entries: Array<Record<string, unknown>> };
  const entry = catalog.entries.find((e) => e.id === id);
  if (!entry) throw new Error(`the bundled catalog has no entry '${id}'`);
  return structuredClone(entry);
}

/** Repo path → bytes of the stand-in in the lsb layout (LFS for the graphs and shards, as on the hub). */
export function lsbStandinFiles(): Record<string, { content: Buffer; lfs: boolean }> {
  const built = buildSa3StandinPack();
  const files: Record<string, { content: Buffer; lfs: boolean }> = {};
  const graph = (from: string, to: string, shards: number): void => {
    const names = Array.from({ length: shards }, (_, i) => `${to}_chunk_${i}.data`);
    const { graph: bytes, shards: data } = externalizeInitializers(built.files[from], names);
    files[`onnx/${to}.onnx`] = { content: Buffer.from(bytes), lfs: true };
    for (const [name, content] of Object.entries(data)) files[`onnx/${name}`] = { content: Buffer.from(content), lfs: true };
  };
  graph('text_encoder.onnx', 'text_encoder_q4', 3);
  graph('dit.onnx', 'dit_q4', 4);
  graph('decoder.onnx', 'decoder_q4', 1);
  files['onnx/number_conditioner.onnx'] = { content: Buffer.from(built.files['number_conditioner.onnx']), lfs: true };
  files['tokenizer/tokenizer.json'] = { content: Buffer.from(built.files['tokenizer.json']), lfs: true };
  const note = (title: string): Buffer => Buffer.from(`${title}\n\nTest stand-in served by Tessera's fake hub; no Stability AI or Google weights.\n`);
  files['LICENSE.md'] = { content: note('Stability AI Community License (stand-in text)'), lfs: false };
  files['LICENSE_GEMMA.md'] = { content: note('Gemma Terms of Use (stand-in text)'), lfs: false };
  files.NOTICE = { content: note('Powered by Stability AI (stand-in notice)'), lfs: false };
  return files;
}

/**
 * Repo path → bytes of the SFX add-on's own files in the bgkb layout: the stand-in DiT (weights in `sfx/dit_q4.data`)
 * and number conditioner, the padding embedding as a JSON array, and the add-on's README.
 */
export function bgkbStandinFiles(): Record<string, { content: Buffer; lfs: boolean }> {
  const built = buildSa3StandinPack();
  const { graph, shards } = externalizeInitializers(built.files['dit.onnx'], ['dit_q4.data']);
  return {
    'sfx/dit_q4.onnx': { content: Buffer.from(graph), lfs: true },
    'sfx/dit_q4.data': { content: Buffer.from(shards['dit_q4.data']), lfs: true },
    'sfx/number_conditioner.onnx': { content: Buffer.from(built.files['number_conditioner.onnx']), lfs: true },
    'sfx/padding_embedding.json': { content: Buffer.from(`${JSON.stringify(SFX_PADDING)}\n`), lfs: false },
    'sfx/README.md': { content: Buffer.from('# SFX DiT (stand-in)\n\nTest files served by Tessera\'s fake hub.\n'), lfs: false },
  };
}

/**
 * The bundled catalog's entries `ids` with the stand-ins' file sizes (paths, repos, revisions, candidates, licence
 * and draft manifests unchanged), in a catalog of their own. `files` maps repo → repo path → served file.
 */
export function standinCatalog(ids: readonly string[], files: Readonly<Record<string, Record<string, { content: Buffer }>>>): Catalog {
  const entries = ids.map((id) => {
    const entry = bundledEntry(id);
    const source = entry.source as { repos: Array<{ repo: string; files: Array<{ path: string; bytes?: number }> }> };
    let total = 0;
    for (const part of source.repos) {
      for (const file of part.files) {
        const served = files[part.repo]?.[file.path];
        if (!served) throw new Error(`the stand-in layout of ${part.repo} lacks ${file.path} (${packFileName(file.path)})`);
        file.bytes = served.content.length;
        total += served.content.length;
      }
    }
    entry.size = { bytes: total, estimate: false };
    return entry;
  });
  return parseCatalog({ schemaVersion: 1, entries }, 'stand-in catalog');
}

/** The bundled catalog's music entry with the stand-in's file sizes, in a catalog of its own. */
export function lsbStandinCatalog(files: Record<string, { content: Buffer }>): Catalog {
  return standinCatalog([SA3_MUSIC_ID], { [LSB_REPO]: files });
}

/** The candidate commit the bundled catalog names for the SFX add-on's unpinned repo. */
export function bgkbCandidate(): string {
  const source = bundledEntry(SA3_SFX_ID).source as { repos: Array<{ repo: string; candidate?: string }> };
  const candidate = source.repos.find((p) => p.repo === BGKB_REPO)?.candidate;
  if (!candidate) throw new Error(`the SFX entry names no candidate commit for ${BGKB_REPO}`);
  return candidate;
}

/** The pinned commit of the lsb repo in the bundled catalog. */
export function lsbRevision(): string {
  const source = bundledEntry(SA3_MUSIC_ID).source as { repos: Array<{ repo: string; revision: string }> };
  const part = source.repos.find((p) => p.repo === LSB_REPO);
  if (!part) throw new Error(`the music entry does not download from ${LSB_REPO}`);
  return part.revision;
}
