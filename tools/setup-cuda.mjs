#!/usr/bin/env node
// `npm run setup:cuda`: the opt-in for NVIDIA users. Downloads onnxruntime-node's CUDA 12 execution provider
// (libonnxruntime_providers_{cuda,shared,tensorrt}.so from the Microsoft.ML.OnnxRuntime.Gpu.Linux NuGet package)
// by running the package's own installer, which Tessera skips during `npm ci` (.npmrc: onnxruntime-node-install=skip).
//
// NOTE: how onnxruntime-node 1.30's script/install.js reads ONNXRUNTIME_NODE_INSTALL=cuda12, and why the child's
// environment is cleaned below:
// - parseInstallFlag() has no `return` for a named value such as "cuda12": it yields undefined, the same as "no
//   flag". install.js then takes its default path: the platform's default manifests (linux/x64 → cuda12), which it
//   downloads only when a file is missing.
// - On that default path it exits 0 without doing anything when it believes it is a local install, i.e. when
//   npm_config_local_prefix === dirname(npm_package_json). `npm run setup:cuda` sets exactly those two variables
//   for our project, so they are removed from the installer's environment (as is the .npmrc skip flag).
// - The download goes through global-agent: proxies are read from GLOBAL_AGENT_HTTPS_PROXY / GLOBAL_AGENT_HTTP_PROXY.
// After the installer returns, this script checks that the files are really there.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SUPPORTED_PLATFORM = 'linux/x64';
const MANIFEST = 'cuda12';
const PROBE_TIMEOUT_MS = 10_000;

const HELP = `Usage: npm run setup:cuda [-- --dry-run]
       node tools/setup-cuda.mjs [--dry-run] [--help]

Installs the CUDA 12 execution provider for onnxruntime-node, so Tessera can run models on an NVIDIA GPU
(\`--device cuda\`, or \`auto\` on Linux). Tessera installs CPU-only and offline by default; this is the opt-in.

What it does:
  1. checks that this machine is linux/x64 (the only platform onnxruntime-node publishes a CUDA provider for;
     Windows uses DirectML and macOS CoreML, both bundled, no setup needed);
  2. checks whether the provider libraries are already in node_modules/onnxruntime-node/bin/napi-v6/linux/x64/;
  3. checks that the NuGet feed (api.nuget.org) can be reached;
  4. runs onnxruntime-node's own installer with ONNXRUNTIME_NODE_INSTALL=cuda12, which downloads the
     Microsoft.ML.OnnxRuntime.Gpu.Linux package matching the installed onnxruntime-node (several hundred MB)
     and copies libonnxruntime_providers_{cuda,shared,tensorrt}.so next to the binding;
  5. checks that the files arrived.

At run time the CUDA provider also needs the NVIDIA driver and the CUDA 12 and cuDNN 9 runtime libraries on the
library path (e.g. LD_LIBRARY_PATH). Try it with \`npm run generate -- --device cuda\` (see its --help); Tessera
falls back to the CPU and says why when the provider cannot load.

Options:
  --dry-run   do steps 1-2 and print what would run; no network access
  -h, --help  print this help

Behind a proxy: set GLOBAL_AGENT_HTTPS_PROXY=http://host:port (the installer uses global-agent).
To reinstall, delete the three .so files named above and run again.

Overrides for testing (not needed in normal use):
  TESSERA_SETUP_CUDA_PLATFORM   pretend to be this <platform>/<arch>, e.g. darwin/arm64
  TESSERA_SETUP_CUDA_ORT_DIR    use this onnxruntime-node package folder
  TESSERA_SETUP_CUDA_PROBE_URL  probe this URL instead of the NuGet feed index
`;

/** A failure the user can act on: printed as one message, exit status 1 (2 for usage errors). */
class SetupError extends Error {
  constructor(message, exitCode = 1) {
    super(message);
    this.name = 'SetupError';
    this.exitCode = exitCode;
  }
}

const say = (line = '') => process.stdout.write(`${line}\n`);

function parseArgs(argv) {
  const options = { help: false, dryRun: false };
  for (const arg of argv) {
    if (arg === '--help' || arg === '-h') options.help = true;
    else if (arg === '--dry-run') options.dryRun = true;
    else throw new SetupError(`unknown option "${arg}" (known: --dry-run, --help)`, 2);
  }
  return options;
}

function checkPlatform(platform) {
  if (platform === SUPPORTED_PLATFORM) return;
  const [os] = platform.split('/');
  const instead =
    os === 'win32'
      ? 'On Windows, Tessera uses DirectML for GPUs, which onnxruntime-node already bundles: nothing to install.'
      : os === 'darwin'
        ? 'On macOS, Tessera uses CoreML, which onnxruntime-node already bundles: nothing to install.'
        : 'On this platform Tessera runs on the CPU.';
  throw new SetupError(
    `the CUDA execution provider is published only for ${SUPPORTED_PLATFORM}, and this machine is ${platform}. ` +
      `${instead} Nothing was changed.`,
  );
}

/** Reads what the installed onnxruntime-node will download, from its own install metadata. */
function readOrtPackage(ortDir, platform) {
  const packageJsonPath = path.join(ortDir, 'package.json');
  if (!existsSync(packageJsonPath)) {
    throw new SetupError(`onnxruntime-node is not installed (no ${packageJsonPath}). Run \`npm ci\` first.`);
  }
  const { version } = JSON.parse(readFileSync(packageJsonPath, 'utf8'));
  const installer = path.join(ortDir, 'script', 'install.js');
  const metadataPath = path.join(ortDir, 'script', 'install-metadata.js');
  if (!existsSync(installer) || !existsSync(metadataPath)) {
    throw new SetupError(
      `onnxruntime-node ${version} has no script/install.js and script/install-metadata.js; this tool was written ` +
        'for the installer of onnxruntime-node 1.30. Check its README for how it installs CUDA support now.',
    );
  }
  const metadata = createRequire(import.meta.url)(metadataPath);
  const manifest = metadata.manifests?.[`${platform}:${MANIFEST}`];
  if (manifest === undefined) {
    throw new SetupError(`onnxruntime-node ${version} lists no "${MANIFEST}" download for ${platform}.`);
  }
  // install.js puts the files into bin/napi-v6/<platform>/<arch>/ next to onnxruntime_binding.node.
  const binDir = path.join(ortDir, 'bin', 'napi-v6', platform);
  const files = Object.keys(manifest).map((name) => path.normalize(path.join(binDir, name)));
  const feedIndex = metadata.feeds?.nuget?.index ?? 'https://api.nuget.org/v3/index.json';
  const packageName = Object.values(manifest)[0]?.package;
  const nugetName = metadata.packages?.[packageName]?.name ?? 'Microsoft.ML.OnnxRuntime.Gpu.Linux';
  return { version, installer, files, feedIndex, nugetName };
}

/** Resolves when `url` answers at all (any HTTP status); rejects with a readable reason otherwise. */
function probe(url) {
  return new Promise((resolve, reject) => {
    const client = url.startsWith('http:') ? http : https;
    const request = client.get(url, { timeout: PROBE_TIMEOUT_MS }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`)));
    request.on('error', (error) => reject(new Error(error.code ? `${error.code}: ${error.message}` : error.message)));
  });
}

/** The installer's environment: ask for cuda12, and drop what would make it skip (see the NOTE at the top). */
function installerEnv(env) {
  const child = { ...env, ONNXRUNTIME_NODE_INSTALL: MANIFEST };
  for (const name of [
    'npm_config_local_prefix',
    'npm_package_json',
    'npm_config_onnxruntime_node_install',
    'npm_config_onnxruntime_node_install_cuda',
    'ONNXRUNTIME_NODE_INSTALL_CUDA',
  ]) {
    delete child[name];
  }
  return child;
}

async function main(argv, env) {
  const options = parseArgs(argv);
  if (options.help) {
    process.stdout.write(HELP);
    return 0;
  }

  const platform = env.TESSERA_SETUP_CUDA_PLATFORM || `${process.platform}/${process.arch}`;
  say(`setup:cuda: platform ${platform}`);
  checkPlatform(platform);

  const ortDir = path.resolve(env.TESSERA_SETUP_CUDA_ORT_DIR || path.join(REPO_ROOT, 'node_modules', 'onnxruntime-node'));
  const ort = readOrtPackage(ortDir, platform);
  say(`setup:cuda: onnxruntime-node ${ort.version} in ${ortDir}`);

  const missing = ort.files.filter((file) => !existsSync(file));
  if (missing.length === 0) {
    say('setup:cuda: the CUDA provider is already installed:');
    for (const file of ort.files) say(`  ${file}`);
    say('Nothing to do. To reinstall, delete these files and run again.');
    return 0;
  }
  say(`setup:cuda: missing ${missing.map((file) => path.basename(file)).join(', ')}`);

  const command = `ONNXRUNTIME_NODE_INSTALL=${MANIFEST} node ${path.relative(REPO_ROOT, ort.installer) || ort.installer}`;
  if (options.dryRun) {
    say(`setup:cuda: would download ${ort.nugetName} ${ort.version} from ${ort.feedIndex} by running:`);
    say(`  ${command}`);
    say('(dry run: nothing downloaded)');
    return 0;
  }

  const proxy = env.GLOBAL_AGENT_HTTPS_PROXY || env.GLOBAL_AGENT_HTTP_PROXY;
  const probeUrl = env.TESSERA_SETUP_CUDA_PROBE_URL || ort.feedIndex;
  if (proxy && !env.TESSERA_SETUP_CUDA_PROBE_URL) {
    say(`setup:cuda: using proxy ${proxy}; skipping the direct reachability check`);
  } else {
    say(`setup:cuda: checking ${probeUrl} ...`);
    try {
      await probe(probeUrl);
    } catch (error) {
      throw new SetupError(
        `cannot reach ${probeUrl} (${error.message}). This step downloads ${ort.nugetName} ${ort.version} ` +
          '(several hundred MB) from NuGet, so it needs the internet. Connect and run `npm run setup:cuda` again; ' +
          'behind a proxy, set GLOBAL_AGENT_HTTPS_PROXY=http://host:port first. Nothing was changed.',
      );
    }
  }

  say(`setup:cuda: running ${command}`);
  const result = spawnSync(process.execPath, [ort.installer], {
    cwd: ortDir,
    env: installerEnv(env),
    stdio: 'inherit',
  });
  if (result.error) throw new SetupError(`could not start the installer: ${result.error.message}`);
  if (result.status !== 0) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with status ${result.status}`;
    throw new SetupError(
      `onnxruntime-node's installer ${how}; its output above says why (network, proxy, disk space). ` +
        'Fix that and run `npm run setup:cuda` again.',
    );
  }

  const stillMissing = ort.files.filter((file) => !existsSync(file));
  if (stillMissing.length > 0) {
    throw new SetupError(
      `the installer finished but these files are missing: ${stillMissing.join(', ')}. ` +
        `onnxruntime-node ${ort.version} may install CUDA support differently; see its README.`,
    );
  }
  say('setup:cuda: installed:');
  for (const file of ort.files) say(`  ${file}`);
  say('Next: `npm run generate -- --device cuda` (see its --help). The CUDA provider also needs the NVIDIA driver');
  say('and the CUDA 12 + cuDNN 9 runtime libraries on the library path; without them Tessera falls back to the CPU.');
  return 0;
}

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    if (error instanceof SetupError) {
      process.stderr.write(`setup:cuda: error: ${error.message}\n`);
      process.exitCode = error.exitCode;
    } else {
      process.stderr.write(`setup:cuda: unexpected error: ${error instanceof Error ? error.stack : String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
