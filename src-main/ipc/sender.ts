/**
 * Sender validation for every IPC message main receives (Electron security checklist §17; electron/fiddle drops IPC
 * from unknown frames). Only the main frame of our window, showing our own origin, may talk to main.
 */

/** What the check reads of Electron's WebFrameMain. */
export interface SenderFrame {
  url: string;
  parent: unknown;
  detached?: boolean;
  isDestroyed?(): boolean;
}

/** True when `frame` is a live top-level frame whose URL is at `appOrigin`. */
export function isTrustedSender(frame: SenderFrame | null | undefined, appOrigin: string): boolean {
  if (!frame) return false;
  try {
    if (frame.detached === true || frame.isDestroyed?.() === true) return false;
    if (frame.parent !== null && frame.parent !== undefined) return false;
    return originOf(frame.url) === appOrigin;
  } catch {
    // NOTE: reading a destroyed WebFrameMain's properties throws; such a frame is never trusted.
    return false;
  }
}

/**
 * The origin of `url`, or undefined when it cannot be parsed. Custom schemes (`tessera://app/…`) have an opaque
 * `URL.origin` ("null") in Node, so the origin is rebuilt from protocol and host.
 */
export function originOf(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.host === '') return undefined;
  return `${parsed.protocol}//${parsed.host}`;
}
