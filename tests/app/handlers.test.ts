import { describe, expect, it, vi } from 'vitest';
import { CHOOSE_FOLDER_CHANNEL, CONNECT_CHANNEL, PROGRESS_CHANNEL, progressBarValue } from '../../src-main/ipc/channels.ts';
import { registerIpcHandlers, type IpcEventLike } from '../../src-main/ipc/handlers.ts';
import type { SenderFrame } from '../../src-main/ipc/sender.ts';
import { APP_ORIGIN } from '../../src-main/app/window.ts';

interface FakeContents {
  id: number;
}

function setup() {
  const listeners = new Map<string, (event: IpcEventLike<FakeContents>, ...args: unknown[]) => void>();
  const handlers = new Map<string, (event: IpcEventLike<FakeContents>, ...args: unknown[]) => Promise<unknown>>();
  const ipcMain = {
    on: vi.fn((channel: string, listener: (event: IpcEventLike<FakeContents>, ...args: unknown[]) => void) => listeners.set(channel, listener)),
    handle: vi.fn((channel: string, listener: (event: IpcEventLike<FakeContents>, ...args: unknown[]) => Promise<unknown>) => handlers.set(channel, listener)),
  };
  const ours: FakeContents = { id: 1 };
  const deps = {
    appOrigin: APP_ORIGIN,
    isOurWindow: (sender: FakeContents) => sender === ours,
    connectToEngine: vi.fn(),
    setProgressBar: vi.fn(),
    chooseFolder: vi.fn(async () => '/home/me/Song' as string | null),
  };
  registerIpcHandlers(ipcMain, deps);
  const send = (channel: string, event: IpcEventLike<FakeContents>, ...args: unknown[]): void => {
    const listener = listeners.get(channel);
    if (!listener) throw new Error(`no handler for ${channel}`);
    listener(event, ...args);
  };
  const invoke = (channel: string, event: IpcEventLike<FakeContents>, ...args: unknown[]): Promise<unknown> => {
    const handler = handlers.get(channel);
    if (!handler) throw new Error(`no invoke handler for ${channel}`);
    return handler(event, ...args);
  };
  const top: SenderFrame = { url: `${APP_ORIGIN}/index.html`, parent: null };
  return { ipcMain, ours, deps, send, invoke, top };
}

describe('IPC handlers', () => {
  it('registers exactly the connect and progress channels, and the folder dialog as an invoke handler', () => {
    const { ipcMain } = setup();
    expect(ipcMain.on.mock.calls.map(([channel]) => channel).sort()).toEqual([CONNECT_CHANNEL, PROGRESS_CHANNEL].sort());
    expect(ipcMain.handle.mock.calls.map(([channel]) => channel)).toEqual([CHOOSE_FOLDER_CHANNEL]);
  });

  it('opens the folder dialog for trusted senders with well-formed requests only', async () => {
    const { invoke, ours, top, deps } = setup();
    expect(await invoke(CHOOSE_FOLDER_CHANNEL, { sender: ours, senderFrame: top }, { title: 'Open project', mode: 'open' })).toBe('/home/me/Song');
    expect(deps.chooseFolder).toHaveBeenCalledWith({ title: 'Open project', mode: 'open' });
    for (const [event, request] of [
      [{ sender: { id: 2 }, senderFrame: top }, { title: 'x', mode: 'open' }],
      [{ sender: ours, senderFrame: { url: 'https://evil.example/', parent: null } }, { title: 'x', mode: 'open' }],
      [{ sender: ours, senderFrame: top }, { title: 'x', mode: 'delete' }],
      [{ sender: ours, senderFrame: top }, { title: 'x'.repeat(201), mode: 'open' }],
      [{ sender: ours, senderFrame: top }, { title: 'x', mode: 'open', defaultPath: '/etc' }],
      [{ sender: ours, senderFrame: top }, null],
    ] as [IpcEventLike<FakeContents>, unknown][]) {
      expect(await invoke(CHOOSE_FOLDER_CHANNEL, event, request)).toBeNull();
    }
    expect(deps.chooseFolder).toHaveBeenCalledTimes(1);
  });

  it('hands a trusted sender a port', () => {
    const { send, ours, top, deps } = setup();
    send(CONNECT_CHANNEL, { sender: ours, senderFrame: top }, 'n-1');
    expect(deps.connectToEngine).toHaveBeenCalledWith(ours, 'n-1');
  });

  it('drops connect requests from other windows, subframes, other origins and bad nonces', () => {
    const { send, ours, top, deps } = setup();
    send(CONNECT_CHANNEL, { sender: { id: 2 }, senderFrame: top }, 'n');
    send(CONNECT_CHANNEL, { sender: ours, senderFrame: { url: `${APP_ORIGIN}/x`, parent: top } }, 'n');
    send(CONNECT_CHANNEL, { sender: ours, senderFrame: { url: 'https://evil.example/', parent: null } }, 'n');
    send(CONNECT_CHANNEL, { sender: ours, senderFrame: null }, 'n');
    send(CONNECT_CHANNEL, { sender: ours, senderFrame: top }, 42);
    send(CONNECT_CHANNEL, { sender: ours, senderFrame: top }, '');
    send(CONNECT_CHANNEL, { sender: ours, senderFrame: top }, 'x'.repeat(129));
    expect(deps.connectToEngine).not.toHaveBeenCalled();
  });

  it('maps progress to the progress bar for trusted senders only', () => {
    const { send, ours, top, deps } = setup();
    send(PROGRESS_CHANNEL, { sender: ours, senderFrame: top }, 0.25);
    send(PROGRESS_CHANNEL, { sender: ours, senderFrame: top }, null);
    send(PROGRESS_CHANNEL, { sender: { id: 3 }, senderFrame: top }, 0.5);
    expect(deps.setProgressBar.mock.calls).toEqual([[0.25], [-1]]);
  });
});

describe('progressBarValue', () => {
  it('clamps to 0..1 and removes the bar for anything else', () => {
    expect([0, 0.5, 1, -0.2, 1.7, Number.NaN, Infinity, null, '0.5', undefined].map(progressBarValue)).toEqual([0, 0.5, 1, 0, 1, -1, -1, -1, -1, -1]);
  });
});
