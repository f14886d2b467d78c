/**
 * Main's IPC handlers. Each checks its sender first (our window, its main frame, our origin) and its payload
 * second, and silently drops anything else (electron/fiddle habit). Electron objects are parameters for tests.
 */
import { CHOOSE_FOLDER_CHANNEL, CONNECT_CHANNEL, PROGRESS_CHANNEL, isChooseFolderRequest, isNonce, progressBarValue, type ChooseFolderRequest } from './channels.ts';
import { isTrustedSender, type SenderFrame } from './sender.ts';

/** What a handler reads of an IpcMainEvent. */
export interface IpcEventLike<S> {
  sender: S;
  senderFrame: SenderFrame | null;
}

/** What registration uses of `ipcMain`. */
export interface IpcMainLike<S> {
  on(channel: string, listener: (event: IpcEventLike<S>, ...args: unknown[]) => void): unknown;
  handle(channel: string, listener: (event: IpcEventLike<S>, ...args: unknown[]) => Promise<unknown>): unknown;
}

/** What the handlers do once a message passed the checks. */
export interface IpcHandlerDeps<S> {
  appOrigin: string;
  /** True when `sender` (a WebContents) belongs to our main window. */
  isOurWindow(sender: S): boolean;
  /** Hands `sender` a fresh port to the engine, answering `nonce`. */
  connectToEngine(sender: S, nonce: string): void;
  /** Sets the window's progress bar (setProgressBar value: 0..1 or -1). */
  setProgressBar(value: number): void;
  /** Shows the native folder dialog; resolves to the chosen folder or null. */
  chooseFolder(request: ChooseFolderRequest): Promise<string | null>;
}

/** Registers every channel main listens on. */
export function registerIpcHandlers<S>(ipcMain: IpcMainLike<S>, deps: IpcHandlerDeps<S>): void {
  const trusted = (event: IpcEventLike<S>): boolean => deps.isOurWindow(event.sender) && isTrustedSender(event.senderFrame, deps.appOrigin);
  ipcMain.on(CONNECT_CHANNEL, (event, nonce) => {
    if (!trusted(event) || !isNonce(nonce)) return;
    deps.connectToEngine(event.sender, nonce);
  });
  ipcMain.on(PROGRESS_CHANNEL, (event, progress) => {
    if (!trusted(event)) return;
    deps.setProgressBar(progressBarValue(progress));
  });
  ipcMain.handle(CHOOSE_FOLDER_CHANNEL, async (event, request) => {
    // An untrusted sender or a malformed request gets the same answer as a cancelled dialog.
    if (!trusted(event) || !isChooseFolderRequest(request)) return null;
    return deps.chooseFolder({ title: request.title, mode: request.mode });
  });
}
