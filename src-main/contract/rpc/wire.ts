/**
 * The JSON codec of birpc's messages, shared by server and client. Decoding never throws and never hands birpc
 * something it would trip over: garbage becomes an ignored message, a request's arguments are always an array.
 * Encoding a response whose value JSON cannot hold (BigInt, cycles) sends a coded `internal` result instead.
 */
import { isErrorCode } from '../api.ts';
import { errorMessage } from '../errors.ts';
import type { ApiError, ApiResult, ErrorCode, StudioEventName, StudioEvents } from '../api.ts';
import type { Transport } from './transport.ts';

/** The event side of the channel: one function per event name. */
export type EventFunctions = { [K in StudioEventName]: (payload: StudioEvents[K]) => void };

/** A request (`q`) or response (`s`) as birpc builds them; `x` is what undecodable input becomes. */
export type WireMessage =
  | { t: 'q'; m: string; a: unknown[]; i?: string }
  | { t: 's'; i: string; r?: unknown; e?: unknown }
  | { t: 'x' };

const IGNORED: WireMessage = { t: 'x' };

/** Parses one transport message; anything that is not a well-formed birpc message becomes `{ t: 'x' }`. */
export function decodeMessage(data: unknown): WireMessage {
  if (typeof data !== 'string') return IGNORED;
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return IGNORED;
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return IGNORED;
  const record = json as Record<string, unknown>;
  const id = typeof record.i === 'string' ? record.i : undefined;
  if (record.t === 'q' && typeof record.m === 'string') {
    const args = Array.isArray(record.a) ? record.a : [];
    return id === undefined ? { t: 'q', m: record.m, a: args } : { t: 'q', m: record.m, a: args, i: id };
  }
  if (record.t === 's' && id !== undefined) return { t: 's', i: id, r: record.r, e: record.e };
  return IGNORED;
}

/** Serializes one outgoing message; an unserializable response is replaced by an `internal` failure. */
export function encodeMessage(message: unknown): string {
  try {
    return JSON.stringify(message);
  } catch (e) {
    const id = message !== null && typeof message === 'object' && 'i' in message ? message.i : undefined;
    const reply: WireMessage = {
      t: 's',
      i: typeof id === 'string' ? id : '',
      r: failure('internal', `the result could not be sent as JSON: ${errorMessage(e)}`),
    };
    return JSON.stringify(reply);
  }
}

/** A failed result. */
export function failure(code: ErrorCode, message: string, details?: unknown): { ok: false; error: ApiError } {
  return { ok: false, error: details === undefined ? { code, message } : { code, message, details } };
}

/** True when `value` has the shape of an ApiResult (used on values that crossed a boundary). */
export function isApiResult(value: unknown): value is ApiResult<unknown> {
  if (value === null || typeof value !== 'object') return false;
  const record = value as Record<string, unknown>;
  if (record.ok === true) return true;
  if (record.ok !== false) return false;
  const error = record.error;
  if (error === null || typeof error !== 'object') return false;
  const fields = error as Record<string, unknown>;
  return isErrorCode(fields.code) && typeof fields.message === 'string';
}


/** The birpc channel options shared by client and server: a string transport carrying JSON messages. */
export function birpcChannel(transport: Transport): {
  post: (data: string) => void;
  on: (handler: (data: string) => void) => void;
  off: () => void;
  serialize: typeof encodeMessage;
  deserialize: typeof decodeMessage;
} {
  let unsubscribe: (() => void) | undefined;
  return {
    post: (data) => transport.post(data),
    on: (handler) => {
      unsubscribe = transport.on(handler);
    },
    off: () => unsubscribe?.(),
    serialize: encodeMessage,
    deserialize: decodeMessage,
  };
}
