/**
 * The renderer's layer rules (ARCHITECTURE.md §2, src-renderer/README.md) as eslint.config.js enforces them: each
 * case lints a small file at a virtual path inside src-renderer (TypeScript or Svelte) and checks that the rule
 * fires, or stays quiet for the allowed counterpart. These prove the rules can fail; `npm run lint` proves the real
 * tree passes them.
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

/** Lints `code` as if it were the file at `filePath` (repo-relative) and returns every finding. */
async function lint(filePath: string, code: string): Promise<{ ruleId: string | null; message: string }[]> {
  const [result] = await eslint.lintText(code, { filePath: `${ROOT}${filePath}` });
  if (result === undefined) throw new Error(`ESLint returned no result for ${filePath}`);
  const fatal = result.messages.filter((m) => m.fatal === true);
  if (fatal.length > 0) throw new Error(`${filePath} did not parse: ${fatal.map((m) => m.message).join('; ')}`);
  return result.messages.map((m) => ({ ruleId: m.ruleId, message: m.message }));
}

/** The boundary findings of `code` at `filePath`. */
async function boundaryFindings(filePath: string, code: string): Promise<Finding[]> {
  return (await lint(filePath, code))
    .filter((m) => m.ruleId !== null && BOUNDARY_RULES.has(m.ruleId))
    .map((m) => ({ rule: m.ruleId ?? '', message: m.message }));
}

/** A module importing `specifier`, as TypeScript or as a Svelte component depending on the file's extension. */
function importing(file: string, specifier: string): string {
  const body = `import * as m from '${specifier}';\nexport const x = m;\n`;
  if (!file.endsWith('.svelte')) return body;
  return `<script lang="ts">\n  import * as m from '${specifier}';\n  const x = m;\n</script>\n\n<p>{String(x)}</p>\n`;
}

/** [file, import specifier, what the message must mention, or null when the import is allowed]. */
type Case = [file: string, specifier: string, expected: RegExp | null];

function importCases(title: string, cases: Case[]): void {
  describe(title, () => {
    it.each(cases)('%s importing %s', async (file, specifier, expected) => {
      const findings = await boundaryFindings(file, importing(file, specifier));
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

importCases('tone: only src-renderer/audio/', [
  ['src-renderer/audio/playback.ts', 'tone', null],
  ['src-renderer/audio/deeper/x.ts', 'tone', null],
  ['src-renderer/state/studio.svelte.ts', 'tone', /ONLY importer of tone/],
  ['src-renderer/components/transport/Transport.svelte', 'tone', /ONLY importer of tone/],
  ['src-renderer/waveform/x.ts', 'tone', /ONLY importer of tone/],
  ['src-renderer/bridge/x.ts', 'tone', /ONLY importer of tone/],
  ['src-renderer/main.ts', 'tone', /ONLY importer of tone/],
  ['src-renderer/App.svelte', 'tone', /ONLY importer of tone/],
]);

importCases('wavesurfer.js: only src-renderer/waveform/', [
  ['src-renderer/waveform/region-waveform.ts', 'wavesurfer.js', null],
  ['src-renderer/waveform/region-waveform.ts', 'wavesurfer.js/plugins/regions', null],
  ['src-renderer/audio/x.ts', 'wavesurfer.js', /ONLY importer of wavesurfer\.js/],
  ['src-renderer/state/x.svelte.ts', 'wavesurfer.js/plugins/regions', /ONLY importer of wavesurfer\.js/],
  ['src-renderer/components/timeline/Region.svelte', 'wavesurfer.js', /ONLY importer of wavesurfer\.js/],
]);

importCases('model/: pure (no svelte, tone, wavesurfer.js, no other renderer layer)', [
  ['src-renderer/model/time.ts', 'svelte', /model\/ is pure/],
  ['src-renderer/model/time.ts', 'svelte/store', /model\/ is pure/],
  ['src-renderer/model/time.ts', 'tone', /model\/ is pure/],
  ['src-renderer/model/time.ts', 'wavesurfer.js', /model\/ is pure/],
  ['src-renderer/model/edits.ts', '../bridge/connect.ts', /model\/ is pure/],
  ['src-renderer/model/edits.ts', '../state/studio.svelte.ts', /model\/ is pure/],
  ['src-renderer/model/edits.ts', '../components/timeline/Lane.svelte', /model\/ is pure/],
  ['src-renderer/model/edits.ts', '../audio/schedule.ts', /model\/ is pure/],
  ['src-renderer/model/edits.ts', '../waveform/peaks.ts', /model\/ is pure/],
  ['src-renderer/model/sub/x.ts', '../../state/studio.svelte.ts', /model\/ is pure/],
  ['src-renderer/model/x.ts', '../../src-renderer/state/studio.svelte.ts', /model\/ is pure/],
  // Allowed: its own files, contract, pure libraries; a folder of model/ that happens to be called state/.
  ['src-renderer/model/edits.ts', './history.ts', null],
  ['src-renderer/model/edits.ts', 'immer', null],
  ['src-renderer/model/edits.ts', '../../src-main/contract/project.ts', null],
  ['src-renderer/model/sub/x.ts', '../state/x.ts', null],
]);

importCases('arrows point down: components → state → model/bridge/audio/waveform', [
  ['src-renderer/bridge/connect.ts', '../state/studio.svelte.ts', /must not import state\/ or components\//],
  ['src-renderer/audio/playback.ts', '../components/transport/Transport.svelte', /must not import state\/ or components\//],
  ['src-renderer/waveform/x.ts', '../state/peaks.svelte.ts', /must not import state\/ or components\//],
  ['src-renderer/bridge/sub/x.ts', '../../components/App.svelte', /must not import state\/ or components\//],
  ['src-renderer/state/studio.svelte.ts', '../components/timeline/Lane.svelte', /state\/ sits below components\//],
  // Allowed downward imports.
  ['src-renderer/state/studio.svelte.ts', '../audio/playback.ts', null],
  ['src-renderer/state/studio.svelte.ts', '../bridge/connect.ts', null],
  ['src-renderer/state/studio.svelte.ts', '../model/edits.ts', null],
  ['src-renderer/components/timeline/Lane.svelte', '../../state/studio.svelte.ts', null],
  ['src-renderer/components/timeline/Lane.svelte', '../../waveform/region-waveform.ts', null],
  ['src-renderer/bridge/connect.ts', '../model/time.ts', null],
  ['src-renderer/audio/playback.ts', './schedule.ts', null],
]);

importCases('Svelte components keep the renderer-wide rules', [
  ['src-renderer/components/X.svelte', '../../src-main/host/generate.ts', /only src-main\/contract/],
  ['src-renderer/components/X.svelte', 'node:fs', /no Node builtins/],
  ['src-renderer/components/X.svelte', 'onnxruntime-node', /ONLY importer of onnxruntime/],
  ['src-renderer/components/X.svelte', '../../src-main/contract/api.ts', null],
]);

describe('window.studio: only src-renderer/bridge/', () => {
  it.each([
    ['src-renderer/state/x.svelte.ts', 'export const s = window.studio;\n', 'no-restricted-properties'],
    ['src-renderer/state/x.ts', 'export const s = globalThis.studio;\n', 'no-restricted-properties'],
    ['src-renderer/components/x.ts', "export const s = window['studio'];\n", 'no-restricted-properties'],
    ['src-renderer/main.ts', 'const { studio: s } = window;\nexport { s };\n', 'no-restricted-properties'],
    ['src-renderer/audio/x.ts', 'export const s = studio;\n', 'no-restricted-globals'],
    ['src-renderer/model/x.ts', 'export const s = self.studio;\n', 'no-restricted-properties'],
  ])('%s: %s is refused', async (file, code, rule) => {
    const findings = await boundaryFindings(file, code);
    expect(findings.map((f) => f.rule)).toEqual([rule]);
    expect(findings[0]?.message).toMatch(/only src-renderer\/bridge\/ reads the preload's window\.studio/);
  });

  it('is refused in a Svelte component', async () => {
    const code = '<script lang="ts">\n  const bridge = window.studio;\n</script>\n\n<p>{String(bridge)}</p>\n';
    const findings = await boundaryFindings('src-renderer/components/Shell.svelte', code);
    expect(findings.map((f) => f.rule)).toEqual(['no-restricted-properties']);
  });

  it.each(['src-renderer/bridge/connect.ts', 'src-renderer/bridge/deeper/x.ts'])('is allowed in %s', async (file) => {
    const code = 'export const a = window.studio;\nexport const b = globalThis.studio;\n';
    expect(await boundaryFindings(file, code)).toEqual([]);
  });

  it('leaves a local variable called studio alone', async () => {
    const code = 'const studio = { api: 1 };\nexport const api = studio.api;\n';
    expect(await boundaryFindings('src-renderer/state/x.ts', code)).toEqual([]);
  });

  it('still forbids process in bridge/', async () => {
    const findings = await boundaryFindings('src-renderer/bridge/x.ts', 'export const e = process.env.X;\n');
    expect(findings.map((f) => f.rule)).toEqual(['no-restricted-globals']);
  });
});

describe('model/: no DOM, network or storage globals', () => {
  it.each([
    'export const t = document.title;\n',
    "export const r = () => fetch('/x');\n",
    "export const k = localStorage.getItem('k');\n",
    'export const w = window.innerWidth;\n',
  ])('refuses %s', async (code) => {
    const findings = await boundaryFindings('src-renderer/model/x.ts', code);
    expect(findings.map((f) => f.rule)).toEqual(['no-restricted-globals']);
    expect(findings[0]?.message).toMatch(/model\/ is pure and runs in Node tests/);
  });

  it('allows the same in state/', async () => {
    expect(await boundaryFindings('src-renderer/state/x.ts', 'export const t = document.title;\n')).toEqual([]);
  });

  it('allows a parameter that shadows a DOM name', async () => {
    const code = 'export const f = (location: number, history: number[]) => history[location];\n';
    expect(await boundaryFindings('src-renderer/model/x.ts', code)).toEqual([]);
  });

  it('forbids computed import() like the other pure layers', async () => {
    const findings = await boundaryFindings('src-renderer/model/x.ts', 'export const load = (n: string) => import(n);\n');
    expect(findings.map((f) => f.message).join('\n')).toMatch(/computed import\(\)/);
  });
});

describe('dynamic imports follow the renderer rules', () => {
  it('refuses import("tone") outside audio/', async () => {
    const findings = await boundaryFindings('src-renderer/state/x.ts', "export const load = () => import('tone');\n");
    expect(findings.map((f) => f.rule)).toEqual(['no-restricted-syntax']);
  });

  it('allows import("tone") in audio/', async () => {
    expect(await boundaryFindings('src-renderer/audio/x.ts', "export const load = () => import('tone');\n")).toEqual([]);
  });
});

describe('Svelte files are linted with TypeScript', () => {
  it('parses <script lang="ts"> with runes and passes a clean component', async () => {
    const code =
      '<script lang="ts">\n  let { count, label }: { count: number; label: string } = $props();\n' +
      '  const doubled = $derived(count * 2);\n</script>\n\n<p>{label}: {doubled}</p>\n';
    expect(await lint('src-renderer/components/Counter.svelte', code)).toEqual([]);
  });

  it('applies the house rules (no any) inside components', async () => {
    const code = '<script lang="ts">\n  let { value }: { value: any } = $props();\n</script>\n\n<p>{value}</p>\n';
    const rules = (await lint('src-renderer/components/Loose.svelte', code)).map((m) => m.ruleId);
    expect(rules).toEqual(['@typescript-eslint/no-explicit-any']);
  });

  it('applies the Svelte plugin rules (no {@html})', async () => {
    const code = '<script lang="ts">\n  let { html }: { html: string } = $props();\n</script>\n\n<div>{@html html}</div>\n';
    const rules = (await lint('src-renderer/components/Raw.svelte', code)).map((m) => m.ruleId);
    expect(rules).toEqual(['svelte/no-at-html-tags']);
  });
});
