import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAppAsset } from '../../src-main/app/app-protocol.ts';

const root = resolve('/opt/tessera/renderer');

describe('resolveAppAsset', () => {
  it('maps app URLs into the renderer folder', () => {
    expect(resolveAppAsset('tessera://app/index.html', root)).toBe(join(root, 'index.html'));
    expect(resolveAppAsset('tessera://app/', root)).toBe(join(root, 'index.html'));
    expect(resolveAppAsset('tessera://app/assets/app%20x.js?v=1#h', root)).toBe(join(root, 'assets', 'app x.js'));
  });

  it('refuses escapes, other origins and malformed URLs', () => {
    expect(resolveAppAsset('tessera://app/../secret', root)).toBe(join(root, 'secret')); // URL parsing normalises ..
    expect(resolveAppAsset('tessera://app/%2e%2e/%2e%2e/etc/passwd', root)).toBe(join(root, 'etc', 'passwd')); // so is %2e%2e
    expect(resolveAppAsset('tessera://app/..%2f..%2fetc/passwd', root)).toBeUndefined();
    expect(resolveAppAsset('tessera://app/a%00b', root)).toBeUndefined();
    expect(resolveAppAsset('tessera://app/%E0%A4%A', root)).toBeUndefined();
    expect(resolveAppAsset('tessera://other/index.html', root)).toBeUndefined();
    expect(resolveAppAsset('https://app/index.html', root)).toBeUndefined();
  });
});
