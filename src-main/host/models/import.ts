/**
 * Importing a pack folder (an exporter's output, a copy from another machine): validated like any pack
 * (`verifyPack`: manifest schema, every listed file present with its sha256), copied into staging, verified again
 * there (the source could change while it is copied), then renamed into `<modelsDir>/<id>` in one step.
 * Symbolic links inside the folder are refused before anything is read (a link could pull in a file from anywhere;
 * the folder itself may be reached through one, so it is resolved first).
 *
 * A diffusers AudioLDM folder (recognised by its `model_index.json`; no manifest.json) is converted instead
 * (convert/audioldm.ts) into staging, then verified, opened and installed the same way.
 */
import { randomBytes } from 'node:crypto';
import { readdir, realpath, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CodedError } from '../../contract/errors.ts';
import type { Manifest } from '../../contract/manifest.ts';
import { ProjectError } from '../../contract/project.ts';
import { BUILTIN_PACKS } from '../packs/builtin.ts';
import { PackError, verifyPack } from '../packs/load.ts';
import { refuseLinks } from '../projects/confine.ts';
import { copyTreeDurable } from '../projects/durable-fs.ts';
import { diskError, ModelsError } from './errors.ts';
import { ensureDir, INSTALL_RECORD, layout, swapIntoPlace, withIdLock, writeInstallRecord } from './store.ts';
import { digestFile } from './verify.ts';
import { convertDiffusersAudioLdm, isDiffusersFolder, type ConvertStage } from './convert/audioldm.ts';
import type { ConvertAudioLdm } from './install.ts';
import { displayName } from './convert/manifest.ts';

/** Options of {@link importPack}. */
export interface ImportOptions {
  modelsDir: string;
  /** Replace an installed pack with the same id (default: refuse). */
  replace?: boolean;
  now?: () => number;
  /** Opens every graph of the copy before it is installed (see ModelManagerOptions.checkPack). */
  checkPack?: (dir: string) => Promise<void>;
  /** A diffusers folder: runs the converter (default: in this process; see ModelManagerOptions.convert). */
  convert?: ConvertAudioLdm;
  /** A diffusers folder: the pack's id (default: from the folder's name, e.g. `audioldm-s-full-v2`). */
  id?: string;
  /** A diffusers folder: the UNet's attention-head split (convert/audioldm.ts ConvertOptions.heads). */
  heads?: 'original' | 'config';
  /** A diffusers folder: a float16 UNet (convert/audioldm.ts ConvertOptions.unetFp16). */
  unetFp16?: boolean;
  /** A diffusers folder: conversion progress (convert/audioldm.ts ConvertOptions.onProgress). */
  onProgress?: (stage: ConvertStage, done: number, total: number) => void;
  /** A diffusers folder: cancels the conversion; nothing is installed. */
  signal?: AbortSignal;
}

/** What an import did. */
export interface ImportResult {
  id: string;
  dir: string;
  manifest: Manifest;
  bytes: number;
  replaced: boolean;
}

/** Imports the pack folder `source`; see the file comment. */
export async function importPack(source: string, o: ImportOptions): Promise<ImportResult> {
  const given = resolve(source);
  const info = await stat(given).catch(() => undefined);
  if (!info) throw new ModelsError('not-found', `No folder at ${given}: give the pack folder (the one holding manifest.json).`);
  if (!info.isDirectory()) throw new ModelsError('invalid-argument', `${given} is a file; give the pack folder that holds manifest.json.`);
  const from = await realpath(given).catch((e: unknown) => {
    throw diskError(e, 'read the pack folder', given);
  });
  if (!(await stat(join(from, 'manifest.json')).catch(() => undefined)) && (await isDiffusersFolder(from))) return importDiffusers(from, o);
  let manifest: Manifest;
  try {
    await refuseLinks(from);
    manifest = (await verifyPack(from)).manifest;
  } catch (e) {
    if (e instanceof ProjectError) throw new ModelsError('invalid-argument', `Cannot import ${from}: ${e.message}`, { cause: e });
    if (e instanceof PackError || (e instanceof Error && e.name === 'ManifestError')) throw new ModelsError('model-error', `Cannot import ${from}: ${e.message}`);
    throw e;
  }
  const id = manifest.id;
  if (id in BUILTIN_PACKS) throw new ModelsError('invalid-argument', `Cannot import ${from}: its id '${id}' is a built-in model's; give the pack another id in its manifest.json.`);
  const installed = layout.pack(o.modelsDir, id);
  if ((await realpath(installed).catch(() => resolve(installed))) === from) throw new ModelsError('invalid-argument', `${from} is already the installed copy of '${id}'.`);
  await ensureDir(o.modelsDir, 'the models folder');
  return withIdLock(o.modelsDir, id, async () => {
    const { target, exists } = await installedTarget(o, id);
    await ensureDir(join(o.modelsDir, '.staging'), 'the staging folder');
    const staging = join(o.modelsDir, '.staging', `${id}.import-${randomBytes(6).toString('hex')}`);
    try {
      try {
        await copyTreeDurable(from, staging, 'refuse');
      } catch (e) {
        if (e instanceof ProjectError) throw new ModelsError('invalid-argument', `Cannot import ${from}: ${e.message}`, { cause: e });
        throw diskError(e, `copy ${from} into`, staging);
      }
      let copied: Manifest;
      try {
        copied = (await verifyPack(staging)).manifest;
      } catch (e) {
        throw new ModelsError('model-error', `The copy of ${from} does not verify (did the folder change during the import?): ${(e as Error).message}`);
      }
      if (copied.id !== id) throw new ModelsError('model-error', `${from} changed during the import (its manifest id went from '${id}' to '${copied.id}'); import it again.`);
      if (o.checkPack) {
        try {
          await o.checkPack(staging);
        } catch (e) {
          throw new ModelsError('model-error', `Cannot import ${from}: its files verify, but its graphs do not load, so it was not installed: ${(e as Error).message}`);
        }
      }
      return await recordAndInstall(staging, target, copied, from, exists, o);
    } finally {
      await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    }
  });
}

/** Writes the install record of the verified folder `staging` and renames it to `target`. */
async function recordAndInstall(staging: string, target: string, manifest: Manifest, from: string, replaced: boolean, o: ImportOptions): Promise<ImportResult> {
  const files: Record<string, { bytes: number; sha256: string }> = {};
  for (const entry of await readdir(staging, { withFileTypes: true })) {
    if (!entry.isFile() || entry.name === INSTALL_RECORD) continue;
    const d = await digestFile(join(staging, entry.name));
    files[entry.name] = { bytes: d.bytes, sha256: d.sha256 };
  }
  const at = new Date((o.now ?? Date.now)()).toISOString();
  await writeInstallRecord(staging, {
    schemaVersion: 1,
    id: manifest.id,
    installedAt: at,
    source: { kind: 'import', from },
    licence: { name: manifest.licence.name, ...(manifest.licence.url ? { url: manifest.licence.url } : {}) },
    files,
  });
  await swapIntoPlace(o.modelsDir, staging, target);
  return { id: manifest.id, dir: target, manifest, bytes: Object.values(files).reduce((s, f) => s + f.bytes, 0), replaced };
}

/**
 * The pack id for a diffusers folder: its name, or the repo's in a hub cache (`models--cvssp--audioldm-m-full/
 * snapshots/<commit>` → `audioldm-m-full`), in the manifest's alphabet.
 */
export function packIdForFolder(dir: string): string {
  const parts = resolve(dir).split(/[\\/]/).filter((p) => p.length > 0);
  const cache = parts.findLastIndex((p) => p.startsWith('models--'));
  const raw = cache >= 0 ? (parts[cache].split('--').pop() ?? '') : (parts.at(-1) ?? '');
  const id = raw.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '');
  return id.length > 0 ? id : 'audioldm';
}

/** Converts the diffusers AudioLDM folder `from` into staging, then verifies, opens and installs it. */
async function importDiffusers(from: string, o: ImportOptions): Promise<ImportResult> {
  const id = o.id ?? packIdForFolder(from);
  if (id in BUILTIN_PACKS) throw new ModelsError('invalid-argument', `Cannot import ${from} as '${id}': that is a built-in model's id; give another id (--id).`);
  await ensureDir(o.modelsDir, 'the models folder');
  return withIdLock(o.modelsDir, id, async () => {
    const { target, exists } = await installedTarget(o, id);
    await ensureDir(join(o.modelsDir, '.staging'), 'the staging folder');
    const work = join(o.modelsDir, '.staging', `${id}.convert-${randomBytes(6).toString('hex')}`);
    const staging = join(work, 'pack');
    try {
      const hub = /(?:^|[\\/])models--([^\\/]+?)--([^\\/]+)(?:[\\/]|$)/.exec(from);
      const source = hub ? `${hub[1]}/${hub[2]}` : from;
      let manifest: Manifest;
      try {
        manifest = (
          await (o.convert ?? convertDiffusersAudioLdm)(from, staging, {
            id,
            name: displayName(source),
            source,
            ...(o.heads ? { heads: o.heads } : {}),
            ...(o.unetFp16 ? { unetFp16: true } : {}),
            ...(o.onProgress ? { onProgress: o.onProgress } : {}),
            ...(o.signal ? { signal: o.signal } : {}),
          })
        ).pack.manifest;
      } catch (e) {
        if (e instanceof CodedError) throw new ModelsError(e.code, `Cannot import ${from}: ${e.message}`, { cause: e });
        throw e;
      }
      if (o.checkPack) {
        try {
          await o.checkPack(staging);
        } catch (e) {
          throw new ModelsError('model-error', `Cannot import ${from}: it converted, but its graphs do not load, so it was not installed: ${(e as Error).message}`);
        }
      }
      return await recordAndInstall(staging, target, manifest, from, exists, o);
    } finally {
      await rm(work, { recursive: true, force: true }).catch(() => undefined);
    }
  });
}

/** Where pack `id` installs, whether it is installed, and a refusal unless the import may replace it. */
async function installedTarget(o: ImportOptions, id: string): Promise<{ target: string; exists: boolean }> {
  const target = layout.pack(o.modelsDir, id);
  const exists = (await stat(target).catch(() => undefined)) !== undefined;
  if (exists && !o.replace) {
    throw new ModelsError('invalid-argument', `'${id}' is already installed in ${target}. Remove it first (npm run models -- remove ${id}) or import with --replace.`);
  }
  return { target, exists };
}
