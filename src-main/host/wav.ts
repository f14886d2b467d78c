/**
 * WAV encoding and decoding for takes and exports: 32-bit float, 16-bit and 24-bit PCM, with the generation
 * parameters embedded as RIFF INFO tags (INAM title, ICMT comment = JSON of the parameters, ISFT software).
 *
 * The `wavefile` package builds and parses the RIFF structure; this module adds what it leaves out:
 * - Float → integer conversion: clip to [−1, 1], scale by 2^(bits−1) for negative and 2^(bits−1) − 1 for positive
 *   values, round to nearest (no dither: fine for 24-bit, audible only on very quiet 16-bit material). Decoding
 *   divides by the same factors, so −1, 0 and 1 survive exactly and every value is within half a step.
 *   (wavefile's own toBitDepth truncates instead of rounding.)
 * - RIFF word alignment. wavefile writes odd-sized chunks without the pad byte that RIFF requires (and that its
 *   own reader expects): a 24-bit mono file with an odd number of frames, or an INFO string of even byte length,
 *   makes everything after it unreadable. Tag values get an extra NUL when needed (readers stop at the first NUL)
 *   and an odd data chunk gets its pad byte after encoding.
 * - More than two channels: wavefile writes the WAVE_FORMAT_EXTENSIBLE fmt extension but keeps the plain format
 *   tag and always names the PCM sub-format; this module sets tag 0xFFFE and the right sub-format (PCM or IEEE
 *   float). Float files also get the `fact` chunk that non-PCM formats carry.
 * Tag text is written as UTF-8 (wavefile's choice; most tools read it, some old ones show Latin-1 mojibake).
 */
import wavefile from 'wavefile';
import { CodedError, errorMessage } from '../contract/errors.ts';

const { WaveFile } = wavefile;

/** Sample formats Tessera writes and reads. */
export type WavFormat = 'float32' | 'pcm16' | 'pcm24';

/** Everything {@link decodeWav} reads back. */
export interface DecodedWav {
  sampleRate: number;
  /** One array per channel, samples in [−1, 1] for PCM. */
  channels: Float32Array[];
  format: WavFormat;
  /** RIFF INFO tags by four-character id (e.g. INAM, ICMT, ISFT). */
  tags: Record<string, string>;
}

/** A WAV file could not be written or read; the message names the bad value and what is allowed. */
export class WavError extends CodedError<'invalid-argument'> {
  override name = 'WavError';
  constructor(message: string) {
    super('invalid-argument', message);
  }
}

/** The ISFT tag written unless the caller sets one. */
export const WAV_SOFTWARE_TAG = 'Tessera';

const WAV_FORMATS: readonly WavFormat[] = ['float32', 'pcm16', 'pcm24'];
const BIT_DEPTH_CODE: Record<WavFormat, string> = { float32: '32f', pcm16: '16', pcm24: '24' };
const BYTES_PER_SAMPLE: Record<WavFormat, number> = { float32: 4, pcm16: 2, pcm24: 3 };
const FORMAT_PCM = 1;
const FORMAT_IEEE_FLOAT = 3;
const FORMAT_EXTENSIBLE = 0xfffe;
/** RIFF sizes are 32-bit; leave room for the header and tags. */
const MAX_DATA_BYTES = 0xffff_ffff - 1024 * 1024;
const TAG_ID = /^[A-Z][A-Z0-9 ]{3}$/;

/** The fields of wavefile's `fmt` object this module reads or patches. */
interface WaveFmt {
  chunkSize: number;
  audioFormat: number;
  numChannels: number;
  sampleRate: number;
  blockAlign: number;
  bitsPerSample: number;
  cbSize: number;
  subformat: number[];
}

/**
 * Encodes `channels` (equal lengths, finite samples) as a RIFF WAVE file. `metadata` maps INFO ids to text, e.g.
 * `{ INAM: 'Rain on a roof', ICMT: JSON.stringify(params) }`; ISFT defaults to "Tessera".
 */
export function encodeWav(
  channels: Float32Array[],
  sampleRate: number,
  format: WavFormat,
  metadata: Record<string, string> = {},
): Uint8Array {
  checkEncodeArguments(channels, sampleRate, format);
  const tags = checkTags({ ...metadata, ISFT: metadata.ISFT ?? WAV_SOFTWARE_TAG });
  const frames = channels[0]?.length ?? 0;
  const channelCount = channels.length;

  const wav = new WaveFile();
  // wavefile builds the header and tags from an empty data chunk; the samples are packed here in one typed-array
  // pass (wavefile's per-sample JavaScript packers take ~9 s per stereo minute of float audio at 48 kHz).
  wav.fromScratch(channelCount, sampleRate, BIT_DEPTH_CODE[format], []);
  const fmt = wav.fmt as WaveFmt;
  if (fmt.chunkSize === 40) {
    // The 40-byte WAVE_FORMAT_EXTENSIBLE fmt (more than two channels): wavefile leaves the plain format tag in
    // place and always names the PCM sub-format.
    fmt.audioFormat = FORMAT_EXTENSIBLE;
    fmt.subformat[0] = format === 'float32' ? FORMAT_IEEE_FLOAT : FORMAT_PCM;
  }
  if (format === 'float32') {
    // Non-PCM formats carry cbSize in an 18-byte fmt chunk (WAVEFORMATEX); wavefile writes 16 bytes, which sox and
    // others report as a header missing its extended part.
    if (fmt.chunkSize === 16) Object.assign(fmt, { chunkSize: 18, cbSize: 0 });
    Object.assign(wav.fact, { chunkId: 'fact', chunkSize: 4, dwSampleLength: frames });
  }
  for (const [id, value] of Object.entries(tags)) {
    // Value + terminating NUL must have even byte length; one more NUL pads it (readers stop at the first).
    wav.setTag(id, utf8Length(value) % 2 === 0 ? `${value}\0` : value);
  }
  return withDataChunk(wav.toBuffer(), packSamples(interleave(channels, format), format));
}

/** Decodes a RIFF WAVE file in one of {@link WavFormat} (plain or WAVE_FORMAT_EXTENSIBLE). */
export function decodeWav(bytes: Uint8Array): DecodedWav {
  checkRiffHeader(bytes);
  let wav: InstanceType<typeof WaveFile>;
  try {
    wav = new WaveFile(bytes);
  } catch (error) {
    throw new WavError(`cannot parse the WAV file: ${errorMessage(error)}`);
  }
  const fmt = wav.fmt as WaveFmt;
  const format = sampleFormatOf(fmt);
  const data = (wav.data as { samples?: Uint8Array }).samples ?? new Uint8Array(0);
  return {
    sampleRate: fmt.sampleRate,
    channels: deinterleave(data, fmt.numChannels, fmt.blockAlign, format),
    format,
    tags: stringEntries(wav.listTags()),
  };
}

function checkEncodeArguments(channels: Float32Array[], sampleRate: number, format: WavFormat): void {
  if (!WAV_FORMATS.includes(format)) {
    throw new WavError(`unknown WAV sample format "${String(format)}"; use one of ${WAV_FORMATS.join(', ')}`);
  }
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) {
    throw new WavError(`sample rate must be a positive whole number of Hz (e.g. 44100), got ${sampleRate}`);
  }
  if (channels.length === 0) throw new WavError('no channels to encode: pass at least one Float32Array');
  if (channels.length * BYTES_PER_SAMPLE[format] > 0xffff) {
    throw new WavError(`${channels.length} channels do not fit a WAV frame; at most ${Math.floor(0xffff / BYTES_PER_SAMPLE[format])}`);
  }
  if (sampleRate * channels.length * BYTES_PER_SAMPLE[format] > 0xffff_ffff) {
    throw new WavError(`sample rate ${sampleRate} Hz is too high for ${channels.length} channels of ${format}`);
  }
  const frames = channels[0]?.length ?? 0;
  channels.forEach((channel, c) => {
    if (channel.length !== frames) {
      throw new WavError(
        `channel ${c} has ${channel.length} samples but channel 0 has ${frames}; all channels need the same length`,
      );
    }
    for (let i = 0; i < channel.length; i++) {
      if (!Number.isFinite(channel[i])) {
        throw new WavError(
          `channel ${c} sample ${i} is ${channel[i]}; WAV samples must be finite (check the mix for NaN/Infinity)`,
        );
      }
    }
  });
  const dataBytes = frames * channels.length * BYTES_PER_SAMPLE[format];
  if (dataBytes > MAX_DATA_BYTES) {
    throw new WavError(`${dataBytes} bytes of audio exceed the 4 GiB limit of WAV; export FLAC or shorter stems`);
  }
}

function checkTags(tags: Record<string, string>): Record<string, string> {
  for (const [id, value] of Object.entries(tags)) {
    if (!TAG_ID.test(id)) {
      throw new WavError(`metadata key "${id}" is not a RIFF INFO id: use four upper-case letters/digits, e.g. INAM, ICMT, ISFT`);
    }
    if (typeof value !== 'string') throw new WavError(`metadata ${id} must be a string, got ${typeof value}`);
    if (value.includes('\0')) throw new WavError(`metadata ${id} contains a NUL character, which ends a RIFF string`);
  }
  return tags;
}

/** Interleaves and converts to the integer or float array wavefile packs. */
function interleave(channels: Float32Array[], format: WavFormat): Float32Array | Int16Array | Int32Array {
  const channelCount = channels.length;
  const frames = channels[0]?.length ?? 0;
  const out =
    format === 'float32'
      ? new Float32Array(frames * channelCount)
      : format === 'pcm16'
        ? new Int16Array(frames * channelCount)
        : new Int32Array(frames * channelCount);
  const bits = format === 'pcm16' ? 16 : 24;
  const negativeScale = 2 ** (bits - 1);
  const positiveScale = negativeScale - 1;
  channels.forEach((channel, c) => {
    for (let i = 0; i < frames; i++) {
      const x = channel[i];
      if (format === 'float32') {
        out[i * channelCount + c] = x;
      } else {
        const clipped = x > 1 ? 1 : x < -1 ? -1 : x;
        out[i * channelCount + c] = Math.round(clipped < 0 ? clipped * negativeScale : clipped * positiveScale);
      }
    }
  });
  return out;
}

function deinterleave(data: Uint8Array, channelCount: number, blockAlign: number, format: WavFormat): Float32Array[] {
  const bytesPerSample = BYTES_PER_SAMPLE[format];
  if (channelCount < 1 || blockAlign !== channelCount * bytesPerSample) {
    throw new WavError(`inconsistent fmt chunk: ${channelCount} channels of ${format} but block align ${blockAlign}`);
  }
  const frames = Math.floor(data.length / blockAlign);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const channels = Array.from({ length: channelCount }, () => new Float32Array(frames));
  channels.forEach((channel, c) => {
    for (let i = 0; i < frames; i++) {
      const at = i * blockAlign + c * bytesPerSample;
      if (format === 'float32') {
        channel[i] = view.getFloat32(at, true);
      } else if (format === 'pcm16') {
        const v = view.getInt16(at, true);
        channel[i] = v < 0 ? v / 32768 : v / 32767;
      } else {
        const v = (view.getInt8(at + 2) << 16) | (view.getUint8(at + 1) << 8) | view.getUint8(at);
        channel[i] = v < 0 ? v / 8388608 : v / 8388607;
      }
    }
  });
  return channels;
}

function sampleFormatOf(fmt: WaveFmt): WavFormat {
  const code = fmt.audioFormat === FORMAT_EXTENSIBLE ? fmt.subformat[0] : fmt.audioFormat;
  if (code === FORMAT_IEEE_FLOAT && fmt.bitsPerSample === 32) return 'float32';
  if (code === FORMAT_PCM && fmt.bitsPerSample === 16) return 'pcm16';
  if (code === FORMAT_PCM && fmt.bitsPerSample === 24) return 'pcm24';
  throw new WavError(
    `unsupported WAV sample format (format tag ${fmt.audioFormat}${fmt.audioFormat === FORMAT_EXTENSIBLE ? `, sub-format ${code}` : ''}, ` +
      `${fmt.bitsPerSample} bits); Tessera reads 32-bit float, 16-bit PCM and 24-bit PCM`,
  );
}

function checkRiffHeader(bytes: Uint8Array): void {
  const ascii = (from: number) => String.fromCharCode(...bytes.subarray(from, from + 4));
  if (bytes.length < 12) throw new WavError(`not a WAV file: ${bytes.length} bytes is shorter than a RIFF header`);
  const container = ascii(0);
  if (container === 'RIFX' || container === 'RF64') {
    throw new WavError(`${container} WAV files are not supported; Tessera reads little-endian RIFF WAVE files`);
  }
  if (container !== 'RIFF' || ascii(8) !== 'WAVE') {
    throw new WavError(`not a WAV file: it starts with "${container}…${ascii(8)}", expected "RIFF…WAVE"`);
  }
}

/** Inserts the pad byte RIFF requires after an odd-sized data chunk, and fixes the RIFF size. */
/** Little-endian sample bytes of the data chunk: float32 as is, pcm16 as int16, pcm24 as 3-byte integers. */
function packSamples(samples: Float32Array | Int16Array | Int32Array, format: WavFormat): Uint8Array {
  if (format !== 'pcm24') return new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
  const out = new Uint8Array(samples.length * 3);
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i];
    out[3 * i] = v & 0xff;
    out[3 * i + 1] = (v >> 8) & 0xff;
    out[3 * i + 2] = (v >> 16) & 0xff;
  }
  return out;
}

/**
 * Rebuilds a RIFF file with `data` as the data chunk's body, keeping every other chunk, adding the pad byte RIFF
 * requires after an odd-sized chunk (wavefile omits it) and fixing the RIFF size.
 */
function withDataChunk(bytes: Uint8Array, data: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: Uint8Array[] = [];
  let found = false;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = String.fromCharCode(...bytes.subarray(at, at + 4));
    const size = view.getUint32(at + 4, true);
    const next = at + 8 + size + (size % 2);
    if (id === 'data') {
      const header = new Uint8Array(8);
      header.set(bytes.subarray(at, at + 4));
      new DataView(header.buffer).setUint32(4, data.length, true);
      parts.push(header, data);
      if (data.length % 2 === 1) parts.push(new Uint8Array(1));
      found = true;
    } else {
      parts.push(bytes.subarray(at, Math.min(next, bytes.length)));
      if (next > bytes.length) parts.push(new Uint8Array(next - bytes.length));
    }
    at = next;
  }
  if (!found) throw new WavError('internal: wavefile produced no data chunk');
  const total = 12 + parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  out.set(bytes.subarray(0, 12));
  new DataView(out.buffer).setUint32(4, total - 8, true);
  let offset = 12;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

function stringEntries(tags: object): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, value] of Object.entries(tags)) if (typeof value === 'string') out[id] = value;
  return out;
}
