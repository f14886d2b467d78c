/**
 * Take files: generated audio is written once under `takes/` and never overwritten or edited afterwards, so a
 * take a document refers to always holds the audio it was generated as (and save-as may share it copy-on-write).
 * Writes and sweeps stay inside the project's real folder (./confine.ts): a `takes/` linked elsewhere is refused.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ProjectError } from '../../contract/project.ts';
import { confinedPath } from './confine.ts';
import { errnoCode, fsError, fsyncDirectory } from './durable-fs.ts';
import { TAKES_DIR, type ProjectPaths } from './layout.ts';

const TAKE_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;
const PARTIAL = /^\..+\.partial$/;

/**
 * Writes a new take file `takes/<name>` durably and returns its project-relative path (what TakeRef.file holds).
 * Fails with `invalid-argument` if the name is taken: takes are never overwritten.
 */
export async function writeTakeFile(paths: ProjectPaths, name: string, bytes: Uint8Array): Promise<string> {
  if (!TAKE_NAME.test(name)) {
    throw new ProjectError('invalid-argument', `take file name '${name}' must be letters, digits, ".", "_", "-" (not starting with ".")`);
  }
  // Checked before mkdir, which would otherwise create the folder wherever a linked takes/ leads.
  const takesDir = await confinedPath(paths.dir, paths.takesDir, TAKES_DIR);
  const final = join(takesDir, name);
  // A hidden temp name: never a valid TakeRef.file, swept by `removePartialTakes` if the writer dies.
  const temp = join(takesDir, `.${name}.${randomBytes(6).toString('hex')}.partial`);
  try {
    await mkdir(takesDir, { recursive: true });
    await writeFile(temp, bytes, { flush: true });
    try {
      // link() publishes the complete file under its name only if the name is free (atomic no-overwrite).
      await link(temp, final);
      await unlink(temp);
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'EEXIST') throw new ProjectError('invalid-argument', `take file '${final}' already exists; takes are never overwritten.`);
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw e;
      // NOTE: filesystems without hard links (FAT, some network mounts): check, then rename.
      if (await stat(final).then(() => true, () => false)) {
        throw new ProjectError('invalid-argument', `take file '${final}' already exists; takes are never overwritten.`);
      }
      await rename(temp, final);
    }
    await fsyncDirectory(takesDir);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw fsError(e, 'write the take', final);
  }
  return `${TAKES_DIR}/${name}`;
}

/** Deletes hidden `.partial` files a killed take writer left behind (never through a takes/ linked outside). */
export async function removePartialTakes(paths: ProjectPaths): Promise<void> {
  const takesDir = await confinedPath(paths.dir, paths.takesDir, TAKES_DIR).catch(() => undefined);
  if (takesDir === undefined) return;
  const names = await readdir(takesDir).catch(() => [] as string[]);
  for (const name of names) if (PARTIAL.test(name)) await unlink(join(takesDir, name)).catch(() => undefined);
}
