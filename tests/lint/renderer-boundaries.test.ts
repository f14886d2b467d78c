/**
 * The renderer's rows of the zone table (ARCHITECTURE.md §2, src-renderer/README.md) and its global bans: each case
 * lints a small TypeScript or Svelte file at a virtual path inside src-renderer and checks that the rule fires, or
 * stays quiet for the allowed counterpart. These prove the rules can fail; `npm run lint` proves the tree passes.
 */
import { describe, expect, it } from 'vitest';
import { importCases, layerFindings, lintAt } from './lint.ts';

const LAYERS = /may not import .*; it may import /;
const PLATFORM = /sandboxed browser page: no Node builtins, no electron/;
const TONE = /ONLY importer of tone/;
const WAVESURFER = /ONLY importer of wavesurfer\.js/;
const UPWARD = /arrows point down/;

importCases('src-renderer/: only src-main/contract of src-main, no Node, no electron', [
  ['src-renderer/x.ts', '../src-main/contract/x.ts', null],
  ['src-renderer/state/x.svelte.ts', '../../src-main/contract/manifest.ts', null],
  ['src-renderer/x.ts', 'valibot', null],
  ['src-renderer/x.ts', '../src-main/engine/tensor/tensor.ts', LAYERS],
  ['src-renderer/model/x.ts', '../../src-main/engine/audio/spectral.ts', LAYERS],
  ['src-renderer/x.ts', '../src-main/host/generate.ts', LAYERS],
  ['src-renderer/components/X.svelte', '../../src-main/host/generate.ts', LAYERS],
  ['src-renderer/x.ts', 'node:fs', PLATFORM],
  ['src-renderer/x.ts', 'path', PLATFORM],
  ['src-renderer/bridge/x.ts', 'node:test', PLATFORM],
  ['src-renderer/components/X.svelte', 'electron', PLATFORM],
  ['src-renderer/components/X.svelte', 'onnxruntime-node', /ONLY importer of onnxruntime-node/],
]);

importCases('tone: only src-renderer/audio/', [
  ['src-renderer/audio/playback.ts', 'tone', null],
  ['src-renderer/audio/deeper/x.ts', 'tone', null],
  ['src-renderer/state/studio.svelte.ts', 'tone', TONE],
  ['src-renderer/components/transport/Transport.svelte', 'tone', TONE],
  ['src-renderer/waveform/x.ts', 'tone', TONE],
  ['src-renderer/bridge/x.ts', 'tone', TONE],
  ['src-renderer/main.ts', 'tone', TONE],
  ['src-renderer/App.svelte', 'tone', TONE],
]);

importCases('wavesurfer.js: only src-renderer/waveform/', [
  ['src-renderer/waveform/region-waveform.ts', 'wavesurfer.js', null],
  ['src-renderer/waveform/region-waveform.ts', 'wavesurfer.js/plugins/regions', null],
  ['src-renderer/audio/x.ts', 'wavesurfer.js', WAVESURFER],
  ['src-renderer/state/x.svelte.ts', 'wavesurfer.js/plugins/regions', WAVESURFER],
  ['src-renderer/components/timeline/Region.svelte', 'wavesurfer.js', WAVESURFER],
]);

importCases('model/: pure (no svelte, tone, wavesurfer.js, no other renderer layer)', [
  ['src-renderer/model/time.ts', 'svelte', /model\/ is pure TypeScript/],
  ['src-renderer/model/time.ts', 'svelte/store', /model\/ is pure TypeScript/],
  ['src-renderer/model/time.ts', 'tone', /model\/ is pure TypeScript/],
  ['src-renderer/model/time.ts', 'wavesurfer.js', /model\/ is pure TypeScript/],
  ['src-renderer/model/x.ts', '../bridge/connect.ts', LAYERS],
  ['src-renderer/model/x.ts', '../state/studio.svelte.ts', LAYERS],
  ['src-renderer/model/x.ts', '../components/timeline/Lane.svelte', LAYERS],
  ['src-renderer/model/x.ts', '../audio/schedule.ts', LAYERS],
  ['src-renderer/model/x.ts', '../waveform/peaks.ts', LAYERS],
  ['src-renderer/model/x.ts', '../main.ts', LAYERS],
  ['src-renderer/model/sub/x.ts', '../../state/studio.svelte.ts', LAYERS],
  ['src-renderer/model/x.ts', './history.ts', null],
  ['src-renderer/model/x.ts', 'immer', null],
  ['src-renderer/model/x.ts', '../../src-main/contract/project.ts', null],
  // A folder of model/ that happens to be called state/ is the model.
  ['src-renderer/model/sub/x.ts', '../state/x.ts', null],
]);

importCases('arrows point down: components → state → model/bridge/audio/waveform', [
  ['src-renderer/bridge/x.ts', '../state/studio.svelte.ts', UPWARD],
  ['src-renderer/audio/x.ts', '../components/transport/Transport.svelte', UPWARD],
  ['src-renderer/waveform/x.ts', '../state/peaks.svelte.ts', UPWARD],
  ['src-renderer/bridge/sub/x.ts', '../../components/App.svelte', UPWARD],
  ['src-renderer/state/x.svelte.ts', '../components/timeline/Lane.svelte', /state\/ sits below components\//],
  ['src-renderer/state/x.svelte.ts', '../main.ts', LAYERS],
  ['src-renderer/state/x.svelte.ts', '../audio/playback.ts', null],
  ['src-renderer/state/x.svelte.ts', '../bridge/connect.ts', null],
  ['src-renderer/state/x.svelte.ts', '../model/edits.ts', null],
  ['src-renderer/components/timeline/X.svelte', '../../state/studio.svelte.ts', null],
  ['src-renderer/components/timeline/X.svelte', '../../waveform/region-waveform.ts', null],
  ['src-renderer/App.svelte', './components/Shell.svelte', null],
  ['src-renderer/bridge/x.ts', '../model/time.ts', null],
  ['src-renderer/audio/x.ts', './schedule.ts', null],
]);

describe('dynamic imports follow the same rows', () => {
  it.each([
    ['src-renderer/state/x.ts', [expect.stringMatching(TONE)]],
    ['src-renderer/audio/x.ts', []],
  ])('import("tone") in %s', async (file, messages) => {
    const findings = await layerFindings(file, "export const load = () => import('tone');\n");
    expect(findings.map((f) => f.message)).toEqual(messages);
  });

  it('refuses a computed import() in model/', async () => {
    const findings = await layerFindings('src-renderer/model/x.ts', 'export const load = (n: string) => import(n);\n');
    expect(findings.map((f) => f.message)).toEqual([expect.stringMatching(/a computed import\(\) escapes/)]);
  });
});

describe('window.studio: only src-renderer/bridge/', () => {
  it.each([
    ['src-renderer/state/x.svelte.ts', 'export const s = window.studio;\n', 'no-restricted-properties'],
    ['src-renderer/state/x.ts', 'export const s = globalThis.studio;\n', 'no-restricted-properties'],
    ['src-renderer/components/x.ts', "export const s = window['studio'];\n", 'no-restricted-properties'],
    ['src-renderer/main.ts', 'const { studio: s } = window;\nexport { s };\n', 'no-restricted-properties'],
    ['src-renderer/audio/x.ts', 'export const s = studio;\n', 'no-restricted-globals'],
    ['src-renderer/components/Shell.svelte',
      '<script lang="ts">\n  const s = window.studio;\n</script>\n\n<p>{String(s)}</p>\n', 'no-restricted-properties'],
  ])('%s: %s is refused', async (file, code, rule) => {
    const findings = await layerFindings(file, code);
    expect(findings.map((f) => [f.rule, f.message])).toEqual([
      [rule, expect.stringMatching(/only src-renderer\/bridge\/ reads the preload's window\.studio/)]]);
  });

  it.each(['src-renderer/bridge/connect.ts', 'src-renderer/bridge/deeper/x.ts'])('is allowed in %s', async (file) => {
    const code = 'export const a = window.studio;\nexport const b = globalThis.studio;\n';
    expect(await layerFindings(file, code)).toEqual([]);
  });

  it('leaves a local variable called studio alone', async () => {
    const code = 'const studio = { api: 1 };\nexport const api = studio.api;\n';
    expect(await layerFindings('src-renderer/state/x.ts', code)).toEqual([]);
  });
});

describe('model/: no DOM, network or storage globals', () => {
  it.each([
    'export const t = document.title;\n',
    "export const r = () => fetch('/x');\n",
    "export const k = localStorage.getItem('k');\n",
    'export const w = window.innerWidth;\n',
  ])('refuses %s', async (code) => {
    const findings = await layerFindings('src-renderer/model/x.ts', code);
    expect(findings.map((f) => [f.rule, f.message])).toEqual([
      ['no-restricted-globals', expect.stringMatching(/model\/ is pure and runs in Node tests/)]]);
  });

  it('allows the same in state/', async () => {
    expect(await layerFindings('src-renderer/state/x.ts', 'export const t = document.title;\n')).toEqual([]);
  });

  it('allows a parameter that shadows a DOM name', async () => {
    const code = 'export const f = (location: number, history: number[]) => history[location];\n';
    expect(await layerFindings('src-renderer/model/x.ts', code)).toEqual([]);
  });
});

describe('Svelte files are linted with TypeScript', () => {
  it.each([
    ['passes a clean component with runes', '<script lang="ts">\n  let { count, label }: { count: number; label: ' +
      'string } = $props();\n  const doubled = $derived(count * 2);\n</script>\n\n<p>{label}: {doubled}</p>\n', []],
    ['applies the house rules (no any)', '<script lang="ts">\n  let { value }: { value: any } = $props();\n' +
      '</script>\n\n<p>{value}</p>\n', ['@typescript-eslint/no-explicit-any']],
    ['applies the Svelte plugin rules (no {@html})', '<script lang="ts">\n  let { html }: { html: string } = ' +
      '$props();\n</script>\n\n<div>{@html html}</div>\n', ['svelte/no-at-html-tags']],
  ])('%s', async (_title, code, rules) => {
    expect((await lintAt('src-renderer/components/X.svelte', code)).map((f) => f.rule)).toEqual(rules);
  });
});
