// ESLint flat config. Besides the usual recommended rules, this file is where the layer rules of
// ../shared/design/ARCHITECTURE.md §2 ("enforced by lint, not goodwill") live.
//
// How the layer rules work:
// - `no-restricted-imports` with regex patterns, one config object per zone (engine, engine/runtime, contract, packs,
//   host, cli, renderer, the rest). In a flat config the last matching object replaces a rule's options, so every
//   zone object carries the whole list for its zone, and more specific zones come later (runtime after engine).
// - Imports inside src-main are relative (`../../host/x.ts`), so whether `../host` leaves the layer depends on how
//   deep the importing file sits. Each zone is therefore expanded into one object per folder depth, whose regexes
//   climb exactly out of the layer (`host/packs/` is not the `packs/` layer). Files deeper than MAX_DEPTH fall back
//   to depth-agnostic regexes. Paths that name `src-main/<layer>` are caught at any depth.
// - `import()` with a literal specifier is held to the same lists (`no-restricted-syntax`), and the pure layers
//   (engine, contract, packs) may not use a computed `import()`, `node:module`'s createRequire or the `process`
//   global either.
// - tests/ and tools/ are exempt: tests build real sessions and fixtures, tools are scripts run outside the app.
// - The renderer (src-renderer, .svelte files included) has layers of its own: audio/ alone imports tone,
//   waveform/ alone wavesurfer.js, model/ is pure (no svelte, no DOM, no upper renderer layer), only bridge/ reads
//   the preload's `window.studio`, and bridge/audio/waveform/model never import state/ or components/.
//
// Kept fast for 2-core CI machines: typescript-eslint without type information, so no TS program is built.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import svelte from 'eslint-plugin-svelte';
import tseslint from 'typescript-eslint';
import svelteConfig from './svelte.config.js';

const SOURCE = '{ts,mts,cts,js,mjs,cjs}';
/** Renderer sources: SOURCE plus Svelte components. */
const RENDERER_SOURCE = '{ts,mts,cts,js,mjs,cjs,svelte}';
const SVELTE_FILES = ['**/*.svelte'];
const SVELTE_SCRIPT_FILES = ['**/*.svelte.ts', '**/*.svelte.js'];
const TS_FILES = ['**/*.ts', '**/*.mts', '**/*.cts'];
const JS_FILES = ['**/*.js', '**/*.mjs', '**/*.cjs'];
/** Folder depths below a layer root that get exact regexes; deeper files use depth-agnostic ones. */
const MAX_DEPTH = 6;

// ─── regex building blocks (matched against the import specifier exactly as written) ────────────────────────────

/** `^(?:node:)?(?:a|b)(?:/…)?$` for Node builtin names. */
const builtin = (names) => `^(?:node:)?(?:${names.map(escape).join('|')})(?:/.*)?$`;
/** A package and its subpaths. */
const pkg = (...names) => `^(?:${names.map(escape).join('|')})(?:/.*)?$`;
/** `../` exactly `n` times, or at least once when n is undefined (deeper than MAX_DEPTH). */
const up = (n) => (n === undefined ? '(?:\\.\\./)+' : `(?:\\.\\./){${n}}`);
function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/**
 * Specifiers that resolve into one of `layers` of src-main from a file `depth` folders below `src-main/<layer>/`:
 * `../` × (depth+1) reaches src-main/; a path spelling `src-main/<layer>` is caught at any depth.
 */
function srcMainLayer(depth, layers, { except = '' } = {}) {
  const names = `(?:${layers.join('|')})`;
  const tail = `(?:/${except}|$)`;
  const climb = depth === undefined ? `^(?:\\./)?${up()}` : `^(?:\\./)?${up(depth + 1)}`;
  return `${climb}${names}${tail}|(?:^|/)src-main/${names}${tail}`;
}

// Node builtins that do I/O or reach the process: never in the pure layers. `module` is here for createRequire.
const NODE_IO = [
  'fs', 'child_process', 'process', 'net', 'http', 'https', 'http2', 'dgram', 'tls', 'cluster', 'module',
  'readline', 'repl', 'inspector', 'v8', 'vm', 'wasi',
];
const ALL_BUILTINS = [...new Set(builtinModules.map((name) => name.split('/')[0]))];

/**
 * Specifiers that resolve into one of `layers` of src-renderer from a file `depth` folders below `src-renderer/`
 * (`../` × depth reaches src-renderer/; `./` at depth 0); a path spelling `src-renderer/<layer>` is caught anywhere.
 */
function rendererLayer(depth, layers) {
  const names = `(?:${layers.join('|')})`;
  const climb = depth === undefined ? `^(?:\\./)?${up()}` : depth === 0 ? '^\\./' : `^(?:\\./)?${up(depth)}`;
  return `${climb}${names}(?:/|$)|(?:^|/)src-renderer/${names}(?:/|$)`;
}

const SHELL = ['app', 'ipc', 'preload'];
const ORT = pkg('onnxruntime-node', 'onnxruntime-common');
const ELECTRON = pkg('electron');
const TONE = pkg('tone');
const WAVESURFER = pkg('wavesurfer.js');
const SVELTE = pkg('svelte');

// ─── messages: which rule of §2 is broken, and what to do instead ───────────────────────────────────────────────

const A = 'ARCHITECTURE.md §2';
const MSG = {
  ortOutsideRuntime:
    `${A}: src-main/engine/runtime/ is the ONLY importer of onnxruntime-node (and onnxruntime-common). ` +
    'Take a session through the runtime\'s own interface as a parameter, or add what you need to engine/runtime/. ' +
    '(tests/ and tools/ may open sessions directly.)',
  engineElectron:
    `${A}: engine/ never imports electron; it runs in plain Node (utility process, CLI, browser mode, tests). ` +
    'Shell work belongs in src-main/app, ipc or preload and reaches the engine through the host.',
  engineNodeIo:
    `${A}: engine/ is pure computation over injected sessions: no fs, no process, no network, no subprocesses. ` +
    'Take bytes and settings as arguments; src-main/host does the I/O and passes them in.',
  engineLayers:
    `${A}: arrows point down the layer list; engine/ imports nothing of host, cli, packs or the Electron shell ` +
    '(app, ipc, preload). Move the shared piece into engine/ or contract/, or let the upper layer pass it in.',
  contract:
    `${A}: contract/ imports only the schema library (valibot), the RPC library (birpc) and other contract files, so the renderer and ` +
    'the engine host can both load it. Keep logic in the layer that uses it and import its types here, not it.',
  packsElectron:
    `${A}: packs/ (built-in pack recipes, ONNX graph builder) is pure and never imports electron.`,
  packsNodeIo:
    `${A}: packs/ is pure: recipes and the graph builder return bytes; src-main/host writes them to disk, hashes ` +
    'them and loads them. No fs, process, network or subprocesses here.',
  packsLayers:
    `${A}: packs/ sits below host: it may import contract/, onnx-proto, engine/tensor/, engine/schedulers/ and resources/ JSON, ` +
    'never host, cli or the Electron shell. Let host/ or cli/ call the recipe instead.',
  packsEngine:
    `${A}: packs/ may use only engine/tensor/ (tensor records, seeded RNG) and engine/schedulers/ (noise schedules) from the engine. If a recipe needs more, ` +
    'move that piece into one of those or compute it inside packs/.',
  packsOrt:
    `${A}: packs/ builds graphs with onnx-proto and never runs them; running is engine/runtime/'s job ` +
    '(tests may open sessions on the built bytes).',
  hostElectron:
    `${A} (and §1): the engine host is plain Node and never imports electron: the same code runs in the utility ` +
    'process, behind the CLI, in browser mode and in tests. Electron-only work belongs in src-main/app, ipc, preload.',
  hostLayers:
    `${A}: arrows point down the layer list; host/ must not import cli/ or the Electron shell (app, ipc, preload). ` +
    'Move the shared piece into host/ (or lower) and import it from there.',
  cliElectron:
    `${A}: cli/ runs in plain Node (\`npm run generate\`) and never imports electron. Share code through host/.`,
  cliLayers:
    `${A}: arrows point down the layer list; cli/ must not import the Electron shell (app, ipc, preload). ` +
    'Move the shared piece into host/ and import it from there.',
  rendererSrcMain:
    `${A}: the renderer may import only src-main/contract (types and schemas) from src-main. Everything else ` +
    'reaches it through the StudioApi from src-renderer/bridge.',
  rendererPlatform:
    `${A}: the renderer is a sandboxed browser page: no Node builtins and no electron. Use the StudioApi from ` +
    'src-renderer/bridge (the only reader of window.studio).',
  rendererOrt:
    `${A}: the renderer never runs models; generation goes through the StudioApi to the engine host.`,
  rendererTone:
    `${A}: src-renderer/audio/ is the ONLY importer of tone. Use the Playback class (audio/playback.ts) or add ` +
    'what you need to audio/.',
  rendererWavesurfer:
    `${A}: src-renderer/waveform/ is the ONLY importer of wavesurfer.js. Use mountWaveform (waveform/region-waveform.ts) ` +
    'or add what you need to waveform/.',
  rendererModelPure:
    `${A}: src-renderer/model/ is pure TypeScript (time math, edits, history), unit-tested in Node: no svelte, tone or ` +
    'wavesurfer.js, and no bridge/, state/, components/, audio/ or waveform/. Let state/ call the model, not the reverse.',
  rendererUpward:
    `${A}: arrows point down (components → state → model/bridge/audio/waveform): this layer must not import state/ ` +
    'or components/. Pass what it needs in as arguments or callbacks.',
  rendererStateComponents:
    `${A}: state/ sits below components/ and never imports them; let the component read the state instead.`,
  rendererStudioGlobal:
    `${A}: only src-renderer/bridge/ reads the preload's window.studio. Use connectStudio() and its Studio ` +
    '(api, on, assetUrl, shell) from bridge/connect.ts.',
  rendererModelDom:
    `${A}: src-renderer/model/ is pure and runs in Node tests: no DOM, network or storage globals. Take the value ` +
    'as an argument; state/ or bridge/ does the I/O.',
};

// ─── the zones ───────────────────────────────────────────────────────────────────────────────────────────────

/** The patterns of each zone, given the depth of the file below the zone's layer root. */
const ZONES = [
  {
    name: 'engine',
    root: 'src-main/engine',
    pure: true,
    patterns: (d) => [
      { regex: ELECTRON, message: MSG.engineElectron },
      { regex: builtin(NODE_IO), message: MSG.engineNodeIo },
      { regex: srcMainLayer(d, ['host', 'cli', 'packs', ...SHELL]), message: MSG.engineLayers },
      { regex: ORT, message: MSG.ortOutsideRuntime },
    ],
  },
  {
    // After `engine`, so it wins for runtime files. Depth is counted from engine/ like the engine zone.
    name: 'engine/runtime',
    root: 'src-main/engine',
    sub: 'runtime',
    pure: true,
    patterns: (d) => [
      { regex: ELECTRON, message: MSG.engineElectron },
      { regex: builtin(NODE_IO), message: MSG.engineNodeIo },
      { regex: srcMainLayer(d, ['host', 'cli', 'packs', ...SHELL]), message: MSG.engineLayers },
    ],
  },
  {
    name: 'contract',
    root: 'src-main/contract',
    pure: true,
    patterns: (d) => [
      // Any package but valibot and birpc (this includes every Node builtin, electron and onnxruntime).
      { regex: '^(?!\\.{1,2}/|(?:valibot|birpc)(?:/|$))', message: MSG.contract },
      // Relative paths that leave contract/.
      {
        regex:
          d === undefined
            ? // Deeper than MAX_DEPTH: anything spelling another top-level folder or another src-main layer.
              '(?:^|/)src-main/(?!contract/)|^(?:\\./)?(?:\\.\\./)+(?:src-renderer|resources|tests|tools|node_modules)(?:/|$)|' +
              srcMainLayer(undefined, ['engine', 'packs', 'host', 'cli', ...SHELL])
            : // Climbing out of contract/ to anywhere but contract/ itself.
              `^(?:\\./)?${up(d + 1)}(?!contract/|\\.\\./src-main/contract/)`,
        message: MSG.contract,
      },
    ],
  },
  {
    name: 'packs',
    root: 'src-main/packs',
    pure: true,
    patterns: (d) => [
      { regex: ELECTRON, message: MSG.packsElectron },
      { regex: builtin(NODE_IO), message: MSG.packsNodeIo },
      { regex: srcMainLayer(d, ['host', 'cli', ...SHELL]), message: MSG.packsLayers },
      { regex: srcMainLayer(d, ['engine'], { except: '(?!tensor/|schedulers/)' }), message: MSG.packsEngine },
      { regex: ORT, message: MSG.packsOrt },
    ],
  },
  {
    name: 'host',
    root: 'src-main/host',
    patterns: (d) => [
      { regex: ELECTRON, message: MSG.hostElectron },
      { regex: srcMainLayer(d, ['cli', ...SHELL]), message: MSG.hostLayers },
      { regex: ORT, message: MSG.ortOutsideRuntime },
    ],
  },
  {
    name: 'cli',
    root: 'src-main/cli',
    patterns: (d) => [
      { regex: ELECTRON, message: MSG.cliElectron },
      { regex: srcMainLayer(d, SHELL), message: MSG.cliLayers },
      { regex: ORT, message: MSG.ortOutsideRuntime },
    ],
  },
  {
    // The renderer reaches src-main only by spelling `src-main/`, so depth does not matter for that rule. This zone
    // covers every renderer file (components/ and the root files included); the layer zones below override it.
    name: 'renderer',
    root: 'src-renderer',
    rendererGlobals: true,
    patterns: () => [...rendererBase(), ...rendererPackages({ tone: false, wavesurfer: false })],
  },
  {
    name: 'renderer/bridge',
    root: 'src-renderer',
    sub: 'bridge',
    rendererGlobals: true,
    studioAllowed: true,
    patterns: (d) => [
      ...rendererBase(),
      ...rendererPackages({ tone: false, wavesurfer: false }),
      { regex: rendererLayer(d, ['state', 'components']), message: MSG.rendererUpward },
    ],
  },
  {
    name: 'renderer/audio',
    root: 'src-renderer',
    sub: 'audio',
    rendererGlobals: true,
    patterns: (d) => [
      ...rendererBase(),
      ...rendererPackages({ tone: true, wavesurfer: false }),
      { regex: rendererLayer(d, ['state', 'components']), message: MSG.rendererUpward },
    ],
  },
  {
    name: 'renderer/waveform',
    root: 'src-renderer',
    sub: 'waveform',
    rendererGlobals: true,
    patterns: (d) => [
      ...rendererBase(),
      ...rendererPackages({ tone: false, wavesurfer: true }),
      { regex: rendererLayer(d, ['state', 'components']), message: MSG.rendererUpward },
    ],
  },
  {
    name: 'renderer/model',
    root: 'src-renderer',
    sub: 'model',
    pure: true,
    rendererGlobals: true,
    domFree: true,
    patterns: (d) => [
      ...rendererBase(),
      { regex: `${TONE}|${WAVESURFER}|${SVELTE}`, message: MSG.rendererModelPure },
      { regex: rendererLayer(d, ['bridge', 'state', 'components', 'audio', 'waveform']), message: MSG.rendererModelPure },
    ],
  },
  {
    name: 'renderer/state',
    root: 'src-renderer',
    sub: 'state',
    rendererGlobals: true,
    patterns: (d) => [
      ...rendererBase(),
      ...rendererPackages({ tone: false, wavesurfer: false }),
      { regex: rendererLayer(d, ['components']), message: MSG.rendererStateComponents },
    ],
  },
];

/** What every renderer file is held to: only src-main/contract of src-main, no Node, no electron, no ORT. */
function rendererBase() {
  return [
    { regex: '(?:^|/)src-main/(?!contract/)', message: MSG.rendererSrcMain },
    { regex: `${builtin(ALL_BUILTINS)}|^node:|${ELECTRON}`, message: MSG.rendererPlatform },
    { regex: ORT, message: MSG.ortOutsideRuntime },
  ];
}

/** The bans on tone and wavesurfer.js, except where a layer owns the package. */
function rendererPackages({ tone, wavesurfer }) {
  return [
    ...(tone ? [] : [{ regex: TONE, message: MSG.rendererTone }]),
    ...(wavesurfer ? [] : [{ regex: WAVESURFER, message: MSG.rendererWavesurfer }]),
  ];
}

/** Globals a pure renderer layer may not touch (DOM, network, storage, audio). */
const DOM_GLOBALS = [
  'window', 'document', 'navigator', 'location', 'localStorage', 'sessionStorage', 'indexedDB', 'fetch',
  'XMLHttpRequest', 'WebSocket', 'EventSource', 'AudioContext', 'OfflineAudioContext', 'requestAnimationFrame',
  'cancelAnimationFrame',
];

/** The `process` global and its spellings: the pure layers and the renderer get platform facts injected. */
const processBans = (where) => ({
  'no-restricted-globals': [
    'error',
    {
      name: 'process',
      message:
        `${A}: ${where} never reads the \`process\` global (env, platform, argv, cwd). ` +
        'Let the host pass the value in as an argument or option.',
    },
  ],
  'no-restricted-properties': [
    'error',
    { object: 'globalThis', property: 'process', message: `${A}: ${where} never reads the \`process\` global.` },
  ],
});

/**
 * The global bans of a zone: `process` in the pure layers and the renderer; `window.studio` (and its spellings)
 * everywhere in the renderer but bridge/; DOM globals in renderer/model. One rule entry per rule, because a later
 * config object replaces a rule's options rather than adding to them.
 */
function globalBans(zone) {
  const globals = [];
  const properties = [];
  if (zone.pure || zone.rendererGlobals) {
    const bans = processBans(`${zone.name}/`);
    globals.push(...bans['no-restricted-globals'].slice(1));
    properties.push(...bans['no-restricted-properties'].slice(1));
  }
  if (zone.rendererGlobals && !zone.studioAllowed) {
    globals.push({ name: 'studio', message: MSG.rendererStudioGlobal });
    for (const object of ['window', 'globalThis', 'self']) {
      properties.push({ object, property: 'studio', message: MSG.rendererStudioGlobal });
    }
  }
  if (zone.domFree) globals.push(...DOM_GLOBALS.map((name) => ({ name, message: MSG.rendererModelDom })));
  return {
    ...(globals.length > 0 ? { 'no-restricted-globals': ['error', ...globals] } : {}),
    ...(properties.length > 0 ? { 'no-restricted-properties': ['error', ...properties] } : {}),
  };
}

/** `import('x')` is held to the same patterns as static imports; pure layers may not compute specifiers. */
function dynamicImportBans(zone, patterns) {
  const combined = patterns.map((p) => `(?:${p.regex})`).join('|');
  // esquery reads /…/ literally: escape the slashes inside the regex.
  const selectorRegex = combined.replace(/\//g, '\\/');
  const selectors = [
    {
      selector: `ImportExpression[source.type='Literal'][source.value=/${selectorRegex}/]`,
      message: `${A}: ${zone.name}/ may not import() this module; dynamic imports follow the same layer rules ` +
        'as static ones (run eslint on a static import of it to see which rule and what to do instead).',
    },
  ];
  if (zone.pure) {
    selectors.push({
      selector: "ImportExpression[source.type!='Literal']",
      message: `${A}: ${zone.name}/ loads only modules known at build time; a computed import() cannot be ` +
        'checked against the layer rules. Import statically, or have the host pass the implementation in.',
    });
  }
  return ['error', ...selectors];
}

function zoneConfigs(zone) {
  const base = zone.sub ? `${zone.root}/${zone.sub}` : zone.root;
  // Depth is counted from the zone's layer root (engine/runtime files are depth ≥ 1 below engine/).
  const firstDepth = zone.sub ? 1 : 0;
  const configs = [];
  for (let depth = firstDepth; depth <= MAX_DEPTH + 1; depth++) {
    const deeper = depth > MAX_DEPTH;
    const below = '*/'.repeat(depth - firstDepth);
    const ext = zone.rendererGlobals ? RENDERER_SOURCE : SOURCE;
    const files = deeper ? [`${base}/${below}**/*.${ext}`] : [`${base}/${below}*.${ext}`];
    const patterns = zone.patterns(deeper ? undefined : depth);
    configs.push({
      name: `tessera/layers/${zone.name}${deeper ? '/deeper' : `/depth-${depth}`}`,
      files,
      rules: {
        'no-restricted-imports': ['error', { patterns }],
        'no-restricted-syntax': dynamicImportBans(zone, patterns),
        ...globalBans(zone),
      },
    });
  }
  return configs;
}

// ─── the config ────────────────────────────────────────────────────────────────────────────────────────────────

const NODE_GLOBALS = Object.fromEntries(
  [
    'process', 'console', 'Buffer', 'URL', 'URLSearchParams', 'TextEncoder', 'TextDecoder', 'AbortController',
    'AbortSignal', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate',
    'queueMicrotask', 'structuredClone', 'fetch', 'performance', 'globalThis',
  ].map((name) => [name, 'readonly']),
);

const unusedVars = {
  args: 'after-used',
  argsIgnorePattern: '^_',
  varsIgnorePattern: '^_',
  caughtErrorsIgnorePattern: '^_',
  destructuredArrayIgnorePattern: '^_',
};

export default defineConfig([
  globalIgnores(['**/node_modules/', 'dist/', 'out/', 'coverage/', '**/.cache/']),
  {
    name: 'tessera/javascript',
    files: JS_FILES,
    extends: [js.configs.recommended],
    languageOptions: { ecmaVersion: 2023, sourceType: 'module', globals: NODE_GLOBALS },
    rules: { 'no-unused-vars': ['error', unusedVars] },
  },
  {
    name: 'tessera/typescript',
    files: TS_FILES,
    extends: [js.configs.recommended, tseslint.configs.recommended],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-unused-vars': ['error', unusedVars],
    },
  },
  {
    // Everything outside engine/runtime: no onnxruntime. The zones below override this with their full lists.
    name: 'tessera/layers/everywhere',
    files: [`**/*.${SOURCE}`],
    ignores: ['tests/**', 'tools/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: ORT, message: MSG.ortOutsideRuntime }] }],
    },
  },
  // Svelte: the plugin's recommended rules, limited to Svelte files (its rule set has no `files` of its own), with
  // typescript-eslint parsing `<script lang="ts">` and `*.svelte.ts`. No type information, like the TS config.
  ...svelte.configs.recommended.map((config) =>
    config.rules && !config.files ? { ...config, files: [...SVELTE_FILES, ...SVELTE_SCRIPT_FILES] } : config,
  ),
  {
    name: 'tessera/svelte',
    files: [...SVELTE_FILES, ...SVELTE_SCRIPT_FILES],
    languageOptions: {
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'], svelteConfig },
    },
    rules: {
      // SvelteKit-only rule ($app/paths resolve()); this app is plain Svelte with relative URLs.
      'svelte/no-navigation-without-resolve': 'off',
      // State replaces collections wholesale ($state.raw, ARCHITECTURE.md §2 state/), and local Sets/Maps in
      // functions are not state at all; SvelteMap/SvelteSet everywhere would make big data deeply reactive.
      'svelte/prefer-svelte-reactivity': 'off',
    },
  },
  {
    // Components get the same rules as TypeScript files. typescript-eslint's configs cannot be extended here (they
    // would replace the Svelte parser), so their rules are copied; TypeScript and svelte-check catch undefined names.
    name: 'tessera/svelte-components',
    files: SVELTE_FILES,
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      ...js.configs.recommended.rules,
      ...Object.assign({}, ...tseslint.configs.recommended.map((config) => config.rules ?? {})),
      'no-undef': 'off',
      // `let { … } = $props()` is the Svelte idiom (and $bindable needs it): the plugin's prefer-const knows runes.
      'prefer-const': 'off',
      'svelte/prefer-const': ['error', { destructuring: 'all', excludedRunes: ['$props', '$derived'] }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      '@typescript-eslint/no-unused-vars': ['error', unusedVars],
    },
  },
  {
    // Everything outside engine/runtime: no onnxruntime (Svelte files too; the renderer zones below refine this).
    name: 'tessera/layers/everywhere-svelte',
    files: SVELTE_FILES,
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: ORT, message: MSG.ortOutsideRuntime }] }],
    },
  },
  ...ZONES.flatMap(zoneConfigs),
]);
