/** The studio's id generator for new tracks and regions, kept apart so the edit actions need no studio to make ids. */
import type { NewId } from '../../src-main/contract/project.ts';

/** Random ids for new tracks and regions (`trk_…`, `rgn_…`): 12 base-36 characters from the crypto RNG. */
export const newId: NewId = (prefix) => {
  const bytes = new Uint8Array(12);
  globalThis.crypto.getRandomValues(bytes);
  return `${prefix}_${Array.from(bytes, (b) => (b % 36).toString(36)).join('')}`;
};
