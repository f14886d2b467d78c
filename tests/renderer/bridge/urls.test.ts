import { describe, expect, it } from 'vitest';
import {
  BridgeConfigError,
  browserEndpoints,
  electronAssetUrl,
  encodeAssetPath,
  tokenFrom,
} from '../../../src-renderer/bridge/urls.ts';

describe('browser endpoints', () => {
  it('builds the RPC and asset URLs on the page host with the token', () => {
    const endpoints = browserEndpoints({ protocol: 'http:', host: '127.0.0.1:5178', search: '?token=abc123' });
    expect(endpoints.rpcUrl).toBe('ws://127.0.0.1:5178/rpc?token=abc123');
    expect(endpoints.assetUrl('prj_1/takes/take_2.wav')).toBe('http://127.0.0.1:5178/assets/prj_1/takes/take_2.wav?token=abc123');
    expect(endpoints.assetUrl('prj_1/peaks/take_2/512.i16')).toBe(
      'http://127.0.0.1:5178/assets/prj_1/peaks/take_2/512.i16?token=abc123',
    );
  });

  it('uses wss and https behind https', () => {
    const endpoints = browserEndpoints({ protocol: 'https:', host: 'studio.local', search: '?token=t' });
    expect(endpoints.rpcUrl).toBe('wss://studio.local/rpc?token=t');
    expect(endpoints.assetUrl('p/takes/a.wav')).toBe('https://studio.local/assets/p/takes/a.wav?token=t');
  });

  it('percent-encodes the token (base64url is safe, but anything else must survive too)', () => {
    const endpoints = browserEndpoints({ protocol: 'http:', host: 'h:1', search: '?x=1&token=a%2Bb%3D%26c' });
    expect(endpoints.rpcUrl).toBe('ws://h:1/rpc?token=a%2Bb%3D%26c');
    expect(new URL(endpoints.assetUrl('p/takes/a.wav')).searchParams.get('token')).toBe('a+b=&c');
  });

  it('refuses a page URL without a token, naming what to open instead', () => {
    expect(() => browserEndpoints({ protocol: 'http:', host: 'h:1', search: '' })).toThrow(BridgeConfigError);
    expect(() => tokenFrom('?token=')).toThrow(/open the exact URL that `npm run web` printed/);
  });
});

describe('asset paths', () => {
  it('encodes each segment and keeps the slashes', () => {
    expect(encodeAssetPath('prj_1/takes/a b#c?.wav')).toBe('prj_1/takes/a%20b%23c%3F.wav');
    expect(encodeAssetPath('prj_1/takes/ü.wav')).toBe('prj_1/takes/%C3%BC.wav');
  });

  it.each(['', '/abs/x.wav', 'prj_1/../secret', 'prj_1//x.wav', './x.wav'])('refuses %j', (path) => {
    expect(() => encodeAssetPath(path)).toThrow(BridgeConfigError);
  });

  it('maps assets to the studio-asset protocol in Electron', () => {
    expect(electronAssetUrl('prj_1/takes/take 1.wav')).toBe('studio-asset://project/prj_1/takes/take%201.wav');
  });
});
