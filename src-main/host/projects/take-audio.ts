/**
 * Reading a take's audio back (export, peaks): only from inside the project (./confine.ts), and only once the file
 * is known to be whole and to be what its TakeRef says (format, rate, channels). A take that fails a check is
 * reported as a ProjectError whose message starts with "its take file takes/…" so the caller can say which track
 * and region play it: `not-found` (missing), `corrupt` (truncated, garbage, another rate), `invalid-argument`
 * (a link out of the project).
 */
import { readFile } from 'node:fs/promises';
import { ProjectError, type TakeRef } from '../../contract/project.ts';
import { decodeWav, WavError, type DecodedWav } from '../wav.ts';
import { confinedPath } from './confine.ts';
import { errnoCode, fsError } from './durable-fs.ts';
import { takeFilePath, type ProjectPaths } from './layout.ts';

/**
 * Reads, checks and decodes the file of `take`; see the file comment for the errors. The sample rate is checked
 * when the caller knows it (export); building peaks needs only a whole, readable file.
 */
export async function readTakeAudio(paths: ProjectPaths, take: Pick<TakeRef, 'file'> & Partial<Pick<TakeRef, 'sampleRate'>>): Promise<DecodedWav> {
  const its = `its take file ${take.file}`;
  let file: string;
  try {
    file = await confinedPath(paths.dir, takeFilePath(paths, take.file), take.file);
  } catch (e) {
    throw e instanceof ProjectError ? new ProjectError(e.code, `${its} cannot be used: ${e.message}`, [], { cause: e }) : e;
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw new ProjectError('not-found', `${its} is missing from ${paths.dir}.`, [], { cause: e });
    throw fsError(e, `read ${its}`, file);
  }
  const damage = wavDamage(bytes);
  if (damage !== undefined) throw new ProjectError('corrupt', `${its} ${damage}.`);
  let wav: DecodedWav;
  try {
    wav = decodeWav(bytes);
  } catch (e) {
    if (e instanceof WavError) throw new ProjectError('corrupt', `${its} is not a WAV file Tessera can read (${e.message}).`, [], { cause: e });
    throw e;
  }
  if (wav.channels.length !== 1 && wav.channels.length !== 2) {
    throw new ProjectError('corrupt', `${its} has ${wav.channels.length} channels; takes are mono or stereo.`);
  }
  if (take.sampleRate !== undefined && wav.sampleRate !== take.sampleRate) {
    throw new ProjectError('corrupt', `${its} is not the take it should be: its header says ${wav.sampleRate} Hz but the take was made at ${take.sampleRate} Hz.`);
  }
  return wav;
}

/**
 * What is structurally wrong with a WAV file's bytes, as a phrase ("is empty (0 bytes)", "is truncated: …"), or
 * undefined when its chunks are whole. Walks the RIFF chunks itself because a decoder quietly reads what is there:
 * a file cut short (a copy interrupted, a full disk) would otherwise play as a shorter take.
 */
export function wavDamage(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return 'is empty (0 bytes)';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ascii = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 12 || ascii(0) !== 'RIFF' || ascii(8) !== 'WAVE') return undefined; // the decoder says what it is
  let blockAlign = 0;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = ascii(at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ' && size >= 16 && body + 16 <= bytes.length) blockAlign = view.getUint16(body + 12, true);
    if (id === 'data') {
      if (blockAlign === 0) return undefined;
      const held = bytes.length - body;
      if (held < size) {
        return `is truncated: its header declares ${Math.floor(size / blockAlign)} frames but the file holds ${Math.floor(held / blockAlign)}`;
      }
      if (size % blockAlign !== 0) return 'is damaged: its audio data ends in the middle of a sample frame';
      return undefined;
    }
    at = body + size + (size % 2);
  }
  return 'is truncated: the file ends before its audio data';
}
