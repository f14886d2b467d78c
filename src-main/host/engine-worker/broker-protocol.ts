/**
 * Messages between a utility process of the desktop app and main's process broker (app/worker-broker.ts): the
 * engine host asks for generation workers, and the engine host and its workers ask for WebGPU probes
 * (host/webgpu-probe.ts), because a packaged app cannot run its binary as Node (the `runAsNode` fuse is off). Main
 * forks only the modules named here, with only the arguments listed for them, so a request cannot start anything else.
 */

/** The processes main forks on request. */
export type BrokeredModule = 'worker' | 'webgpu-probe';

/** The arguments each module may be started with (a closed list: main passes nothing else). */
export const BROKERED_ARGS: Readonly<Record<BrokeredModule, readonly string[]>> = {
  worker: [],
  'webgpu-probe': ['--measure'],
};

/** Requester → main. `module` defaults to `worker` (the first and most common request). */
export type EngineToMain =
  | { type: 'spawn-worker'; id: string; module?: BrokeredModule; args?: string[] }
  | { type: 'kill-worker'; id: string };

/**
 * Main → requester. `worker-port` carries the requester's end of the channel in `ports[0]`; `worker-exit` says how
 * the process ended and, where main collected it (the probe), the tail of its stderr.
 */
export type MainToEngine =
  | { type: 'worker-port'; id: string; pid: number | undefined }
  | { type: 'worker-exit'; id: string; how: string; stderr?: string };

function isModule(value: unknown): value is BrokeredModule {
  return typeof value === 'string' && Object.hasOwn(BROKERED_ARGS, value);
}

/** True for a well-formed request: a printable id, a known module, and only arguments listed for that module. */
export function isEngineToMain(value: unknown): value is EngineToMain {
  if (value === null || typeof value !== 'object') return false;
  const m = value as Record<string, unknown>;
  if ((m.type !== 'spawn-worker' && m.type !== 'kill-worker') || typeof m.id !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(m.id)) return false;
  if (m.type === 'kill-worker') return true;
  const module = m.module ?? 'worker';
  if (!isModule(module)) return false;
  const allowed = BROKERED_ARGS[module];
  return m.args === undefined || (Array.isArray(m.args) && m.args.length <= allowed.length && m.args.every((a) => allowed.includes(a as string)));
}

/** True for a message main sends about brokered processes. */
export function isMainToEngine(value: unknown): value is MainToEngine {
  if (value === null || typeof value !== 'object') return false;
  const m = value as Record<string, unknown>;
  return (m.type === 'worker-port' || m.type === 'worker-exit') && typeof m.id === 'string';
}
