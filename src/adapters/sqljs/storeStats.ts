import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { LogHead, StoreStats } from '../../core/eventStore.js';
import type { LogIndex } from './logIndex.js';
import { JOURNAL_FILE, SNAPSHOT_FILE } from './schema.js';

/** The summary `stats` prints, computed from the index alone (no event is read). */
export function indexStats(index: LogIndex, location: string, head: LogHead): StoreStats {
  const byType: Record<string, number> = {};
  for (const [type, n] of index.rows('SELECT type, COUNT(*) FROM events GROUP BY type')) byType[index.typeName(type as number)] = n as number;
  const sortedTypes = Object.fromEntries(Object.entries(byType).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const byCategory: Record<string, number> = {};
  // A stream's last version is its number of events.
  const catSql =
    "SELECT CASE WHEN instr(s.name, '-') > 0 THEN substr(s.name, 1, instr(s.name, '-') - 1) ELSE s.name END AS c, SUM((SELECT MAX(stream_version) FROM events WHERE stream = s.id)) FROM streams s GROUP BY c ORDER BY c";
  for (const [c, n] of index.rows(catSql)) byCategory[c as string] = n as number;
  // Positions run from 1 without gaps: the count and the first and last events are found by key, not by a scan.
  const [summary] = index.rows(
    'SELECT (SELECT MAX(position) FROM events), (SELECT recorded_ms FROM events ORDER BY position LIMIT 1), (SELECT recorded_ms FROM events ORDER BY position DESC LIMIT 1)',
  );
  const [streams] = index.rows('SELECT COUNT(*) FROM streams');
  const iso = (ms: unknown): string | null => (typeof ms === 'number' ? new Date(ms).toISOString() : null);
  const files: Record<string, number> = {};
  for (const f of [SNAPSHOT_FILE, JOURNAL_FILE]) {
    const p = join(location, f);
    if (existsSync(p)) files[f] = statSync(p).size;
  }
  return {
    location: location,
    events: (summary?.[0] as number) ?? 0,
    streams: (streams?.[0] as number) ?? 0,
    headPosition: head.position,
    headHash: head.hash,
    firstRecordedAt: iso(summary?.[1]),
    lastRecordedAt: iso(summary?.[2]),
    byType: sortedTypes,
    byCategory,
    files,
  };
}
