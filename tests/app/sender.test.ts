import { describe, expect, it } from 'vitest';
import { isTrustedSender, originOf, type SenderFrame } from '../../src-main/ipc/sender.ts';
import { APP_ORIGIN } from '../../src-main/app/window.ts';

const mainFrame = (url: string, extra: Partial<SenderFrame> = {}): SenderFrame => ({ url, parent: null, detached: false, isDestroyed: () => false, ...extra });

describe('isTrustedSender', () => {
  it('trusts the main frame at our origin', () => {
    expect(isTrustedSender(mainFrame(`${APP_ORIGIN}/index.html`), APP_ORIGIN)).toBe(true);
    expect(isTrustedSender({ url: `${APP_ORIGIN}/`, parent: null }, APP_ORIGIN)).toBe(true);
  });

  it('drops subframes, even at our origin', () => {
    const top = mainFrame(`${APP_ORIGIN}/index.html`);
    expect(isTrustedSender(mainFrame(`${APP_ORIGIN}/frame.html`, { parent: top }), APP_ORIGIN)).toBe(false);
  });

  it('drops other origins', () => {
    for (const url of ['https://evil.example/', 'file:///app/index.html', 'tessera://other/', 'tessera://app.evil/', 'about:blank', 'data:text/html,x', '']) {
      expect(isTrustedSender(mainFrame(url), APP_ORIGIN)).toBe(false);
    }
  });

  it('drops destroyed, detached and missing frames', () => {
    expect(isTrustedSender(mainFrame(`${APP_ORIGIN}/`, { isDestroyed: () => true }), APP_ORIGIN)).toBe(false);
    expect(isTrustedSender(mainFrame(`${APP_ORIGIN}/`, { detached: true }), APP_ORIGIN)).toBe(false);
    expect(isTrustedSender(null, APP_ORIGIN)).toBe(false);
    expect(isTrustedSender(undefined, APP_ORIGIN)).toBe(false);
  });

  it('drops a frame whose properties throw (destroyed WebFrameMain)', () => {
    const frame = {
      get url(): string {
        throw new Error('Render frame was disposed before WebFrameMain could be accessed');
      },
      parent: null,
    };
    expect(isTrustedSender(frame, APP_ORIGIN)).toBe(false);
  });
});

describe('originOf', () => {
  it('keeps scheme, host and port; rejects opaque URLs', () => {
    expect(originOf('tessera://app/a/b?c#d')).toBe('tessera://app');
    expect(originOf('http://127.0.0.1:5173/x')).toBe('http://127.0.0.1:5173');
    expect(originOf('file:///x')).toBeUndefined();
    expect(originOf('nonsense')).toBeUndefined();
  });
});
