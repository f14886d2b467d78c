// An eslint-import-resolver (interface v2) for eslint-plugin-boundaries: a relative specifier resolves to the file
// it names, as Node's ESM loader does (every relative import in this repo spells its extension). The file need not
// exist yet: the layer rules judge an import by where it points, so a moved or misspelt target cannot slip past them
// (TypeScript reports the missing file). Bare specifiers are left to the plugin, which tells packages from builtins.
const path = require('node:path');

module.exports = {
  interfaceVersion: 2,
  /** Resolves `./x` and `../x` against the importing file; everything else is "not found" here. */
  resolve(source, file) {
    if (!source.startsWith('./') && !source.startsWith('../')) return { found: false };
    return { found: true, path: path.resolve(path.dirname(file), source) };
  },
};
