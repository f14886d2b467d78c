/** Runs `tessera <args>` in a child process (same loader flags) and parses the last stdout line as JSON. */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Benchmarks run each case in its own process so that peak RSS belongs to that case alone. */
export function runChildJson<T>(args: string[]): Promise<T> {
  const main = fileURLToPath(new URL('./main.ts', import.meta.url));
  return new Promise((resolvePromise, reject) => {
    const child = fork(main, args, { execArgv: process.execArgv, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`'${args.join(' ')}' exited with status ${code}`));
      try {
        resolvePromise(JSON.parse(out.trim().split('\n').pop() ?? '') as T);
      } catch (e) {
        reject(new Error(`'${args.join(' ')}' printed no JSON result: ${(e as Error).message}`));
      }
    });
  });
}
