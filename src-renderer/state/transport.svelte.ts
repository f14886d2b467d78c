/**
 * The transport: play / pause / stop / seek / loop over the audio layer's `Playback`, the playhead position
 * (followed every animation frame while playing) and auditioning one take of one region alone. Every document
 * change is handed to `Playback.load`, which fetches new takes and reschedules a running playback only when what
 * plays when has changed (mixer-only changes just remix).
 */
import type { ProjectDocument, RegionId, TakeId, TrackId } from '../../src-main/contract/project.ts';
import { Playback, ensureAudioStarted, type LoadReport } from '../audio/playback.ts';
import { MIN_LOOP_SECONDS, type TakeLocator } from '../audio/schedule.ts';
import { auditionDocument } from './audition.ts';
import type { Span } from './drag.ts';
import { errorMessage } from '../../src-main/contract/errors.ts';

/** What the transport needs from the studio. */
export interface TransportHost {
  locator(): TakeLocator | null;
  /** Where playing stops without a loop (the end of the last region). */
  projectEnd(): number;
  reportError(message: string, detail?: string): void;
  /** Called every frame while playing, after the position moved. */
  onFrame?(position: number): void;
}

/** Seconds of audio from the playhead that must be loaded before Play starts (the rest loads while playing). */
const FIRST_SECONDS = 3;

/** The transport of one studio window. */
export class TransportState {
  playing = $state(false);
  /** The playhead, seconds. */
  position = $state(0);
  loopEnabled = $state(false);
  loopRange = $state.raw<Span | null>(null);
  /** The region and take being auditioned, if any. */
  auditioning = $state.raw<{ regionId: RegionId; takeId: TakeId; end: number } | null>(null);
  /** Fetching and decoding takes before the first sound. */
  loading = $state(false);

  #playback: Playback | null = null;
  #document: ProjectDocument | null = null;
  /** The document Playback holds (the project, or an audition's one-region document). */
  #loaded: ProjectDocument | null = null;
  #playStartedAt = 0;
  #frame = 0;
  #disposed = false;
  #reported = new Set<string>();

  constructor(private readonly host: TransportHost) {}

  /** The loop that applies now (enabled and long enough). */
  get activeLoop(): Span | null {
    const range = this.loopRange;
    return this.loopEnabled && range !== null && range.end - range.start >= MIN_LOOP_SECONDS ? range : null;
  }

  /** Tells the transport the editor's current document (after every change). */
  syncDocument(doc: ProjectDocument | null): void {
    this.#document = doc;
    if (doc === null) {
      this.stop();
      this.#loaded = null;
      this.#reported.clear();
      return;
    }
    // Until the first play there are no players to update; during an audition the project waits.
    if (this.#playback !== null && this.auditioning === null && this.#loaded !== null) void this.#load(this.#playback, doc);
  }

  /** Hears a mixer change while a fader moves, without recording it (the release records one edit). */
  previewMix(trackId: TrackId, patch: { volumeDb?: number; pan?: number }): void {
    const doc = this.#document;
    if (doc === null || this.#playback === null || this.#loaded === null || this.auditioning !== null) return;
    this.#playback.updateMix({ ...doc, tracks: doc.tracks.map((t) => (t.id === trackId ? { ...t, ...patch } : t)) });
  }

  async toggle(): Promise<void> {
    if (this.playing) this.pause();
    else await this.play();
  }

  /** Plays from `from` (default: the playhead); inside an enabled loop range it loops. */
  async play(from?: number): Promise<void> {
    const doc = this.#document;
    if (doc === null) return;
    const start = Math.max(0, from ?? this.position);
    const playback = await this.#ready();
    if (playback === null) return;
    if (this.auditioning !== null) {
      playback.stop();
      this.auditioning = null;
    }
    const loop = this.activeLoop;
    const at = loop !== null && (start < loop.start || start >= loop.end) ? loop.start : start;
    if (this.#loaded !== doc) {
      // Starts as soon as the takes heard in the first seconds are in; the rest keep loading and join in.
      this.loading = true;
      try {
        const loading = this.#load(playback, doc, at);
        await Promise.race([loading, loop === null ? playback.ready(at, FIRST_SECONDS) : loading]);
      } finally {
        this.loading = false;
      }
    }
    playback.setLoop(loop);
    playback.play(at);
    this.#playStartedAt = at;
    this.position = at;
    this.playing = true;
    this.#startFrames();
  }

  pause(): void {
    if (!this.playing) return;
    const playback = this.#playback;
    if (playback !== null) {
      this.position = playback.position();
      playback.pause();
    }
    this.#halt();
    if (this.auditioning !== null) this.#endAudition();
  }

  /** Stops; the playhead returns to where playing started (as in Reaper and Audacity). */
  stop(): void {
    const wasPlaying = this.playing;
    this.#playback?.stop();
    this.#halt();
    if (this.auditioning !== null) this.#endAudition();
    else if (wasPlaying) this.position = this.#playStartedAt;
  }

  /** Moves the playhead; while playing, playing continues from there. */
  seek(t: number): void {
    const at = Math.max(0, t);
    this.position = at;
    this.#playStartedAt = at;
    if (this.playing && this.auditioning === null) this.#playback?.seek(at);
  }

  setLoopRange(range: Span | null): void {
    this.loopRange = range;
    if (range !== null) this.loopEnabled = true;
    this.#applyLoop();
  }

  setLoopEnabled(enabled: boolean): void {
    this.loopEnabled = enabled;
    this.#applyLoop();
  }

  /** Plays one region with one of its takes alone (other tracks silent, track at unity), then stops. */
  async audition(regionId: RegionId, takeId: TakeId): Promise<void> {
    const doc = this.#document;
    const region = doc?.regions[regionId];
    if (doc === null || doc === undefined || region === undefined) return;
    const playback = await this.#ready();
    if (playback === null) return;
    if (this.playing) {
      playback.stop();
      this.#halt();
    }
    const returnTo = this.auditioning === null ? this.position : this.#playStartedAt;
    this.loading = true;
    try {
      await this.#load(playback, auditionDocument(doc, regionId, takeId));
    } finally {
      this.loading = false;
    }
    playback.setLoop(null);
    this.auditioning = { regionId, takeId, end: region.end };
    playback.play(region.start);
    this.#playStartedAt = returnTo;
    this.position = region.start;
    this.playing = true;
    this.#startFrames();
  }

  dispose(): void {
    this.#disposed = true;
    cancelAnimationFrame(this.#frame);
    this.#playback?.dispose();
    this.#playback = null;
  }

  async #ready(): Promise<Playback | null> {
    try {
      // NOTE: browsers start audio only inside a user gesture; every play path begins with this await.
      if (!(await ensureAudioStarted())) throw new Error('the browser kept the audio context suspended');
    } catch (e) {
      this.host.reportError('Audio could not start', errorMessage(e));
      return null;
    }
    if (this.#disposed) return null;
    this.#playback ??= new Playback({
      // Takes that load while playing (lazily, near the playhead) report here; load() reports the ones it awaits.
      onLoadError: (f) => {
        if (this.#reported.has(f.url)) return;
        this.#reported.add(f.url);
        this.host.reportError('A take could not be loaded; its region stays silent', f.error);
      },
    });
    return this.#playback;
  }

  async #load(playback: Playback, doc: ProjectDocument, near = this.position): Promise<void> {
    const locator = this.host.locator();
    if (locator === null) return;
    this.#loaded = doc;
    let report: LoadReport;
    try {
      report = await playback.load(doc, locator, near);
    } catch (e) {
      this.host.reportError('Could not load the takes for playback', errorMessage(e));
      return;
    }
    const fresh = report.failed.filter((f) => !this.#reported.has(f.url));
    for (const f of fresh) this.#reported.add(f.url);
    if (fresh.length > 0) {
      this.host.reportError(
        `${fresh.length} take${fresh.length === 1 ? '' : 's'} could not be loaded; ${fresh.length === 1 ? 'its region stays' : 'their regions stay'} silent`,
        fresh[0].error,
      );
    }
  }

  #applyLoop(): void {
    if (this.#playback === null || this.auditioning !== null) return;
    try {
      this.#playback.setLoop(this.activeLoop);
    } catch (e) {
      this.host.reportError('Could not set the loop', errorMessage(e));
    }
  }

  #startFrames(): void {
    cancelAnimationFrame(this.#frame);
    const tick = (): void => {
      const playback = this.#playback;
      if (!this.playing || playback === null) return;
      const t = playback.position();
      this.position = t;
      const audition = this.auditioning;
      if (audition !== null && t >= audition.end) {
        this.stop();
        return;
      }
      if (audition === null && this.activeLoop === null && t > this.host.projectEnd() + 0.5) {
        playback.pause();
        this.#halt();
        this.position = this.host.projectEnd();
        return;
      }
      this.host.onFrame?.(t);
      this.#frame = requestAnimationFrame(tick);
    };
    this.#frame = requestAnimationFrame(tick);
  }

  #halt(): void {
    this.playing = false;
    cancelAnimationFrame(this.#frame);
  }

  /** Ends an audition: the playhead goes back, and the project's players come back (loaded again on demand). */
  #endAudition(): void {
    this.auditioning = null;
    this.position = this.#playStartedAt;
    const playback = this.#playback;
    const doc = this.#document;
    if (playback !== null && doc !== null) void this.#load(playback, doc);
  }
}

