/**
 * Short messages for the user (a refused edit, a failed save, a finished export): a small stack of toasts that
 * fade after a while; errors stay longer. Components read `items`; everything else calls `info`/`error`.
 */

/** One toast. */
export interface Notice {
  id: number;
  kind: 'info' | 'error' | 'success';
  message: string;
  /** Optional detail line (the host's message, a path). */
  detail?: string;
}

const LIFETIME_MS: Record<Notice['kind'], number> = { info: 3500, success: 4500, error: 9000 };
const MAX_SHOWN = 4;

/** The toast stack. */
export class Notices {
  items = $state.raw<readonly Notice[]>([]);
  #next = 1;
  #timers = new Map<number, ReturnType<typeof setTimeout>>();

  info(message: string, detail?: string): void {
    this.#push('info', message, detail);
  }

  success(message: string, detail?: string): void {
    this.#push('success', message, detail);
  }

  error(message: string, detail?: string): void {
    this.#push('error', message, detail);
  }

  dismiss(id: number): void {
    const timer = this.#timers.get(id);
    if (timer !== undefined) clearTimeout(timer);
    this.#timers.delete(id);
    this.items = this.items.filter((n) => n.id !== id);
  }

  dispose(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #push(kind: Notice['kind'], message: string, detail?: string): void {
    // The same message twice in a row (a key held down on a refused edit) shows once.
    const last = this.items.at(-1);
    if (last !== undefined && last.message === message && last.detail === detail) return;
    const notice: Notice = { id: this.#next++, kind, message, ...(detail === undefined ? {} : { detail }) };
    const kept = this.items.slice(-(MAX_SHOWN - 1));
    for (const dropped of this.items.slice(0, this.items.length - kept.length)) this.dismiss(dropped.id);
    this.items = [...kept, notice];
    this.#timers.set(
      notice.id,
      setTimeout(() => this.dismiss(notice.id), LIFETIME_MS[kind]),
    );
  }
}
