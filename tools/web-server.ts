/**
 * Starts `npm run web` (browser mode: `src-main/cli/main.ts web` under tsx, without the renderer build `npm run web`
 * adds) on a given projects folder and built renderer, for the e2e tests, the web CLI test and `npm run bench:ui`.
 * Resolves with the URL of its `Tessera ready at <url>` line (the URL carries the run's token); stderr is kept for
 * error messages; `stop()` ends the server and resolves once it has exited. The caller's temporary folders stay the
 * caller's: each also holds what it prepared before the server started, and is removed after `stop()` resolved, so
 * the removal never races the host's lock and autosave writes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** The repository root: the CLI's working directory. */
const ROOT = join(import.meta.dirname, '..');
/** The one line the web command prints once it serves (src-main/cli/web.ts). */
const READY_LINE = /^Tessera ready at (\S+)$/m;
/** Characters of stderr kept for messages: enough for a stack trace, bounded for a server that runs for long. */
const STDERR_TAIL = 20_000;
/** Default wait for the ready line: the host builds no packs at start, so this is tsx compiling the CLI. */
const READY_TIMEOUT_MS = 60_000;
/** How long `stop()` waits after SIGINT before SIGKILL (a graceful stop closes projects and the worker). */
const STOP_GRACE_MS = 10_000;

/** What to serve and how. */
export interface WebServerOptions {
  /** Projects folder (`--projects`). */
  projectsDir: string;
  /** Built renderer to serve (`--renderer`). */
  rendererDir: string;
  /** Variables added to this process's environment (a test cache, a fake hub, …). */
  env?: NodeJS.ProcessEnv;
  /** Also copy the server's stderr to this process's stderr as it arrives (the e2e tests show the host's log). */
  echoStderr?: boolean;
  /** Wait for the ready line at most this long (default 60 s). */
  readyTimeoutMs?: number;
}

/** A running browser-mode server. */
export interface WebServer {
  /** `http://127.0.0.1:<port>/?token=…`, from the ready line. */
  url: string;
  /** The server process. */
  child: ChildProcess;
  /** The tail of what the server has written to stderr so far. */
  stderr(): string;
  /** SIGINT (SIGKILL after 10 s), then resolves once the process has exited; calling it again waits for the same stop. */
  stop(): Promise<void>;
}

/**
 * Spawns the web command and waits for its ready line. Rejects, with the server's stderr, when it exits first or
 * prints no ready line in time; the process is stopped before the promise rejects.
 */
export async function startWebServer(options: WebServerOptions): Promise<WebServer> {
  const args = ['--import', 'tsx', 'src-main/cli/main.ts', 'web', '--projects', options.projectsDir, '--renderer', options.rendererDir];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-STDERR_TAIL);
    if (options.echoStderr) process.stderr.write(d);
  });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= stopChild(child));
  const command = `web --projects ${options.projectsDir} --renderer ${options.rendererDir}`;
  const timeoutMs = options.readyTimeoutMs ?? READY_TIMEOUT_MS;
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let stdout = '';
      let ready = false;
      const timer = setTimeout(
        () => reject(new Error(`\`${command}\` printed no "Tessera ready at <url>" line within ${timeoutMs / 1000} s; its stderr:\n${stderr}`)),
        timeoutMs,
      );
      child.stdout?.on('data', (d: Buffer) => {
        // Only until the ready line: later output is read and dropped, so the pipe never fills.
        if (ready) return;
        stdout += d.toString();
        const line = READY_LINE.exec(stdout);
        if (line) {
          ready = true;
          clearTimeout(timer);
          resolve(line[1]);
        }
      });
      // `on`, not `once`: a later 'error' (a failed kill) must not go unhandled.
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`\`${command}\` could not be started: ${e.message}`, { cause: e }));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`\`${command}\` exited (${signal ?? `code ${code}`}) before it printed "Tessera ready at <url>"; its stderr:\n${stderr}`));
      });
    });
    return { url, child, stderr: () => stderr, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Asks the server to stop, forces it after STOP_GRACE_MS, and resolves once it has exited. */
async function stopChild(child: ChildProcess): Promise<void> {
  // No pid: the spawn itself failed and no 'exit' will come.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}
