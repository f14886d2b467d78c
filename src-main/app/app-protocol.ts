/** Maps `tessera://app/<path>` requests to files of the built renderer, refusing anything outside it. */
import { isAbsolute, join, relative, resolve } from 'node:path';
import { APP_ORIGIN } from './window.ts';
import { originOf } from '../ipc/sender.ts';

/** The renderer file a request names, or undefined for other origins, malformed URLs and path escapes. */
export function resolveAppAsset(url: string, rootDir: string, appOrigin: string = APP_ORIGIN): string | undefined {
  if (originOf(url) !== appOrigin) return undefined;
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(url).pathname);
  } catch {
    return undefined;
  }
  if (pathname.includes('\0')) return undefined;
  const root = resolve(rootDir);
  const file = resolve(join(root, pathname === '/' || pathname === '' ? 'index.html' : pathname));
  const inside = relative(root, file);
  if (inside === '' || inside.startsWith('..') || isAbsolute(inside)) return undefined;
  return file;
}
