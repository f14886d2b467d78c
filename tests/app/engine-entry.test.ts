import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { runEngine, type ParentPortLike } from '../../src-main/app/engine-entry.ts';
import { connectStudioApi } from '../../src-main/contract/rpc/client.ts';
import { messagePortTransport, type MessagePortLike } from '../../src-main/contract/rpc/transport.ts';

describe('engine utility-process entry', () => {
  it('serves the StudioApi on each port main sends', async () => {
    let deliver: ((event: { data: unknown; ports: MessagePortLike[] }) => void) | undefined;
    const parentPort: ParentPortLike = { on: (_event, listener) => void (deliver = listener) };
    const engine = runEngine(parentPort, { log: () => undefined });
    const { port1, port2 } = new MessageChannel();
    deliver?.({ data: { type: 'connect' }, ports: [port1] });
    deliver?.({ data: { type: 'connect' }, ports: [] }); // no port: ignored
    expect(engine.connections).toBe(1);
    const client = connectStudioApi(messagePortTransport(port2));
    try {
      const settings = await client.api.getSettings({});
      expect(settings.ok).toBe(true);
    } finally {
      client.close();
      await engine.dispose();
    }
    expect(engine.connections).toBe(0);
  });
});
