/**
 * Renders stems and the mixdown from {@link ExportTrack}s: pure computation over Float32Arrays, no I/O.
 *
 * Signal path per region, in this order (all linear, so the order only matters for rounding):
 *   take audio (resampled to the output rate when its rate differs, see resample.ts)
 *   × region gain (dB) × fade envelope × track volume (dB) → pan → the track's stereo stem.
 * - Fades are linear ("equal-gain"): in over `fadeIn` s from the region start, out over `fadeOut` s to its end;
 *   when they overlap the two ramps multiply. Two regions crossfaded with equal linear fades sum to exactly one,
 *   which keeps correlated material (a take continued by its own regeneration) at constant level.
 * - Pan follows the Web Audio StereoPannerNode (the equal-power panner Tone.js uses for preview):
 *   mono input: θ = (pan + 1)·π/4, L = x·cos θ, R = x·sin θ (−3 dB each at centre, hard left = L only);
 *   stereo input: pan ≤ 0 folds right into left: L = l + r·cos(θ'), R = r·sin(θ'), θ' = (pan + 1)·π/2;
 *   pan > 0 folds left into right: L = l·cos(θ'), R = r + l·sin(θ'), θ' = pan·π/2 (unity at centre).
 * - Mute and solo follow Tone.js's Channel, the preview path (research/ux.md §3.1: one static solo set per
 *   context): a track is audible when it is not muted and either no track is soloed or it is soloed itself.
 *   Mute wins over solo (the usual DAW rule: Channel.muted = solo-muted OR mute), and a muted soloed track still
 *   silences the non-soloed ones, because it is in the solo set.
 * - Regions on one track add where they overlap; trimming overlaps is the project layer's job.
 * - Every output starts at 0 and lasts until the end of the last region on any track (muted ones included), so
 *   every file has the same length whatever is muted.
 * - Stems are post-fader and post-pan, and silent tracks (muted, or not soloed while others are) get none; the mix
 *   is the sum of the audible tracks, so it equals the sum of the stems exactly in exact arithmetic (up to
 *   float32 rounding, ~1e-7, in practice) whenever every audible track writes a stem.
 */
import { Resampler } from './resample.ts';
import { ExportError, type ExportRegion, type ExportTrack } from './types.ts';

/** The validated shape of an export: output rate, length and who is audible. */
export interface MixPlan {
  sampleRate: number;
  /** Output length in frames: the end of the last region on any track. */
  frames: number;
  /** Audible (not muted, not silenced by another track's solo) per track index. */
  audible: boolean[];
}

/** Output rate when the takes disagree and none is given. */
export const DEFAULT_SAMPLE_RATE = 48_000;
const MAX_SAMPLE_RATE = 768_000;
const MAX_NAME_LENGTH = 80;

/** Checks every track and region and works out the output rate and length; throws {@link ExportError}. */
export function planMix(tracks: readonly ExportTrack[], sampleRate?: number): MixPlan {
  if (!Array.isArray(tracks) || tracks.length === 0) {
    throw invalid('nothing to export: the project has no tracks; add a track with at least one region');
  }
  tracks.forEach(checkTrack);
  const regions = tracks.flatMap((track) => track.regions);
  if (regions.length === 0) {
    throw invalid(`nothing to export: none of the ${tracks.length} tracks has a region; place at least one region`);
  }
  const rate = sampleRate ?? commonRate(regions);
  if (!Number.isInteger(rate) || rate <= 0 || rate > MAX_SAMPLE_RATE) {
    throw invalid(`sampleRate must be a whole number of Hz between 1 and ${MAX_SAMPLE_RATE} (e.g. 48000), got ${rate}`);
  }
  const frames = regions.reduce((end, region) => Math.max(end, Math.round((region.start + region.duration) * rate)), 0);
  const anySolo = tracks.some((track) => track.solo);
  return { sampleRate: rate, frames, audible: tracks.map((track) => isAudible(track, anySolo)) };
}

/** Whether a track is heard: not muted, and soloed if any track is (mute wins over solo). */
export function isAudible(track: Pick<ExportTrack, 'mute' | 'solo'>, anySolo: boolean): boolean {
  return !track.mute && (!anySolo || track.solo);
}

/**
 * One track rendered post-fader and post-pan to stereo at the plan's rate and length, times `gain` (the
 * loudness normalisation gain, 1 when off). Mute and solo are not applied here: the caller picks tracks.
 */
export function renderTrack(track: ExportTrack, plan: MixPlan, gain = 1): [Float32Array, Float32Array] {
  const left = new Float32Array(plan.frames);
  const right = new Float32Array(plan.frames);
  const trackGain = dbToGain(track.volumeDb) * gain;
  const resamplers = new Map<number, Resampler>();
  for (const region of track.regions) {
    const takeRate = region.audio.sampleRate;
    let resampler: Resampler | undefined;
    if (takeRate !== plan.sampleRate) {
      resampler = resamplers.get(takeRate) ?? new Resampler(takeRate, plan.sampleRate);
      resamplers.set(takeRate, resampler);
    }
    addRegion(region, track.pan, trackGain * dbToGain(region.gainDb), plan.sampleRate, resampler, left, right);
  }
  return [left, right];
}

/** The mixdown: the sum of the audible tracks' renders, times `gain`. */
export function renderMix(tracks: readonly ExportTrack[], plan: MixPlan, gain = 1): [Float32Array, Float32Array] {
  const mix: [Float32Array, Float32Array] = [new Float32Array(plan.frames), new Float32Array(plan.frames)];
  tracks.forEach((track, index) => {
    if (plan.audible[index]) addInto(mix, renderTrack(track, plan, gain));
  });
  return mix;
}

/** Adds `source` channel-wise into `target`. */
export function addInto(target: Float32Array[], source: Float32Array[]): void {
  target.forEach((channel, c) => {
    const from = source[c];
    for (let i = 0; i < channel.length; i++) channel[i] += from[i];
  });
}

/**
 * The stem's base name: `NN_Name`, NN the 1-based track number (two digits, more past 99), the name with
 * runs of white space collapsed to one space, characters that Windows, macOS or Linux reject (`<>:"/\|?*`,
 * control characters) replaced by `_`, leading/trailing dots and spaces removed and at most 80 characters kept.
 */
export function stemBaseName(trackIndex: number, name: string): string {
  const number = String(trackIndex + 1).padStart(2, '0');
  let clean = name
    .normalize('NFC')
    .replace(/\s+/g, ' ')
    // eslint-disable-next-line no-control-regex -- control characters are exactly what must go
    .replace(/[<>:"/\\|?*\u0000-\u001f\u007f]/g, '_')
    .replace(/^[\s.]+|[\s.]+$/g, '');
  clean = Array.from(clean).slice(0, MAX_NAME_LENGTH).join('').replace(/[\s.]+$/, '');
  return `${number}_${clean === '' ? 'Track' : clean}`;
}

/** dB → linear amplitude; −Infinity → 0. */
export function dbToGain(db: number): number {
  return db === -Infinity ? 0 : 10 ** (db / 20);
}

/** The pan matrix [[L←l, L←r], [R←l, R←r]] of the Web Audio StereoPannerNode for mono or stereo input. */
export function panMatrix(pan: number, inputChannels: 1 | 2): [[number, number], [number, number]] {
  if (inputChannels === 1) {
    const theta = ((pan + 1) * Math.PI) / 4;
    return [[cosine(theta), 0], [Math.sin(theta), 0]];
  }
  if (pan === 0) return [[1, 0], [0, 1]];
  if (pan < 0) {
    const theta = ((pan + 1) * Math.PI) / 2;
    return [[1, cosine(theta)], [0, Math.sin(theta)]];
  }
  const theta = (pan * Math.PI) / 2;
  return [[cosine(theta), 0], [Math.sin(theta), 1]];
}

/** cos θ with cos(π/2) exactly 0, so a hard-panned signal leaves the other side silent (not 6e-17 of it). */
function cosine(theta: number): number {
  return theta === Math.PI / 2 ? 0 : Math.cos(theta);
}

function addRegion(
  region: ExportRegion,
  pan: number,
  gain: number,
  rate: number,
  resampler: Resampler | undefined,
  left: Float32Array,
  right: Float32Array,
): void {
  if (gain === 0) return;
  const startFrame = Math.round(region.start * rate);
  const count = Math.round((region.start + region.duration) * rate) - startFrame;
  const takeRate = region.audio.sampleRate;
  const offset = region.takeOffset ?? 0;
  // Resampled, the region's content is its take's samples [first, first + n), band-limited as a whole: with the
  // kernel's tails `margin` output samples before its start and after its end. Cut at the region's edges instead, two
  // takes cut from one piece (adjacent regions) each lose half their edge samples' kernel, and their sum dips there: a
  // click at every region join of an export at another rate (measured SSZ 17–24, SFZ 63–81 at 16 → 48 kHz). With the
  // tails, their sum is exactly the resampled piece (resampling is linear); a lone edge rings for ≤ 40 zero crossings.
  const margin = resampler === undefined ? 0 : Math.ceil(((resampler.taps / 2) * rate) / takeRate) + 1;
  const first = Math.round(offset * takeRate);
  const n = Math.round(region.duration * takeRate);
  const sources = region.audio.channels.map((channel) =>
    resampler === undefined
      ? channel.subarray(Math.round(offset * rate), Math.round(offset * rate) + count)
      : resampler.read(channel.subarray(first, first + n), offset * takeRate - first - (margin * takeRate) / rate, count + 2 * margin),
  );
  const inputChannels = sources.length === 1 ? 1 : 2;
  const [[ll, lr], [rl, rr]] = panMatrix(pan, inputChannels);
  const l = sources[0];
  const r = inputChannels === 2 ? sources[1] : sources[0];
  const fadeIn = Math.round(region.fadeIn * rate);
  const fadeOut = Math.round(region.fadeOut * rate);
  // Past the end of the take (within the rounding tolerance planMix allows) the subarray is short: silence.
  const available = Math.min(count + margin, l.length - margin);
  for (let k = Math.max(-margin, -startFrame); k < available && startFrame + k < left.length; k++) {
    let g = gain;
    // The tails beyond a faded edge are silent, like the edge itself.
    if (k < 0) g *= fadeIn > 0 ? 0 : 1;
    else if (k < fadeIn) g *= k / fadeIn;
    if (k >= count) g *= fadeOut > 0 ? 0 : 1;
    else if (count - k < fadeOut) g *= (count - k) / fadeOut;
    if (g === 0) continue;
    const a = l[k + margin] * g;
    const b = r[k + margin] * g;
    left[startFrame + k] += ll * a + lr * b;
    right[startFrame + k] += rl * a + rr * b;
  }
}

function commonRate(regions: ExportRegion[]): number {
  const rates = new Set(regions.map((region) => region.audio.sampleRate));
  return rates.size === 1 ? [...rates][0] : DEFAULT_SAMPLE_RATE;
}

function checkTrack(track: ExportTrack, t: number): void {
  const at = `tracks[${t}]`;
  if (typeof track !== 'object' || track === null) throw invalid(`${at} must be a track object, got ${String(track)}`);
  if (typeof track.name !== 'string') throw invalid(`${at}.name must be a string, got ${typeof track.name}`);
  checkDb(track.volumeDb, `${at}.volumeDb`);
  if (typeof track.pan !== 'number' || !(track.pan >= -1 && track.pan <= 1)) {
    throw invalid(`${at}.pan must be a number from -1 (left) to 1 (right), got ${String(track.pan)}`);
  }
  if (typeof track.mute !== 'boolean' || typeof track.solo !== 'boolean') {
    throw invalid(`${at}.mute and ${at}.solo must be booleans, got ${String(track.mute)} and ${String(track.solo)}`);
  }
  if (track.stem !== undefined && typeof track.stem !== 'boolean') {
    throw invalid(`${at}.stem must be a boolean when given, got ${String(track.stem)}`);
  }
  if (!Array.isArray(track.regions)) throw invalid(`${at}.regions must be an array, got ${String(track.regions)}`);
  track.regions.forEach((region, r) => checkRegion(region, `${at}.regions[${r}]`));
}

function checkRegion(region: ExportRegion, at: string): void {
  checkSeconds(region.start, `${at}.start`, 0);
  checkSeconds(region.duration, `${at}.duration`, Number.MIN_VALUE);
  checkSeconds(region.takeOffset ?? 0, `${at}.takeOffset`, 0);
  checkSeconds(region.fadeIn, `${at}.fadeIn`, 0);
  checkSeconds(region.fadeOut, `${at}.fadeOut`, 0);
  checkDb(region.gainDb, `${at}.gainDb`);
  const audio = region.audio;
  if (typeof audio !== 'object' || audio === null) throw invalid(`${at}.audio must be take audio, got ${String(audio)}`);
  if (!Number.isInteger(audio.sampleRate) || audio.sampleRate <= 0 || audio.sampleRate > MAX_SAMPLE_RATE) {
    throw invalid(`${at}.audio.sampleRate must be a whole number of Hz (e.g. 44100), got ${String(audio.sampleRate)}`);
  }
  const channels = audio.channels;
  if (!Array.isArray(channels) || (channels.length !== 1 && channels.length !== 2)) {
    throw invalid(`${at}.audio.channels must hold 1 (mono) or 2 (stereo) Float32Arrays, got ${Array.isArray(channels) ? channels.length : String(channels)}`);
  }
  channels.forEach((channel, c) => {
    if (!(channel instanceof Float32Array)) throw invalid(`${at}.audio.channels[${c}] must be a Float32Array`);
    if (channel.length !== channels[0].length) {
      throw invalid(`${at}.audio.channels[${c}] has ${channel.length} samples but channel 0 has ${channels[0].length}`);
    }
  });
  // NOTE: a region may reach past the end of its take (trimmed or moved after generation, or a take generated
  // shorter); that stretch plays silence, as the project contract says (Region.takeOffset).
}

function checkSeconds(value: number, at: string, min: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    const bound = min === 0 ? '≥ 0' : '> 0';
    throw invalid(`${at} must be a finite number of seconds ${bound}, got ${String(value)}`);
  }
}

function checkDb(value: number, at: string): void {
  if (typeof value !== 'number' || Number.isNaN(value) || value === Infinity) {
    throw invalid(`${at} must be a number of dB (finite, or -Infinity for silence), got ${String(value)}`);
  }
}

function invalid(message: string): ExportError {
  return new ExportError('invalid-argument', message);
}
