import type { Command } from '../cliSupport.js';
import { UsageError, osUser, textOption } from '../cliSupport.js';
import { openCliEngine } from '../cliEngine.js';

export const forgetCommand: Command = {
  name: 'forget',
  summary: "remove a document's content, chunk text and vectors from the log and everything derived from it",
  usage: `rag-ledger forget PATH|DOCUMENT_ID [--reason TEXT] [--json]

  Irreversibly removes a document's content from the store: its submitted text, its chunks' text
  and its vectors are emptied in the log (the journal and the database are rewritten whole), and so
  are the prompts and answers of the questions that cited it. The read models, the vector index
  tables and the explorer's indexes are rebuilt from the emptied log; exports made afterwards carry
  the emptied events. A DocumentForgotten event records who forgot it, why, and the digests of
  what was emptied, so \`verify\` still passes. What stays: the path, sizes, content hash, times,
  chunk ids and line numbers, the questions and their retrieval (marked "source forgotten").
  Earlier exports, backups and copies are not touched. Ingest skips the file while its content is
  unchanged; exclude it (.gitignore, .ragledgerignore or ragLedger.files.exclude) to keep it out for good.`,
  options: { reason: { type: 'string' } },
  allowPositionals: 1,
  async run(args, io) {
    const target = args.positionals[0];
    if (target === undefined || target.trim() === '') throw new UsageError('forget needs the path of the document (as ingest recorded it) or its id');
    const reason = textOption(args.values.reason, 'reason') ?? '';
    // The engine the extension runs: the same forget, and the same rebuilds of what was derived from the log.
    const { engine } = await openCliEngine(args, io, 'forget', {}, { create: false });
    try {
      const r = await engine.forget(target, reason, `${osUser(io.env)} via rag-ledger CLI`);
      const kept = r.keptCopies;
      if (args.json) {
        io.out(`${JSON.stringify(r)}\n`);
        return;
      }
      if (r.forgottenEventId === null) io.out(`${r.source} was already forgotten; the read models, index and explorer were rebuilt from the log again\n`);
      else {
        io.out(`forgot ${r.source} (${r.documentId}): ${r.emptied} event${r.emptied === 1 ? '' : 's'} emptied, recorded as DocumentForgotten #${r.position}\n`);
        if (r.questions.length > 0) io.out(`${r.questions.length} question${r.questions.length === 1 ? '' : 's'} cited it; their prompts and answers were emptied and their provenance says "source forgotten"\n`);
      }
      if (r.rebuiltIndexes.length > 0) io.out(`index rebuilt without it: ${r.rebuiltIndexes.join(', ')}\n`);
      if (kept.length > 0) {
        io.out(`warning: ${kept.length} cop${kept.length === 1 ? 'y' : 'ies'} kept beside the store predate${kept.length === 1 ? 's' : ''} this forget and may still hold the content; delete ${kept.length === 1 ? 'it' : 'them'} to complete it: ${kept.join(', ')}\n`);
      }
      io.out(`the file itself is untouched: ingest skips it while unchanged; add it to .gitignore or .ragledgerignore or ragLedger.files.exclude to keep it out\n`);
    } finally {
      await engine.close();
    }
  },
};
