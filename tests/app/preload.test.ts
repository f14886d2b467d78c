import { describe, expect, it, vi } from 'vitest';
import { CHOOSE_FOLDER_CHANNEL, CONNECT_CHANNEL, ENGINE_RESTARTED_CHANNEL, PORT_CHANNEL, PROGRESS_CHANNEL, type PageMessage } from '../../src-main/ipc/channels.ts';
import { installPortBridge, type IpcRendererLike, type PageWindowLike } from '../../src-main/preload/port-bridge.ts';

type IpcListener = (event: { ports: readonly unknown[] }, ...args: unknown[]) => void;

const mocks = vi.hoisted(() => ({
  exposed: new Map<string, unknown>(),
  ipcOn: new Map<string, unknown>(),
}));

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, value: unknown) => mocks.exposed.set(key, value) },
  ipcRenderer: { send: () => undefined, on: (channel: string, listener: unknown) => mocks.ipcOn.set(channel, listener) },
}));

function fakes() {
  const ipcListeners = new Map<string, IpcListener>();
  const ipc: IpcRendererLike & { sent: unknown[][]; invoked: unknown[][] } = {
    sent: [],
    invoked: [],
    send(channel, ...args) {
      this.sent.push([channel, ...args]);
    },
    async invoke(channel, ...args) {
      this.invoked.push([channel, ...args]);
      return '/chosen/folder';
    },
    on(channel, listener) {
      ipcListeners.set(channel, listener);
    },
  };
  let pageListener: ((event: { source: unknown; data: unknown }) => void) | undefined;
  const posted: { message: PageMessage; origin: string; transfer?: unknown[] }[] = [];
  const page: PageWindowLike = {
    location: { origin: 'tessera://app' },
    addEventListener: (_type, listener) => void (pageListener = listener),
    postMessage: (message, origin, transfer) => void posted.push(transfer ? { message, origin, transfer } : { message, origin }),
  };
  const fromPage = (data: unknown, source: unknown = page): void => pageListener?.({ source, data });
  const fromMain = (channel: string, ports: unknown[], ...args: unknown[]): void => ipcListeners.get(channel)?.({ ports }, ...args);
  return { ipc, page, posted, fromPage, fromMain };
}

describe('preload port bridge', () => {
  it('forwards a connect request with its nonce to main', () => {
    const { ipc, page, fromPage } = fakes();
    installPortBridge(ipc, page);
    fromPage({ type: 'studio:connect', nonce: 'abc' });
    expect(ipc.sent).toEqual([[CONNECT_CHANNEL, 'abc']]);
  });

  it('ignores messages from other sources, other types and bad nonces', () => {
    const { ipc, page, fromPage } = fakes();
    installPortBridge(ipc, page);
    fromPage({ type: 'studio:connect', nonce: 'abc' }, { other: 'frame' });
    fromPage({ type: 'studio:other', nonce: 'abc' });
    fromPage({ type: 'studio:connect', nonce: 7 });
    fromPage({ type: 'studio:connect' });
    fromPage('studio:connect');
    fromPage(null);
    expect(ipc.sent).toEqual([]);
  });

  it('transfers the port from main into the page with the nonce', () => {
    const { ipc, page, posted, fromMain } = fakes();
    installPortBridge(ipc, page);
    const port = { fake: 'port' };
    fromMain(PORT_CHANNEL, [port], 'abc');
    fromMain(PORT_CHANNEL, [], 'abc'); // no port: dropped
    expect(posted).toEqual([{ message: { type: 'studio:port', nonce: 'abc' }, origin: 'tessera://app', transfer: [port] }]);
  });

  it('tells the page when the engine restarted', () => {
    const { ipc, page, posted, fromMain } = fakes();
    installPortBridge(ipc, page);
    fromMain(ENGINE_RESTARTED_CHANNEL, [], 'crash (exit code 1)');
    expect(posted).toEqual([{ message: { type: 'studio:engine-restarted', reason: 'crash (exit code 1)' }, origin: 'tessera://app' }]);
  });

  it('forwards folder-dialog requests as clean copies and returns only strings', async () => {
    const { ipc, page } = fakes();
    const bridge = installPortBridge(ipc, page);
    const sneaky = { title: 'Open', mode: 'open', defaultPath: '/etc' } as unknown as Parameters<typeof bridge.chooseFolder>[0];
    expect(await bridge.chooseFolder(sneaky)).toBe('/chosen/folder');
    expect(ipc.invoked).toEqual([[CHOOSE_FOLDER_CHANNEL, { title: 'Open', mode: 'open' }]]);
    ipc.invoke = async () => 42;
    expect(await bridge.chooseFolder({ title: 'Save', mode: 'save' })).toBeNull();
  });

  it('exposes only a marker, the progress hook and the folder dialog', () => {
    const { ipc, page } = fakes();
    const bridge = installPortBridge(ipc, page);
    expect(Object.keys(bridge).sort()).toEqual(['chooseFolder', 'setProgress', 'transport']);
    bridge.setProgress(0.5);
    bridge.setProgress(Number.NaN);
    bridge.setProgress(null);
    expect(ipc.sent).toEqual([[PROGRESS_CHANNEL, 0.5], [PROGRESS_CHANNEL, null], [PROGRESS_CHANNEL, null]]);
  });

  it('preload.ts exposes window.studio through contextBridge and nothing else', async () => {
    const stub = { location: { origin: 'tessera://app' }, addEventListener: () => undefined, postMessage: () => undefined };
    vi.stubGlobal('location', stub.location);
    vi.stubGlobal('addEventListener', stub.addEventListener);
    vi.stubGlobal('postMessage', stub.postMessage);
    try {
      await import('../../src-main/preload/preload.ts');
    } finally {
      vi.unstubAllGlobals();
    }
    expect([...mocks.exposed.keys()]).toEqual(['studio']);
    expect(mocks.exposed.get('studio')).toMatchObject({ transport: 'message-port' });
    expect([...mocks.ipcOn.keys()].sort()).toEqual([ENGINE_RESTARTED_CHANNEL, PORT_CHANNEL].sort());
  });
});
