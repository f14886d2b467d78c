// Turns the zone table of eslint.config.js into eslint-plugin-boundaries settings and config objects. A row is
// [layer, folder, may, never]: `may` lists layer names and module selectors the layer may import, `never` lists
// [what, why] refusals that win over `may`. A row without `may` is a folder other layers may import (resources,
// tests, tools) whose own imports are not checked.
import { fileURLToPath } from 'node:url';

const A = 'ARCHITECTURE.md §2';

/** npm packages by name, subpaths included. */
export const pkg = (...names) => ({ module: { origin: 'external', source: names } });
/** Node builtins by name, with or without `node:`. */
export const builtin = (...names) => ({
  module: { origin: 'core', source: names.flatMap((name) => [name, `node:${name}`]) },
});
/** Any npm package. */
export const PACKAGES = { module: { origin: 'external' } };
/** Any Node builtin, `node:`-only ones (node:test, node:sqlite) included. */
export const BUILTINS = [{ module: { origin: 'core' } }, { module: { source: 'node:*' } }];
/** The repo's package.json (its version is read by the host and the CLI). */
export const PACKAGE_JSON = { file: { categories: 'package.json' } };

/** The plugin settings: one element per row, relative imports resolved by path, the root at the config's folder. */
export function zoneSettings(zones, root) {
  return {
    'boundaries/root-path': fileURLToPath(root),
    'boundaries/elements': zones.map(([type, pattern]) => ({ type, pattern, partialMatch: false })),
    'boundaries/files': [{ category: 'package.json', pattern: 'package.json' }],
    'import/resolver': { [fileURLToPath(new URL('resolve-path.cjs', import.meta.url))]: {} },
  };
}

/**
 * One config object per checked row, general rows first, so that for each file the object of its own row (the first
 * in the table whose folder holds it) comes last and decides. Its policies, of which the last that matches decides:
 * refuse everything (naming what the layer may import), allow `may`, refuse `never` with its reason. One object per
 * row keeps each file to its own few policies (checking every row's policies for every import took seconds).
 */
export function zoneConfigs(zones, filesIn) {
  const folders = Object.fromEntries(zones.map(([layer, folder]) => [layer, `${folder}/`]));
  return zones.filter(([, , may]) => may !== undefined).reverse().map(([layer, folder, may, never]) => {
    const refused = `${A}: ${folder}/ may not import '{{dependency.source}}'`;
    const hint = may.length > 0 ? ' Move the shared piece into one of those, or let the layer above pass it in.' : '';
    const policies = [
      { disallow: { to: { module: { origin: '*' } } },
        message: `${refused}; it may import ${describe(may, folders)}.${hint}` },
      ...(may.length > 0 ? [{ allow: { to: targets(may) } }] : []),
      ...never.map(([what, why]) => ({ disallow: { to: targets(what) }, message: `${refused}: ${why}` })),
    ];
    return {
      name: `tessera/layers/${layer}`,
      files: filesIn(folder),
      rules: { 'boundaries/dependencies': ['error', { policies, checkAllOrigins: true, checkUnknownLocals: true }] },
    };
  });
}

/** A `may`/`never` entry (layer names and module selectors, nested lists allowed) as boundaries `to` selectors. */
function targets(list) {
  const entries = [list].flat(3);
  const layers = entries.filter((entry) => typeof entry === 'string');
  const modules = entries.filter((entry) => typeof entry !== 'string');
  return layers.length > 0 ? [...modules, { element: { type: layers } }] : modules;
}

/** A `may` list in words: folders (`x/*` is implied by `x`), then packages and builtins. */
function describe(may, folders) {
  if (may.length === 0) return 'nothing until its folder has a row of its own in ZONES (eslint.config.js)';
  return may
    .filter((entry) => !(typeof entry === 'string' && entry.endsWith('/*') && may.includes(entry.slice(0, -2))))
    .map((entry) => {
      if (typeof entry === 'string') return folders[entry] ?? `${entry}/`;
      if (entry === PACKAGES) return 'npm packages';
      if (entry === BUILTINS) return 'Node builtins';
      if (entry === PACKAGE_JSON) return 'package.json';
      return entry.module.source.join(', ');
    })
    .join(', ');
}

/**
 * One config object for `files` that refuses globals, properties and syntax, each ban `{ globals?, properties?
 * ([object, property] pairs), syntax? (esquery selectors), message }`. All bans of a folder go into one object
 * because a later config object replaces a rule's options rather than adding to them.
 */
export function restrict(name, files, ...bans) {
  const entries = (key, toEntry) => bans.flatMap((ban) => (ban[key] ?? []).map((item) => toEntry(item, ban.message)));
  const rules = {
    'no-restricted-globals': entries('globals', (global, message) => ({ name: global, message })),
    'no-restricted-properties': entries('properties', ([object, property], message) => ({ object, property, message })),
    'no-restricted-syntax': entries('syntax', (selector, message) => ({ selector, message })),
  };
  return {
    name: `tessera/globals/${name}`,
    files,
    rules: Object.fromEntries(Object.entries(rules).filter(([, list]) => list.length > 0)
      .map(([rule, list]) => [rule, ['error', ...list]])),
  };
}
