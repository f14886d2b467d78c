/**
 * `npm run bench:convert` (issue 13 "Measure"): the memory and time of converting a full-size AudioLDM-S checkpoint.
 *
 * Generates a random-weight AudioLDM-S checkpoint in diffusers layout (tools/make-audioldm-checkpoint.ts; kept in the
 * work folder between runs), serves it from a fake hub on 127.0.0.1 (the tests' FakeHub: the hub's resolve/LFS
 * protocol, bytes held by this process) and, in a child process each, so that its peak RSS is the child's alone:
 *   - install: the model manager's `install('audioldm-s-full-v2')` with a pinned revision (download, verify,
 *     convert, open every graph in ONNX Runtime, rename into place), as `npm run models -- install` runs it;
 *   - convert: the converter alone, from the folder on disk into a pack (no download, no ONNX Runtime).
 * Prints, for each, wall time, the converter's own seconds, the child's peak RSS (VmHWM on Linux), the peak RSS
 * seen in each phase (sampled, so a lower bound) and the ratio peak RSS / checkpoint bytes. Goal: ≤ about 2×.
 *
 *   npm run bench:convert -- [--work DIR] [--width 128] [--only install|convert] [--format safetensors|bin]
 *
 * --format bin serves and converts the same tensors as PyTorch `.bin` files (the hub's other format; read by the
 * restricted unpickler), written next to the checkpoint in the work folder.
 */
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { convertDiffusersAudioLdm } from '../src-main/host/models/convert/audioldm.ts';
import { ModelManager } from '../src-main/host/models/manager.ts';
import { binPath, safetensorsToBin } from '../tests/host/models/audioldm-hub.ts';
import { FakeHub, type FakeFile } from '../tests/host/models/fake-hub.ts';
import { makeAudioLdmCheckpoint } from './make-audioldm-checkpoint.ts';

const ID = 'audioldm-s-full-v2';
const REPO = 'cvssp/audioldm-s-full-v2';
const REVISION = 'be4c0f1a2b3c4d5e6f708192a3b4c5d6e7f80912';
const MIB = 1024 * 1024;

/** What a child reports on its last stdout line. */
interface ChildReport {
  mode: 'install' | 'convert';
  wallSeconds: number;
  convertSeconds: number;
  maxRssBytes: number;
  phasePeaks: Record<string, number>;
  packBytes: number;
  /** The converter's warnings (tensors no graph used); the convert child only. */
  warnings: string[];
}

/** Peak RSS per phase, sampled every 20 ms and at every progress report. */
class RssByPhase {
  phase = 'start';
  readonly peaks: Record<string, number> = {};
  private readonly timer = setInterval(() => this.sample(), 20);
  sample(phase = this.phase): void {
    this.phase = phase;
    const rss = process.memoryUsage.rss();
    if (rss > (this.peaks[phase] ?? 0)) this.peaks[phase] = rss;
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * This process's peak RSS. On Linux, VmHWM of /proc/self/status: getrusage's maxRSS is not used there because a
 * spawned child inherits its parent's RSS at fork time into it (the forked copy's high-water mark survives exec), so
 * a child of this bench, which holds the checkpoint in memory, would report at least the bench's own size.
 */
async function peakRss(): Promise<number> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const kib = /^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1];
  return kib === undefined ? process.resourceUsage().maxRSS * 1024 : Number(kib) * 1024;
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) total += (await stat(join(e.parentPath, e.name))).size;
  return total;
}

async function child(mode: 'install' | 'convert', work: string, hubUrl: string, source: string): Promise<void> {
  const rss = new RssByPhase();
  const started = performance.now();
  let convertSeconds: number;
  let packDir: string;
  let warnings: string[] = [];
  if (mode === 'install') {
    const manager = new ModelManager({ modelsDir: join(work, 'models'), cacheDir: join(work, 'cache'), hubUrl, retryDelayMs: 0 });
    const r = await manager.install(ID, {
      acceptLicence: true,
      revisions: { [REPO]: REVISION },
      onProgress: (p) => rss.sample(p.phase === 'convert' && p.file ? `convert:${p.file}` : p.phase),
    });
    convertSeconds = r.convertSeconds ?? 0;
    packDir = r.dir;
  } else {
    packDir = join(work, 'converted');
    const t = performance.now();
    ({ warnings } = await convertDiffusersAudioLdm(source, packDir, { id: 'bench-s', name: 'bench', onProgress: (stage) => rss.sample(`convert:${stage}`) }));
    convertSeconds = (performance.now() - t) / 1000;
  }
  rss.sample('end');
  rss.stop();
  const report: ChildReport = {
    mode,
    wallSeconds: (performance.now() - started) / 1000,
    convertSeconds,
    maxRssBytes: await peakRss(),
    phasePeaks: rss.peaks,
    packBytes: await folderBytes(packDir),
    warnings,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

function runChild(mode: 'install' | 'convert', work: string, hubUrl: string, source: string): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--child', mode, '--work', work, '--hub', hubUrl, '--source', source], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) return reject(new Error(`the ${mode} child exited with ${code}: ${out.slice(-2000)}`));
      resolve(JSON.parse(last) as ChildReport);
    });
  });
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: { work: { type: 'string' }, width: { type: 'string', default: '128' }, only: { type: 'string' }, format: { type: 'string', default: 'safetensors' }, child: { type: 'string' }, hub: { type: 'string' }, source: { type: 'string' } },
  });
  const work = v.work ?? join(tmpdir(), 'tessera-bench-convert');
  if (v.child === 'install' || v.child === 'convert') return child(v.child, work, v.hub ?? '', v.source ?? '');
  if (v.format !== 'safetensors' && v.format !== 'bin') throw new Error(`--format is '${v.format}'; expected safetensors or bin`);

  const checkpoint = join(work, 'checkpoint');
  if (!(await stat(join(checkpoint, 'model_index.json')).catch(() => undefined))) {
    process.stdout.write(`generating a random-weight AudioLDM-S checkpoint (width ${v.width}) in ${checkpoint}…\n`);
    await makeAudioLdmCheckpoint(checkpoint, Number(v.width));
  }
  const files: Record<string, FakeFile> = {};
  for (const e of await readdir(checkpoint, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const path = relative(checkpoint, join(e.parentPath, e.name)).split('\\').join('/');
    files[path] = { content: await readFile(join(checkpoint, path)), lfs: path.endsWith('.safetensors') };
  }
  // --format bin: the same tensors as PyTorch .bin files (torch.save zip + pickle), served and converted instead.
  let source = checkpoint;
  if (v.format === 'bin') {
    source = join(work, 'checkpoint-bin');
    for (const path of Object.keys(files).filter((p) => p.endsWith('.safetensors'))) {
      const bin = binPath(path);
      files[bin] = { content: Buffer.from(safetensorsToBin(files[path].content)), lfs: true };
      delete files[path];
      await mkdir(join(source, bin, '..'), { recursive: true });
      await writeFile(join(source, bin), files[bin].content);
    }
    for (const [path, f] of Object.entries(files)) {
      if (path.endsWith('.bin')) continue;
      await mkdir(join(source, path, '..'), { recursive: true });
      await writeFile(join(source, path), f.content);
    }
  }
  const checkpointBytes = Object.values(files).reduce((s, f) => s + f.content.length, 0);
  const hub = new FakeHub();
  await hub.start();
  hub.publish(REPO, REVISION, files);
  const modes: ReadonlyArray<'install' | 'convert'> = v.only === 'install' || v.only === 'convert' ? [v.only] : ['install', 'convert'];
  try {
    process.stdout.write(`checkpoint (${v.format}): ${(checkpointBytes / 1e6).toFixed(1)} MB (${checkpointBytes} bytes), ${Object.keys(files).length} files; node ${process.version}\n`);
    for (const mode of modes) {
      await rm(join(work, 'models'), { recursive: true, force: true });
      await rm(join(work, 'cache'), { recursive: true, force: true });
      await rm(join(work, 'converted'), { recursive: true, force: true });
      const r = await runChild(mode, work, hub.url, source);
      const phases = Object.entries(r.phasePeaks)
        .map(([k, b]) => `${k} ${(b / MIB).toFixed(0)}`)
        .join(', ');
      process.stdout.write(
        `${mode.padEnd(8)} wall ${r.wallSeconds.toFixed(1)} s, conversion ${r.convertSeconds.toFixed(1)} s, peak RSS ${(r.maxRssBytes / MIB).toFixed(0)} MiB, ` +
          `peak RSS / checkpoint ${(r.maxRssBytes / checkpointBytes).toFixed(2)}×, pack ${(r.packBytes / 1e6).toFixed(1)} MB\n` +
          `         sampled RSS peaks by phase (MiB): ${phases}\n` +
          r.warnings.map((w) => `         converter warning: ${w}\n`).join(''),
      );
    }
  } finally {
    await hub.close();
    await rm(join(work, 'models'), { recursive: true, force: true });
    await rm(join(work, 'cache'), { recursive: true, force: true });
    await rm(join(work, 'converted'), { recursive: true, force: true });
  }
}

await main();
