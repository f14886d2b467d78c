/**
 * `npm run web`: browser mode. Serves the StudioApi over a WebSocket on 127.0.0.1 (random port, per-run token)
 * and prints one line `Tessera ready at <url>` (the URL carries the token) on stdout. Ctrl-C stops it.
 * Serving the built renderer from the same host arrives with the studio UI.
 */
import { parseArgs } from 'node:util';
import { createStudioHost } from '../host/studio-host.ts';
import { serveStudioApi, type StudioServer } from '../host/rpc/server.ts';
import { createRunToken, startWebSocketServer } from '../host/rpc/websocket.ts';
import { parseNumber } from './args.ts';

/** Runs browser mode until SIGINT/SIGTERM. */
export async function runWeb(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { port: { type: 'string' } } });
  const port = parseNumber('port', values.port, (n) => Number.isInteger(n) && n >= 0 && n < 65536, 'a port number (0 = random)') ?? 0;
  const servers = new Set<StudioServer>();
  const host = createStudioHost({ emit: (name, payload) => servers.forEach((s) => s.emit(name, payload)) });
  const token = createRunToken();
  const ws = await startWebSocketServer({
    host: '127.0.0.1',
    port,
    token,
    onConnection: (transport) => {
      const server = serveStudioApi(transport, host.api, { onError: (e) => process.stderr.write(`host error: ${e instanceof Error ? e.message : String(e)}\n`) });
      servers.add(server);
    },
  });
  process.stdout.write(`Tessera ready at ${ws.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  servers.forEach((s) => s.close());
  await ws.close();
  await host.dispose();
  return 0;
}
