/**
 * Shared fixtures for the export tests: seeded signals, take/track builders and the external tools used as
 * oracles (FFmpeg's ebur128 filter, flac/metaflac, SoX). CI installs all of them (.ci/run), so there a missing
 * tool is a failure; on a developer machine the cases that need it are skipped.
 */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExportRegion, ExportTrack } from '../../../src-main/host/export/types.ts';

const ci = process.env.CI !== undefined;

/** Whether `command` runs; throws in CI when it does not. */
export function hasTool(command: string, args: string[] = ['--version']): boolean {
  const ok = spawnSync(command, args, { stdio: 'ignore' }).status === 0;
  if (!ok && ci) throw new Error(`${command} is required in CI (apt-get install ffmpeg flac sox); .ci/run should install it`);
  return ok;
}

/** Mulberry32: a small seeded generator in [0, 1). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A sine of `amplitude` at `hz`. */
export function sine(frames: number, rate: number, hz: number, amplitude: number, phase = 0): Float32Array {
  return Float32Array.from({ length: frames }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / rate + phase));
}

/** Pink-ish noise (Paul Kellet's economy filter over seeded white noise), scaled to peak at `peak`. */
export function pinkNoise(frames: number, seed: number, peak: number): Float32Array {
  const random = seeded(seed);
  const out = new Float32Array(frames);
  let b0 = 0, b1 = 0, b2 = 0;
  let max = 0;
  for (let i = 0; i < frames; i++) {
    const white = random() * 2 - 1;
    b0 = 0.99765 * b0 + white * 0.099046;
    b1 = 0.963 * b1 + white * 0.2965164;
    b2 = 0.57 * b2 + white * 1.0526913;
    out[i] = b0 + b1 + b2 + white * 0.1848;
    max = Math.max(max, Math.abs(out[i]));
  }
  return out.map((x) => (x / max) * peak);
}

/** A region covering a whole take from `start`, unity gain, no fades. */
export function region(channels: Float32Array[], rate: number, start = 0, extra: Partial<ExportRegion> = {}): ExportRegion {
  return {
    start,
    duration: (channels[0]?.length ?? 0) / rate,
    gainDb: 0,
    fadeIn: 0,
    fadeOut: 0,
    audio: { sampleRate: rate, channels },
    ...extra,
  };
}

/** A track at unity, centre, unmuted. */
export function track(name: string, regions: ExportRegion[], extra: Partial<ExportTrack> = {}): ExportTrack {
  return { name, volumeDb: 0, pan: 0, mute: false, solo: false, regions, ...extra };
}

/** What FFmpeg's ebur128 filter reports. */
export interface FfmpegLoudness {
  /** Summary "I:" in LUFS (printed to 0.1). */
  integrated: number;
  /** Summary "Peak:" in dBTP (with peak=true). */
  truePeak: number;
  /** The last lavfi.r128.I of metadata mode (printed to 0.001, histogram resolution 0.01). */
  integratedFine: number;
}

/** FFmpeg's loudness of an audio file. */
export function ffmpegLoudness(path: string): FfmpegLoudness {
  return runEbur128(['-i', path]);
}

/** FFmpeg's loudness of float samples, handed over as raw interleaved f32le (no WAV encoding in between). */
export async function ffmpegLoudnessOf(channels: Float32Array[], rate: number, folder: string, name: string): Promise<FfmpegLoudness> {
  const frames = channels[0]?.length ?? 0;
  const interleaved = new Float32Array(frames * channels.length);
  channels.forEach((channel, c) => {
    for (let i = 0; i < frames; i++) interleaved[i * channels.length + c] = channel[i];
  });
  const path = join(folder, `${name}.f32`);
  await writeFile(path, new Uint8Array(interleaved.buffer));
  return runEbur128(['-f', 'f32le', '-ar', String(rate), '-ac', String(channels.length), '-i', path]);
}

function runEbur128(input: string[]): FfmpegLoudness {
  const summary = spawnSync('ffmpeg', ['-nostats', '-hide_banner', ...input, '-filter_complex', 'ebur128=peak=true', '-f', 'null', '-'], {
    encoding: 'utf8',
  });
  const path = input[input.length - 1];
  if (summary.status !== 0) throw new Error(`ffmpeg failed on ${path}: ${summary.stderr}`);
  const text = summary.stderr.slice(summary.stderr.lastIndexOf('Summary:'));
  const integrated = parseNumber(/I:\s+(\S+) LUFS/.exec(text)?.[1], 'I', text);
  const truePeak = parseNumber(/Peak:\s+(\S+) dBFS/.exec(text)?.[1], 'Peak', text);
  const fine = spawnSync(
    'ffmpeg',
    ['-nostats', '-hide_banner', ...input, '-af', 'ebur128=metadata=1,ametadata=mode=print:key=lavfi.r128.I:file=-', '-f', 'null', '-'],
    { encoding: 'utf8' },
  );
  const values = [...fine.stdout.matchAll(/lavfi\.r128\.I=(\S+)/g)].map((m) => Number(m[1]));
  return { integrated, truePeak, integratedFine: values[values.length - 1] ?? NaN };
}

function parseNumber(text: string | undefined, what: string, output: string): number {
  if (text === undefined) throw new Error(`no ${what} in ffmpeg output:\n${output}`);
  return text === '-inf' ? -Infinity : Number(text);
}
