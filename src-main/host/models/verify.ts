/** Hashing downloaded files the ways the hub declares them: sha256 (LFS) and the git blob sha1 (regular files). */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

/** A file's digests. */
export interface FileDigest {
  bytes: number;
  sha256: string;
  /** sha1("blob <bytes>\0" + content): git's object id, the ETag of a regular file on the hub. */
  gitSha1: string;
}

/** Streams `path` once through sha256 and git's blob sha1. `onBytes` gets each chunk's length (for progress). */
export async function digestFile(path: string, onBytes?: (n: number) => void, signal?: AbortSignal): Promise<FileDigest> {
  const { size } = await stat(path);
  const sha256 = createHash('sha256');
  const sha1 = createHash('sha1').update(`blob ${size}\0`);
  let bytes = 0;
  for await (const chunk of createReadStream(path, signal ? { signal } : {})) {
    const buf = chunk as Buffer;
    sha256.update(buf);
    sha1.update(buf);
    bytes += buf.length;
    onBytes?.(buf.length);
  }
  if (bytes !== size) throw new Error(`${path} changed size while it was hashed (${size} → ${bytes} bytes)`);
  return { bytes, sha256: sha256.digest('hex'), gitSha1: sha1.digest('hex') };
}

/** What a file must be: any of the known digests and its size. */
export interface Expected {
  bytes?: number;
  sha256?: string;
  gitSha1?: string;
}

/** The differences between a digest and what was expected, as phrases (empty: it matches). */
export function digestMismatch(digest: FileDigest, expected: Expected): string[] {
  const problems: string[] = [];
  if (expected.bytes !== undefined && digest.bytes !== expected.bytes) problems.push(`size ${digest.bytes} bytes, expected ${expected.bytes}`);
  if (expected.sha256 !== undefined && digest.sha256 !== expected.sha256) problems.push(`sha256 ${digest.sha256}, expected ${expected.sha256}`);
  if (expected.gitSha1 !== undefined && digest.gitSha1 !== expected.gitSha1) problems.push(`git blob id ${digest.gitSha1}, expected ${expected.gitSha1}`);
  return problems;
}

/** True when at least one content digest is known (a size alone verifies nothing). */
export function canVerify(expected: Expected): boolean {
  return expected.sha256 !== undefined || expected.gitSha1 !== undefined;
}

/** A stable key of what the bytes must be: when it changes between runs, a partial download is started afresh. */
export function expectedKey(expected: Expected): string {
  return [expected.sha256 && `sha256:${expected.sha256}`, expected.gitSha1 && `git:${expected.gitSha1}`, expected.bytes !== undefined && `bytes:${expected.bytes}`]
    .filter(Boolean)
    .join(' ');
}
