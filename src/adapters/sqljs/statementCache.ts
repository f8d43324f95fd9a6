import type { Database, Statement } from 'sql.js';

/**
 * Prepared statements of one connection, by SQL text, prepared on first use. Free them before an
 * export or anything else that closes the connection (`db` is read each time: a connection may be
 * replaced).
 */
export class StatementCache {
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: () => Database) {}

  get(sql: string): Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db().prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  free(): void {
    for (const s of this.statements.values()) s.free();
    this.statements.clear();
  }
}
