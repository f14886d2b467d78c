/**
 * Serves a StudioApi implementation over a Transport with birpc. The server is the trust boundary: every call is
 * checked against API_INPUT_SCHEMAS before the implementation sees it, every exception becomes a coded result, and
 * no input (malformed JSON, unknown methods, wrong argument counts) can make it stop serving.
 */
import { createBirpc } from 'birpc';
import * as v from 'valibot';
import { API_INPUT_SCHEMAS, STUDIO_EVENT_NAMES, STUDIO_METHODS, isStudioMethod } from '../../contract/api.ts';
import type { ApiResult, StudioApi, StudioEventName, StudioEvents, StudioMethod } from '../../contract/api.ts';
import type { Transport } from '../../contract/rpc/transport.ts';
import type { EventFunctions } from '../../contract/rpc/wire.ts';
import { toApiError } from '../../contract/errors.ts';
import { birpcChannel, failure, isApiResult } from '../../contract/rpc/wire.ts';

/** Options of `serveStudioApi`. */
export interface StudioServerOptions {
  /** Sees every failure the client gets as `internal`, and undeliverable messages; for logging. */
  onError?: (error: unknown, method?: string) => void;
}

/** A running server. */
export interface StudioServer {
  /** Pushes an event to the client; a no-op once closed. */
  emit<K extends StudioEventName>(name: K, payload: StudioEvents[K]): void;
  /** Stops serving and closes the transport. */
  close(): void;
}

/** The client's side as birpc sees it: one fire-and-forget function per event. */

/** Most field issues one error lists, so a huge malformed payload does not echo back whole. */
const MAX_ISSUES = 20;

/** Starts serving `impl` on `transport`. */
export function serveStudioApi(transport: Transport, impl: StudioApi, options: StudioServerOptions = {}): StudioServer {
  const report = (error: unknown, method?: string): void => {
    try {
      options.onError?.(error, method);
    } catch {
      // A failing logger must not take the server down.
    }
  };
  const rpc = createBirpc<EventFunctions, Record<string, never>>(
    {},
    {
      ...birpcChannel(transport),
      // Every name resolves, so an unknown method gets a coded result rather than a birpc rejection.
      resolver: (name: string) => (...args: unknown[]) => handleCall(impl, name, args, report),
      eventNames: STUDIO_EVENT_NAMES,
      onGeneralError: (error: Error, method?: string) => {
        report(error, method);
        return true;
      },
    },
  );
  return {
    emit(name, payload) {
      if (rpc.$closed) return;
      rpc.$callEvent(name, ...([payload] as Parameters<EventFunctions[typeof name]>)).catch((error: unknown) => report(error, name));
    },
    close() {
      if (!rpc.$closed) rpc.$close();
      transport.close();
    },
  };
}

/** Validates one call, runs it and maps whatever happens to an ApiResult. Never throws. */
async function handleCall(
  impl: StudioApi,
  name: string,
  args: unknown[],
  report: (error: unknown, method?: string) => void,
): Promise<ApiResult<unknown>> {
  if (!isStudioMethod(name)) {
    return failure('invalid-argument', `unknown method "${name.slice(0, 100)}"; the API has ${STUDIO_METHODS.join(', ')}`);
  }
  if (args.length !== 1) {
    return failure('invalid-argument', `${name} takes one input object, got ${args.length} arguments`);
  }
  const parsed = v.safeParse(API_INPUT_SCHEMAS[name], args[0]);
  if (!parsed.success) return invalidInput(name, parsed.issues);
  try {
    const method = impl[name] as unknown;
    if (typeof method !== 'function') return failure('internal', `${name} is not implemented by this host`);
    const result: unknown = await (method as (input: unknown) => unknown).call(impl, parsed.output);
    if (isApiResult(result)) return result;
    report(new TypeError(`${name} returned a value that is not an ApiResult`), name);
    return failure('internal', `${name} returned a malformed result`);
  } catch (e) {
    const error = toApiError(e);
    if (error.code === 'internal') report(e, name);
    return { ok: false, error };
  }
}

/** The `invalid-argument` result for schema issues; the message names each field path. */
function invalidInput(method: StudioMethod, issues: readonly v.BaseIssue<unknown>[]): ApiResult<never> {
  const listed = issues.slice(0, MAX_ISSUES).map((issue) => ({ path: v.getDotPath(issue) ?? '(root)', message: issue.message }));
  const more = issues.length > listed.length ? `; and ${issues.length - listed.length} more` : '';
  const text = listed.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
  return failure('invalid-argument', `${method}: invalid input: ${text}${more}`, { issues: listed });
}

