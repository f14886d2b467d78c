// ESLint rule `tessera/no-import-cycle`: no file may reach itself through relative imports, type-only imports
// included. eslint-plugin-import-x's `no-cycle` skips `import type` unconditionally (there is no option for it), yet a
// type import ties two files together just the same: the engine-family ⇄ chunked-decoder cycle of issue 11 ran
// through types. The graph is built from files on disk (TypeScript's import scanner, which also sees
// `import type`, `export … from` and `import()`); the linted file's own imports come from its AST, so unsaved
// edits count.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/** Files whose imports are followed; JSON, CSS and assets cannot import anything back. */
const SCRIPT = /\.(?:[cm]?[jt]s|svelte)$/;
const SVELTE_SCRIPT = /<script\b[^>]*>([\s\S]*?)<\/script>/g;

/** Per file: the mtime its imports were read at, and the absolute paths of its relative script imports. */
const importCache = new Map();

const isRelative = (specifier) => specifier.startsWith('./') || specifier.startsWith('../');

/** The script files `file` imports through relative specifiers, read from disk (none when it does not exist). */
function importsOnDisk(file) {
  let mtimeMs;
  try {
    mtimeMs = fs.statSync(file).mtimeMs;
  } catch {
    return [];
  }
  const cached = importCache.get(file);
  if (cached?.mtimeMs === mtimeMs) return cached.imports;
  let text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.svelte')) text = [...text.matchAll(SVELTE_SCRIPT)].map((match) => match[1]).join('\n');
  const imports = ts
    .preProcessFile(text, true, true)
    .importedFiles.map((ref) => ref.fileName)
    .filter(isRelative)
    .map((specifier) => path.resolve(path.dirname(file), specifier))
    .filter((target) => SCRIPT.test(target));
  importCache.set(file, { mtimeMs, imports });
  return imports;
}

/**
 * The shortest chain of files from `start` to `goal` (both included), or null. `deadEnds` holds files already known
 * not to reach `goal`; a search that fails adds every file it saw to it.
 */
function chainTo(start, goal, deadEnds) {
  const cameFrom = new Map([[start, null]]);
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const file = queue[i];
    if (file === goal) {
      const chain = [];
      for (let at = file; at !== null; at = cameFrom.get(at)) chain.unshift(at);
      return chain;
    }
    for (const next of importsOnDisk(file)) {
      if (cameFrom.has(next) || deadEnds.has(next)) continue;
      cameFrom.set(next, file);
      queue.push(next);
    }
  }
  for (const file of cameFrom.keys()) deadEnds.add(file);
  return null;
}

/** @type {import('eslint').Rule.RuleModule} */
export default {
  meta: {
    type: 'problem',
    docs: { description: 'Forbid relative imports that lead back to the importing file (type-only imports count).' },
    schema: [],
    messages: {
      cycle:
        "ARCHITECTURE.md §2: '{{source}}' closes an import cycle: {{chain}}. Imports point one way (type imports " +
        'count). Move what both sides need into a module that imports neither, or pass it in as a parameter.',
    },
  },
  create(context) {
    const file = context.physicalFilename;
    const cwd = context.cwd;
    const deadEnds = new Set();
    function check(node, sourceNode) {
      const source = sourceNode?.value;
      if (typeof source !== 'string' || !isRelative(source)) return;
      const target = path.resolve(path.dirname(file), source);
      if (!SCRIPT.test(target) || target === file) return;
      const chain = chainTo(target, file, deadEnds);
      if (chain === null) return;
      const names = [file, ...chain].map((at) => path.relative(cwd, at));
      context.report({ node, messageId: 'cycle', data: { source, chain: names.join(' → ') } });
    }
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source),
      TSImportType: (node) => check(node, node.argument?.literal ?? node.argument),
    };
  },
};
