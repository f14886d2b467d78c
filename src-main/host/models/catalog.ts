/** Loading the model catalog: the bundled `resources/models/catalog.json`, or another file (TESSERA_CATALOG, tests). */
import { readFile } from 'node:fs/promises';
import bundled from '../../../resources/models/catalog.json' with { type: 'json' };
import { parseCatalog, UNPINNED_PREFIX, type Catalog, type CatalogEntry, type CatalogLicence } from '../../contract/catalog.ts';
import { ModelsError } from './errors.ts';

/** The catalog shipped with Tessera, validated. */
export function bundledCatalog(): Catalog {
  return parseCatalog(bundled, 'resources/models/catalog.json');
}

/** Reads and validates a catalog file. */
export async function readCatalog(path: string): Promise<Catalog> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ModelsError('not-found', `Cannot read the model catalog ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}).`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelsError('invalid-argument', `The model catalog ${path} is not valid JSON (${(e as Error).message}).`);
  }
  try {
    return parseCatalog(json, path);
  } catch (e) {
    throw new ModelsError('invalid-argument', (e as Error).message);
  }
}

/** The catalog to use: `path` if given, else $TESSERA_CATALOG, else the bundled one. */
export async function loadCatalog(path?: string, env: NodeJS.ProcessEnv = process.env): Promise<Catalog> {
  const file = path ?? env.TESSERA_CATALOG;
  return file ? readCatalog(file) : bundledCatalog();
}

/** The entry with `id`; the error lists the ids there are. */
export function findEntry(catalog: Catalog, id: string): CatalogEntry {
  const entry = catalog.entries.find((e) => e.id === id);
  if (!entry) {
    const ids = catalog.entries.map((e) => e.id).join(', ') || '(none)';
    throw new ModelsError('not-found', `'${id}' is not in the model catalog; known models: ${ids}. Run \`npm run models -- list\` to see them with sizes and licences.`);
  }
  return entry;
}

/** True when a revision still needs a commit hash. */
export function isUnpinned(revision: string): boolean {
  return revision.startsWith(UNPINNED_PREFIX);
}

/** The licence as a block of text to show before a download (name, link, what it allows, conditions, summary). */
export function formatLicence(entry: CatalogEntry): string {
  const l: CatalogLicence = entry.licence;
  const commercial = l.commercialUse === 'yes' ? 'allowed' : l.commercialUse === 'no' ? 'NOT allowed (non-commercial use only)' : 'allowed only under conditions (below)';
  const lines = [
    `${entry.name} (${entry.id}) is distributed under the ${l.name}.`,
    `  Licence:         ${l.url}`,
    ...(l.also ?? []).map((a) => `  Also applies:    ${a.name}, ${a.url}`),
    `  Commercial use:  ${commercial}`,
    ...(l.conditions.length > 0 ? ['  Conditions:', ...l.conditions.map((c) => `    - ${c}`)] : []),
    '',
    ...wrap(l.text, 100).map((line) => `  ${line}`),
  ];
  return `${lines.join('\n')}\n`;
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line.length > 0 && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out;
}
