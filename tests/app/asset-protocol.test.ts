import { describe, expect, it, vi } from 'vitest';
import { createAssetHandler, parseAssetUrl } from '../../src-main/app/asset-protocol.ts';
import { ASSET_SCHEME } from '../../src-main/app/window.ts';

describe('studio-asset:// protocol', () => {
  it('parses project and path, decoding each segment', () => {
    expect(parseAssetUrl('studio-asset://project/prj_1/takes/rgn_a-take_b.wav', ASSET_SCHEME)).toEqual({ projectId: 'prj_1', path: 'takes/rgn_a-take_b.wav' });
    expect(parseAssetUrl('studio-asset://project/prj_1/peaks/take_b/512.i16', ASSET_SCHEME)).toEqual({ projectId: 'prj_1', path: 'peaks/take_b/512.i16' });
    expect(parseAssetUrl('studio-asset://project/prj_1/takes/a%20b.wav', ASSET_SCHEME)).toEqual({ projectId: 'prj_1', path: 'takes/a b.wav' });
  });

  it('refuses other schemes, hosts, missing parts and bad encodings', () => {
    for (const url of ['tessera://app/x', 'studio-asset://other/prj_1/takes/a.wav', 'studio-asset://project/prj_1', 'studio-asset://project/', 'studio-asset://project/p/%E0%A4%A', 'studio-asset://project/p/a%00b', 'not a url']) {
      expect(parseAssetUrl(url, ASSET_SCHEME), url).toBeUndefined();
    }
  });

  it('asks the host which file, streams it with the host content type, maps coded errors to statuses', async () => {
    const resolve = vi.fn(async (projectId: string, path: string) =>
      path === 'takes/a.wav'
        ? ({ ok: true, value: { file: `/p/${projectId}/takes/a.wav`, contentType: 'audio/wav', size: 4 } } as const)
        : ({ ok: false, error: { code: path.startsWith('takes/') ? 'not-found' : 'invalid-argument', message: `no ${path}` } } as const),
    );
    const fetchFile = vi.fn(async (_file: string, _request: Request) => new Response('RIFF', { status: 200, headers: { 'Content-Type': 'application/octet-stream' } }));
    const handle = createAssetHandler({ scheme: ASSET_SCHEME, resolve, fetchFile });
    const ok = await handle(new Request('studio-asset://project/prj_1/takes/a.wav'));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('audio/wav');
    expect(await ok.text()).toBe('RIFF');
    expect(fetchFile.mock.calls[0][0]).toBe('/p/prj_1/takes/a.wav');
    expect((await handle(new Request('studio-asset://project/prj_1/takes/b.wav'))).status).toBe(404);
    expect((await handle(new Request('studio-asset://project/prj_1/project.json'))).status).toBe(400);
    expect((await handle(new Request('studio-asset://elsewhere/prj_1/takes/a.wav'))).status).toBe(400);
    expect(fetchFile).toHaveBeenCalledTimes(1);
  });
});
