import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { connectStudioApi } from '../../../src-main/contract/rpc/client.ts';
import { serveStudioApi } from '../../../src-main/host/rpc/server.ts';
import {
  connectWebSocket,
  createRunToken,
  startWebSocketServer,
  type RunningWebSocketServer,
} from '../../../src-main/host/rpc/websocket.ts';
import { createFakeStudio } from './fake-studio.ts';

describe('WebSocket server (browser mode)', () => {
  const token = createRunToken();
  let running: RunningWebSocketServer;
  let connections = 0;

  beforeEach(async () => {
    connections = 0;
    const fake = createFakeStudio();
    running = await startWebSocketServer({
      token,
      onConnection: (transport) => {
        connections++;
        serveStudioApi(transport, fake.impl);
      },
    });
  });
  afterEach(async () => {
    await running.close();
  });

  const withToken = (value: string | null): string => {
    const url = new URL(running.url);
    if (value === null) url.searchParams.delete('token');
    else url.searchParams.set('token', value);
    return url.toString();
  };

  it('listens on 127.0.0.1 on a random port and puts the token in its URL', () => {
    const url = new URL(running.url);
    expect(url.hostname).toBe('127.0.0.1');
    expect(running.port).toBeGreaterThan(0);
    expect(url.port).toBe(String(running.port));
    expect(url.searchParams.get('token')).toBe(token);
  });

  it('serves the API to a client with the right token', async () => {
    const client = connectStudioApi(await connectWebSocket(running.url));
    expect(await client.api.ping({})).toEqual({ ok: true, value: { pong: true, version: '0.1.0' } });
    client.close();
  });

  it.each([
    ['no token', null],
    ['an empty token', ''],
    ['a wrong token', createRunToken()],
    ['a prefix of the token', token.slice(0, -1)],
  ])('refuses %s with 401', async (_name, value) => {
    await expect(connectWebSocket(withToken(value))).rejects.toThrow(/401/);
    expect(connections).toBe(0);
  });

  it.each(['http://evil.example', 'http://127.0.0.1:1', 'https://localhost', 'null', 'file://'])(
    'refuses Origin %s with 403 even with the right token',
    async (origin) => {
      await expect(connectWebSocket(running.url, { origin })).rejects.toThrow(/403/);
      expect(connections).toBe(0);
    },
  );

  it.each(['127.0.0.1', 'localhost'])('accepts the page origin http://%s:<port>', async (host) => {
    const transport = await connectWebSocket(running.url, { origin: `http://${host}:${running.port}` });
    const client = connectStudioApi(transport);
    expect((await client.api.ping({})).ok).toBe(true);
    client.close();
  });

  it.each(['evil.example', 'evil.example:PORT', '127.0.0.1:1', '127.0.0.2:PORT', 'localhost', '127.0.0.1'])(
    'refuses the upgrade with 421 for a foreign Host %j (DNS rebinding), even with the right token',
    async (host) => {
      const url = new URL(running.url);
      await expect(connectWebSocket(running.url, { headers: { host: host.replace('PORT', url.port) } })).rejects.toThrow(/421/);
      expect(connections).toBe(0);
    },
  );

  it.each(['127.0.0.1', 'localhost'])('accepts the Host %s:<port>', async (name) => {
    const transport = await connectWebSocket(running.url, { headers: { host: `${name}:${running.port}` } });
    const client = connectStudioApi(transport);
    expect((await client.api.ping({})).ok).toBe(true);
    client.close();
  });

  it.each(['/', '/rpc/', '/rpc/x', '/RPC', '/assets/rpc', '//rpc'])('refuses the upgrade with 404 on the path %s (only /rpc speaks WebSocket)', async (path) => {
    const url = new URL(running.url);
    url.pathname = path;
    await expect(connectWebSocket(url.toString())).rejects.toThrow(/404/);
    expect(connections).toBe(0);
  });

  it('keeps serving after garbage frames and binary frames', async () => {
    const raw = new WebSocket(running.url);
    await new Promise((resolve, reject) => {
      raw.once('open', resolve);
      raw.once('error', reject);
    });
    for (const junk of ['', 'not json', '[]', 'null', '{"t":"q"}', '{"t":"q","m":"ping","a":5,"i":"x"}', '{"t":"s","i":"nope"}']) {
      raw.send(junk);
    }
    raw.send(Buffer.from([1, 2, 3]), { binary: true });
    const replies = await new Promise<unknown[]>((resolve) => {
      const seen: unknown[] = [];
      raw.on('message', (data) => {
        seen.push(JSON.parse(String(data)));
        if (seen.length === 2) resolve(seen);
      });
      raw.send(JSON.stringify({ t: 'q', m: 'ping', a: [{}], i: 'id1' }));
    });
    // The request whose arguments were not an array is answered, as a call without its input object.
    expect(replies).toEqual([
      { t: 's', i: 'x', r: { ok: false, error: { code: 'invalid-argument', message: 'ping takes one input object, got 0 arguments' } } },
      { t: 's', i: 'id1', r: { ok: true, value: { pong: true, version: '0.1.0' } } },
    ]);
    raw.close();
  });

  it('refuses to bind anything but loopback, and short tokens', async () => {
    const onConnection = (): void => undefined;
    await expect(startWebSocketServer({ host: '0.0.0.0' as never, token, onConnection })).rejects.toThrow(/loopback/);
    await expect(startWebSocketServer({ token: 'short', onConnection })).rejects.toThrow(/16 characters/);
  });
});
