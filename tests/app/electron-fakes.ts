/**
 * Electron's process objects, faked at the boundary the app uses: MessageChannelMain (two ports that deliver to each
 * other after `start`, asynchronously, and report 'close' on the remote end), `utilityProcess.fork` (a child whose
 * `process.parentPort` receives main's `postMessage` and whose own `parentPort.postMessage` is the UtilityProcess's
 * 'message' event; `kill` ends it with SIGTERM's 15; stderr piped when asked), and a requester's parent port.
 */
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';

/** One end of a fake MessageChannelMain. */
export class FakePort extends EventEmitter {
  peer: FakePort | null = null;
  private started = false;
  private closed = false;
  private readonly queue: unknown[] = [];
  postMessage(data: unknown): void {
    if (!this.closed) this.peer?.deliver(data);
  }
  start(): void {
    this.started = true;
    for (const data of this.queue.splice(0)) this.deliver(data);
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const peer = this.peer;
    if (peer) setTimeout(() => peer.emit('close'), 0);
  }
  private deliver(data: unknown): void {
    if (this.closed) return;
    if (!this.started) this.queue.push(data);
    else setTimeout(() => this.emit('message', { data }), 0);
  }
}

/** A fake `new MessageChannelMain()`. */
export function fakeChannel(): { port1: FakePort; port2: FakePort } {
  const port1 = new FakePort();
  const port2 = new FakePort();
  port1.peer = port2;
  port2.peer = port1;
  return { port1, port2 };
}

/** The child's side: its `process` as a module sees it (parentPort, argv, stdout, exit). */
export interface FakeChildProcess {
  readonly parentPort: EventEmitter & { postMessage(message: unknown): void };
  readonly argv: string[];
  readonly versions: NodeJS.ProcessVersions;
  readonly execPath: string;
  readonly stdout: { write(chunk: string, callback?: () => void): boolean };
  /** Writes to the child's stderr (piped to main when forked so). */
  stderr(text: string): void;
  exit(code: number): void;
}

let nextPid = 4000;

/** A fake UtilityProcess. */
export class FakeUtility extends EventEmitter {
  readonly pid = nextPid++;
  readonly stderr: PassThrough | null;
  alive = true;
  kills = 0;
  readonly child: FakeChildProcess;
  constructor(
    readonly modulePath: string,
    readonly args: string[],
    readonly options: { serviceName: string; stdio: 'inherit' | ('pipe' | 'ignore' | 'inherit')[] },
  ) {
    super();
    const piped = Array.isArray(options.stdio) && options.stdio[2] === 'pipe';
    this.stderr = piped ? new PassThrough() : null;
    const parentPort = Object.assign(new EventEmitter(), {
      postMessage: (message: unknown) => setTimeout(() => this.alive && this.emit('message', message), 0),
    });
    this.child = {
      parentPort,
      argv: ['/app/Tessera', modulePath, ...args],
      versions: { ...process.versions, electron: '45.0.0' },
      execPath: '/app/Tessera',
      stdout: { write: (_chunk, callback) => (callback && setTimeout(callback, 0), true) },
      stderr: (text) => void this.stderr?.write(text),
      exit: (code) => this.end(code),
    };
  }
  /** Main's `child.postMessage`: lands on the child's parent port. */
  postMessage(message: unknown, transfer: unknown[] = []): void {
    this.ports.push(...transfer.filter((p): p is FakePort => p instanceof FakePort));
    setTimeout(() => this.alive && this.child.parentPort.emit('message', { data: message, ports: transfer }), 0);
  }
  /** Ports the child was handed: a process that ends closes them. */
  private readonly ports: FakePort[] = [];
  kill(): boolean {
    this.kills += 1;
    if (!this.alive) return false;
    this.end(15);
    return true;
  }
  /** The process ends (killed, exited or crashed): stderr closes, then 'exit'. */
  end(code: number): void {
    if (!this.alive) return;
    this.alive = false;
    this.ports.forEach((p) => p.close());
    this.stderr?.end();
    setTimeout(() => this.emit('exit', code), 0);
  }
}

/** A fake `utilityProcess.fork` that runs `programs[module file]` in each child it forks. */
export function fakeFork(programs: Record<string, (child: FakeChildProcess, utility: FakeUtility) => void>) {
  const forked: FakeUtility[] = [];
  const fork = (modulePath: string, args: string[], options: FakeUtility['options']): FakeUtility => {
    const utility = new FakeUtility(modulePath, args, options);
    forked.push(utility);
    const program = programs[modulePath.split('/').at(-1) ?? ''];
    if (!program) throw new Error(`no fake program for ${modulePath}`);
    program(utility.child, utility);
    return utility;
  };
  return { fork, forked };
}

/** A requester (the engine UtilityProcess as main sees it) and its side, `process.parentPort`, wired to `handle`. */
export function fakeRequester(handle: (requester: { postMessage(message: never, transfer?: unknown[]): void }, message: unknown) => void) {
  const parentPort = Object.assign(new EventEmitter(), {
    postMessage: (message: unknown) => setTimeout(() => handle(requester, message), 0),
  });
  const received: unknown[] = [];
  const requester = {
    postMessage(message: never, transfer: unknown[] = []) {
      received.push(message);
      setTimeout(() => parentPort.emit('message', { data: message, ports: transfer }), 0);
    },
  };
  return { requester, parentPort, received };
}

/** Resolves after `ms` of real time. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
