import { MessageChannel } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import type { StudioEvents } from '../../../src-main/contract/api.ts';
import { ProjectError } from '../../../src-main/contract/project.ts';
import { connectStudioApi, type StudioClient } from '../../../src-main/contract/rpc/client.ts';
import { toApiError } from '../../../src-main/contract/errors.ts';
import { serveStudioApi, type StudioServer } from '../../../src-main/host/rpc/server.ts';
import { createMemoryTransportPair, messagePortTransport, type Transport } from '../../../src-main/contract/rpc/transport.ts';
import { connectWebSocket, createRunToken, startWebSocketServer } from '../../../src-main/host/rpc/websocket.ts';
import { sampleProject } from '../../contract/project-fixtures.ts';
import { createFakeStudio, type FakeStudio } from './fake-studio.ts';

interface Session {
  fake: FakeStudio;
  client: StudioClient;
  server: StudioServer;
  errors: unknown[];
  dispose(): Promise<void>;
}

type Setup = () => Promise<Session>;

function wire(serverEnd: Transport, clientEnd: Transport, extra: () => Promise<void> = async () => undefined): Session {
  const fake = createFakeStudio();
  const errors: unknown[] = [];
  const server = serveStudioApi(serverEnd, fake.impl, { onError: (e) => errors.push(e) });
  const client = connectStudioApi(clientEnd, { timeoutMs: 10_000 });
  return {
    fake,
    client,
    server,
    errors,
    async dispose() {
      client.close();
      server.close();
      await extra();
    },
  };
}

const memory: Setup = async () => {
  const [a, b] = createMemoryTransportPair();
  return wire(a, b);
};

const messageChannel: Setup = async () => {
  const { port1, port2 } = new MessageChannel();
  return wire(messagePortTransport(port1), messagePortTransport(port2));
};

const webSocket: Setup = async () => {
  const fake = createFakeStudio();
  const errors: unknown[] = [];
  let accept: (server: StudioServer) => void = () => undefined;
  const accepted = new Promise<StudioServer>((resolve) => {
    accept = resolve;
  });
  const running = await startWebSocketServer({
    token: createRunToken(),
    onConnection: (transport) => accept(serveStudioApi(transport, fake.impl, { onError: (e) => errors.push(e) })),
  });
  const client = connectStudioApi(await connectWebSocket(running.url), { timeoutMs: 10_000 });
  const server = await accepted;
  return {
    fake,
    client,
    server,
    errors,
    async dispose() {
      client.close();
      server.close();
      await running.close();
    },
  };
};

describe.each([
  ['in-memory pair', memory],
  ['worker_threads MessageChannel', messageChannel],
  ['WebSocket on 127.0.0.1', webSocket],
])('StudioApi over %s', (_name, setup) => {
  let session: Session | undefined;
  afterEach(async () => {
    await session?.dispose();
    session = undefined;
  });

  it('round-trips calls with their typed results', async () => {
    session = await setup();
    const { api } = session.client;
    expect(await api.ping({})).toEqual({ ok: true, value: { pong: true, version: '0.1.0' } });

    const created = await api.createProject({ dir: '/tmp/song', name: 'Song' });
    if (!created.ok) throw new Error(created.error.message);
    expect(created.value.document.name).toBe('Song');
    const { projectId } = created.value;

    const saved = await api.saveProject({ projectId, document: sampleProject() });
    expect(saved).toEqual({ ok: true, value: sampleProject() });

    const job = await api.enqueueGeneration({ projectId, trackId: 'trk_a', regionIds: ['rgn_a'] });
    if (!job.ok) throw new Error(job.error.message);
    expect(await api.cancelJob({ jobId: job.value.jobId, hard: false })).toEqual({ ok: true, value: null });
    const jobs = await api.listJobs({ projectId });
    expect(jobs.ok && jobs.value.map((j) => [j.jobId, j.state])).toEqual([[job.value.jobId, 'cancelled']]);

    expect(await api.setSettings({ settings: { device: 'cpu', intraOpThreads: 4 } })).toEqual({
      ok: true,
      value: { device: 'cpu', intraOpThreads: 4, autosaveSeconds: 30, projectsDir: '/tmp/projects', modelDevices: {} },
    });
    expect((await api.listModels({})).ok).toBe(true);
    expect(await api.closeProject({ projectId })).toEqual({ ok: true, value: null });
    // Coded failures returned by the implementation pass through unchanged.
    expect(await api.cancelJob({ jobId: 'job_missing' })).toEqual({
      ok: false,
      error: { code: 'not-found', message: 'no job job_missing' },
    });
    expect(session.errors).toEqual([]);
  });

  it('rejects a bad input with invalid-argument naming the path, without calling the implementation', async () => {
    session = await setup();
    const result = await session.client.api.enqueueGeneration({ projectId: 'p1', trackId: 'trk_a', regionIds: ['rgn_ok', 'nope' as `rgn_${string}`] });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('invalid-argument');
    expect(result.error.message).toContain('regionIds.1');
    expect(result.error.details).toEqual({ issues: [{ path: 'regionIds.1', message: 'must be a region id "rgn_…"' }] });
    expect(session.fake.calls).toEqual([]);
  });

  it('delivers events in order, to every subscriber, until it unsubscribes', async () => {
    session = await setup();
    const seen: StudioEvents['jobProgress'][] = [];
    const finished: string[] = [];
    const off = session.client.on('jobProgress', (p) => seen.push(p));
    session.client.on('jobFinished', (p) => finished.push(p.jobId));
    await session.client.api.ping({}); // the subscription is local; a round trip makes the test independent of timing
    for (let step = 1; step <= 50; step++) session.server.emit('jobProgress', { jobId: 'j', stage: 'denoising', step, steps: 50 });
    session.server.emit('jobFinished', { jobId: 'j', ok: true });
    await session.client.api.ping({});
    expect(seen.map((p) => p.step)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(finished).toEqual(['j']);

    off();
    session.server.emit('jobProgress', { jobId: 'j', stage: 'decoding', step: 1, steps: 1 });
    await session.client.api.ping({});
    expect(seen).toHaveLength(50);
  });
});

describe('exceptions become coded results', () => {
  it('keeps the code of coded errors, maps system errors to io-error and the rest to internal', async () => {
    const [a, b] = createMemoryTransportPair();
    const fake = createFakeStudio();
    const errors: unknown[] = [];
    const server = serveStudioApi(a, fake.impl, { onError: (e) => errors.push(e) });
    const { api, close } = connectStudioApi(b);

    fake.throwing.set('openProject', new ProjectError('locked', 'project is open in another window'));
    expect(await api.openProject({ dir: '/x' })).toEqual({
      ok: false,
      error: { code: 'locked', message: 'project is open in another window' },
    });
    fake.throwing.set('openProject', new ProjectError('corrupt', 'bad file', [{ path: 'tempo', message: 'must be > 0' }]));
    expect(await api.openProject({ dir: '/x' })).toEqual({
      ok: false,
      error: { code: 'corrupt', message: 'bad file', details: { issues: [{ path: 'tempo', message: 'must be > 0' }] } },
    });
    fake.throwing.set('listModels', Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT' }));
    expect(await api.listModels({})).toEqual({ ok: false, error: { code: 'io-error', message: 'ENOENT: no such file' } });
    fake.throwing.set('getSettings', new TypeError('boom'));
    expect(await api.getSettings({})).toEqual({ ok: false, error: { code: 'internal', message: 'boom' } });
    fake.throwing.set('getSettings', 'a string');
    expect(await api.getSettings({})).toEqual({ ok: false, error: { code: 'internal', message: 'a string' } });
    fake.throwing.set('ping', { code: 'model-error', message: 'session failed' });
    expect(await api.ping({})).toEqual({ ok: false, error: { code: 'model-error', message: 'session failed' } });
    fake.throwing.delete('ping');
    expect((await api.ping({})).ok).toBe(true);
    expect(errors).toHaveLength(2); // only the `internal` ones are reported to the host's log

    close();
    server.close();
  });

  it('maps a result that JSON cannot carry, and a malformed result, to internal', async () => {
    const [a, b] = createMemoryTransportPair();
    const fake = createFakeStudio();
    fake.impl.listModels = async () => ({ ok: true, value: [{ id: 'x', name: 'x', sampleRate: 1, devices: [], big: 1n }] as never });
    fake.impl.getSettings = async () => 'not a result' as never;
    serveStudioApi(a, fake.impl);
    const { api } = connectStudioApi(b);
    const models = await api.listModels({});
    expect(models.ok || models.error.code).toBe('internal');
    const settings = await api.getSettings({});
    expect(settings.ok || settings.error.code).toBe('internal');
    expect((await api.ping({})).ok).toBe(true);
  });

  it('toApiError ignores codes outside the API', () => {
    expect(toApiError({ code: 'teapot', message: 'x' })).toEqual({ code: 'internal', message: 'x' });
    expect(toApiError(null)).toEqual({ code: 'internal', message: 'null' });
  });
});

describe('client behaviour', () => {
  it('resolves pending calls with a coded failure when the client closes', async () => {
    const [a, b] = createMemoryTransportPair();
    const fake = createFakeStudio();
    let release: () => void = () => undefined;
    fake.impl.ping = () =>
      new Promise((resolve) => {
        release = () => resolve({ ok: true, value: { pong: true, version: '0' } });
      });
    serveStudioApi(a, fake.impl);
    const client = connectStudioApi(b);
    const pending = client.api.ping({});
    await new Promise((resolve) => setTimeout(resolve, 10));
    client.close();
    const result = await pending;
    expect(result).toMatchObject({ ok: false, error: { code: 'internal', message: expect.stringContaining('closed') } });
    release();
  });

  it('resolves with a coded failure after the timeout when nobody answers', async () => {
    const [, b] = createMemoryTransportPair();
    const client = connectStudioApi(b, { timeoutMs: 20 });
    const result = await client.api.ping({});
    expect(result.ok || result.error.message).toContain('timeout');
    client.close();
  });

  it('subscribing one function twice gives two subscriptions', async () => {
    const [a, b] = createMemoryTransportPair();
    const server = serveStudioApi(a, createFakeStudio().impl);
    const client = connectStudioApi(b);
    const seen: string[] = [];
    const handler = (p: StudioEvents['projectChanged']): void => {
      seen.push(p.projectId);
    };
    const off1 = client.on('projectChanged', handler);
    client.on('projectChanged', handler);
    off1();
    server.emit('projectChanged', { projectId: 'p' });
    await client.api.ping({});
    expect(seen).toEqual(['p']);
    client.close();
  });
});
