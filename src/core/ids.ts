import type { Hasher } from './eventLog.js';

/**
 * A hex digest of several strings that cannot collide by moving text between parts: the parts are
 * hashed as one JSON array, so ["ab", "c"] and ["a", "bc"] differ. Used for every derived id
 * (documents, chunks, pipeline versions, processor event ids).
 */
export function digestOf(hasher: Hasher, parts: readonly string[]): string {
  return hasher([JSON.stringify(parts)]);
}
