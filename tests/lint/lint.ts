/**
 * Lints one-file snippets at virtual paths inside the repo with the real eslint.config.js, for the layer-rule tests.
 * Relative imports resolve by path, so a snippet may import files that do not exist: the rules judge where they point.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The rules that carry layer rules (the rest are house and recommended rules). */
const LAYER_RULES = new Set([
  'boundaries/dependencies', 'tessera/no-import-cycle', 'no-restricted-imports', 'no-restricted-syntax',
  'no-restricted-globals', 'no-restricted-properties',
]);

let eslint: ESLint | undefined;

/** A finding of one rule. */
export interface Finding {
  rule: string | null;
  message: string;
}

/** Every finding for `code` linted as the repo file `file`; throws when it does not parse. */
export async function lintAt(file: string, code: string): Promise<Finding[]> {
  eslint ??= new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
  if (result === undefined) throw new Error(`ESLint returned no result for ${file}`);
  const fatal = result.messages.filter((m) => m.fatal === true);
  if (fatal.length > 0) throw new Error(`${file} did not parse: ${fatal.map((m) => m.message).join('; ')}`);
  return result.messages.map((m) => ({ rule: m.ruleId, message: m.message }));
}

/** The layer-rule findings for `code` at `file`. */
export async function layerFindings(file: string, code: string): Promise<Finding[]> {
  return (await lintAt(file, code)).filter((f) => f.rule !== null && LAYER_RULES.has(f.rule));
}

/** A module that imports `specifier` and uses it: TypeScript, or a Svelte component for `.svelte` paths. */
export function importing(file: string, specifier: string): string {
  if (!file.endsWith('.svelte')) return `import * as m from '${specifier}';\nexport const x = m;\n`;
  return `<script lang="ts">\n  import * as m from '${specifier}';\n  const x = m;\n</script>\n\n<p>{String(x)}</p>\n`;
}

/** [file, import specifier, what the one finding must say, or null when the import is allowed]. */
export type ImportCase = [file: string, specifier: string, expected: RegExp | null];

/** One test per case: the import is refused by exactly one layer rule whose message matches, or allowed. */
export function importCases(title: string, cases: ImportCase[]): void {
  describe(title, () => {
    it.each(cases)('%s importing %s', async (file, specifier, expected) => {
      const findings = await layerFindings(file, importing(file, specifier));
      if (expected === null) {
        expect(findings).toEqual([]);
      } else {
        expect(findings.map((f) => f.rule)).toEqual(['boundaries/dependencies']);
        expect(findings[0]?.message).toContain('ARCHITECTURE.md §2');
        expect(findings[0]?.message).toMatch(expected);
      }
    });
  });
}

/** The relative specifier by which repo file `from` imports repo file `to`. */
export function specifier(from: string, to: string): string {
  const path = relative(dirname(from), to);
  return path.startsWith('../') ? path : `./${path}`;
}

/**
 * A real import inside `folder` (repo-relative): [importer, imported], both repo-relative, the imported file's name
 * matching `target`. Cycle tests import the importer back from the imported file's path.
 */
export function findImport(folder: string, target: RegExp): [importer: string, imported: string] {
  const files = readdirSync(join(ROOT, folder), { recursive: true, encoding: 'utf8' }).map((f) => join(folder, f));
  for (const importer of files.filter((f) => /\.(ts|svelte)$/.test(f))) {
    const text = readFileSync(join(ROOT, importer), 'utf8');
    for (const [, specifier] of text.matchAll(/from '(\.\.?\/[^']+)'/g)) {
      const imported = relative(ROOT, resolve(ROOT, dirname(importer), specifier ?? ''));
      if (target.test(imported) && imported.startsWith(`${folder}/`) && files.includes(imported)) {
        return [importer, imported];
      }
    }
  }
  throw new Error(`no file in ${folder} imports a file matching ${target}; pick another folder for the cycle test`);
}
