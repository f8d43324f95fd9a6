import type { Hasher } from '../core/eventLog.js';
import type { EventStore } from '../core/eventStore.js';
import type { ProjectionRunner } from './projectionRunner.js';
import type { ReadModels } from './readModels.js';

/** What every pipeline service works with: the log, its read models, hashing, time, and who acts. */
export interface EngineDeps {
  readonly events: EventStore;
  readonly runner: ProjectionRunner;
  readonly readModels: ReadModels;
  readonly hasher: Hasher;
  readonly clock: () => string;
  /** Written into every event's metadata. */
  readonly actor: string;
}
