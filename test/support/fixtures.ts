import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** An old-version event fixture from test/fixtures/events. */
export interface EventFixture {
  readonly file: string;
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: Record<string, unknown>;
  readonly attachment: string | null;
  readonly expected: Record<string, unknown>;
}

export const fixturesDir = join(__dirname, '..', 'fixtures', 'events');

export function loadEventFixtures(): EventFixture[] {
  return readdirSync(fixturesDir)
    .filter((f) => f.endsWith('.json'))
    .map((file) => ({ file, ...(JSON.parse(readFileSync(join(fixturesDir, file), 'utf8')) as Omit<EventFixture, 'file'>) }));
}

export function attachmentOf(f: EventFixture): Uint8Array | null {
  return f.attachment === null ? null : new Uint8Array(Buffer.from(f.attachment, 'base64'));
}

/** Data with Float32Arrays turned into plain arrays, for deepEqual against fixtures. */
export function plain(data: unknown): unknown {
  if (data instanceof Float32Array) return [...data];
  if (Array.isArray(data)) return data.map(plain);
  if (typeof data === 'object' && data !== null) return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, plain(v)]));
  return data;
}
