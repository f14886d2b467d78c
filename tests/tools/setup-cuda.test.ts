/**
 * tools/setup-cuda.mjs without network access: help, the clear refusals (wrong platform, offline, unknown option),
 * and the whole flow against a fake onnxruntime-node package whose installer only records how it was called.
 * The fake package carries the real install-metadata.js, so the file list is the one onnxruntime-node really uses.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = path.join(ROOT, 'tools', 'setup-cuda.mjs');
const REAL_ORT = path.join(ROOT, 'node_modules', 'onnxruntime-node');
const PROVIDER_FILES = [
  'libonnxruntime_providers_cuda.so',
  'libonnxruntime_providers_shared.so',
  'libonnxruntime_providers_tensorrt.so',
];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the script with a clean environment plus `env` (no inherited proxies or npm variables). */
function runSetup(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const base: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir() };
  return new Promise((resolve) => {
    execFile(process.execPath, [SCRIPT, ...args], { env: { ...base, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('setup-cuda --help', () => {
  it('prints usage and what it runs, and exits 0', async () => {
    const run = await runSetup(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: npm run setup:cuda/);
    expect(run.stdout).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12');
    expect(run.stdout).toContain('linux/x64');
    expect(run.stderr).toBe('');
  });

  it('rejects unknown options with status 2', async () => {
    const run = await runSetup(['--cuda11']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown option "--cuda11" (known: --dry-run, --help)');
  });
});

describe('setup-cuda on a platform without a CUDA provider', () => {
  it.each([
    ['darwin/arm64', /CoreML/],
    ['win32/x64', /DirectML/],
    ['linux/arm64', /runs on the CPU/],
  ])('refuses clearly on %s', async (platform, instead) => {
    const run = await runSetup([], { TESSERA_SETUP_CUDA_PLATFORM: platform });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`published only for linux/x64, and this machine is ${platform}`);
    expect(run.stderr).toMatch(instead);
    expect(run.stderr).toContain('Nothing was changed.');
  });
});

describe('setup-cuda on linux/x64 (fake onnxruntime-node package)', () => {
  let work: string;
  let ortDir: string;
  let binDir: string;
  let report: string;
  let server: Server;
  let feedUrl: string;

  beforeAll(async () => {
    // A local stand-in for the NuGet feed: the reachability probe only needs an answer.
    server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    feedUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v3/index.json`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
  });

  beforeEach(() => {
    // realpath: the installer's process.cwd() is resolved (macOS's /var → /private/var).
    work = realpathSync(mkdtempSync(path.join(tmpdir(), 'tessera-setup-cuda-')));
    ortDir = path.join(work, 'onnxruntime-node');
    binDir = path.join(ortDir, 'bin', 'napi-v6', 'linux', 'x64');
    report = path.join(work, 'installer-report.json');
    mkdirSync(path.join(ortDir, 'script'), { recursive: true });
    mkdirSync(binDir, { recursive: true });
    writeFileSync(path.join(ortDir, 'package.json'), JSON.stringify({ name: 'onnxruntime-node', version: '1.30.0' }));
    for (const name of ['install-metadata.js', 'install-metadata-versions.js']) {
      copyFileSync(path.join(REAL_ORT, 'script', name), path.join(ortDir, 'script', name));
    }
    // The fake installer records its environment and "downloads" the files of the cuda12 manifest.
    writeFileSync(
      path.join(ortDir, 'script', 'install.js'),
      `'use strict';
const fs = require('fs');
const path = require('path');
fs.writeFileSync(${JSON.stringify(report)}, JSON.stringify({
  cwd: process.cwd(),
  ONNXRUNTIME_NODE_INSTALL: process.env.ONNXRUNTIME_NODE_INSTALL ?? null,
  npm_config_local_prefix: process.env.npm_config_local_prefix ?? null,
  npm_package_json: process.env.npm_package_json ?? null,
  npm_config_onnxruntime_node_install: process.env.npm_config_onnxruntime_node_install ?? null,
}));
if (process.env.FAKE_INSTALL_FAIL) { console.error('Failed to download'); process.exit(3); }
const manifest = require('./install-metadata.js').manifests['linux/x64:cuda12'];
for (const name of Object.keys(manifest)) {
  fs.writeFileSync(path.join(__dirname, '..', 'bin', 'napi-v6', 'linux', 'x64', name), 'fake');
}
`,
    );
  });

  afterEach(() => {
    rmSync(work, { recursive: true, force: true });
  });

  const linuxEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
    TESSERA_SETUP_CUDA_PLATFORM: 'linux/x64',
    TESSERA_SETUP_CUDA_ORT_DIR: ortDir,
    ...extra,
  });

  it('fails clearly when the feed cannot be reached, before running the installer', async () => {
    // A port that was just free: the connection is refused at once, with no DNS and no network.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const run = await runSetup([], linuxEnv({ TESSERA_SETUP_CUDA_PROBE_URL: `http://127.0.0.1:${port}/` }));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot reach http://127.0.0.1:${port}/ (ECONNREFUSED`);
    expect(run.stderr).toContain('needs the internet');
    expect(run.stderr).toContain('GLOBAL_AGENT_HTTPS_PROXY');
    expect(existsSync(report)).toBe(false);
  });

  it('prints the plan and touches nothing with --dry-run', async () => {
    const run = await runSetup(['--dry-run'], linuxEnv());
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('would download Microsoft.ML.OnnxRuntime.Gpu.Linux 1.30.0');
    expect(run.stdout).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12 node');
    for (const name of PROVIDER_FILES) expect(run.stdout).toContain(name);
    expect(existsSync(report)).toBe(false);
  });

  it("runs onnxruntime-node's installer with cuda12 and without npm's local-install variables", async () => {
    // What `npm run setup:cuda` puts into the environment; install.js would exit early on the first two.
    const npmEnv = {
      npm_config_local_prefix: ROOT,
      npm_package_json: path.join(ROOT, 'package.json'),
      npm_config_onnxruntime_node_install: 'skip',
    };
    const run = await runSetup([], linuxEnv({ ...npmEnv, TESSERA_SETUP_CUDA_PROBE_URL: feedUrl }));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('setup:cuda: installed:');

    const seen = JSON.parse(readFileSync(report, 'utf8')) as Record<string, string | null>;
    expect(seen).toEqual({
      cwd: ortDir,
      ONNXRUNTIME_NODE_INSTALL: 'cuda12',
      npm_config_local_prefix: null,
      npm_package_json: null,
      npm_config_onnxruntime_node_install: null,
    });
    for (const name of PROVIDER_FILES) expect(existsSync(path.join(binDir, name))).toBe(true);
  });

  it('says so and exits 0 when the provider is already installed', async () => {
    for (const name of PROVIDER_FILES) writeFileSync(path.join(binDir, name), 'present');
    const run = await runSetup([], linuxEnv({ TESSERA_SETUP_CUDA_PROBE_URL: 'http://127.0.0.1:9/' }));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('already installed');
    expect(existsSync(report)).toBe(false);
  });

  it("reports the installer's failure", async () => {
    const run = await runSetup([], linuxEnv({ TESSERA_SETUP_CUDA_PROBE_URL: feedUrl, FAKE_INSTALL_FAIL: '1' }));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("onnxruntime-node's installer exited with status 3");
  });

  it('points to npm ci when onnxruntime-node is missing', async () => {
    const run = await runSetup([], linuxEnv({ TESSERA_SETUP_CUDA_ORT_DIR: path.join(work, 'nowhere') }));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('onnxruntime-node is not installed');
    expect(run.stderr).toContain('npm ci');
  });
});
