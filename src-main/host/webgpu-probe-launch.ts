/**
 * How the WebGPU probe's child process starts and how its report lines travel, both ends: `runProbeChild`
 * (webgpu-probe.ts) sees a {@link ProbeChild} (lines, one end, a kill) and the child (webgpu-probe-main.ts) writes to
 * a {@link ProbeOutput}. Under Node the parent spawns this Node binary and reads the child's stdout. Inside the
 * desktop app a utility process cannot run the app's binary as Node (the `runAsNode` fuse is off), so the engine host
 * or a generation worker asks main to fork the probe as a utility process (engine-worker/broker-client.ts) and the
 * child posts its lines on the MessagePort main hands it.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { brokerClient, type BrokerParentPort, type SpawnBrokered } from './engine-worker/broker-client.ts';

/** How the probe child ended: it exited (how, and the tail of its stderr), or it could not be started. */
export type ProbeEnd = { how: string; stderr: string } | { startError: string };

/** A running probe child as `runProbeChild` sees it. Its events come asynchronously, never during the launch. */
export interface ProbeChild {
  /** Subscribes to the child's output lines (report lines start with PROBE_LINE_PREFIX; the rest is ignored). */
  onLine(listener: (line: string) => void): void;
  /** Called once when the child is gone, after its last line. */
  onEnd(listener: (end: ProbeEnd) => void): void;
  /** Kills it at once; nothing once it ended. */
  kill(): void;
}

/** Starts the probe child (`measure`: the reference workload too); throws when it cannot be started at all. */
export type ProbeLauncher = (measure: boolean) => ProbeChild;

/** Characters of the child's stderr kept for the crash reason (its last line). */
const STDERR_TAIL = 2000;

/** How to start the probe child: the bundled `.cjs` next to this module in a build, else the TypeScript source via tsx. */
export function probeCommand(): { file: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  const bundled = join(dirname(here), 'webgpu-probe-main.cjs');
  if (here.endsWith('.cjs')) {
    if (existsSync(bundled)) return { file: bundled, execArgv: [] };
    throw new Error(`this build has no WebGPU probe (${bundled} is missing)`);
  }
  const require = createRequire(import.meta.url);
  const tsxDir = dirname(require.resolve('tsx/package.json'));
  const exportsField = (JSON.parse(readFileSync(join(tsxDir, 'package.json'), 'utf8')) as { exports: Record<string, unknown> }).exports['.'];
  if (typeof exportsField !== 'string') throw new Error('tsx has no loader entry; reinstall dependencies (npm install)');
  return { file: fileURLToPath(new URL('./webgpu-probe-main.ts', import.meta.url)), execArgv: ['--import', pathToFileURL(join(tsxDir, exportsField)).href] };
}

/** Runs `command` (plus `--measure`) as a Node child process and reads its lines from stdout (CLI, `npm run web`, tests). */
export function spawnProbeLauncher(command: { executable: string; args: string[] }): ProbeLauncher {
  return (measure) => {
    const child = spawn(command.executable, [...command.args, ...(measure ? ['--measure'] : [])], { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
    const lineListeners = new Set<(line: string) => void>();
    const endListeners = new Set<(end: ProbeEnd) => void>();
    let ended = false;
    const end = (e: ProbeEnd): void => {
      if (ended) return;
      ended = true;
      endListeners.forEach((l) => l(e));
    };
    let buffered = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        lineListeners.forEach((l) => l(line));
      }
    });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL);
    });
    child.on('error', (e) => end({ startError: e.message }));
    // 'close', not 'exit': it comes after stdout has delivered the last lines.
    child.on('close', (code, signal) => end({ how: signal ?? `exit code ${code ?? '?'}`, stderr }));
    return {
      onLine: (listener) => void lineListeners.add(listener),
      onEnd: (listener) => void endListeners.add(listener),
      kill: () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      },
    };
  };
}

/**
 * Asks main for the probe as a utility process (the desktop app). Its lines arrive on the port; its exit, with its
 * stderr's tail, comes from main. NOTE: those are two channels, so the child never exits on its own after its last
 * line (see {@link probeOutput}): this side has every line before it kills the child, and a crash is the only exit
 * that can come unasked.
 */
export function brokeredProbeLauncher(spawnBrokered: SpawnBrokered): ProbeLauncher {
  return (measure) => {
    const child = spawnBrokered('webgpu-probe', measure ? ['--measure'] : []);
    return {
      onLine: (listener) =>
        void child.onMessage((data) => {
          if (typeof data === 'string') listener(data);
        }),
      onEnd: (listener) => void child.onExit((how, stderr) => listener({ how, stderr: stderr ?? '' })),
      kill: () => child.kill(),
    };
  };
}

/** What the launcher and the child's output use of `process`. */
export interface ProbeProcess {
  readonly versions: NodeJS.ProcessVersions;
  readonly execPath: string;
  readonly stdout: { write(chunk: string, callback?: () => void): unknown };
  exit(code: number): void;
}

function parentPortOf(proc: ProbeProcess): unknown {
  const candidate: unknown = Reflect.get(proc, 'parentPort');
  return candidate !== null && typeof candidate === 'object' && 'on' in candidate && typeof candidate.on === 'function' ? candidate : undefined;
}

/**
 * The launcher for this process: the broker in a utility process of the desktop app (its `process.parentPort`), else
 * this Node binary. Throws in Electron's other processes, whose binary is the app itself.
 */
export function defaultProbeLauncher(proc: ProbeProcess = process): ProbeLauncher {
  const parentPort = parentPortOf(proc);
  if (parentPort !== undefined) return brokeredProbeLauncher(brokerClient(parentPort as BrokerParentPort));
  // NOTE: inside Electron, process.execPath is the app itself (its runAsNode fuse is off): spawning it would start a
  // second app.
  if (proc.versions.electron !== undefined) throw new Error("Electron's main and renderer processes cannot start it; the app's engine and generation processes ask main to");
  const { file, execArgv } = probeCommand();
  return spawnProbeLauncher({ executable: proc.execPath, args: [...execArgv, file] });
}

/** Where the probe child writes its report lines, and how it ends. */
export interface ProbeOutput {
  write(line: string): void;
  /** The child is done (`code` 0) or failed (1). */
  end(code: number): void;
}

/** How long a probe in the app waits, after its last line, to be killed by its requester before it exits itself. */
export const PORT_LINGER_MS = 10_000;

/** The port main hands the probe (MessagePortMain). */
interface ProbePort {
  on(event: 'close', listener: () => void): unknown;
  postMessage(message: unknown): void;
  start(): void;
}

/**
 * The child's output: the MessagePort main hands it when it runs as a utility process (lines sent before the port
 * arrives are queued), else stdout, one line each.
 */
export function probeOutput(proc: ProbeProcess = process, lingerMs = PORT_LINGER_MS): ProbeOutput {
  const parentPort = parentPortOf(proc) as { once(event: 'message', listener: (event: { ports: ProbePort[] }) => void): unknown } | undefined;
  if (!parentPort) {
    return {
      write: (line) => void proc.stdout.write(`${line}\n`),
      // Exits once stdout has taken every line (a pipe may be asynchronous).
      end: (code) => void proc.stdout.write('', () => proc.exit(code)),
    };
  }
  let port: ProbePort | null = null;
  const queued: string[] = [];
  parentPort.once('message', ({ ports }) => {
    const p = ports[0];
    if (!p) return proc.exit(1);
    port = p;
    // The requester's end closed (it finished with us, or its process is gone): nobody is left to report to.
    p.on('close', () => proc.exit(0));
    p.start();
    for (const line of queued.splice(0)) p.postMessage(line);
  });
  return {
    write: (line) => {
      if (port) port.postMessage(line);
      else queued.push(line);
    },
    // NOTE: no exit now. Main would report it on another channel than the lines, and could report it first (read as
    // a crash before the last line); the requester kills the probe once it has the last line. The timer only guards
    // against a requester that never does.
    end: (code) => void setTimeout(() => proc.exit(code), lingerMs),
  };
}
