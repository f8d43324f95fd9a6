import * as crypto from 'node:crypto';
import { createHash, randomUUID } from 'node:crypto';
import type { Hasher } from '../../core/eventLog.js';

/** One-shot hashing (Node >= 20.12) avoids creating a Hash object per event. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string | Uint8Array, encoding: 'hex') => string }).hash;

/** SHA-256 hex digest over the parts, using Node's native implementation. */
export const sha256: Hasher = (parts) => {
  if (oneShot && parts.length === 1) return oneShot('sha256', parts[0]!, 'hex');
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  return h.digest('hex');
};

/** A fresh random UUID (v4). */
export const newUuid = (): string => randomUUID();

/** The current time as ISO-8601 UTC. */
export const systemClock = (): string => new Date().toISOString();
