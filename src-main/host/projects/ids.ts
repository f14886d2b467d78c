/** Id generation for project objects (the contract takes a generator; this is the app's). */
import { randomBytes } from 'node:crypto';
import type { IdPrefix } from '../../contract/project.ts';
import packageJson from '../../../package.json' with { type: 'json' };

/** A fresh id `<prefix>_<16 hex digits>`: 64 random bits, so ids never collide within or across projects. */
export function randomId(prefix: IdPrefix): string {
  return `${prefix}_${randomBytes(8).toString('hex')}`;
}

/** What a project created by this build records as `createdWith`. */
export const APP_IDENTITY = `Tessera ${packageJson.version}`;
