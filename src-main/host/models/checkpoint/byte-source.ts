/**
 * Positioned reads from a checkpoint file. Readers never load a whole file: they read a header, then the byte range
 * of one tensor at a time. Tests wrap a source to count the bytes a reader asks for.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { errorMessage } from '../../../contract/errors.ts';
import { errnoCode } from '../../projects/durable-fs.ts';
import { CheckpointError } from './types.ts';

/** A file opened for random access. */
export interface ByteSource {
  /** The file's path, for messages. */
  readonly path: string;
  /** Its size in bytes when it was opened. */
  readonly size: number;
  /** Fills `target` with the bytes at `position`; fails (corrupt) when the file ends first. */
  readInto(position: number, target: Uint8Array): Promise<void>;
  /** Releases the handle. */
  close(): Promise<void>;
}

/** Reads `length` bytes at `position` into a new array. */
export async function readAt(source: ByteSource, position: number, length: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  await source.readInto(position, bytes);
  return bytes;
}

// NOTE: one read() call moves at most 2 GiB - 1 bytes (libuv's limit), so large tensors are read in slices.
const MAX_READ = 0x4000_0000;

class FileSource implements ByteSource {
  constructor(
    readonly path: string,
    readonly size: number,
    private readonly handle: FileHandle,
  ) {}

  async readInto(position: number, target: Uint8Array): Promise<void> {
    let done = 0;
    while (done < target.byteLength) {
      const length = Math.min(MAX_READ, target.byteLength - done);
      let bytesRead: number;
      try {
        ({ bytesRead } = await this.handle.read(target, done, length, position + done));
      } catch (e) {
        throw new CheckpointError('io-error', `Could not read '${this.path}' at byte ${position + done}: ${errorMessage(e)}. Check the disk and try again.`, { cause: e });
      }
      if (bytesRead === 0) {
        throw new CheckpointError(
          'corrupt',
          `'${this.path}' ends at byte ${position + done}, but ${target.byteLength - done} more bytes were expected there: the file is truncated. Download or copy it again.`,
        );
      }
      done += bytesRead;
    }
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** Opens `path` for positioned reads; a missing or unreadable file is a CheckpointError naming it. */
export async function openFileSource(path: string): Promise<ByteSource> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    const code = errnoCode(e) === 'ENOENT' ? 'not-found' : 'io-error';
    throw new CheckpointError(code, `Could not open checkpoint '${path}': ${errorMessage(e)}. Check that the file exists and is readable.`, { cause: e });
  }
  try {
    const { size } = await handle.stat();
    return new FileSource(path, size, handle);
  } catch (e) {
    await handle.close();
    throw new CheckpointError('io-error', `Could not stat checkpoint '${path}': ${errorMessage(e)}. Check the disk and try again.`, { cause: e });
  }
}
