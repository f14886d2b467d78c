/**
 * The export engine's own input and output model. It is deliberately independent of the project document: a
 * project layer maps its tracks, regions and takes onto these types and calls {@link exportProject}.
 *
 * Units: seconds and decibels here; sample frames only inside the engine.
 */
import { CodedError } from '../../contract/errors.ts';

/** Output file formats: WAV 16/24-bit PCM or 32-bit float, FLAC 16/24-bit. */
export type ExportFormat = 'wav16' | 'wav24' | 'wav32f' | 'flac16' | 'flac24';

/** Every {@link ExportFormat}, in the order error messages list them. */
export const EXPORT_FORMATS: readonly ExportFormat[] = ['wav16', 'wav24', 'wav32f', 'flac16', 'flac24'];

/** Decoded take audio: one Float32Array per channel (mono or stereo), all of one length. */
export interface TakeAudio {
  /** Hz, a positive whole number. */
  sampleRate: number;
  /** 1 (mono) or 2 (left, right) channels. */
  channels: Float32Array[];
}

/** One placed piece of a take on a track's timeline. */
export interface ExportRegion {
  /** Position on the timeline in seconds (≥ 0). */
  start: number;
  /** Length on the timeline in seconds (> 0). */
  duration: number;
  /** Seconds into the take where the region's audio begins (default 0). */
  takeOffset?: number;
  /** Region (clip) gain in dB; −Infinity silences it. */
  gainDb: number;
  /** Linear fade-in length in seconds from the region start (0 = none). */
  fadeIn: number;
  /** Linear fade-out length in seconds ending at the region end (0 = none). */
  fadeOut: number;
  /** The take this region plays. */
  audio: TakeAudio;
}

/** One track: fader, pan, mute/solo and its regions. */
export interface ExportTrack {
  /** Shown in the stem's file name (`NN_Name`) and title tag. */
  name: string;
  /** Fader in dB; −Infinity silences the track. */
  volumeDb: number;
  /** −1 (hard left) … 0 (centre) … 1 (hard right). */
  pan: number;
  mute: boolean;
  solo: boolean;
  /** Write a stem file for this track (default true); it is in the mix either way. Silent tracks get no stem. */
  stem?: boolean;
  /** Generation parameters of this track's takes, embedded in its stem's comment next to the export's. */
  metadata?: Record<string, string>;
  regions: ExportRegion[];
}

/** Loudness normalisation of the mix (stems get the same gain, so they still sum to the mix). */
export interface LoudnessTarget {
  /** Integrated loudness to reach in LUFS: −14 (streaming), −16 (Apple/podcast), −23 (EBU R128) or any value. */
  targetLufs: -14 | -16 | -23 | number;
  /** True-peak ceiling in dBTP the gain may not push the mix over (default −1). */
  truePeakDbtp?: number;
}

/** Options of {@link exportProject}. */
export interface ExportOptions {
  /** Output rate in Hz; default: the takes' rate when they all agree, else 48000. */
  sampleRate?: number;
  format: ExportFormat;
  /** Optional loudness normalisation; off when absent. */
  loudness?: LoudnessTarget;
  /**
   * Who is exporting (e.g. the project folder). When given, the folder's export record (`.tessera-export.json`)
   * remembers the files this project wrote, and its next export into the folder removes those it no longer writes
   * (still unchanged ones only). Without it no record is kept and nothing but this export's own files is touched.
   */
  project?: string;
  /** Generation parameters and descriptive tags; `title` names the files, all entries go into the comment as JSON. */
  metadata?: Record<string, string>;
  /** Checked between tracks, between encode chunks and before files are committed. */
  signal?: AbortSignal;
  /** Monotonic progress in [0, 1] with the current stage (`render`, `measure`, `encode`, `commit`, `done`). */
  onProgress?: (fraction: number, stage: string) => void;
}

/** Which constraint set the normalisation gain. */
export type NormalisationLimit = 'loudness' | 'true-peak' | 'silence';

/** What normalisation did to the mix. */
export interface NormalisationReport {
  targetLufs: number;
  truePeakCeilingDbtp: number;
  /** The one gain applied to the mix and every stem. */
  gainDb: number;
  /** `loudness`: the target was reached; `true-peak`: the ceiling stopped the gain; `silence`: nothing to measure. */
  limitedBy: NormalisationLimit;
  before: { integratedLufs: number; truePeakDbtp: number };
  after: { integratedLufs: number; truePeakDbtp: number };
}

/** One written file and its measurements (after normalisation). */
export interface ExportedFile {
  kind: 'mix' | 'stem';
  /** 0-based index into the tracks passed in; absent for the mix. */
  trackIndex?: number;
  /** File name without folder, e.g. `03_Rain.flac`. */
  fileName: string;
  path: string;
  frames: number;
  durationSeconds: number;
  /** Highest absolute sample value in dBFS (−Infinity for silence). */
  samplePeakDbfs: number;
  /** BS.1770 true peak (oversampled) in dBTP. */
  truePeakDbtp: number;
  /** BS.1770 integrated loudness in LUFS (−Infinity when every block is gated out). */
  integratedLufs: number;
  /** Samples clipped to ±1 by an integer format (always 0 for wav32f). */
  clippedSamples: number;
}

/** What {@link exportProject} returns once every file is in place. */
export interface ExportResult {
  sampleRate: number;
  format: ExportFormat;
  frames: number;
  durationSeconds: number;
  /** The mix first, then the stems in track order. */
  files: ExportedFile[];
  /** Present when loudness normalisation was requested. */
  normalisation?: NormalisationReport;
}

/** Coded like the StudioApi's errors so the host can pass them across IPC unchanged. */
export type ExportErrorCode = 'invalid-argument' | 'cancelled' | 'io-error';

/** An export failed or was cancelled; the message names the bad value and what is allowed. */
export class ExportError extends CodedError<ExportErrorCode> {
  override name = 'ExportError';
}
