// ESLint flat config: the recommended rules, the house rules, and the layer rules of ARCHITECTURE.md §2 ("enforced
// by lint, not goodwill") as one zone table.
//
// - ZONES has one row per layer: its folder, what it may import (layers, npm packages, Node builtins) and what it
//   must never import even so, with the reason. eslint-plugin-boundaries resolves each import to a file, finds the
//   layer of both ends and refuses what the row does not allow (tools/lint/zones.js turns each row into one config
//   object). `import type`, `export … from`, `require` and literal `import()` are imports; a computed `import()` is
//   refused in the pure layers, whose imports must be known.
// - Relative imports resolve by path (tools/lint/resolve-path.cjs): `engine/families/host/` is engine, not host.
// - tools/lint/no-import-cycle.js refuses import cycles in src-main and src-renderer, type-only imports included.
// - tests/ and tools/ may import anything: tests build real sessions and fixtures, tools are scripts.
// - Globals stand in for imports: `process` is refused in the pure layers and the renderer, `window.studio` outside
//   src-renderer/bridge/, DOM globals in src-renderer/model/.
//
// Kept fast for 2-core CI machines: typescript-eslint without type information, so no TS program is built.
import js from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import { defineConfig, globalIgnores } from 'eslint/config';
import svelte from 'eslint-plugin-svelte';
import tseslint from 'typescript-eslint';
import noImportCycle from './tools/lint/no-import-cycle.js';
import {
  BUILTINS, builtin, PACKAGE_JSON, PACKAGES, pkg, restrict, zoneConfigs, zoneSettings,
} from './tools/lint/zones.js';
import svelteConfig from './svelte.config.js';

const A = 'ARCHITECTURE.md §2';
const EXTENSIONS = 'ts,mts,cts,js,mjs,cjs';
const inside = (...folders) => folders.map((folder) => `${folder}/**/*.{${EXTENSIONS},svelte}`);
const LAYER_FILES = inside('src-main', 'src-renderer');
const SVELTE_FILES = ['**/*.svelte', '**/*.svelte.ts', '**/*.svelte.js'];

// ─── refusals that win over `may`: [what, why] ────────────────────────────────────────────────────────────────
const ORT_ONLY_RUNTIME = [pkg('onnxruntime-node', 'onnxruntime-common'), 'src-main/engine/runtime/ is the ONLY ' +
  "importer of onnxruntime-node. Take a session through the runtime's interface, or add what you need to runtime/."];
const NO_ELECTRON = [pkg('electron'), 'it runs in plain Node (utility process, CLI, browser mode, tests) and never ' +
  'imports electron. Electron-only work belongs in src-main/app, ipc or preload.'];
const NO_NODE_IO = [builtin('fs', 'child_process', 'process', 'net', 'http', 'https', 'http2', 'dgram', 'tls',
  'cluster', 'module', 'readline', 'repl', 'inspector', 'v8', 'vm', 'wasi'), 'it is pure computation: no fs, ' +
  'process, network, subprocesses or createRequire. Take bytes and settings as arguments; host/ does the I/O.'];
const NO_PLATFORM = [[BUILTINS, pkg('electron')], 'the renderer is a sandboxed browser page: no Node builtins, no ' +
  'electron. Reach the host through the StudioApi of src-renderer/bridge.'];
const TONE_ONLY_AUDIO = [pkg('tone'), 'src-renderer/audio/ is the ONLY importer of tone. Use Playback, or add what ' +
  'you need to audio/.'];
const WAVESURFER_ONLY_WAVEFORM = [pkg('wavesurfer.js'), 'src-renderer/waveform/ is the ONLY importer of ' +
  'wavesurfer.js. Use mountWaveform, or add what you need to waveform/.'];
const NO_UPWARD = [['renderer/state', 'renderer/components'], 'arrows point down (components → state → model, ' +
  'bridge, audio, waveform). Pass what it needs in as arguments or callbacks.'];
const ENGINE_NEVER = [ORT_ONLY_RUNTIME, NO_ELECTRON, NO_NODE_IO];
const RENDERER_NEVER = [ORT_ONLY_RUNTIME, NO_PLATFORM, TONE_ONLY_AUDIO, WAVESURFER_ONLY_WAVEFORM];

// ─── the zone table: a file belongs to the first row whose folder holds it ────────────────────────────────────
// Layers are named by row; `engine/*` is every engine sub-layer. pkg(), builtin(), PACKAGES, BUILTINS and
// PACKAGE_JSON (tools/lint/zones.js) name modules that are not layers.
const ENGINE = ['engine', 'engine/*'];
const ENGINE_MAY = [...ENGINE, 'contract', PACKAGES, BUILTINS];
const HOST_MAY = ['host', ...ENGINE, 'packs', 'contract', 'resources', PACKAGE_JSON, PACKAGES, BUILTINS];
const SHELL_MAY = [...HOST_MAY, 'cli', 'app', 'ipc', 'preload'];
const LOWER_RENDERER_MAY = ['renderer/bridge', 'renderer/audio', 'renderer/waveform', 'renderer/model', 'contract',
  PACKAGES];
const RENDERER_MAY = ['renderer', 'renderer/*', 'contract', PACKAGES];
const ZONES = [
  // [layer, folder, may import, never import even where `may` allows it]
  ['engine/runtime', 'src-main/engine/runtime', ENGINE_MAY, [NO_ELECTRON, NO_NODE_IO]],
  ['engine/longform', 'src-main/engine/longform', ENGINE_MAY, [...ENGINE_NEVER, ['engine/families', 'long-form ' +
    "planning works for every family. Take the family's pieces as plain functions, or move the shared type down."]]],
  ['engine/tensor', 'src-main/engine/tensor', ENGINE_MAY, ENGINE_NEVER],
  ['engine/schedulers', 'src-main/engine/schedulers', ENGINE_MAY, ENGINE_NEVER],
  ['engine/families', 'src-main/engine/families', ENGINE_MAY, ENGINE_NEVER],
  ['engine', 'src-main/engine', ENGINE_MAY, ENGINE_NEVER],
  ['contract', 'src-main/contract', ['contract', pkg('valibot', 'birpc')], []],
  ['packs', 'src-main/packs', ['packs', 'contract', 'engine/tensor', 'engine/schedulers', 'resources', PACKAGES,
    BUILTINS], [[ORT_ONLY_RUNTIME[0], 'packs build graphs and never run them.'], NO_ELECTRON, NO_NODE_IO]],
  ['host', 'src-main/host', HOST_MAY, [ORT_ONLY_RUNTIME, NO_ELECTRON]],
  ['cli', 'src-main/cli', [...HOST_MAY, 'cli'], [ORT_ONLY_RUNTIME, NO_ELECTRON]],
  ['app', 'src-main/app', SHELL_MAY, [ORT_ONLY_RUNTIME]],
  ['ipc', 'src-main/ipc', SHELL_MAY, [ORT_ONLY_RUNTIME]],
  ['preload', 'src-main/preload', SHELL_MAY, [ORT_ONLY_RUNTIME]],
  ['src-main', 'src-main', [], []], // any other folder of src-main: a new layer needs a row of its own
  ['renderer/bridge', 'src-renderer/bridge', LOWER_RENDERER_MAY, [...RENDERER_NEVER, NO_UPWARD]],
  ['renderer/audio', 'src-renderer/audio', LOWER_RENDERER_MAY,
    [ORT_ONLY_RUNTIME, NO_PLATFORM, WAVESURFER_ONLY_WAVEFORM, NO_UPWARD]],
  ['renderer/waveform', 'src-renderer/waveform', LOWER_RENDERER_MAY,
    [ORT_ONLY_RUNTIME, NO_PLATFORM, TONE_ONLY_AUDIO, NO_UPWARD]],
  ['renderer/model', 'src-renderer/model', ['renderer/model', 'contract', PACKAGES], [...RENDERER_NEVER,
    [pkg('svelte', 'tone', 'wavesurfer.js'), 'model/ is pure TypeScript, unit-tested in Node. Let state/ call it.']]],
  ['renderer/state', 'src-renderer/state', ['renderer/state', ...LOWER_RENDERER_MAY], [...RENDERER_NEVER,
    ['renderer/components', 'state/ sits below components/; let the component read the state instead.']]],
  ['renderer/components', 'src-renderer/components', RENDERER_MAY, RENDERER_NEVER],
  ['renderer', 'src-renderer', RENDERER_MAY, RENDERER_NEVER],
  ['resources', 'resources'], // imported (JSON), not checked
  ['tests', 'tests'],
  ['tools', 'tools'],
];

// ─── globals that stand in for imports ────────────────────────────────────────────────────────────────────────
const NO_PROCESS = { globals: ['process'], properties: [['globalThis', 'process']], message: `${A}: this layer never ` +
  'reads the `process` global (env, platform, argv, cwd). Let the host pass the value in as an argument or option.' };
const NO_STUDIO = { globals: ['studio'],
  properties: [['window', 'studio'], ['globalThis', 'studio'], ['self', 'studio']],
  message: `${A}: only src-renderer/bridge/ reads the preload's window.studio. Use connectStudio() from ` +
    'bridge/connect.ts and its Studio (api, on, assetUrl, shell).' };
const NO_DOM = { globals: ['window', 'document', 'navigator', 'location', 'localStorage', 'sessionStorage',
  'indexedDB', 'fetch', 'XMLHttpRequest', 'WebSocket', 'EventSource', 'AudioContext', 'OfflineAudioContext',
  'requestAnimationFrame', 'cancelAnimationFrame'], message: `${A}: src-renderer/model/ is pure and runs in Node ` +
  'tests: no DOM, network or storage globals. Take the value as an argument; state/ or bridge/ does the I/O.' };
const NO_COMPUTED_IMPORT = { syntax: ["ImportExpression[source.type!='Literal']"], message: `${A}: this layer loads ` +
  'only modules known at build time; a computed import() escapes the layer rules. Import statically, or have the ' +
  'host pass the implementation in.' };

// ─── the config ───────────────────────────────────────────────────────────────────────────────────────────────
const NODE_GLOBALS = Object.fromEntries(['process', 'console', 'Buffer', 'URL', 'URLSearchParams', 'TextEncoder',
  'TextDecoder', 'AbortController', 'AbortSignal', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval',
  'setImmediate', 'clearImmediate', 'queueMicrotask', 'structuredClone', 'fetch', 'performance', 'globalThis']
  .map((name) => [name, 'readonly']));
const unusedVars = { args: 'after-used', argsIgnorePattern: '^_', varsIgnorePattern: '^_',
  caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' };
const houseRules = { '@typescript-eslint/no-explicit-any': 'error',
  '@typescript-eslint/no-non-null-assertion': 'error', '@typescript-eslint/no-unused-vars': ['error', unusedVars] };

export default defineConfig([
  globalIgnores(['**/node_modules/', 'dist/', 'out/', 'coverage/', '**/.cache/']),
  { name: 'tessera/javascript', files: ['**/*.{js,mjs,cjs}'], extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: NODE_GLOBALS },
    rules: { 'no-unused-vars': ['error', unusedVars] } },
  { name: 'tessera/commonjs', files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs',
    globals: { ...NODE_GLOBALS, module: 'writable', require: 'readonly' } } },
  { name: 'tessera/typescript', files: ['**/*.{ts,mts,cts}'], rules: houseRules,
    extends: [js.configs.recommended, tseslint.configs.recommended] },
  // Svelte: the plugin's recommended rules limited to Svelte files, typescript-eslint parsing `<script lang="ts">`.
  ...svelte.configs.recommended.map((config) =>
    (config.rules && !config.files ? { ...config, files: SVELTE_FILES } : config)),
  { name: 'tessera/svelte', files: SVELTE_FILES,
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'], svelteConfig } },
    rules: {
      // SvelteKit-only rule ($app/paths resolve()); this app is plain Svelte with relative URLs.
      'svelte/no-navigation-without-resolve': 'off',
      // State replaces collections wholesale ($state.raw, ARCHITECTURE.md §2 state/), and local Sets/Maps in
      // functions are not state at all; SvelteMap/SvelteSet everywhere would make big data deeply reactive.
      'svelte/prefer-svelte-reactivity': 'off',
    } },
  {
    // Components get the TypeScript rules too: typescript-eslint's configs would replace the Svelte parser, so their
    // rules are copied. TypeScript and svelte-check catch undefined names.
    name: 'tessera/svelte-components', files: ['**/*.svelte'], plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      ...js.configs.recommended.rules,
      ...Object.assign({}, ...tseslint.configs.recommended.map((config) => config.rules ?? {})),
      'no-undef': 'off',
      // `let { … } = $props()` is the Svelte idiom (and $bindable needs it): the plugin's prefer-const knows runes.
      'prefer-const': 'off',
      'svelte/prefer-const': ['error', { destructuring: 'all', excludedRunes: ['$props', '$derived'] }],
      ...houseRules,
    },
  },
  {
    name: 'tessera/layers',
    files: LAYER_FILES,
    plugins: { boundaries, tessera: { rules: { 'no-import-cycle': noImportCycle } } },
    settings: zoneSettings(ZONES, new URL('.', import.meta.url)),
    rules: { 'tessera/no-import-cycle': 'error' },
  },
  ...zoneConfigs(ZONES, inside),
  {
    // Files outside the layers (root configs, scripts; tests/ and tools/ may): onnxruntime stays in the runtime.
    name: 'tessera/layers/elsewhere',
    files: [`**/*.{${EXTENSIONS}}`],
    ignores: [...LAYER_FILES, 'tests/**', 'tools/**'],
    rules: { 'no-restricted-imports': ['error', ...['onnxruntime-node', 'onnxruntime-common'].map((name) => ({
      name, message: `${A}: ${ORT_ONLY_RUNTIME[1]}` }))] },
  },
  restrict('pure', inside('src-main/engine', 'src-main/contract', 'src-main/packs'), NO_PROCESS, NO_COMPUTED_IMPORT),
  restrict('renderer', inside('src-renderer'), NO_PROCESS, NO_STUDIO),
  restrict('renderer/bridge', inside('src-renderer/bridge'), NO_PROCESS),
  restrict('renderer/model', inside('src-renderer/model'), NO_PROCESS, NO_STUDIO, NO_DOM, NO_COMPUTED_IMPORT),
]);
