import { shareNewFiles } from '../node/sharedFolder.js';
import './lanceRuntime.js';
import { lanceSession } from './lanceSession.js';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as lancedb from '@lancedb/lancedb';
import type { TextIndex } from '../../app/explorer/eventIndex.js';
import { buildTimeoutMsFrom } from './buildDeadline.js';
import type { IndexBuildOp } from './indexBuildRequest.js';
import { OUT_OF_PROCESS_FROM_ROWS, runIndexBuild } from './indexBuildProcess.js';
import { MAX_WORD_LENGTH } from '../../core/explorer/timelineFilter.js';

const TABLE = 'event_words';
/** Rows added since the index last folded them in, beyond which `maintain` folds them in and compacts. */
const MAINTAIN_AFTER = 20_000;

interface Row {
  position: number;
}

/**
 * Full-text search over events on LanceDB, on disk: one row per event that has words (its distinct
 * words, already folded by `searchWords`, so the index only splits on spaces) with an inverted index
 * without positions. Rows added since the index was built are searched too, until `maintain` folds
 * them in. Every word must match (a Boolean query of MUST terms: LanceDB's AND operator is not applied
 * to rows the index has not folded in yet).
 */
export class LanceTextIndex implements TextIndex {
  private table: lancedb.Table | null = null;
  private pending = 0;
  /** False while the table has no inverted index (its build was cut off by the deadline): the next add builds it. */
  private indexed = false;

  private constructor(
    private readonly db: lancedb.Connection,
    private readonly dir: string,
    private readonly writable: boolean,
    private readonly buildTimeoutMs: number,
    private readonly outOfProcessFromRows: number,
  ) {}

  /** `buildTimeoutMs`: deadline for building or optimising the index (default $RAG_LEDGER_INDEX_BUILD_TIMEOUT seconds, else 600 s). */
  /** `outOfProcessFromRows`: build the index of a table this large in a process of its own (default OUT_OF_PROCESS_FROM_ROWS). */
  static async open(dir: string, options: { readonly writable: boolean; readonly buildTimeoutMs?: number; readonly outOfProcessFromRows?: number }): Promise<LanceTextIndex> {
    const index = new LanceTextIndex(
      await lancedb.connect(dir, { session: lanceSession() }),
      dir,
      options.writable,
      buildTimeoutMsFrom(options.buildTimeoutMs),
      options.outOfProcessFromRows ?? OUT_OF_PROCESS_FROM_ROWS,
    );
    if ((await index.db.tableNames()).includes(TABLE)) {
      try {
        index.table = await index.db.openTable(TABLE);
        const stats = await index.table.indexStats('words_idx');
        index.pending = stats?.numUnindexedRows ?? 0;
        index.indexed = stats !== undefined;
      } catch (err) {
        // A table whose creation was cut off: a projection, dropped and rebuilt from the log.
        if (!options.writable) throw err;
        rmSync(join(dir, `${TABLE}.lance`), { recursive: true, force: true });
        index.table = null;
      }
    }
    return index;
  }

  async add(rows: readonly { readonly position: number; readonly words: string }[]): Promise<void> {
    return this.shared(() => this.writeAdd(rows));
  }

  private async writeAdd(rows: readonly { readonly position: number; readonly words: string }[]): Promise<void> {
    if (rows.length === 0) return;
    if (!this.writable) throw new Error('the text index was opened read-only');
    const data = rows.map((r) => ({ position: r.position, words: r.words }));
    if (!this.table) {
      this.table = await this.db.createTable(TABLE, data);
      await this.buildIndex();
      return;
    }
    await this.table.add(data);
    this.pending += rows.length;
    if (!this.indexed) await this.buildIndex();
  }

  private async buildIndex(): Promise<void> {
    await this.build({
      kind: 'fts',
      column: 'words',
      options: { baseTokenizer: 'whitespace', lowercase: false, stem: false, removeStopWords: false, asciiFolding: false, withPosition: false, maxTokenLength: MAX_WORD_LENGTH + 1 },
    });
    this.indexed = true;
    this.pending = 0;
  }

  /** Builds or optimises with the deadline: a large table in a process of its own, whose new version this handle then checks out. */
  private async build(op: IndexBuildOp): Promise<void> {
    const table = this.table;
    if (!table) return;
    const outOfProcess = (await table.countRows()) >= this.outOfProcessFromRows;
    try {
      await runIndexBuild('explorer full-text index', this.dir, this.buildTimeoutMs, { dir: this.dir, table: TABLE, op }, { table, outOfProcess });
    } finally {
      // Another process built it (or committed before it failed): this handle moves to the latest version.
      if (outOfProcess) await table.checkoutLatest();
    }
  }

  async search(words: readonly string[], maxPosition: number, limit: number): Promise<{ positions: number[]; truncated: boolean }> {
    if (!this.table || words.length === 0) return { positions: [], truncated: false };
    const query = new lancedb.BooleanQuery(words.map((w) => [lancedb.Occur.Must, new lancedb.MatchQuery(w, 'words')]));
    const rows = (await this.table
      .query()
      .fullTextSearch(query)
      .where(`position <= ${Math.floor(maxPosition)}`)
      // _score is selected because LanceDB warns on stderr when a full-text search leaves it out.
      .select(['position', '_score'])
      .limit(limit + 1)
      .toArray()) as Row[];
    const positions = [...new Set(rows.map((r) => Number(r.position)))].sort((a, b) => a - b);
    const truncated = positions.length > limit;
    return { positions: truncated ? positions.slice(0, limit) : positions, truncated };
  }

  async deleteAfter(position: number): Promise<void> {
    return this.shared(() => this.writeDeleteAfter(position));
  }

  private async writeDeleteAfter(position: number): Promise<void> {
    if (this.table && this.writable) await this.table.delete(`position > ${Math.floor(position)}`);
  }

  async maintain(minPending = MAINTAIN_AFTER): Promise<void> {
    if (!this.table || !this.writable || this.pending < minPending) return;
    return this.shared(() => this.writeMaintain());
  }

  private async writeMaintain(): Promise<void> {
    await this.build({ kind: 'optimize' });
    this.pending = 0;
  }

  async reset(): Promise<void> {
    return this.shared(() => this.writeReset());
  }

  private async writeReset(): Promise<void> {
    if (!this.writable) throw new Error('the text index was opened read-only');
    this.table?.close();
    this.table = null;
    this.pending = 0;
    this.indexed = false;
    if ((await this.db.tableNames()).includes(TABLE)) await this.db.dropTable(TABLE);
    if (existsSync(join(this.dir, `${TABLE}.lance`))) rmSync(join(this.dir, `${TABLE}.lance`), { recursive: true, force: true });
  }

  /** Runs a write; in a store shared with a group, its new files are then made readable by the group. */
  private async shared(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } finally {
      shareNewFiles(this.dir);
    }
  }

  async close(): Promise<void> {
    this.table?.close();
    this.table = null;
    this.db.close();
  }
}
