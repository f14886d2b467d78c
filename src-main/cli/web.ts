/**
 * `npm run web`: browser mode. Serves the StudioApi over a WebSocket (`/rpc`), the built renderer and project
 * assets over HTTP, all on one port of 127.0.0.1 (random unless `--port`, per-run token), and prints one line
 * `Tessera ready at <url>` (the URL carries the token) on stdout. Ctrl-C stops it.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Transport } from '../contract/rpc/transport.ts';
import { createStudioHost } from '../host/studio-host.ts';
import type { StudioSession } from '../host/studio/session.ts';
import { createHttpHandler } from '../host/rpc/http.ts';
import { toApiError, errorMessage } from '../contract/errors.ts';
import { serveStudioApi, type StudioServer } from '../host/rpc/server.ts';
import { createRunToken, startWebSocketServer } from '../host/rpc/websocket.ts';
import { parseNumber } from './args.ts';

/** Runs browser mode until SIGINT/SIGTERM. */
export async function runWeb(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string' }, projects: { type: 'string' }, renderer: { type: 'string' } } });
  const port = parseNumber('port', values.port, { check: (n) => Number.isInteger(n) && n >= 0 && n < 65536, expected: 'a port number from 0 to 65535 (0 = random)', example: '5178' }) ?? 0;
  const servers = new Set<StudioServer>();
  const sessions = new Map<Transport, { server: StudioServer; session: StudioSession }>();
  const host = createStudioHost({
    emit: (name, payload) => servers.forEach((s) => s.emit(name, payload)),
    ...(values.projects ? { projectsDir: resolve(values.projects) } : {}),
  });
  const token = createRunToken();
  const staticDir = resolve(values.renderer ?? fileURLToPath(new URL('../../dist/renderer', import.meta.url)));
  const server = await startWebSocketServer({
    host: '127.0.0.1',
    port,
    token,
    onConnection: (transport) => {
      // One session per page: its projects are closed (journal kept) when the page goes away, so a reload can
      // open them again instead of finding them locked.
      const session = host.session();
      const s = serveStudioApi(transport, session.api, { onError: (e) => process.stderr.write(`host error: ${errorMessage(e)}\n`) });
      servers.add(s);
      sessions.set(transport, { server: s, session });
    },
    onDisconnect: (transport) => {
      const entry = sessions.get(transport);
      if (!entry) return;
      sessions.delete(transport);
      servers.delete(entry.server);
      entry.server.close();
      entry.session.close().catch((e: unknown) => process.stderr.write(`host error: ${errorMessage(e)}\n`));
    },
    http: createHttpHandler({ token, staticDir, resolveAsset: async (projectId, path) => {
        try {
          return await host.api.resolveAsset({ projectId, path });
        } catch (e) {
          return { ok: false, error: toApiError(e) };
        }
      } }),
  });
  process.stdout.write(`Tessera ready at ${server.httpUrl}\n`);
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  servers.forEach((s) => s.close());
  await server.close();
  await host.dispose();
  return 0;
}
