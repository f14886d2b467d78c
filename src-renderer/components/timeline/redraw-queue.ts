/**
 * Spreads waveform redraws over animation frames: after a zoom settles, forty regions redrawing in one frame is a
 * visible hitch, a few per frame is not. Later requests for the same key replace earlier ones.
 */

/** Redraws run per animation frame. */
const PER_FRAME = 6;

const pending = new Map<object, () => void>();
let frame = 0;

function flush(): void {
  frame = 0;
  let done = 0;
  for (const [key, run] of pending) {
    pending.delete(key);
    run();
    if (++done >= PER_FRAME) break;
  }
  if (pending.size > 0) frame = requestAnimationFrame(flush);
}

/** Runs `run` in an upcoming frame (replacing what `key` queued before). */
export function queueRedraw(key: object, run: () => void): void {
  pending.set(key, run);
  if (frame === 0) frame = requestAnimationFrame(flush);
}

/** Forgets what `key` queued (its waveform is gone). */
export function cancelRedraw(key: object): void {
  pending.delete(key);
}
