/**
 * Importing a pack folder (an exporter's output, a copy from another machine): validated like any pack
 * (`verifyPack`: manifest schema, every listed file present with its sha256), copied into staging, verified again
 * there (the source could change while it is copied), then renamed into `<modelsDir>/<id>` in one step.
 * Symbolic links inside the folder are refused before anything is read (a link could pull in a file from anywhere;
 * the folder itself may be reached through one, so it is resolved first).
 */
import { randomBytes } from 'node:crypto';
import { readdir, realpath, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Manifest } from '../../contract/manifest.ts';
import { ProjectError } from '../../contract/project.ts';
import { BUILTIN_PACKS } from '../packs/builtin.ts';
import { PackError, verifyPack } from '../packs/load.ts';
import { refuseLinks } from '../projects/confine.ts';
import { copyTreeDurable } from '../projects/durable-fs.ts';
import { diskError, ModelsError } from './errors.ts';
import { ensureDir, INSTALL_RECORD, layout, swapIntoPlace, withIdLock, writeInstallRecord } from './store.ts';
import { digestFile } from './verify.ts';

/** Options of {@link importPack}. */
export interface ImportOptions {
  modelsDir: string;
  /** Replace an installed pack with the same id (default: refuse). */
  replace?: boolean;
  now?: () => number;
  /** Opens every graph of the copy before it is installed (see ModelManagerOptions.checkPack). */
  checkPack?: (dir: string) => Promise<void>;
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
    const target = layout.pack(o.modelsDir, id);
    const exists = (await stat(target).catch(() => undefined)) !== undefined;
    if (exists && !o.replace) {
      throw new ModelsError('invalid-argument', `'${id}' is already installed in ${target}. Remove it first (npm run models -- remove ${id}) or import with --replace.`);
    }
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
      const files: Record<string, { bytes: number; sha256: string }> = {};
      for (const entry of await readdir(staging, { withFileTypes: true })) {
        if (!entry.isFile() || entry.name === INSTALL_RECORD) continue;
        const d = await digestFile(join(staging, entry.name));
        files[entry.name] = { bytes: d.bytes, sha256: d.sha256 };
      }
      const at = new Date((o.now ?? Date.now)()).toISOString();
      await writeInstallRecord(staging, {
        schemaVersion: 1,
        id,
        installedAt: at,
        source: { kind: 'import', from },
        licence: { name: copied.licence.name, ...(copied.licence.url ? { url: copied.licence.url } : {}) },
        files,
      });
      await swapIntoPlace(o.modelsDir, staging, target);
      return { id, dir: target, manifest: copied, bytes: Object.values(files).reduce((s, f) => s + f.bytes, 0), replaced: exists };
    } finally {
      await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    }
  });
}
