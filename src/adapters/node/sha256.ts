import { createHash, randomUUID } from 'node:crypto';
import type { Hasher } from '../../core/eventLog.js';

/** SHA-256 hex digest over the parts, using Node's native implementation. */
export const sha256: Hasher = (parts) => {
  const h = createHash('sha256');
  for (const part of parts) h.update(part);
  return h.digest('hex');
};

/** A fresh random UUID (v4). */
export const newUuid = (): string => randomUUID();

/** The current time as ISO-8601 UTC. */
export const systemClock = (): string => new Date().toISOString();
