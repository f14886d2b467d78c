/**
 * tools/export-audioldm/export_audioldm.py (the command of the audioldm_export package beside it) without PyTorch or
 * network: the script and every module of the package compile, `--help` and `--selftest` run with every heavy module
 * made unimportable, an export without its packages stops cleanly, and the manifest the selftest
 * builds from the checkpoints' configs passes Tessera's own ManifestSchema with the values of research/audioldm.md.
 * The export itself (tracing, ONNX Runtime comparison) needs PyTorch and runs only on a user's machine.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseManifest, type AudioLdmManifest } from '../../src-main/contract/manifest.ts';
import { AUDIOLDM_SCHEDULER } from '../../src-main/engine/schedulers/presets.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TOOL = path.join(ROOT, 'tools', 'export-audioldm');
const SCRIPT = path.join(TOOL, 'export_audioldm.py');
/** The package the script runs: every module is compiled, not only those `--help` and `--selftest` import. */
const PACKAGE = path.join(TOOL, 'audioldm_export');
const PYTHON = process.env.PYTHON ?? 'python3';
/** Everything the export imports besides the standard library. */
const HEAVY_MODULES = ['torch', 'numpy', 'diffusers', 'transformers', 'tokenizers', 'onnx', 'onnxruntime', 'huggingface_hub'];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface SelftestOutput {
  manifest: unknown;
  attentionHeads: { levels: number[]; original: number[]; diffusers: number[]; exported: number[] };
  checks: Record<string, string>;
}

let scratch = '';
/** A PYTHONPATH folder whose packages shadow the heavy modules and raise ImportError when imported. */
let poison = '';
/**
 * A PYTHONPATH folder of importable stand-ins for the heavy modules (a version and nothing else), except that this
 * onnxruntime has no `transformers` package (a slimmed wheel) while onnxconverter-common's converter is importable.
 */
let slimOrt = '';

/** Runs the script (or python with `args` as given when `raw`), no bytecode written into the repository. */
function python(args: string[], options: { poisoned?: boolean; raw?: boolean; pythonPath?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Run {
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONDONTWRITEBYTECODE: '1', PYTHONPYCACHEPREFIX: path.join(scratch, 'pycache'), PYTHONIOENCODING: 'utf-8' };
  delete env.PYTHONPATH;
  if (options.poisoned) env.PYTHONPATH = poison;
  if (options.pythonPath !== undefined) env.PYTHONPATH = options.pythonPath;
  Object.assign(env, options.env);
  const result = spawnSync(PYTHON, options.raw ? args : [SCRIPT, ...args], { cwd: options.cwd ?? TOOL, env, encoding: 'utf8', timeout: 60_000 });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** parseManifest (ManifestSchema, the union of every family) and the audioldm branch of it. */
function audioLdmManifest(json: unknown, where: string): AudioLdmManifest {
  const manifest = parseManifest(json, where);
  if (manifest.family !== 'audioldm') throw new Error(`${where}: family '${manifest.family}', expected 'audioldm'`);
  return manifest;
}

function selftest(args: string[], poisoned = true): SelftestOutput {
  const run = python(['--selftest', ...args], { poisoned });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as SelftestOutput;
}

beforeAll(() => {
  const version = spawnSync(PYTHON, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
  if (version.error || version.status !== 0) {
    throw new Error(
      `'${PYTHON}' cannot be run (${version.error?.message ?? version.stderr.trim()}). tests/tools/export-audioldm.test.ts needs ` +
        'Python ≥ 3.9 on PATH as python3 (Debian/Ubuntu: apt-get install python3), or PYTHON=/path/to/python.',
    );
  }
  const [major, minor] = version.stdout.trim().split('.').map(Number);
  if (major < 3 || (major === 3 && minor < 9)) throw new Error(`${PYTHON} is Python ${version.stdout.trim()}; the export tool needs ≥ 3.9`);
  scratch = mkdtempSync(path.join(tmpdir(), 'tessera-export-audioldm-'));
  poison = path.join(scratch, 'poison');
  for (const name of HEAVY_MODULES) {
    mkdirSync(path.join(poison, name), { recursive: true });
    writeFileSync(path.join(poison, name, '__init__.py'), `raise ImportError("${name} is not installed (test poison)")\n`);
  }
  slimOrt = path.join(scratch, 'slim-ort');
  for (const name of HEAVY_MODULES) {
    mkdirSync(path.join(slimOrt, name), { recursive: true });
    writeFileSync(path.join(slimOrt, name, '__init__.py'), '__version__ = "0+stand-in"\n');
  }
  mkdirSync(path.join(slimOrt, 'onnxconverter_common'));
  writeFileSync(path.join(slimOrt, 'onnxconverter_common', '__init__.py'), '__version__ = "1.17.0"\n');
  writeFileSync(
    path.join(slimOrt, 'onnxconverter_common', 'float16.py'),
    'DEFAULT_OP_BLOCK_LIST = []\ndef convert_float_to_float16(model, **kwargs):\n    return model\n',
  );
});

afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('export_audioldm.py without PyTorch', () => {
  it('compiles', () => {
    const modules = readdirSync(PACKAGE).filter((f) => f.endsWith('.py')).map((f) => path.join(PACKAGE, f));
    const run = python(['-m', 'py_compile', SCRIPT, ...modules], { raw: true });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  it('the poison works: importing torch fails', () => {
    const run = python(['-c', 'import torch'], { raw: true, poisoned: true });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('torch is not installed (test poison)');
  });

  it('--help runs without the heavy modules and lists every option', () => {
    const run = python(['--help'], { poisoned: true });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage: export_audioldm\.py/);
    for (const option of ['--model', '--out', '--revision', '--fp16', '--device', '--check, --no-check', '--atol', '--fp16-atol', '--heads', '--head-channels', '--probe-heads, --no-probe-heads', '--ort-device', '--pack-id', '--selftest']) {
      expect(run.stdout).toContain(option);
    }
    for (const alias of ['s-full-v2', 'm-full', 'l-full', 'npm run models -- import', 'CC BY-NC-SA 4.0']) expect(run.stdout).toContain(alias);
  });

  it('finds its package when started from another folder and with PYTHONSAFEPATH (no script folder on the path)', () => {
    const run = python(['--help'], { poisoned: true, cwd: scratch, env: { PYTHONSAFEPATH: '1' } });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage: export_audioldm\.py/);
  });

  it('rejects an unknown option and a missing --out with status 2', () => {
    const unknown = python(['--model', 's-full-v2', '--out', 'x', '--cuda11'], { poisoned: true });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unrecognized arguments: --cuda11');
    const noOut = python(['--model', 's-full-v2'], { poisoned: true });
    expect(noOut.code).toBe(2);
    expect(noOut.stderr).toContain('--out DIR is required');
  });

  it('an export without its packages stops with status 3 and the install command, writing nothing', () => {
    const out = path.join(scratch, 'pack-not-written');
    const run = python(['--model', 's-full-v2', '--out', out], { poisoned: true });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('the export needs torch');
    expect(run.stderr).toContain('pip install -r');
    expect(run.stderr).toContain('requirements.txt');
    expect(run.stderr).not.toContain('Traceback');
    expect(existsSync(out)).toBe(false);
  });

  it('--fp16 without ONNX Runtime\'s float16 converter stops before any work, naming the package, even where onnxconverter-common is installed', () => {
    const out = path.join(scratch, 'pack-fp16-refused');
    const run = python(['--model', 's-full-v2', '--fp16', '--out', out], { pythonPath: slimOrt });
    expect(run.stderr).not.toContain('Traceback');
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('--fp16 needs onnxruntime.transformers.float16');
    expect(run.stderr).toContain('No module named');
    expect(run.stderr).toContain('pip install -r');
    expect(run.stderr).toContain('or export without --fp16');
    expect(run.stderr).toContain('onnxconverter-common');
    expect(existsSync(out)).toBe(false);
  });
});

/** `unetExternal`: the fp32 UNet's weights pass the 2 GB protobuf limit (L: 739 M params × 4 B, research §6). */
const MODELS = [
  { alias: 's-full-v2', id: 'audioldm-s-full-v2', name: 'AudioLDM S-full v2', scale: 0.9392935633659363, heads: [4, 8, 12, 20], unetExternal: false },
  { alias: 'm-full', id: 'audioldm-m-full', name: 'AudioLDM M-full', scale: 0.9138255715370178, heads: [6, 12, 18, 30], unetExternal: false },
  { alias: 'l-full', id: 'audioldm-l-full', name: 'AudioLDM L-full', scale: 0.9654927849769592, heads: [4, 8, 12, 20], unetExternal: true },
];

describe.each(MODELS)('--selftest --model $alias', ({ alias, id, name, scale, heads, unetExternal }) => {
  let out: SelftestOutput;
  let manifest: AudioLdmManifest;

  beforeAll(() => {
    out = selftest(['--model', alias]);
    manifest = audioLdmManifest(out.manifest, `selftest ${alias}`);
  });

  it('builds a manifest that passes ManifestSchema', () => {
    expect(manifest.schemaVersion).toBe(1);
    expect(manifest.family).toBe('audioldm');
    expect(manifest.id).toBe(id);
    expect(manifest.name).toBe(name);
    expect(manifest.version).toBe('1.0.0+selftest');
    expect(manifest.demo).toBe(false);
  });

  it('carries the CC BY-NC-SA 4.0 licence with link, attribution and change notes', () => {
    expect(manifest.licence.name).toBe('CC BY-NC-SA 4.0');
    expect(manifest.licence.url).toBe('https://creativecommons.org/licenses/by-nc-sa/4.0/');
    expect(manifest.licence.text).toContain('Non-commercial use only');
    expect(manifest.licence.text).toContain(`https://huggingface.co/cvssp/audioldm-${alias}`);
    expect(manifest.licence.text).toContain('Changes: converted from the diffusers checkpoint to ONNX (opset 17)');
  });

  it('fills audio, latent, mel, text and VAE numbers of research/audioldm.md §1', () => {
    expect(manifest.audio).toEqual({ sampleRate: 16000, channels: 1 });
    expect(manifest.latent).toEqual({ channels: 8, frequencyBins: 16, framesPerSecond: 25, timeMultiple: 8, nativeWindowFrames: 256 });
    expect(manifest.mel).toEqual({ bins: 64, hop: 160, framesPerLatentFrame: 4, vocoderExtraSamples: 32 });
    expect(manifest.textEmbedDim).toBe(512);
    expect(manifest.vaeScalingFactor).toBe(scale);
  });

  it('takes the scheduler, defaults, tokenizer and halos Tessera expects', () => {
    expect(manifest.scheduler).toEqual(AUDIOLDM_SCHEDULER);
    expect(manifest.defaults).toEqual({ steps: 10, guidance: 2.5, sampler: 'ddim', eta: 0 });
    expect(manifest.tokenizer).toMatchObject({ file: 'tokenizer.json', maxLength: 512, padId: 1, unkId: 3 });
    expect(manifest.tokenizer.sha256).toMatch(/^[0-9a-f]{64}$/);
    // longform.md §5.3 (±17 latent frames) and §6 (analytic bound 23 mel frames), traced from the configs.
    expect(manifest.decode).toEqual({ vaeHaloLatentFrames: 17, vocoderHaloMelFrames: 23 });
  });

  it('declares the four graphs with the contract tensors of research/audioldm.md §3', () => {
    const c = manifest.components;
    expect(c.textEncoder).toMatchObject({
      file: 'text_encoder.onnx',
      inputs: [
        { name: 'input_ids', type: 'int64', dims: ['B', 'S'] },
        { name: 'attention_mask', type: 'int64', dims: ['B', 'S'] },
      ],
      outputs: [{ name: 'text_embeds', type: 'float32', dims: ['B', 512] }],
    });
    expect(c.unet).toMatchObject({
      file: 'unet.onnx',
      inputs: [
        { name: 'sample', type: 'float32', dims: ['N', 8, 'T', 16] },
        { name: 'timestep', type: 'float32', dims: ['N'] },
        { name: 'class_labels', type: 'float32', dims: ['N', 512] },
      ],
      outputs: [{ name: 'noise_pred', type: 'float32', dims: ['N', 8, 'T', 16] }],
    });
    expect(c.vaeDecoder).toMatchObject({
      file: 'vae_decoder.onnx',
      inputs: [{ name: 'latent', type: 'float32', dims: ['B', 8, 'T', 16] }],
      outputs: [{ name: 'mel', type: 'float32', dims: ['B', 1, 'F', 64] }],
    });
    expect(c.vocoder).toMatchObject({
      file: 'vocoder.onnx',
      inputs: [{ name: 'mel', type: 'float32', dims: ['B', 'F', 64] }],
      outputs: [{ name: 'waveform', type: 'float32', dims: ['B', 'L'] }],
    });
    const hashes = [manifest.tokenizer.sha256, ...Object.values(c).map((x) => x.sha256)];
    expect(new Set(hashes).size).toBe(5);
  });

  it('covers the external weight file of a graph saved with external data by its sha256', () => {
    const c = manifest.components;
    if (unetExternal) {
      expect(c.unet.externalData).toEqual([{ file: 'unet.onnx.data', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown }]);
      expect(c.unet.externalData?.[0].sha256).not.toBe(c.unet.sha256);
    } else {
      expect(c.unet).not.toHaveProperty('externalData');
    }
    for (const other of [c.textEncoder, c.vaeDecoder, c.vocoder]) expect(other).not.toHaveProperty('externalData');
  });

  it('exports the original attention-head split by default (research §7.7)', () => {
    expect(out.attentionHeads.levels).toEqual([1, 2, 3]);
    expect(out.attentionHeads.original).toEqual(heads);
    expect(out.attentionHeads.diffusers).toEqual([8, 8, 8, 8]);
    expect(out.attentionHeads.exported).toEqual(heads);
    expect(manifest.description).toContain(`heads per level ${heads.join(', ')}`);
  });

  it('passes every pure-Python check; the numpy ones are skipped without numpy', () => {
    const pure = ['vocoderLength', 'halos', 'alphasCumprod', 'headSplits', 'melFilterbank', 'fp16BlockList', 'signature', 'fp16Casts', 'schemaMirror',
      'loadCheck', 'headProbeVerdict', 'externalData'];
    for (const check of pure) expect(out.checks[check], check).toBe('ok');
    expect(out.checks.logMel).toBe('skipped (numpy not installed)');
    expect(out.checks.testAudio).toBe('skipped (numpy not installed)');
  });
});

describe('--selftest variants', () => {
  it('--fp16 names the pack as an fp16 variant', () => {
    const manifest = audioLdmManifest(selftest(['--model', 'l-full', '--fp16']).manifest, 'selftest fp16');
    expect(manifest.id).toBe('audioldm-l-full-fp16');
    expect(manifest.name).toBe('AudioLDM L-full (fp16 UNet)');
    expect(manifest.licence.text).toContain('The UNet was converted to float16');
    // 739 M params × 2 B stay under the 2 GB protobuf limit: one file, nothing external.
    expect(manifest.components.unet).not.toHaveProperty('externalData');
  });

  it('--heads diffusers records the diffusers split', () => {
    const out = selftest(['--model', 'm-full', '--heads', 'diffusers']);
    expect(out.attentionHeads.exported).toEqual([8, 8, 8, 8]);
    expect(audioLdmManifest(out.manifest, 'selftest diffusers heads').description).toContain("diffusers' split (8, 8, 8, 8 heads per level)");
  });

  it('--pack-id overrides the id and is checked', () => {
    expect(audioLdmManifest(selftest(['--pack-id', 'my-audioldm']).manifest, 'selftest id').id).toBe('my-audioldm');
    const bad = python(['--selftest', '--pack-id', 'My Pack'], { poisoned: true });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--pack-id must be lowercase');
  });

  it('with the real environment the numpy feature checks pass where numpy is installed', () => {
    const out = selftest(['--model', 's-full-v2'], false);
    for (const check of ['logMel', 'testAudio']) expect(out.checks[check]).toMatch(/^(ok|skipped \(numpy not installed\))$/);
    expect(audioLdmManifest(out.manifest, 'selftest unpoisoned').id).toBe('audioldm-s-full-v2');
  });
});
