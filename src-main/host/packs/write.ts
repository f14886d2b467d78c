/** Writing a generated pack to disk: sha256s filled in, validated, written atomically. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseManifest, withFileHashes } from '../../contract/manifest.ts';
import type { BuiltPack, ManifestDraft, ManifestOf } from '../../packs/types.ts';
import { verifyPack, type VerifiedPack } from './load.ts';

/** Bytes per hash update: Node's hash refuses one update over 2 GB ("data is too long"), as an external-data shard of a large UNet is. */
const HASH_CHUNK = 1 << 30;

/** Hex sha256 of `bytes`, of any size. */
export function sha256Hex(bytes: Uint8Array): string {
  const hash = createHash('sha256');
  for (let at = 0; at < bytes.length; at += HASH_CHUNK) hash.update(bytes.subarray(at, Math.min(bytes.length, at + HASH_CHUNK)));
  return hash.digest('hex');
}

/** Completes a built pack's manifest with the sha256 of each file and validates it. */
export function finalizeManifest<D extends ManifestDraft>(built: BuiltPack<D>): ManifestOf<D> {
  const hash = (file: string): string => {
    const bytes = built.files[file];
    if (!bytes) throw new Error(`built pack '${built.manifest.id}' has no file '${file}'`);
    return sha256Hex(bytes);
  };
  const manifest = parseManifest(withFileHashes(built.manifest, hash), `built-in pack '${built.manifest.id}'`);
  return manifest as ManifestOf<D>;
}

/** Version and per-file sha256 of a built pack (what resources/packs/fingerprints.json pins). */
export function packFingerprint(built: BuiltPack): { version: string; files: Record<string, string> } {
  const files: Record<string, string> = {};
  for (const name of Object.keys(built.files).sort()) files[name] = sha256Hex(built.files[name]);
  return { version: built.manifest.version, files };
}

/** Writes a built pack into `dir` atomically (temp folder + rename); an existing identical pack is kept. */
export async function writePack(built: BuiltPack, dir: string): Promise<VerifiedPack> {
  const manifest = finalizeManifest(built);
  const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
  const existing = await readFile(join(dir, 'manifest.json'), 'utf8').catch(() => undefined);
  if (existing === manifestText) {
    try {
      return await verifyPack(dir);
    } catch {
      // Damaged copy: rebuild below.
    }
  }
  const parent = join(dir, '..');
  await mkdir(parent, { recursive: true });
  const temp = `${dir}.tmp-${randomBytes(6).toString('hex')}`;
  await mkdir(temp);
  try {
    for (const [name, bytes] of Object.entries(built.files)) await writeFile(join(temp, name), bytes, { flush: true });
    await writeFile(join(temp, 'manifest.json'), manifestText, { flush: true });
    const old = `${dir}.old-${randomBytes(6).toString('hex')}`;
    if (await stat(dir).catch(() => undefined)) await rename(dir, old).catch(() => undefined);
    try {
      await rename(temp, dir);
    } catch (e) {
      // Another process installed the same pack at the same moment: use theirs if it is identical.
      const theirs = await readFile(join(dir, 'manifest.json'), 'utf8').catch(() => undefined);
      if (theirs !== manifestText) throw e;
    }
    await rm(old, { recursive: true, force: true });
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
  return verifyPack(dir);
}

