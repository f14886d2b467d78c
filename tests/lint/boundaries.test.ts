/**
 * The zone table of eslint.config.js for src-main (ARCHITECTURE.md §2), the cycle rule and the house rules: each case
 * lints a small file at a virtual path and checks that the rule fires, or stays quiet for the allowed counterpart.
 * These prove the rules can fail; `npm run lint` proves the real tree passes them.
 */
import { describe, expect, it } from 'vitest';
import { findImport, importCases, importing, layerFindings, lintAt, specifier } from './lint.ts';

const LAYERS = /may not import .*; it may import /;
const NODE_IO = /pure computation: no fs, process, network/;
const ELECTRON = /never imports electron/;
const ORT = /ONLY importer of onnxruntime-node/;

importCases('engine/: pure computation over engine/ and contract/', [
  ['src-main/engine/x.ts', 'node:fs', NODE_IO],
  ['src-main/engine/audio/x.ts', 'fs/promises', NODE_IO],
  ['src-main/engine/pipelines/x.ts', 'node:child_process', NODE_IO],
  ['src-main/engine/pipelines/x.ts', 'process', NODE_IO],
  ['src-main/engine/longform/x.ts', 'node:http', NODE_IO],
  ['src-main/engine/longform/x.ts', 'node:module', NODE_IO],
  ['src-main/engine/x.ts', 'electron', ELECTRON],
  ['src-main/engine/x.ts', 'onnxruntime-node', ORT],
  ['src-main/engine/families/x.ts', 'onnxruntime-common', ORT],
  ['src-main/engine/x.ts', '../host/jobs.ts', LAYERS],
  ['src-main/engine/families/x.ts', '../../cli/main.ts', LAYERS],
  ['src-main/engine/schedulers/x.ts', '../../packs/sketch/index.ts', LAYERS],
  ['src-main/engine/tensor/x.ts', '../../app/main.ts', LAYERS],
  ['src-main/engine/x.ts', '../../src-renderer/model/time.ts', LAYERS],
  ['src-main/engine/x.ts', '../../tests/helpers/packs.ts', LAYERS],
  ['src-main/engine/x.ts', '../../vite.config.ts', LAYERS],
  ['src-main/engine/a/b/c/d/e/f/g/h/x.ts', '../../../../../../../../../host/x.ts', LAYERS],
  ['src-main/engine/families/x.ts', '../../../src-main/host/jobs.ts', LAYERS],
  ['src-main/engine/families/x.ts', '../tensor/tensor.ts', null],
  ['src-main/engine/families/x.ts', '../longform/chunks.ts', null],
  ['src-main/engine/families/x.ts', '../../contract/manifest.ts', null],
  ['src-main/engine/audio/x.ts', 'fft.js', null],
  ['src-main/engine/x.ts', 'node:path', null],
  // A folder called host/ inside the engine is the engine.
  ['src-main/engine/families/x.ts', './host/x.ts', null],
]);

importCases('engine/longform/: works for every family, so never imports engine/families/', [
  ['src-main/engine/longform/x.ts', '../families/model.ts', /long-form planning works for every family/],
  ['src-main/engine/longform/sub/x.ts', '../../families/audioldm/decode.ts', /works for every family/],
  ['src-main/engine/longform/x.ts', '../tensor/tensor.ts', null],
  ['src-main/engine/longform/x.ts', '../runtime/session.ts', null],
]);

importCases('engine/runtime/: the only importer of onnxruntime, otherwise engine', [
  ['src-main/engine/runtime/x.ts', 'onnxruntime-node', null],
  ['src-main/engine/runtime/cuda/x.ts', 'onnxruntime-common', null],
  ['src-main/engine/runtime/x.ts', 'node:fs', NODE_IO],
  ['src-main/engine/runtime/x.ts', 'electron', ELECTRON],
  ['src-main/engine/runtime/x.ts', '../../host/x.ts', LAYERS],
]);

importCases('contract/: only valibot, birpc and other contract files', [
  ['src-main/contract/x.ts', 'valibot', null],
  ['src-main/contract/rpc/x.ts', 'birpc', null],
  ['src-main/contract/x.ts', './manifest.ts', null],
  ['src-main/contract/rpc/x.ts', '../../contract/manifest.ts', null],
  ['src-main/contract/x.ts', 'node:path', /may import src-main\/contract\/, valibot, birpc/],
  ['src-main/contract/x.ts', 'zod', /may import src-main\/contract\/, valibot, birpc/],
  ['src-main/contract/x.ts', 'electron', /may import src-main\/contract\/, valibot, birpc/],
  ['src-main/contract/x.ts', 'onnxruntime-node', /may import src-main\/contract\/, valibot, birpc/],
  ['src-main/contract/x.ts', '../engine/tensor/tensor.ts', /may import src-main\/contract\/, valibot, birpc/],
  ['src-main/contract/x.ts', '../../resources/models/catalog.json', /may import src-main\/contract\//],
  ['src-main/contract/x.ts', '../../src-renderer/model/time.ts', /may import src-main\/contract\//],
]);

importCases('packs/: pure recipes over contract, onnx-proto, engine/tensor, engine/schedulers and resources', [
  ['src-main/packs/sketch/x.ts', '../../contract/manifest.ts', null],
  ['src-main/packs/graph/x.ts', 'onnx-proto', null],
  ['src-main/packs/sketch/x.ts', '../../engine/tensor/rng.ts', null],
  ['src-main/packs/x.ts', '../engine/schedulers/noise-schedule.ts', null],
  ['src-main/packs/sketch/x.ts', '../../../resources/packs/sketch/recipe.json', null],
  ['src-main/packs/sketch/x.ts', '../graph/builder.ts', null],
  ['src-main/packs/sketch/x.ts', '../../engine/runtime/session.ts', LAYERS],
  ['src-main/packs/x.ts', '../engine/families/model.ts', LAYERS],
  ['src-main/packs/sketch/x.ts', '../../host/packs/write.ts', LAYERS],
  ['src-main/packs/sketch/x.ts', '../../cli/main.ts', LAYERS],
  ['src-main/packs/sketch/x.ts', 'onnxruntime-node', /never run them/],
  ['src-main/packs/sketch/x.ts', 'electron', ELECTRON],
  ['src-main/packs/sketch/x.ts', 'node:fs', NODE_IO],
]);

importCases('host/, cli/ and the Electron shell: plain Node below the shell', [
  ['src-main/host/x.ts', 'node:fs/promises', null],
  ['src-main/host/packs/x.ts', '../../packs/sketch/index.ts', null],
  ['src-main/host/packs/x.ts', '../../engine/runtime/session.ts', null],
  ['src-main/host/projects/x.ts', '../../../package.json', null],
  ['src-main/host/x.ts', 'electron', ELECTRON],
  ['src-main/host/x.ts', 'onnxruntime-node', ORT],
  ['src-main/host/packs/x.ts', '../../cli/main.ts', LAYERS],
  ['src-main/host/x.ts', '../app/main.ts', LAYERS],
  ['src-main/host/x.ts', '../ipc/channels.ts', LAYERS],
  ['src-main/host/x.ts', '../preload/preload.ts', LAYERS],
  ['src-main/host/x.ts', '../../src-renderer/state/x.ts', LAYERS],
  ['src-main/cli/x.ts', 'node:child_process', null],
  ['src-main/cli/x.ts', '../host/generate.ts', null],
  ['src-main/cli/x.ts', '../packs/sketch/index.ts', null],
  ['src-main/cli/x.ts', 'electron', ELECTRON],
  ['src-main/cli/x.ts', 'onnxruntime-node', ORT],
  ['src-main/cli/x.ts', '../app/main.ts', LAYERS],
  ['src-main/cli/x.ts', '../preload/preload.ts', LAYERS],
  ['src-main/app/x.ts', 'electron', null],
  ['src-main/app/x.ts', '../host/generate.ts', null],
  ['src-main/preload/x.ts', '../ipc/channels.ts', null],
  ['src-main/app/x.ts', 'onnxruntime-node', ORT],
  ['src-main/ipc/x.ts', '../../src-renderer/main.ts', LAYERS],
  ['src-main/preload/x.ts', '../../tools/bench-ui.ts', LAYERS],
  // A folder of src-main without a row in the table may import nothing until it gets one.
  ['src-main/x.ts', 'valibot', /row of its own in ZONES/],
  ['src-main/new-layer/x.ts', '../contract/api.ts', /row of its own in ZONES/],
]);

describe('other spellings of an import', () => {
  it('catches re-exports, type-only imports and import() with a literal', async () => {
    const code = "export { x } from 'node:fs';\nimport type { InferenceSession } from 'onnxruntime-node';\n" +
      "export type S = InferenceSession;\nexport const host = () => import('../../host/jobs.ts');\n";
    const findings = await layerFindings('src-main/engine/families/x.ts', code);
    expect(findings.map((f) => f.message)).toEqual([
      expect.stringMatching(NODE_IO), expect.stringMatching(ORT), expect.stringMatching(LAYERS)]);
  });

  it('lets engine/runtime/ load onnxruntime-node lazily', async () => {
    const code = "export const load = () => import('onnxruntime-node');\n";
    expect(await layerFindings('src-main/engine/runtime/x.ts', code)).toEqual([]);
  });

  it.each(['src-main/engine/x.ts', 'src-main/contract/x.ts', 'src-main/packs/x.ts'])(
    'refuses a computed import() in %s', async (file) => {
      const findings = await layerFindings(file, 'export const load = (name: string) => import(name);\n');
      expect(findings.map((f) => f.message)).toEqual([expect.stringMatching(/a computed import\(\) escapes/)]);
    });

  it('allows a computed import() in host/', async () => {
    expect(await layerFindings('src-main/host/x.ts', 'export const load = (n: string) => import(n);\n')).toEqual([]);
  });
});

describe('outside the layers', () => {
  it.each(['tests/engine/x.test.ts', 'tools/export-audioldm/x.ts'])('%s may import anything', async (file) => {
    const code = "import * as ort from 'onnxruntime-node';\nimport * as host from '../../src-main/host/jobs.ts';\n" +
      'export const x = [ort, host];\n';
    expect(await layerFindings(file, code)).toEqual([]);
  });

  it('keeps onnxruntime out of root config files', async () => {
    const findings = await layerFindings('vite.config.ts', importing('vite.config.ts', 'onnxruntime-node'));
    expect(findings.map((f) => [f.rule, f.message])).toEqual([['no-restricted-imports', expect.stringMatching(ORT)]]);
  });
});

describe('import cycles', () => {
  // A real import A → B in the tree; a file at B's path that imports A back closes a cycle. In src-main the way back
  // is a type-only import, which counts; in components it runs through Svelte files on both ends.
  it.each([
    ['src-main/contract', /\.ts$/, "import type * as back from '%s';\nexport type Back = typeof back;\n"],
    ['src-renderer/components', /\.svelte$/,
      `<script lang="ts">\n  import Back from '%s';\n  const x = Back;\n</script>\n\n<p>{String(x)}</p>\n`],
  ])('refuses an import that closes a cycle in %s', async (folder, target, template) => {
    const [importer, imported] = findImport(folder, target);
    const code = template.replace('%s', specifier(imported, importer));
    const findings = (await layerFindings(imported, code)).filter((f) => f.rule === 'tessera/no-import-cycle');
    const chain = `${imported} → ${importer} → ${imported}`;
    expect(findings.map((f) => f.message)).toEqual([expect.stringContaining(chain)]);
  });

  it('stays quiet for a new file that imports into the same folder', async () => {
    const [importer] = findImport('src-main/contract', /\.ts$/);
    const file = 'src-main/contract/zz-new.ts';
    const code = importing(file, specifier(file, importer));
    expect(await layerFindings(file, code)).toEqual([]);
  });
});

describe('the process global: refused in the pure layers and the renderer', () => {
  const code = 'export const threads = Number(process.env.THREADS ?? 1);\n';

  it.each(['src-main/engine/x.ts', 'src-main/engine/runtime/x.ts', 'src-main/contract/x.ts', 'src-main/packs/x.ts',
    'src-renderer/x.ts', 'src-renderer/bridge/x.ts'])('is refused in %s', async (file) => {
    const findings = await layerFindings(file, code);
    expect(findings.map((f) => [f.rule, f.message])).toEqual([
      ['no-restricted-globals', expect.stringMatching(/Let the host pass the value in/)]]);
  });

  it('is refused through globalThis too', async () => {
    const findings = await layerFindings('src-main/engine/x.ts', 'export const p = globalThis.process;\n');
    expect(findings.map((f) => f.rule)).toEqual(['no-restricted-properties']);
  });

  it.each(['src-main/host/x.ts', 'src-main/cli/x.ts', 'tests/x.test.ts'])('is allowed in %s', async (file) => {
    expect(await layerFindings(file, code)).toEqual([]);
  });
});

describe('house rules', () => {
  it.each([
    ['export const f = (a: any) => a;\n', ['@typescript-eslint/no-explicit-any']],
    ['export const f = (a?: string) => a!.length;\n', ['@typescript-eslint/no-non-null-assertion']],
    ['export function f(a: number, b: number) { return a; }\n', ['@typescript-eslint/no-unused-vars']],
    ['export function f(a: number, _b: number) { return a; }\n', []],
  ])('%s → %j', async (code, rules) => {
    expect((await lintAt('src-main/host/x.ts', code)).map((f) => f.rule)).toEqual(rules);
  });
});
