import { openLedger } from '../../adapters/ledger.js';
import { sha256 } from '../../adapters/node/sha256.js';
import { PipelineService } from '../../app/pipelines/pipelineService.js';
import type { Command } from '../cliSupport.js';
import { UsageError } from '../cliSupport.js';

export const pipelinesCommand: Command = {
  name: 'pipelines',
  summary: 'list pipeline versions and their progress, or activate one',
  usage: `rag-ledger pipelines [--json]
rag-ledger pipelines activate VERSION

  Lists every defined pipeline version (a fingerprint of chunking, embedding model, retrieval,
  prompt and generator settings) with its label, whether it is active, and how many documents
  and chunks it has chunked, embedded and indexed. \`activate\` makes a defined version the one
  questions use. Versions are defined by ingest (from its flags).`,
  options: {},
  allowPositionals: 2,
  async run(args, io) {
    const [action, version] = args.positionals;
    if (action !== undefined && action !== 'activate') throw new UsageError(`unknown action ${JSON.stringify(action)}; the only action is activate`);
    if (action === 'activate' && version === undefined) throw new UsageError('pipelines activate needs the VERSION to activate');
    const ledger = await openLedger(args.store, action ? { mode: 'write', create: false, owner: 'the rag-ledger CLI (pipelines)' } : { mode: 'read' });
    try {
      await ledger.runner.catchUp();
      if (action === 'activate') {
        await new PipelineService({ events: ledger.events, runner: ledger.runner, readModels: ledger.readModels, hasher: sha256, clock: () => new Date().toISOString(), actor: 'cli' }).activate(version!);
        io.out(`activated ${version!}\n`);
        return;
      }
      const active = ledger.readModels.activePipeline();
      const documents = ledger.readModels.documents().filter((d) => d.state !== 'deleted' && d.state !== 'rejected');
      const rows = ledger.readModels.pipelines().map((p) => {
        const totals = { documents: 0, chunks: 0, embedded: 0, indexed: 0 };
        for (const d of documents) {
          const c = d.pipelines[p.pipeline_version];
          if (!c) continue;
          totals.documents++;
          totals.chunks += c.chunks;
          totals.embedded += c.embedded;
          totals.indexed += c.indexed;
        }
        return { ...p, active: p.pipeline_version === active, liveDocuments: documents.length, ...totals };
      });
      if (args.json) {
        for (const r of rows) io.out(`${JSON.stringify(r)}\n`);
        return;
      }
      if (rows.length === 0) io.out('no pipeline versions yet; run rag-ledger ingest DIR\n');
      for (const r of rows) {
        io.out(`${r.active ? '*' : ' '} ${r.pipeline_version}  ${r.label}  chunked ${r.documents}/${r.liveDocuments} documents, ${r.chunks} chunks, embedded ${r.embedded}, indexed ${r.indexed}  (defined ${r.defined_at})\n`);
      }
    } finally {
      await ledger.close();
    }
  },
};
