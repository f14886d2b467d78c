/**
 * Preview playback of a project with Tone.js 15 (research/ux.md §3). Graph:
 *
 *   Tone.Player (one per scheduled region, take buffer shared, `volume` = region gain dB)
 *     → Tone.Gain (the region's linear fade envelope, automated)
 *     → track strip: pan (mono takes: cos/sin gains into a Tone.Merge; stereo takes: a StereoPannerNode)
 *       → Tone.Volume (fader dB, mute)
 *     → master Tone.Volume → destination (and a Tone.Meter)
 *
 * Players are scheduled directly on the AudioContext clock and recreated on every play, seek and loop pass; the
 * Transport is not used (ux.md §3.2: synced players replay after stop/start cycles (#1417), repeated seeks break
 * (#1158), and its loop points are quantised to ticks). Position and loops are computed by schedule.ts.
 *
 * NOTE: the pan follows the export engine (src-main/host/export/mix.ts), which follows the Web Audio
 * StereoPannerNode: mono input L = x·cos θ, R = x·sin θ with θ = (pan + 1)·π/4; stereo input the stereo law. A
 * StereoPannerNode alone does not give that here: Tone.Channel's Panner forces an explicit channel count (1 folds
 * stereo takes to mono, 2 up-mixes mono takes), and the panner that Tone's context (standardized-audio-context)
 * creates up-mixes mono input as well (measured in Chromium: a mono take at centre came out 3 dB hotter than
 * export). So mono takes go through explicit cos/sin gains and only stereo takes through the StereoPannerNode.
 * Solo is resolved by `effectiveMute` and applied as mute, so no context-global solo state is involved.
 *
 * Take audio comes from a TakeBuffers cache (take-buffers.ts); this module decides which takes are needed when.
 */
import * as Tone from 'tone';
import type { ProjectDocument, RegionId, TrackId } from '../../src-main/contract/project.ts';
import {
  checkLoop,
  effectiveMute,
  fadeEnvelope,
  loopApplies,
  loopPass,
  playheadAt,
  scheduleFrom,
  takeUrls,
  type LoopRange,
  type ScheduledRegion,
  type TakeLocator,
} from './schedule.ts';
import { TakeBuffers, fetchTakeAudio } from './take-buffers.ts';

/** Options of {@link Playback}. */
export interface PlaybackOptions {
  /** Fetches and decodes a take (default: `fetch` + the context's `decodeAudioData`). */
  loadBuffer?: (url: string) => Promise<AudioBuffer>;
  /** Seconds between a play/seek call and the first sound: the scheduling margin (default 0.05). */
  startDelay?: number;
  /** Buffers of takes no longer in the document kept for a quick switch back (default 4). */
  spareBuffers?: number;
  /** Takes fetched and decoded at once (default 3): the nearest come first and the page keeps drawing. */
  concurrentLoads?: number;
  /** A take that failed to load in the background (while playing); `load()` reports the ones it awaited itself. */
  onLoadError?: (failure: { url: string; error: string }) => void;
}

/** What a {@link Playback.load} achieved. */
export interface LoadReport {
  /** Active takes whose audio is ready. */
  ready: number;
  /** Takes that could not be fetched or decoded (their regions stay silent). */
  failed: { url: string; error: string }[];
}

/** Levels of the master output, dBFS per channel (−Infinity for silence). */
export type MasterLevels = [left: number, right: number];

/** Starts the audio context; call from a user gesture (click, key) before the first `play`. */
export async function ensureAudioStarted(): Promise<boolean> {
  if (Tone.getContext().state !== 'running') await Tone.start();
  return Tone.getContext().state === 'running';
}

interface Strip {
  /** Input for mono voices: explicit equal-power gains into a two-channel merge. */
  mono: Tone.Gain;
  monoLeft: Tone.Gain;
  monoRight: Tone.Gain;
  merge: Tone.Merge;
  /** Input for stereo voices. */
  stereo: StereoPannerNode;
  volume: Tone.Volume;
}

interface Voice {
  regionId: RegionId;
  player: Tone.Player;
  envelope: Tone.Gain;
  /** Context time when it has finished. */
  endsAt: number;
}

/** A running playback: started at timeline `from` at context time `t0`. */
interface Run {
  from: number;
  t0: number;
  loop: LoopRange | null;
  /** Next loop pass to schedule (looped runs only). */
  nextPass: number;
  ticker: number;
}

/** Takes are fetched and decoded when the playhead is this close to them, seconds (not all at Play). */
const LOOKAHEAD = 30;
/** Schedule passes this far ahead, seconds. */
const HORIZON = 1;
/** Ticker period for loop passes and clean-up, seconds. */
const TICK = 0.1;
/** Short fade where a player starts or stops inside a region, against clicks, seconds. */
const DECLICK = 0.005;
/** Fade-out when playback stops, seconds. */
const RELEASE = 0.015;

/** The playback engine of one window; see the module comment. */
export class Playback {
  private readonly context = Tone.getContext();
  private readonly master = new Tone.Volume(0);
  // NOTE: smoothing 0: Tone's Meter decays per getValue() call, which would tie the reading to the UI's poll rate.
  private readonly meter = new Tone.Meter({ channelCount: 2, smoothing: 0 });
  private readonly strips = new Map<TrackId, Strip>();
  private readonly buffers: TakeBuffers<Tone.ToneAudioBuffer>;
  private readonly startDelay: number;
  private doc: ProjectDocument | null = null;
  private locator: TakeLocator | null = null;
  private timingKey = '';
  private generation = 0;
  private voices: Voice[] = [];
  private run: Run | null = null;
  private loop: LoopRange | null = null;
  private pausedAt = 0;
  private playedFrom = 0;
  private disposed = false;

  constructor(options: PlaybackOptions = {}) {
    const loadBuffer = options.loadBuffer ?? ((url: string) => fetchTakeAudio(url, this.context));
    this.buffers = new TakeBuffers({
      load: async (url) => new Tone.ToneAudioBuffer(await loadBuffer(url)),
      spareBuffers: options.spareBuffers,
      concurrentLoads: options.concurrentLoads,
      onLoaded: (url) => this.joinRun(url),
      onError: options.onLoadError,
    });
    this.startDelay = options.startDelay ?? 0.05;
    this.master.toDestination();
    this.master.connect(this.meter);
  }

  /** True while playing. */
  get isPlaying(): boolean {
    return this.run !== null;
  }

  /** The loop range, or null. */
  get loopRange(): LoopRange | null {
    return this.loop;
  }

  /**
   * Takes `doc` as the project to play: fetches the active takes not cached yet (cached ones are reused, takes
   * no longer used are released except a few spares) and applies the mix. Call it on every document change: a
   * running playback is rescheduled only when what plays when changed; audio arriving while playing joins in at
   * once. Takes are fetched a few at a time: those heard within LOOKAHEAD seconds of `near` (and in the loop)
   * now, nearest first, and later ones while playing as the playhead comes near them; the promise settles when
   * the ones asked for now are in (see `ready` to start before that).
   */
  async load(doc: ProjectDocument, locator: TakeLocator, near = 0): Promise<LoadReport> {
    this.assertLive();
    const generation = ++this.generation;
    this.doc = doc;
    this.locator = locator;
    // Every active take stays cached; only those heard within LOOKAHEAD of `near` (or in the loop) are fetched
    // now, nearest first, the rest as the playhead comes within LOOKAHEAD of them (tick).
    for (const url of takeUrls(doc, locator)) this.buffers.keep(url, generation);
    const urls = this.upcoming(near);
    for (const url of urls) this.buffers.request(url, generation, true);
    this.buffers.evictSpares(generation);

    const key = timingKey(doc, locator);
    const timingChanged = key !== this.timingKey;
    this.timingKey = key;
    if (timingChanged && this.run !== null) {
      const at = this.position();
      this.endRun();
      this.applyMix(doc);
      this.startRun(at);
    } else {
      this.applyMix(doc);
    }

    const missing = urls.filter((url) => this.buffers.get(url) === undefined);
    await Promise.all(missing.map((url) => this.buffers.settled(url)));
    // A looping run schedules passes ahead: it starts again with everything (a straight run took each take in).
    if (generation === this.generation && this.run?.loop != null && missing.some((url) => this.buffers.get(url) !== undefined)) {
      this.restart();
    }
    const failed = urls.flatMap((url) => {
      const error = this.buffers.error(url);
      return error === undefined ? [] : [{ url, error }];
    });
    return { ready: urls.length - failed.length, failed };
  }

  /**
   * Settles when the takes heard from `from` for `seconds` are loaded (or failed), so playing can start before
   * the rest of a long project is in. Call after `load`.
   */
  async ready(from: number, seconds: number): Promise<void> {
    if (this.doc === null || this.locator === null) return;
    const urls = new Set(scheduleFrom(this.doc, Math.max(0, from), this.locator, { until: from + seconds }).map((e) => e.url));
    await Promise.all([...urls].map((url) => this.buffers.settled(url)));
  }

  /** Applies volume, pan, mute/solo and region gains of `doc` without touching buffers or the schedule. */
  updateMix(doc: ProjectDocument): void {
    this.assertLive();
    this.doc = doc;
    this.applyMix(doc);
  }

  /** Plays from `from` seconds (default: the current position). Restarts when already playing. */
  play(from: number = this.position()): void {
    this.assertLive();
    if (!Number.isFinite(from) || from < 0) throw new RangeError(`play: from must be a time ≥ 0 s, got ${from}`);
    this.playedFrom = from;
    this.startRun(from);
  }

  /** Stops where the playhead is; `play()` continues from there. */
  pause(): void {
    if (this.run === null) return;
    this.pausedAt = this.position();
    this.endRun();
  }

  /** Stops and puts the playhead back where the last `play` started. */
  stop(): void {
    this.endRun();
    this.pausedAt = this.playedFrom;
  }

  /** Moves the playhead; a running playback continues from there with freshly made players. */
  seek(seconds: number): void {
    this.assertLive();
    if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`seek: seconds must be ≥ 0, got ${seconds}`);
    if (this.run !== null) this.startRun(seconds);
    else this.pausedAt = seconds;
  }

  /** Loops playback over `range` (when playing starts before its end), or stops looping with null. */
  setLoop(range: LoopRange | null): void {
    this.assertLive();
    this.loop = range === null ? null : checkLoop(range);
    if (this.run !== null) this.startRun(this.position());
  }

  /** The playhead, timeline seconds. */
  position(): number {
    const run = this.run;
    if (run === null) return this.pausedAt;
    return playheadAt(run.from, this.context.currentTime - run.t0, run.loop);
  }

  /** The master output level per channel: RMS of the last analyser window, dBFS (smooth it in the UI). */
  masterLevels(): MasterLevels {
    const value = this.meter.getValue();
    const [left, right] = Array.isArray(value) ? value : [value, value];
    return [left ?? -Infinity, right ?? left ?? -Infinity];
  }

  /** Sets the master volume, dB. */
  setMasterVolume(db: number): void {
    this.master.volume.value = db;
  }

  /** Stops and frees every node and buffer; the instance cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.endRun(true);
    for (const strip of this.strips.values()) disposeStrip(strip);
    this.strips.clear();
    this.buffers.dispose();
    this.meter.dispose();
    this.master.dispose();
    this.disposed = true;
  }

  // ─── running ─────────────────────────────────────────────────────────────────────────────────────────────

  private startRun(from: number): void {
    this.endRun();
    const loop = loopApplies(from, this.loop) ? this.loop : null;
    const t0 = this.context.currentTime + this.startDelay;
    const run: Run = { from, t0, loop, nextPass: 0, ticker: 0 };
    this.run = run;
    if (loop === null) this.schedulePass(from, undefined, t0);
    else this.scheduleLoopPasses(run);
    run.ticker = this.context.setInterval(() => this.tick(run), TICK);
  }

  /** Starts the voices of `url`'s regions from now on, when its audio arrives during a straight (unlooped) run. */
  private joinRun(url: string): void {
    const run = this.run;
    const buffer = this.buffers.get(url);
    if (run === null || run.loop !== null || buffer === undefined || this.doc === null || this.locator === null) return;
    const at = this.context.currentTime + this.startDelay;
    const from = playheadAt(run.from, at - run.t0, null);
    for (const entry of scheduleFrom(this.doc, from, this.locator)) {
      const strip = this.strips.get(entry.trackId);
      if (entry.url !== url || strip === undefined) continue;
      this.voices.push(this.startVoice(entry, buffer, strip, (t) => at + (t - from)));
    }
  }

  /** Restarts the running playback at its current position (after the schedule changed). */
  private restart(): void {
    if (this.run !== null) this.startRun(this.position());
  }

  private endRun(immediately = false): void {
    const run = this.run;
    if (run !== null) this.context.clearInterval(run.ticker);
    this.run = null;
    const now = this.context.currentTime;
    for (const voice of this.voices) retire(voice, now, immediately, this.context);
    this.voices = [];
  }

  private tick(run: Run): void {
    if (this.run !== run) return;
    // A take that failed is not asked for again here (load(), on the next document change, retries it).
    for (const url of this.upcoming(this.position())) this.buffers.request(url, this.generation, false);
    if (run.loop !== null) this.scheduleLoopPasses(run);
    const now = this.context.currentTime;
    this.voices = this.voices.filter((voice) => {
      if (voice.endsAt > now - TICK) return true;
      disposeVoice(voice);
      return false;
    });
  }

  private scheduleLoopPasses(run: Run): void {
    const loop = run.loop;
    if (loop === null) return;
    for (;;) {
      const pass = loopPass(run.from, loop, run.nextPass);
      const at = run.t0 + pass.at;
      if (at - this.context.currentTime > HORIZON) return;
      this.schedulePass(pass.from, pass.until, at);
      run.nextPass += 1;
    }
  }

  /** Starts players for the timeline from `from` (until `until`) with timeline `from` at context time `at`. */
  private schedulePass(from: number, until: number | undefined, at: number): void {
    if (this.doc === null || this.locator === null) return;
    const entries = scheduleFrom(this.doc, from, this.locator, until === undefined ? {} : { until });
    for (const entry of entries) {
      const buffer = this.buffers.get(entry.url);
      const strip = this.strips.get(entry.trackId);
      if (buffer === undefined || strip === undefined) continue; // audio not here yet: load() restarts on arrival
      this.voices.push(this.startVoice(entry, buffer, strip, (t) => at + (t - from)));
    }
  }

  private startVoice(
    entry: ScheduledRegion,
    buffer: Tone.ToneAudioBuffer,
    strip: Strip,
    contextTime: (timeline: number) => number,
  ): Voice {
    const player = new Tone.Player(buffer);
    player.volume.value = entry.gainDb;
    // Starting or stopping inside a region (seek, loop end, end of take) is a cut: soften it against clicks.
    if (entry.startAt > entry.regionStart + 1e-6) player.fadeIn = DECLICK;
    if (entry.startAt + entry.duration < entry.regionEnd - 1e-6) player.fadeOut = DECLICK;
    const envelope = new Tone.Gain(0);
    const [first, ...rest] = fadeEnvelope(entry);
    envelope.gain.setValueAtTime(first.gain, contextTime(first.time));
    for (const point of rest) envelope.gain.linearRampToValueAtTime(point.gain, contextTime(point.time));
    player.connect(envelope);
    envelope.connect(buffer.numberOfChannels === 1 ? strip.mono : strip.stereo);
    const startsAt = contextTime(entry.startAt);
    player.start(startsAt, entry.offset, entry.duration);
    return { regionId: entry.regionId, player, envelope, endsAt: startsAt + entry.duration };
  }

  // ─── mix ────────────────────────────────────────────────────────────────────────────────────────────────

  private applyMix(doc: ProjectDocument): void {
    const muted = effectiveMute(doc);
    const now = this.context.currentTime;
    for (const track of doc.tracks) {
      let strip = this.strips.get(track.id);
      if (strip === undefined) {
        strip = this.createStrip();
        this.strips.set(track.id, strip);
      }
      strip.volume.volume.value = track.volumeDb;
      strip.volume.mute = muted.get(track.id) ?? false;
      const [left, right] = monoPanGains(track.pan);
      strip.monoLeft.gain.setTargetAtTime(left, now, 0.01);
      strip.monoRight.gain.setTargetAtTime(right, now, 0.01);
      strip.stereo.pan.setTargetAtTime(track.pan, now, 0.01);
    }
    for (const [id, strip] of this.strips) {
      if (doc.tracks.some((track) => track.id === id)) continue;
      disposeStrip(strip);
      this.strips.delete(id);
    }
    for (const voice of this.voices) {
      const region = doc.regions[voice.regionId];
      if (region !== undefined) voice.player.volume.value = region.gainDb;
    }
  }

  private createStrip(): Strip {
    const volume = new Tone.Volume(0);
    volume.connect(this.master);
    const mono = new Tone.Gain(1);
    // Down-mix anything arriving here to one channel (only mono voices are connected, but be exact about it).
    mono.channelCount = 1;
    mono.channelCountMode = 'explicit';
    const [left, right] = monoPanGains(0);
    const monoLeft = new Tone.Gain(left);
    const monoRight = new Tone.Gain(right);
    const merge = new Tone.Merge({ channels: 2 });
    mono.fan(monoLeft, monoRight);
    monoLeft.connect(merge, 0, 0);
    monoRight.connect(merge, 0, 1);
    merge.connect(volume);
    const stereo = this.context.createStereoPanner();
    Tone.connect(stereo, volume);
    return { mono, monoLeft, monoRight, merge, stereo, volume };
  }

  // ─── which takes are needed ───────────────────────────────────────────────────────────────────────────────

  /** Takes heard from `from` within LOOKAHEAD seconds, and in the loop when one applies: in order of need. */
  private upcoming(from: number): string[] {
    if (this.doc === null || this.locator === null) return [];
    const at = Math.max(0, from);
    const entries = scheduleFrom(this.doc, at, this.locator, { until: at + LOOKAHEAD });
    if (this.loop !== null) entries.push(...scheduleFrom(this.doc, this.loop.start, this.locator, { until: this.loop.end }));
    return [...new Set(entries.map((e) => e.url))];
  }

  private assertLive(): void {
    if (this.disposed) throw new Error('Playback was disposed; create a new one');
  }
}

/** What decides the schedule (everything but mix values), to tell whether a running playback must restart. */
function timingKey(doc: ProjectDocument, locator: TakeLocator): string {
  return JSON.stringify(
    scheduleFrom(doc, 0, locator).map((e) => [e.regionId, e.trackId, e.url, e.startAt, e.offset, e.duration, e.fadeIn, e.fadeOut]),
  );
}

/** Fades a voice out now and frees it shortly after (or at once). */
function retire(voice: Voice, now: number, immediately: boolean, context: Tone.BaseContext): void {
  if (immediately) {
    disposeVoice(voice);
    return;
  }
  voice.envelope.gain.cancelAndHoldAtTime(now);
  voice.envelope.gain.linearRampToValueAtTime(0, now + RELEASE);
  context.setTimeout(() => disposeVoice(voice), RELEASE + 0.05);
}

function disposeVoice(voice: Voice): void {
  if (voice.player.disposed) return;
  voice.player.dispose();
  voice.envelope.dispose();
}

function disposeStrip(strip: Strip): void {
  strip.stereo.disconnect();
  for (const node of [strip.mono, strip.monoLeft, strip.monoRight, strip.merge, strip.volume]) node.dispose();
}

/** The equal-power gains of a mono input, as the StereoPannerNode's mono law and the export engine define them. */
export function monoPanGains(pan: number): [left: number, right: number] {
  const theta = ((Math.min(1, Math.max(-1, pan)) + 1) * Math.PI) / 4;
  // cos(π/2) is 6e-17, not 0: hard right must leave the left side silent.
  return [theta === Math.PI / 2 ? 0 : Math.cos(theta), Math.sin(theta)];
}
