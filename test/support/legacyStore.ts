import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import initSqlJs from 'sql.js';
import type { RawEvent } from '../../src/core/eventStore.js';
import { JOURNAL_HEADER, scanJournal } from '../../src/adapters/sqljs/journal.js';
import { INSERT_EVENT_SQL, createLegacySchema, rawToParams } from '../../src/adapters/sqljs/legacySchema.js';

/**
 * Writes `events.sqlite` as a store of format 1 (RAG Ledger before the index format) would have:
 * every event of the journal's first `records` records with its payload, and the journal offset
 * it covers. Old stores keep this second copy of their events until they are upgraded.
 */
export async function writeLegacySnapshot(dir: string, records = Number.POSITIVE_INFINITY): Promise<number> {
  const events: RawEvent[] = [];
  let offset = JOURNAL_HEADER.length;
  let n = 0;
  scanJournal(join(dir, 'events.journal'), JOURNAL_HEADER.length, (batch, end) => {
    if (n++ >= records) return;
    events.push(...batch);
    offset = end;
  });
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  try {
    createLegacySchema(db);
    const insert = db.prepare(INSERT_EVENT_SQL);
    for (const e of events) insert.run(rawToParams(e));
    insert.free();
    db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('journal_offset', ?)", [String(offset)]);
    writeFileSync(join(dir, 'events.sqlite'), db.export());
  } finally {
    db.close();
  }
  return events.length;
}

/** Start and end offsets of each record of a store's journal, in order. */
export function journalRecords(dir: string): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  let start = JOURNAL_HEADER.length;
  scanJournal(join(dir, 'events.journal'), start, (_events, end) => {
    out.push({ start, end });
    start = end;
  });
  return out;
}
