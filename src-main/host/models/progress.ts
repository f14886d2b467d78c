/** Install progress: bytes, speed over a sliding window, and ETA. The clock is injected so tests need no timing. */

/**
 * What an install reports while it runs. While downloading, `bytesDone`/`bytesTotal` cover the whole download and
 * `file*` the current file; while converting (convert entries), they count the converter's work over the whole
 * conversion (its own units, e.g. tensors or bytes of weights), `file` names its stage and `file*` count that stage.
 */
export interface InstallProgress {
  /** Catalog id being installed. */
  id: string;
  /**
   * `download`: bytes arriving; `verify`: hashing a finished file; `convert`: building the pack from the downloaded
   * checkpoint (convert entries); `install`: manifest check, pack verification and the final rename.
   */
  phase: 'download' | 'verify' | 'convert' | 'install';
  /** Pack file name being worked on (download, verify), the conversion stage (convert); empty in `install`. */
  file: string;
  fileBytesDone: number;
  fileBytesTotal: number | null;
  /** Bytes of the pack present and downloaded so far (resumed `.part` bytes count as done). */
  bytesDone: number;
  /** Total bytes of the pack, when every size is known. */
  bytesTotal: number | null;
  /** Download speed over the last few seconds; 0 before the first bytes arrive. */
  bytesPerSecond: number;
  /** Seconds left at the current speed, or null when unknown. */
  etaSeconds: number | null;
}

/** Bytes per second over a sliding window of recent samples. */
export class RateMeter {
  private samples: Array<{ at: number; bytes: number }> = [];

  constructor(
    private readonly now: () => number = Date.now,
    private readonly windowMs = 5000,
  ) {}

  /** Records `bytes` that just arrived. */
  add(bytes: number): void {
    const at = this.now();
    this.samples.push({ at, bytes });
    while (this.samples.length > 2 && at - this.samples[0].at > this.windowMs) this.samples.shift();
  }

  /** The rate over the window: bytes after the first sample divided by the time since it. */
  rate(): number {
    if (this.samples.length < 2) return 0;
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    const ms = last.at - first.at;
    if (ms <= 0) return 0;
    let bytes = 0;
    for (let i = 1; i < this.samples.length; i++) bytes += this.samples[i].bytes;
    return (bytes * 1000) / ms;
  }
}

/** Seconds to transfer `remaining` bytes at `rate`; null when the rate or the total is unknown. */
export function etaSeconds(remaining: number | null, rate: number): number | null {
  if (remaining === null || rate <= 0) return null;
  return Math.max(0, remaining) / rate;
}

/** Calls `emit` at most every `intervalMs` (by the injected clock), and always when `force` is set. */
export function throttle<T>(emit: (value: T) => void, now: () => number, intervalMs = 100): (value: T, force?: boolean) => void {
  let last = Number.NEGATIVE_INFINITY;
  return (value, force = false) => {
    const t = now();
    if (!force && t - last < intervalMs) return;
    last = t;
    emit(value);
  };
}
