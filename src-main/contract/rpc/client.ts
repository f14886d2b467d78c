/**
 * The caller's side of the StudioApi over a Transport. `api` methods never reject: a lost connection, a timeout
 * or a malformed reply resolve to `{ ok: false, error: { code: 'internal' } }` like any other failure.
 */
import { createBirpc } from 'birpc';
import { STUDIO_METHODS, isStudioEventName } from '../api.ts';
import type { ApiResult, StudioApi, StudioEventName, StudioEvents, StudioMethod } from '../api.ts';
import type { EventFunctions } from './wire.ts';
import type { Transport } from './transport.ts';
import { errorMessage } from '../errors.ts';
import { birpcChannel, failure, isApiResult } from './wire.ts';

/** Options of `connectStudioApi`. */
export interface StudioClientOptions {
  /** How long a call may wait for its reply, ms (default 60 000); generation runs as jobs, so calls are short. */
  timeoutMs?: number;
}

/** A connected client. */
export interface StudioClient {
  api: StudioApi;
  /** Subscribes to one event; returns the unsubscribe. */
  on<K extends StudioEventName>(name: K, handler: (payload: StudioEvents[K]) => void): () => void;
  /** Drops all listeners, fails pending calls and closes the transport. */
  close(): void;
}

/** Connects to a server on the other end of `transport`. */
export function connectStudioApi(transport: Transport, options: StudioClientOptions = {}): StudioClient {
  const listeners = new Map<StudioEventName, Set<(payload: unknown) => void>>();
  const dispatch = (name: StudioEventName, payload: unknown): void => {
    for (const handler of [...(listeners.get(name) ?? [])]) {
      try {
        handler(payload);
      } catch (e) {
        // One faulty listener must not starve the rest; surface it like an uncaught error.
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  };
  const rpc = createBirpc<Record<StudioMethod, (input: unknown) => unknown>, EventFunctions>(
    {} as EventFunctions,
    {
      ...birpcChannel(transport),
      // Only event names resolve, so a server cannot reach `toString` or `__proto__` on this side.
      resolver: (name: string) => (isStudioEventName(name) ? (payload: unknown) => dispatch(name, payload) : undefined),
      // NOTE: no onGeneralError: birpc routes timeouts and closed-connection rejections through it, and
      // swallowing them there would resolve the call with undefined instead of rejecting (mapped in `call`).
      timeout: options.timeoutMs ?? 60_000,
    },
  );

  const call = async (method: StudioMethod, input: unknown): Promise<ApiResult<unknown>> => {
    try {
      const reply = await rpc.$call(method, input);
      return isApiResult(reply) ? reply : failure('internal', `${method}: the host sent a malformed reply`);
    } catch (e) {
      return failure('internal', `${method}: ${errorMessage(e)}`);
    }
  };
  const api: Record<string, (input: unknown) => Promise<ApiResult<unknown>>> = {};
  for (const method of STUDIO_METHODS) api[method] = (input) => call(method, input);

  return {
    api: api as unknown as StudioApi,
    on(name, handler) {
      let set = listeners.get(name);
      if (!set) {
        set = new Set();
        listeners.set(name, set);
      }
      // NOTE: wrap so that the same function subscribed twice is two subscriptions, each removed by its own call.
      const entry = (payload: unknown): void => handler(payload as StudioEvents[typeof name]);
      set.add(entry);
      return () => {
        listeners.get(name)?.delete(entry);
      };
    },
    close() {
      listeners.clear();
      if (!rpc.$closed) rpc.$close();
      transport.close();
    },
  };
}
