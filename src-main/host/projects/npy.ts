/**
 * NumPy's .npy format (version 1.0) for float32 arrays: how a piece's final latent is kept beside its takes, so any
 * tool (`numpy.load`) can read it. Hand-written because the format is a 10-byte preamble, a Python-literal header
 * and raw little-endian data, and the maintained npm packages for it read only, or pull in a whole array library.
 *
 * Layout: `\x93NUMPY`, major 1, minor 0, header length (uint16 LE), header
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (C, T, Fq), }` padded with spaces and a final newline so the
 * data starts at a multiple of 64 bytes, then the values in C order. The bytes equal NumPy's `np.save` output
 * (tests/fixtures/npy, written by NumPy).
 */
import { readFile } from 'node:fs/promises';
import { CodedError } from '../../contract/errors.ts';
import { confinedPath } from './confine.ts';
import { errnoCode, fsError } from './durable-fs.ts';
import { takeFilePath, type ProjectPaths } from './layout.ts';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const PREAMBLE = 10;

/** A float32 array and its shape. */
export interface NpyArray {
  shape: number[];
  data: Float32Array;
}

/** `data` (C order, `shape`) as .npy bytes. */
export function encodeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new RangeError(`shape (${shape.join(', ')}) holds ${count} values, the data ${data.length}`);
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  // As NumPy's np.save: room for the first axis to grow to 21 digits in place, then spaces to a 64-byte boundary.
  const grown = dict + ' '.repeat(Math.max(0, 21 - String(shape[0] ?? '').length));
  const headerLength = Math.ceil((PREAMBLE + grown.length + 1) / 64) * 64 - PREAMBLE;
  const header = grown.padEnd(headerLength - 1, ' ') + '\n';
  const out = new Uint8Array(PREAMBLE + headerLength + data.length * 4);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, headerLength, true);
  for (let i = 0; i < header.length; i++) out[PREAMBLE + i] = header.charCodeAt(i);
  const view = new DataView(out.buffer, PREAMBLE + headerLength);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return out;
}

/** Reads .npy bytes holding a little-endian float32 array in C order; `where` names the file in errors. */
export function decodeNpy(bytes: Uint8Array, where: string): NpyArray {
  const fail = (why: string): never => {
    throw new CodedError('corrupt', `${where} is not a latent Tessera can read: ${why}. Regenerate the region to write a new one.`);
  };
  if (bytes.length < PREAMBLE || MAGIC.some((b, i) => bytes[i] !== b)) fail('it does not start with the .npy magic');
  if (bytes[6] !== 1) fail(`it is .npy version ${bytes[6]}.${bytes[7]}, not 1.0`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint16(8, true);
  if (PREAMBLE + headerLength > bytes.length) fail('its header runs past the end of the file');
  const header = new TextDecoder('latin1').decode(bytes.subarray(PREAMBLE, PREAMBLE + headerLength));
  if (!/'descr':\s*'<f4'/.test(header)) fail(`its values are not little-endian float32 (${header.trim()})`);
  if (!/'fortran_order':\s*False/.test(header)) fail('it is in Fortran order');
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (shapeText === undefined) fail('its header has no shape');
  const shape = (shapeText ?? '').split(',').map((d) => d.trim()).filter((d) => d !== '').map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) fail(`its shape (${shapeText ?? ''}) is not a list of sizes`);
  const count = shape.reduce((a, b) => a * b, 1);
  const start = PREAMBLE + headerLength;
  if (bytes.length !== start + count * 4) fail(`it holds ${bytes.length - start} data bytes, its shape needs ${count * 4}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset + start, count * 4);
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = view.getFloat32(i * 4, true);
  return { shape, data };
}

/** Reads a kept latent (`takes/…npy`) from inside the project only; a missing or damaged file names itself. */
export async function readLatentFile(paths: ProjectPaths, file: string): Promise<NpyArray> {
  const full = await confinedPath(paths.dir, takeFilePath(paths, file), file);
  let bytes: Buffer;
  try {
    bytes = await readFile(full);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw new CodedError('not-found', `the kept latent ${file} is missing from ${paths.dir}; regenerate the whole run instead.`, { cause: e });
    throw fsError(e, `read the kept latent ${file}`, full);
  }
  return decodeNpy(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file);
}
