/** Spawning TypeScript child processes (`node --import tsx`) and reading their first output line. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const running = new Set<ChildProcess>();

/** Starts `fixtures/<script>` with args; the repository root is the working directory (tsx resolves from it). */
export function startChild(script: string, args: string[]): ChildProcess {
  const path = fileURLToPath(new URL(`./fixtures/${script}`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', path, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** Kills every child this module started that is still running (for afterAll, so a failed test leaks none). */
export async function killChildren(): Promise<void> {
  const left = [...running];
  for (const child of left) child.kill('SIGKILL');
  await Promise.all(left.map(exited));
}

/** Resolves with the child's first stdout line; rejects if it exits first (with its stderr). */
export function firstLine(child: ChildProcess, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`child gave no output in ${timeoutMs} ms; stderr: ${err}`)), timeoutMs);
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      }
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`child exited (${code ?? signal}) before a line; stdout: ${out} stderr: ${err}`));
    });
  });
}

/** Resolves when the child has exited. */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Runs a child to completion and returns its first line parsed as JSON. */
export async function runJson(script: string, args: string[]): Promise<{ ok: boolean; code?: string; message?: string }> {
  const child = startChild(script, args);
  const line = await firstLine(child);
  await exited(child);
  return JSON.parse(line) as { ok: boolean; code?: string; message?: string };
}
