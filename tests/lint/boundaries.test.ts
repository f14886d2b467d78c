/**
 * The layer rules of ARCHITECTURE.md §2 as eslint.config.js enforces them: each case lints a one-line file at a
 * virtual path inside the repo and checks that the boundary rules fire (or stay quiet). These prove the rules can
 * fail; `npm run lint` proves the real tree passes them.
 */
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BOUNDARY_RULES = new Set(['no-restricted-imports', 'no-restricted-syntax', 'no-restricted-globals', 'no-restricted-properties']);

let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({ cwd: ROOT });
});

interface Finding {
  rule: string;
  message: string;
}

/** Lints `code` as if it were the file at `filePath` (repo-relative) and returns the boundary findings. */
async function boundaryFindings(filePath: string, code: string): Promise<Finding[]> {
  const [result] = await eslint.lintText(code, { filePath: `${ROOT}${filePath}` });
  if (result === undefined) throw new Error(`ESLint returned no result for ${filePath}`);
  const fatal = result.messages.filter((m) => m.fatal === true);
  if (fatal.length > 0) throw new Error(`${filePath} did not parse: ${fatal.map((m) => m.message).join('; ')}`);
  return result.messages
    .filter((m) => m.ruleId !== null && BOUNDARY_RULES.has(m.ruleId))
    .map((m) => ({ rule: m.ruleId ?? '', message: m.message }));
}

/** [file, import specifier, what the message must mention, or null when the import is allowed]. */
type Case = [file: string, specifier: string, expected: RegExp | null];

function importCases(title: string, cases: Case[]): void {
  describe(title, () => {
    it.each(cases)('%s importing %s', async (file, specifier, expected) => {
      const findings = await boundaryFindings(file, `import * as m from '${specifier}';\nexport const x = m;\n`);
      if (expected === null) {
        expect(findings).toEqual([]);
      } else {
        expect(findings).toHaveLength(1);
        const [finding] = findings;
        expect(finding?.rule).toBe('no-restricted-imports');
        expect(finding?.message).toContain('ARCHITECTURE.md §2');
        expect(finding?.message).toMatch(expected);
      }
    });
  });
}

importCases('engine/: pure computation, no I/O, no upper layers', [
  ['src-main/engine/foo.ts', 'node:fs', /no fs/],
  ['src-main/engine/foo.ts', 'fs', /no fs/],
  ['src-main/engine/audio/foo.ts', 'fs/promises', /no fs/],
  ['src-main/engine/audio/foo.ts', 'node:fs/promises', /no fs/],
  ['src-main/engine/pipelines/foo.ts', 'node:child_process', /subprocesses/],
  ['src-main/engine/pipelines/foo.ts', 'node:process', /no process/],
  ['src-main/engine/pipelines/foo.ts', 'process', /no process/],
  ['src-main/engine/longform/foo.ts', 'node:net', /network/],
  ['src-main/engine/longform/foo.ts', 'node:http', /network/],
  ['src-main/engine/longform/foo.ts', 'node:module', /pure computation/],
  ['src-main/engine/foo.ts', 'electron', /never imports electron/],
  ['src-main/engine/foo.ts', '../host/jobs.ts', /imports nothing of host/],
  ['src-main/engine/families/foo.ts', '../../host/jobs.ts', /imports nothing of host/],
  ['src-main/engine/families/audioldm/foo.ts', '../../../cli/main.ts', /imports nothing of host/],
  ['src-main/engine/families/foo.ts', '../../app/main.ts', /Electron shell/],
  ['src-main/engine/families/foo.ts', '../../ipc/channels.ts', /Electron shell/],
  ['src-main/engine/families/foo.ts', '../../preload/preload.ts', /Electron shell/],
  ['src-main/engine/families/foo.ts', '../../packs/sketch/index.ts', /packs/],
  ['src-main/engine/families/foo.ts', '../../../src-main/host/jobs.ts', /imports nothing of host/],
  ['src-main/engine/a/b/c/d/e/f/g/h/foo.ts', '../../../../../../../../../host/x.ts', /imports nothing of host/],
  // Allowed: the engine's own folders, contract, pure builtins and libraries.
  ['src-main/engine/families/foo.ts', '../tensor/tensor.ts', null],
  ['src-main/engine/families/foo.ts', '../../contract/manifest.ts', null],
  ['src-main/engine/foo.ts', './audio/spectral.ts', null],
  ['src-main/engine/audio/foo.ts', 'fft.js', null],
  ['src-main/engine/foo.ts', 'node:path', null],
  // Same-named folders inside the engine are not the layers.
  ['src-main/engine/families/foo.ts', '../host/x.ts', null],
]);

importCases('onnxruntime: only engine/runtime/ (and tests/, tools/)', [
  ['src-main/engine/runtime/x.ts', 'onnxruntime-node', null],
  ['src-main/engine/runtime/x.ts', 'onnxruntime-common', null],
  ['src-main/engine/runtime/cuda/x.ts', 'onnxruntime-node', null],
  ['src-main/engine/families/x.ts', 'onnxruntime-node', /ONLY importer of onnxruntime-node/],
  ['src-main/engine/families/x.ts', 'onnxruntime-common', /ONLY importer of onnxruntime-node/],
  ['src-main/engine/x.ts', 'onnxruntime-node', /ONLY importer/],
  ['src-main/host/x.ts', 'onnxruntime-node', /ONLY importer/],
  ['src-main/cli/x.ts', 'onnxruntime-node', /ONLY importer/],
  ['src-main/app/x.ts', 'onnxruntime-node', /ONLY importer/],
  ['src-main/x.ts', 'onnxruntime-node', /ONLY importer/],
  ['src-main/packs/x.ts', 'onnxruntime-node', /never runs them/],
  ['src-renderer/x.ts', 'onnxruntime-node', /ONLY importer/],
  ['tests/engine/runtime/x.test.ts', 'onnxruntime-node', null],
  ['tools/export-audioldm.ts', 'onnxruntime-node', null],
  // The runtime is still part of the engine: no I/O, no upper layers.
  ['src-main/engine/runtime/x.ts', 'node:fs', /no fs/],
  ['src-main/engine/runtime/x.ts', '../../host/x.ts', /imports nothing of host/],
  ['src-main/engine/runtime/x.ts', 'electron', /never imports electron/],
]);

importCases('contract/: only valibot and other contract files', [
  ['src-main/contract/x.ts', 'valibot', null],
  ['src-main/contract/x.ts', './manifest.ts', null],
  ['src-main/contract/x.ts', '../contract/manifest.ts', null],
  ['src-main/contract/api/x.ts', '../manifest.ts', null],
  ['src-main/contract/x.ts', 'node:path', /only the schema library/],
  ['src-main/contract/x.ts', 'path', /only the schema library/],
  ['src-main/contract/x.ts', 'zod', /only the schema library/],
  ['src-main/contract/x.ts', 'electron', /only the schema library/],
  ['src-main/contract/x.ts', 'onnxruntime-node', /only the schema library/],
  ['src-main/contract/x.ts', '../engine/tensor/tensor.ts', /only the schema library/],
  ['src-main/contract/x.ts', '../host/x.ts', /only the schema library/],
  ['src-main/contract/api/x.ts', '../../engine/tensor/tensor.ts', /only the schema library/],
  ['src-main/contract/x.ts', '../../resources/packs/sketch/recipe.json', /only the schema library/],
  ['src-main/contract/x.ts', '../../src-renderer/model/time.ts', /only the schema library/],
]);

importCases('packs/: pure recipes; contract, onnx-proto, engine/tensor, engine/schedulers, resources', [
  ['src-main/packs/sketch/x.ts', '../../contract/manifest.ts', null],
  ['src-main/packs/graph/x.ts', 'onnx-proto', null],
  ['src-main/packs/sketch/x.ts', '../../engine/tensor/rng.ts', null],
  ['src-main/packs/x.ts', '../engine/tensor/rng.ts', null],
  ['src-main/packs/sketch/x.ts', '../../../resources/packs/sketch/recipe.json', null],
  ['src-main/packs/sketch/x.ts', '../graph/builder.ts', null],
  ['src-main/packs/sketch/x.ts', '../../engine/schedulers/noise-schedule.ts', null],
  ['src-main/packs/sketch/x.ts', '../../engine/runtime/session.ts', /only engine\/tensor/],
  ['src-main/packs/x.ts', '../engine/families/audioldm.ts', /only engine\/tensor/],
  ['src-main/packs/sketch/x.ts', 'electron', /never imports electron/],
  ['src-main/packs/sketch/x.ts', 'node:fs', /No fs/],
  ['src-main/packs/sketch/x.ts', 'fs/promises', /No fs/],
  ['src-main/packs/sketch/x.ts', '../../host/packs/write.ts', /never host, cli/],
  ['src-main/packs/sketch/x.ts', '../../cli/main.ts', /never host, cli/],
  ['src-main/packs/sketch/x.ts', '../../app/main.ts', /never host, cli/],
]);

importCases('host/ and cli/: plain Node, below the Electron shell', [
  ['src-main/host/x.ts', 'node:fs/promises', null],
  ['src-main/host/packs/x.ts', '../../packs/sketch/index.ts', null],
  ['src-main/host/packs/x.ts', '../../engine/runtime/session.ts', null],
  ['src-main/host/x.ts', 'electron', /never imports electron/],
  ['src-main/host/packs/x.ts', '../../cli/main.ts', /must not import cli/],
  ['src-main/host/x.ts', '../app/main.ts', /must not import cli/],
  ['src-main/host/x.ts', '../ipc/channels.ts', /must not import cli/],
  ['src-main/host/x.ts', '../preload/preload.ts', /must not import cli/],
  ['src-main/cli/x.ts', 'node:child_process', null],
  ['src-main/cli/x.ts', '../host/generate.ts', null],
  ['src-main/cli/x.ts', '../packs/sketch/index.ts', null],
  ['src-main/cli/x.ts', 'electron', /never imports electron/],
  ['src-main/cli/x.ts', '../app/main.ts', /must not import the Electron shell/],
  ['src-main/cli/x.ts', '../preload/preload.ts', /must not import the Electron shell/],
  ['src-main/app/x.ts', 'electron', null],
  ['src-main/app/x.ts', '../host/generate.ts', null],
]);

importCases('src-renderer/: only src-main/contract, no Node, no electron', [
  ['src-renderer/x.ts', '../src-main/contract/x.ts', null],
  ['src-renderer/state/x.svelte.ts', '../../src-main/contract/manifest.ts', null],
  ['src-renderer/x.ts', 'valibot', null],
  ['src-renderer/x.ts', '../src-main/engine/tensor/tensor.ts', /only src-main\/contract/],
  ['src-renderer/model/x.ts', '../../src-main/engine/audio/spectral.ts', /only src-main\/contract/],
  ['src-renderer/x.ts', '../src-main/host/generate.ts', /only src-main\/contract/],
  ['src-renderer/x.ts', 'node:fs', /no Node builtins/],
  ['src-renderer/x.ts', 'path', /no Node builtins/],
  ['src-renderer/x.ts', 'node:test', /no Node builtins/],
  ['src-renderer/x.ts', 'electron', /no electron/],
]);

describe('other spellings of a forbidden import', () => {
  it('catches re-exports and type-only imports', async () => {
    const code = "export { x } from 'node:fs';\nimport type { InferenceSession } from 'onnxruntime-node';\n" +
      'export type S = InferenceSession;\n';
    const findings = await boundaryFindings('src-main/engine/families/x.ts', code);
    expect(findings.map((f) => f.rule)).toEqual(['no-restricted-imports', 'no-restricted-imports']);
  });

  it('catches import() of a forbidden module', async () => {
    const code = "export const load = () => import('onnxruntime-node');\n";
    const findings = await boundaryFindings('src-main/engine/families/x.ts', code);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.rule).toBe('no-restricted-syntax');
    expect(findings[0]?.message).toMatch(/engine\/ may not import\(\) this module/);
  });

  it('lets engine/runtime/ load onnxruntime-node lazily', async () => {
    const code = "export const load = () => import('onnxruntime-node');\n";
    expect(await boundaryFindings('src-main/engine/runtime/x.ts', code)).toEqual([]);
  });

  it('forbids computed import() in the pure layers but not in host/', async () => {
    const code = 'export const load = (name: string) => import(name);\n';
    const engine = await boundaryFindings('src-main/engine/x.ts', code);
    expect(engine.map((f) => f.message).join('\n')).toMatch(/computed import\(\)/);
    expect(await boundaryFindings('src-main/packs/x.ts', code)).toHaveLength(1);
    expect(await boundaryFindings('src-main/contract/x.ts', code)).toHaveLength(1);
    expect(await boundaryFindings('src-main/host/x.ts', code)).toEqual([]);
  });
});

describe('the process global', () => {
  const code = 'export const threads = Number(process.env.THREADS ?? 1);\n';

  it.each([
    'src-main/engine/x.ts',
    'src-main/engine/runtime/x.ts',
    'src-main/contract/x.ts',
    'src-main/packs/x.ts',
    'src-renderer/x.ts',
  ])('is forbidden in %s', async (file) => {
    const findings = await boundaryFindings(file, code);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.rule).toBe('no-restricted-globals');
    expect(findings[0]?.message).toMatch(/Let the host pass the value in/);
  });

  it('is forbidden through globalThis too', async () => {
    const findings = await boundaryFindings('src-main/engine/x.ts', 'export const p = globalThis.process;\n');
    expect(findings.map((f) => f.rule)).toEqual(['no-restricted-properties']);
  });

  it.each(['src-main/host/x.ts', 'src-main/cli/x.ts', 'tests/x.test.ts'])('is allowed in %s', async (file) => {
    expect(await boundaryFindings(file, code)).toEqual([]);
  });
});

describe('house rules', () => {
  async function ruleIds(filePath: string, code: string): Promise<(string | null)[]> {
    const [result] = await eslint.lintText(code, { filePath: `${ROOT}${filePath}` });
    return result?.messages.map((m) => m.ruleId) ?? [];
  }

  it('forbids any, non-null assertions and unused variables without a leading underscore', async () => {
    expect(await ruleIds('src-main/host/x.ts', 'export const f = (a: any) => a;\n')).toEqual([
      '@typescript-eslint/no-explicit-any',
    ]);
    expect(await ruleIds('src-main/host/x.ts', 'export const f = (a?: string) => a!.length;\n')).toEqual([
      '@typescript-eslint/no-non-null-assertion',
    ]);
    expect(await ruleIds('src-main/host/x.ts', 'export function f(a: number, b: number) { return a; }\n')).toEqual([
      '@typescript-eslint/no-unused-vars',
    ]);
    expect(await ruleIds('src-main/host/x.ts', 'export function f(a: number, _b: number) { return a; }\n')).toEqual([]);
  });
});
