/** Runs the real CLI (`src-main/cli/main.ts` under tsx) in a child process and collects its output. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** The repository root (the CLI's working directory). */
export const ROOT = join(import.meta.dirname, '..', '..');

/** How a CLI run ended. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `tessera <args>` with `env` as its whole environment. */
export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return runTsx('src-main/cli/main.ts', args, env);
}

/** A TypeScript script (path from the repository root) under tsx in a child process, `env` its whole environment. */
export function runTsx(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
