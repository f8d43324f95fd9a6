// The index build process: builds one LanceDB index (full-text, IVF-RQ) or optimises a table, sent
// by its parent over IPC, replies, and exits. A build's working set (hundreds of MB for a million
// rows) is then returned to the system when it ends, instead of staying in the extension host or
// the CLI; and a build past its deadline can be killed. See indexBuildProcess.ts.
import './lanceRuntime.js';
import * as lancedb from '@lancedb/lancedb';
import { applyIndexBuild } from './indexBuildOps.js';
import type { IndexBuildReply, IndexBuildRequest } from './indexBuildRequest.js';
import { stallRequested } from './indexBuildRequest.js';
import { lanceSession } from './lanceSession.js';

const reply = (message: IndexBuildReply, code: number): void => {
  process.send?.(message, () => process.exit(code));
};

// The parent is gone (killed, or it gave up at the deadline): nothing is waiting for this build.
process.on('disconnect', () => process.exit(1));

process.once('message', (request: IndexBuildRequest) => {
  if (stallRequested()) {
    setInterval(() => undefined, 1 << 30);
    return;
  }
  void (async () => {
    try {
      const db = await lancedb.connect(request.dir, { session: lanceSession() });
      const table = await db.openTable(request.table);
      try {
        await applyIndexBuild(table, request.op);
      } finally {
        // The build is committed (or failed) by now: closing cannot change the outcome.
        try {
          table.close();
          db.close();
        } catch {
          // ignored
        }
      }
      reply({ ok: true }, 0);
    } catch (err) {
      reply({ ok: false, message: (err as Error).message }, 1);
    }
  })();
});
