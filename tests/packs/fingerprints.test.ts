/**
 * Built-in packs are byte-for-byte reproducible on every platform, and a cached pack is reused by version alone.
 * So the sha256 of every generated file is pinned in resources/packs/fingerprints.json. When a change to a builder
 * or a recipe changes the bytes on purpose: bump the builder revision (SKETCH_BUILDER_REVISION or
 * SHAPE_BUILDER_REVISION) or the recipe version, and write the new hashes with
 * `npm run build:packs -- --fingerprints`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_PACKS } from '../../src-main/host/packs/builtin.ts';
import { packFingerprint } from '../../src-main/host/packs/write.ts';

const FILE = join(import.meta.dirname, '..', '..', 'resources', 'packs', 'fingerprints.json');

describe('built-in pack fingerprints', () => {
  it.each(Object.keys(BUILTIN_PACKS))('%s: bytes and version match resources/packs/fingerprints.json', async (id) => {
    const pinned = JSON.parse(await readFile(FILE, 'utf8')) as Record<string, unknown>;
    const built = packFingerprint(BUILTIN_PACKS[id].build());
    expect(built.version, 'the version a cache sees must be the built one').toBe(BUILTIN_PACKS[id].version());
    expect(
      built,
      `pack '${id}' changed: bump its builder revision or recipe version and run \`npm run build:packs -- --fingerprints\``,
    ).toEqual(pinned[id]);
  });
});
