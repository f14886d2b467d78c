/**
 * Spreads waveform redraws over animation frames: after a zoom settles, forty regions redrawing in one frame is a
 * visible hitch. Each frame runs queued redraws until `FRAME_BUDGET_MS` of drawing is spent (at least one), the
 * visible ones first; later requests for the same key replace earlier ones.
 */

/** Drawing time allowed per animation frame, ms (a 60 fps frame is 16.7 ms). */
export const FRAME_BUDGET_MS = 8;

/** Visible slices first, then the ones in the margin around the view. */
export type RedrawPriority = 'visible' | 'margin';

const visible = new Map<object, () => void>();
const margin = new Map<object, () => void>();
let frame = 0;

function next(): [object, () => void] | undefined {
  for (const queue of [visible, margin]) {
    const first = queue.entries().next();
    if (first.done !== true) {
      queue.delete(first.value[0]);
      return first.value;
    }
  }
  return undefined;
}

function flush(): void {
  frame = 0;
  const started = performance.now();
  // At least one per frame, then more while the budget lasts.
  do {
    const item = next();
    if (item === undefined) break;
    item[1]();
  } while (performance.now() - started < FRAME_BUDGET_MS);
  if (visible.size + margin.size > 0) frame = requestAnimationFrame(flush);
}

/** Runs `run` in an upcoming frame (replacing what `key` queued before). */
export function queueRedraw(key: object, run: () => void, priority: RedrawPriority = 'visible'): void {
  visible.delete(key);
  margin.delete(key);
  (priority === 'visible' ? visible : margin).set(key, run);
  if (frame === 0) frame = requestAnimationFrame(flush);
}

/** Forgets what `key` queued (its waveform is gone). */
export function cancelRedraw(key: object): void {
  visible.delete(key);
  margin.delete(key);
}
