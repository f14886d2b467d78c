/**
 * The one rule for reading and writing inside a folder (a project, a pack): a path is used only after its symbolic
 * links are resolved, and only when the real path lies inside the folder's real path. So `takes/evil.wav ->
 * /etc/passwd` (or `takes/ -> /elsewhere`) is refused, a link that stays inside is fine, and a folder that is
 * itself reached through a link (e.g. /tmp on macOS) still works, because both sides are compared as real paths.
 * Every project file reader and writer (assets, peaks, takes, export) and pack import go through this module.
 */
import { readdir, readlink, realpath } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ProjectError } from '../../contract/project.ts';
import { errnoCode, linkRefusal } from './durable-fs.ts';

/** Links followed through missing targets before giving up (the same bound as Linux's ELOOP). */
const MAX_LINK_HOPS = 40;

/** True when `path` is `root` or lies below it (both absolute, already resolved). */
export function isWithin(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`));
}

/**
 * Where `path` really is: every link resolved; for a path that does not exist (yet), the real path of its
 * nearest existing folder plus the rest, and for a dangling link, where writing through it would create the file.
 */
export async function realPathOf(path: string, hops = 0): Promise<string> {
  try {
    return await realpath(path);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT' && errnoCode(e) !== 'ENOTDIR') throw e;
  }
  const link = await readlink(path).catch(() => undefined);
  if (link !== undefined) {
    if (hops >= MAX_LINK_HOPS) throw new ProjectError('invalid-argument', `'${path}' is a loop of symbolic links; remove the link.`);
    return realPathOf(resolve(await realPathOf(dirname(path), hops + 1), link), hops + 1);
  }
  const parent = dirname(path);
  if (parent === path) return path;
  return join(await realPathOf(parent, hops), basename(path));
}

/**
 * The real path of `path`, which must lie inside the folder `root` once every link is resolved; `shown` is how
 * messages name it (e.g. `takes/a.wav`). Throws ProjectError `invalid-argument` naming the path, where it leads
 * and what to do when it leads outside; `not-found` when `root` itself does not exist.
 */
export async function confinedPath(root: string, path: string, shown: string = path): Promise<string> {
  let realRoot: string;
  try {
    realRoot = await realpath(root);
  } catch (e) {
    const code = errnoCode(e);
    throw new ProjectError(code === 'ENOENT' ? 'not-found' : 'io-error', `The folder '${root}' cannot be read (${code ?? String(e)}); check that it still exists.`, [], { cause: e });
  }
  const real = await realPathOf(resolve(root, path));
  if (isWithin(realRoot, real)) return real;
  throw new ProjectError(
    'invalid-argument',
    `'${shown}' in ${root} is (or lies in) a symbolic link that leads to '${real}', outside the project folder ${realRoot}. ` +
      'Tessera reads and writes only inside the folder: replace the link with a copy of the file (or folder) it points to, or remove it.',
  );
}

/**
 * Refuses any symbolic link under `dir` (files and folders alike), naming the first one, where it points and what
 * to do: for folders copied elsewhere as they are (pack import), where a link would leak a file from outside or
 * break in the copy. `dir` itself is taken as given (resolve it first).
 */
export async function refuseLinks(dir: string, root: string = dir): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) throw await linkRefusal(path, root);
    if (entry.isDirectory()) await refuseLinks(path, root);
  }
}
