/**
 * Project file migrations, keyed by schemaVersion: `PROJECT_MIGRATIONS[n]` turns a version-n document into a
 * version-(n+1) one. Opening a file applies them in order up to CURRENT_PROJECT_SCHEMA_VERSION, in memory only;
 * the file changes on the next save (after a copy of the original is kept in `.tessera/project.v<n>.json`).
 * A migration is a pure function of plain JSON; it may assume its input has exactly its version.
 */
import {
  CURRENT_PROJECT_SCHEMA_VERSION,
  futureVersionError,
  ProjectError,
  readSchemaVersion,
} from '../../contract/project.ts';

/** Turns a document of version n into one of version n + 1. */
export type ProjectMigration = (doc: unknown) => unknown;

/** The registry; empty while version 1 is the only one. */
export const PROJECT_MIGRATIONS: Readonly<Record<number, ProjectMigration>> = {};

/** The document brought to the current version, and the version it had (null when already current). */
export interface Migrated {
  json: unknown;
  from: number | null;
}

/**
 * Applies the migrations from the document's version up to the current one. A newer version throws
 * `future-version`; a version with no migration path throws `corrupt`. A document without an integer
 * schemaVersion is returned unchanged for the schema to report.
 */
export function migrateProjectJson(
  json: unknown,
  where: string,
  migrations: Readonly<Record<number, ProjectMigration>> = PROJECT_MIGRATIONS,
): Migrated {
  const from = readSchemaVersion(json);
  if (from === undefined || from === CURRENT_PROJECT_SCHEMA_VERSION) return { json, from: null };
  if (from > CURRENT_PROJECT_SCHEMA_VERSION) throw futureVersionError(where, from);
  let doc = json;
  for (let version = from; version < CURRENT_PROJECT_SCHEMA_VERSION; version++) {
    const step = Object.hasOwn(migrations, version) ? migrations[version] : undefined;
    if (step === undefined) {
      throw new ProjectError(
        'corrupt',
        `${where} has schemaVersion ${from}, which this Tessera cannot read (no migration from ${version} to ${version + 1}).`,
      );
    }
    try {
      doc = step(doc);
    } catch (e) {
      throw new ProjectError('corrupt', `${where}: migrating from schemaVersion ${version} failed: ${String(e)}`, [], { cause: e });
    }
    const reached = readSchemaVersion(doc);
    if (reached !== version + 1) {
      throw new ProjectError(
        'corrupt',
        `${where}: the migration from schemaVersion ${version} produced schemaVersion ${String(reached)}, expected ${version + 1}.`,
      );
    }
  }
  return { json: doc, from };
}
