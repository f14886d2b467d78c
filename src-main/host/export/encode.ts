/**
 * Encodes rendered audio into export files: WAV through host/wav.ts (`wavefile`), FLAC through
 * `@mediabunny/flac-encoder` (libFLAC compiled to WASM, run in a worker thread) muxed by `mediabunny`.
 *
 * - Integer formats quantise exactly as wav.ts does (clip to ±1, ×2^(bits−1) below zero and ×(2^(bits−1) − 1)
 *   above, round to nearest, no dither), so a FLAC file and a WAV file of the same format hold the same samples.
 * - FLAC 16 feeds the encoder `s16` samples; FLAC 24 feeds `s32` samples holding the 24-bit value shifted up by 8
 *   bits, which the encoder's bridge shifts back (it picks 24 bits for any 32-bit input).
 * - NOTE: mediabunny's FLAC muxer leaves the STREAMINFO MD5 at zero ("unknown"); this module computes the MD5 of
 *   the quantised samples (RFC 9639 §8.2: interleaved, little-endian, ⌈bits/8⌉ bytes each) and patches it in, so
 *   `flac -t` verifies every sample instead of warning.
 * - Tags. WAV: INAM title, ICMT comment, ISFT "Tessera" (RIFF INFO). FLAC Vorbis comments: TITLE, COMMENT and
 *   DESCRIPTION (the same text: players show one or the other), ENCODER=Tessera; mediabunny writes its own
 *   vendor string ("Mediabunny v1.61.0").
 * - The FLAC encoder accepts only the sample rates in {@link FLAC_SAMPLE_RATES}.
 */
import { createHash } from 'node:crypto';
import { registerFlacEncoder } from '@mediabunny/flac-encoder';
import { AudioSample, AudioSampleSource, BufferTarget, FlacOutputFormat, Output } from 'mediabunny';
import { encodeWav, type WavFormat } from '../wav.ts';
import { ExportError, type ExportFormat } from './types.ts';
import { errorMessage } from '../../contract/errors.ts';

/** Title and comment written into every file (the comment holds the generation parameters as JSON). */
export interface EncodeTags {
  title: string;
  comment?: string;
}

/** Sample rates `@mediabunny/flac-encoder` 1.58 accepts (its `FlacEncoder.supports`). */
export const FLAC_SAMPLE_RATES: readonly number[] = [8000, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000, 176400, 192000];

/** Frames handed to the FLAC encoder at a time; the abort signal is checked between chunks. */
const FLAC_CHUNK_FRAMES = 65_536;
const ENCODER_TAG = 'Tessera';
const WAV_FORMAT: Record<'wav16' | 'wav24' | 'wav32f', WavFormat> = { wav16: 'pcm16', wav24: 'pcm24', wav32f: 'float32' };
const MD5_OFFSET = 8 + 18;

let flacEncoderRegistered = false;

/** The file extension of a format, without the dot. */
export function fileExtension(format: ExportFormat): 'wav' | 'flac' {
  return format.startsWith('flac') ? 'flac' : 'wav';
}

/** Bits per integer sample, or 32 for float. */
export function bitsOf(format: ExportFormat): 16 | 24 | 32 {
  return format.endsWith('16') ? 16 : format.endsWith('24') ? 24 : 32;
}

/** Samples an integer format would clip (|x| > 1); 0 for float WAV. */
export function countClipped(channels: Float32Array[], format: ExportFormat): number {
  if (format === 'wav32f') return 0;
  let clipped = 0;
  for (const channel of channels) for (let i = 0; i < channel.length; i++) if (channel[i] > 1 || channel[i] < -1) clipped++;
  return clipped;
}

/** Encodes `channels` (equal lengths, finite) as one file of `format`; rejects with `cancelled` on abort. */
export async function encodeAudio(
  channels: Float32Array[],
  sampleRate: number,
  format: ExportFormat,
  tags: EncodeTags,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  throwIfAborted(signal);
  switch (format) {
    case 'wav16':
    case 'wav24':
    case 'wav32f': {
      const info: Record<string, string> = { INAM: tags.title, ISFT: ENCODER_TAG };
      if (tags.comment !== undefined) info.ICMT = tags.comment;
      return encodeWav(channels, sampleRate, WAV_FORMAT[format], info);
    }
    case 'flac16':
    case 'flac24':
      return encodeFlac(channels, sampleRate, bitsOf(format) === 16 ? 16 : 24, tags, signal);
    default:
      throw new ExportError('invalid-argument', `unknown export format "${String(format)}"`);
  }
}

async function encodeFlac(
  channels: Float32Array[],
  sampleRate: number,
  bits: 16 | 24,
  tags: EncodeTags,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  if (!FLAC_SAMPLE_RATES.includes(sampleRate)) {
    throw new ExportError(
      'invalid-argument',
      `FLAC export supports sample rates ${FLAC_SAMPLE_RATES.join(', ')} Hz, got ${sampleRate}; ` +
        'set sampleRate to one of them (e.g. 48000) or export WAV',
    );
  }
  if (!flacEncoderRegistered) {
    registerFlacEncoder();
    flacEncoderRegistered = true;
  }
  const frames = channels[0]?.length ?? 0;
  const channelCount = channels.length;
  const output = new Output({ format: new FlacOutputFormat(), target: new BufferTarget() });
  const source = new AudioSampleSource({ codec: 'flac' });
  output.addAudioTrack(source);
  const comment = tags.comment === undefined ? {} : { comment: tags.comment, description: tags.comment };
  output.setMetadataTags({ title: tags.title, ...comment, raw: { ENCODER: ENCODER_TAG } });
  const md5 = createHash('md5');
  try {
    await output.start();
    for (let from = 0; from < frames; from += FLAC_CHUNK_FRAMES) {
      throwIfAborted(signal);
      const count = Math.min(FLAC_CHUNK_FRAMES, frames - from);
      const { data, md5Bytes } = quantiseChunk(channels, from, count, bits);
      md5.update(md5Bytes);
      const sample = new AudioSample({
        data,
        format: bits === 16 ? 's16' : 's32',
        numberOfChannels: channelCount,
        sampleRate,
        timestamp: from / sampleRate,
      });
      try {
        await source.add(sample);
      } finally {
        sample.close();
      }
    }
    throwIfAborted(signal);
    source.close();
    await output.finalize();
  } catch (error) {
    if (output.state !== 'finalized' && output.state !== 'canceled') await output.cancel();
    if (error instanceof ExportError) throw error;
    throw new ExportError('io-error', `FLAC encoding failed: ${errorMessage(error)}`, { cause: error });
  }
  const buffer = output.target.buffer;
  if (buffer === null) throw new ExportError('io-error', 'FLAC encoding produced no data');
  const bytes = new Uint8Array(buffer);
  patchStreamInfoMd5(bytes, md5.digest());
  return bytes;
}

/** Interleaves and quantises `count` frames from `from`, returning the encoder's input and the MD5 byte layout. */
function quantiseChunk(
  channels: Float32Array[],
  from: number,
  count: number,
  bits: 16 | 24,
): { data: Int16Array | Int32Array; md5Bytes: Uint8Array } {
  const channelCount = channels.length;
  const data = bits === 16 ? new Int16Array(count * channelCount) : new Int32Array(count * channelCount);
  const bytesPerSample = bits / 8;
  const md5Bytes = new Uint8Array(count * channelCount * bytesPerSample);
  const negativeScale = 2 ** (bits - 1);
  const positiveScale = negativeScale - 1;
  const shift = bits === 16 ? 1 : 256;
  let at = 0;
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < channelCount; c++) {
      const x = channels[c][from + i];
      const clipped = x > 1 ? 1 : x < -1 ? -1 : x;
      const value = Math.round(clipped < 0 ? clipped * negativeScale : clipped * positiveScale);
      data[i * channelCount + c] = value * shift;
      md5Bytes[at++] = value & 0xff;
      md5Bytes[at++] = (value >> 8) & 0xff;
      if (bits === 24) md5Bytes[at++] = (value >> 16) & 0xff;
    }
  }
  return { data, md5Bytes };
}

/** Writes `digest` into the STREAMINFO block that mediabunny puts first, right after the `fLaC` marker. */
function patchStreamInfoMd5(bytes: Uint8Array, digest: Uint8Array): void {
  const marker = String.fromCharCode(...bytes.subarray(0, 4));
  const blockType = (bytes[4] ?? 0xff) & 0x7f;
  const blockLength = ((bytes[5] ?? 0) << 16) | ((bytes[6] ?? 0) << 8) | (bytes[7] ?? 0);
  if (marker !== 'fLaC' || blockType !== 0 || blockLength !== 34) {
    throw new ExportError('io-error', `unexpected FLAC header from the muxer (${marker}, block ${blockType}, ${blockLength} bytes)`);
  }
  bytes.set(digest, MD5_OFFSET);
}

/** Throws `cancelled` when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new ExportError('cancelled', 'export cancelled', { cause: signal.reason });
}
