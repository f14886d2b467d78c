/**
 * Electron main process: glue only. App ready → engine utility process under a supervisor → main window; the
 * renderer asks for a port to the engine (preload/port-bridge.ts) and main answers with one end of a
 * MessageChannelMain whose other end goes to the engine, so main stays out of the data path (ux.md §1.4).
 * The logic lives in window.ts, engine-process.ts, ipc/ and menu.ts, which the unit tests cover.
 *
 * `npm start` bundles this file, engine-entry.ts, the worker and WebGPU probe entries and the preload to CommonJS in
 * dist/app and runs Electron on it.
 * NOTE: the Electron binary is not downloaded on our build machines (Electron 45 has no postinstall), so this file
 * is typechecked and linted here but only runs where `npx install-electron` has fetched the binary.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, Menu, MessageChannelMain, ipcMain, net, protocol, shell, utilityProcess, type UtilityProcess } from 'electron';
import { connectStudioApi, type StudioClient } from '../contract/rpc/client.ts';
import { messagePortTransport } from '../contract/rpc/transport.ts';
import { resolveAppAsset } from './app-protocol.ts';
import { createAssetHandler } from './asset-protocol.ts';
import { createEngineSupervisor } from './engine-process.ts';
import { createWorkerBroker, forkBrokered } from './worker-broker.ts';
import { menuTemplate } from './menu.ts';
import { APP_ORIGIN, APP_SCHEME, ASSET_SCHEME, createMainWindow } from './window.ts';
import { ENGINE_RESTARTED_CHANNEL, PORT_CHANNEL } from '../ipc/channels.ts';
import { registerIpcHandlers } from '../ipc/handlers.ts';
import { errorMessage } from '../contract/errors.ts';

// NOTE: the bundle is CommonJS, so __dirname is dist/app, where esbuild puts main.cjs, engine-entry.cjs, preload.cjs,
// worker-main.cjs and webgpu-probe-main.cjs
// (.cjs because package.json says "type": "module"; a sandboxed preload cannot be ESM).
const bundleDir = __dirname;
const rendererDir = process.env.TESSERA_RENDERER_DIR ?? join(bundleDir, '..', 'renderer');

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  { scheme: ASSET_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
]);

const supervisor = createEngineSupervisor<UtilityProcess>({
  fork: (modulePath) => utilityProcess.fork(modulePath, [], { serviceName: 'Tessera Engine', stdio: 'inherit' }),
  modulePath: join(bundleDir, 'engine-entry.cjs'),
});

// The engine asks main for generation workers, and the engine and its workers for WebGPU probes (utility processes
// of their own; see worker-broker.ts).
const broker = createWorkerBroker<UtilityProcess>({
  fork: forkBrokered((modulePath, args, options) => utilityProcess.fork(modulePath, args, options), bundleDir, (child, message) => broker.handle(child, message)),
  channel: () => new MessageChannelMain(),
});

// Main's own connection to the engine: the asset protocol asks it which file an asset URL names.
let engineClient: StudioClient | undefined;

let mainWindow: BrowserWindow | undefined;

function openWindow(): BrowserWindow {
  const window = createMainWindow({ BrowserWindow, shell }, { preloadPath: join(bundleDir, 'preload.cjs'), appOrigin: APP_ORIGIN });
  window.webContents.on('did-fail-load', (_event, code, description, url) => {
    process.stderr.write(`renderer failed to load ${url}: ${description} (${code})\n`);
  });
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = undefined;
  });
  return window;
}

app.on('web-contents-created', (_event, contents) => {
  // Nothing in the app uses <webview>; refuse any attempt to attach one.
  contents.on('will-attach-webview', (event) => event.preventDefault());
});

app.whenReady().then(() => {
  protocol.handle(APP_SCHEME, (request) => {
    const file = resolveAppAsset(request.url, rendererDir, APP_ORIGIN);
    return file === undefined ? new Response('not found', { status: 404 }) : net.fetch(pathToFileURL(file).toString());
  });
  protocol.handle(
    ASSET_SCHEME,
    createAssetHandler({
      scheme: ASSET_SCHEME,
      resolve: async (projectId, path) =>
        engineClient ? engineClient.api.resolveAsset({ projectId, path }) : { ok: false, error: { code: 'busy', message: 'the engine is restarting' } },
      fetchFile: (file, request) => net.fetch(pathToFileURL(file).toString(), { headers: request.headers }),
    }),
  );
  Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate(process.platform)));
  supervisor.on('spawned', ({ child }) => {
    broker.dispose(); // workers of an engine that is gone
    child.on('message', (message: unknown) => broker.handle(child, message));
    engineClient?.close();
    const { port1, port2 } = new MessageChannelMain();
    child.postMessage({ type: 'connect' }, [port1]);
    engineClient = connectStudioApi(messagePortTransport(port2));
  });
  supervisor.on('restarted', ({ cause }) => {
    mainWindow?.webContents.send(ENGINE_RESTARTED_CHANNEL, cause.kind === 'hard' ? cause.reason : `crash (exit code ${cause.exitCode})`);
  });
  supervisor.start();
  registerIpcHandlers(ipcMain, {
    appOrigin: APP_ORIGIN,
    isOurWindow: (sender) => mainWindow !== undefined && BrowserWindow.fromWebContents(sender) === mainWindow,
    connectToEngine: (sender, nonce) => {
      const engine = supervisor.child;
      if (!engine) return; // restarting: the page hears 'engine-restarted' and asks again
      const { port1, port2 } = new MessageChannelMain();
      engine.postMessage({ type: 'connect' }, [port1]);
      sender.postMessage(PORT_CHANNEL, nonce, [port2]);
    },
    setProgressBar: (value) => mainWindow?.setProgressBar(value),
    chooseFolder: async ({ title, mode }) => {
      const options: Electron.OpenDialogOptions = { title, properties: mode === 'save' ? ['openDirectory', 'createDirectory', 'promptToCreate'] : ['openDirectory'] };
      const result = mainWindow ? await dialog.showOpenDialog(mainWindow, options) : await dialog.showOpenDialog(options);
      return result.canceled ? null : (result.filePaths[0] ?? null);
    },
  });
  mainWindow = openWindow();
  app.on('activate', () => {
    if (!mainWindow) mainWindow = openWindow();
  });
}).catch((error: unknown) => {
  process.stderr.write(`Tessera failed to start: ${errorMessage(error)}\n`);
  app.exit(1);
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

let engineStopped = false;
app.on('before-quit', (event) => {
  if (engineStopped) return;
  // Give the engine its grace period to finish writes (autosave journal) before the app exits.
  event.preventDefault();
  engineClient?.close();
  broker.dispose();
  supervisor.shutdown().finally(() => {
    engineStopped = true;
    app.quit();
  });
});
