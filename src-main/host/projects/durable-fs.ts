/**
 * Durable file operations for project folders.
 *
 * A save must leave either the old or the new file, whole, whatever happens (a crash, a kill, a power cut):
 * 1. write a temp file in the same folder and fsync it (write-file-atomic: `<name>.<number>` next to the target);
 * 2. rename it over the target (atomic on POSIX and NTFS within one volume);
 * 3. fsync the folder, so the rename itself survives a power cut (POSIX; see `fsyncDirectory`).
 * A process killed between 1 and 2 leaves a stray temp file, never a torn target; `removeTempLeftovers` sweeps
 * those on the next open.
 */
import { constants } from 'node:fs';
import { copyFile, lstat, mkdir, open, readdir, readlink, unlink } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { ProjectError } from '../../contract/project.ts';
import { errorMessage } from '../../contract/errors.ts';

/** Writes `data` to `path` atomically and durably (temp + fsync + rename + folder fsync). */
export async function writeFileDurable(path: string, data: string | Buffer): Promise<void> {
  await writeFileAtomic(path, data, { fsync: true });
  await fsyncDirectory(dirname(path));
}

/** Removes `path` if present and makes the removal durable. */
export async function removeFileDurable(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return;
    throw e;
  }
  await fsyncDirectory(dirname(path));
}

/**
 * Flushes a folder's entries (renames, new and removed names) to disk.
 * NOTE: Windows cannot open a folder for fsync (EPERM/EISDIR) and NTFS journals renames itself, so it is skipped
 * there; some filesystems (network mounts, FUSE) answer EINVAL/ENOTSUP, which is treated as "nothing to do".
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'EINVAL' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EISDIR' || code === 'EPERM') return;
    throw e;
  } finally {
    await handle?.close();
  }
}

/** Deletes the temp files write-file-atomic leaves beside `fileName` in `dir` when a writer is killed. */
export async function removeTempLeftovers(dir: string, fileName: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const prefix = `${fileName}.`;
  const stray = names.filter((n) => n.startsWith(prefix) && /^\d+$/.test(n.slice(prefix.length)));
  for (const name of stray) await unlink(join(dir, name)).catch(() => undefined);
  return stray;
}

/** What {@link copyTreeDurable} does with a symbolic link: leave it out (project copies) or refuse the copy. */
export type LinkPolicy = 'skip' | 'refuse';

/**
 * Copies the folder `from` into `to` (which must not hold the same names): regular files and folders only,
 * each file fsynced, each folder fsynced after its entries. A missing `from` copies nothing. Returns the number of
 * files copied. Files are cloned copy-on-write where the filesystem can (takes are immutable, so sharing is safe).
 * Symbolic links are never followed (a link could lead anywhere): `skip` leaves them out, `refuse` throws a
 * ProjectError naming the link (pack import, where a missing file would only show up as a failed check).
 * `from` itself counts as a link when it is one: resolve it first if the caller chose it on purpose.
 */
export async function copyTreeDurable(from: string, to: string, links: LinkPolicy = 'skip'): Promise<number> {
  return copyTree(from, to, links, from);
}

async function copyTree(from: string, to: string, links: LinkPolicy, root: string): Promise<number> {
  let entries;
  try {
    if ((await lstat(from)).isSymbolicLink()) {
      if (links === 'refuse') throw await linkRefusal(from, root);
      return 0;
    }
    entries = await readdir(from, { withFileTypes: true });
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return 0;
    throw e;
  }
  await mkdir(to, { recursive: true });
  let copied = 0;
  for (const entry of entries) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isSymbolicLink()) {
      if (links === 'refuse') throw await linkRefusal(source, root);
    } else if (entry.isDirectory()) {
      copied += await copyTree(source, target, links, root);
    } else if (entry.isFile()) {
      await copyFile(source, target, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
      const handle = await open(target, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      copied++;
    }
    // Sockets, FIFOs and the like are not content: skipped.
  }
  await fsyncDirectory(to);
  return copied;
}

/** The error for the symbolic link `path` found in `root`, where only plain files and folders may be. */
export async function linkRefusal(path: string, root: string): Promise<ProjectError> {
  const target = await readlink(path).catch(() => '?');
  const rel = relative(root, path) || basename(path);
  return new ProjectError(
    'invalid-argument',
    `'${rel}' in ${root} is a symbolic link (to '${target}'), not a file. ` +
      'Replace it with a copy of the file it points to (e.g. cp -L), or remove it, then try again.',
  );
}

/** The `code` of a Node system error, if it has one. */
export function errnoCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null || !('code' in e)) return undefined;
  return typeof e.code === 'string' ? e.code : undefined;
}

/** Wraps a file-system failure as a ProjectError naming the action and the path (ENOENT → not-found). */
export function fsError(e: unknown, action: string, path: string): ProjectError {
  if (e instanceof ProjectError) return e;
  const code = errnoCode(e);
  const reason = errorMessage(e);
  const hint =
    code === 'ENOSPC' ? ' The disk is full: free some space and try again.'
    : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? ' Check that the folder is writable.'
    : '';
  return new ProjectError(code === 'ENOENT' ? 'not-found' : 'io-error', `Could not ${action} '${path}': ${reason}.${hint}`, [], {
    cause: e,
  });
}
