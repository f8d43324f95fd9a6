import type { RefusedByImport } from '../../adapters/archive/jsonlArchive.js';
import { ARCHIVE_MAX_LINE_BYTES, exportArchive, refusedWarning, scanArchive } from '../../adapters/archive/jsonlArchive.js';
import { openExplorer, openLedger } from '../../adapters/ledger.js';
import { recoverStore } from '../../adapters/sqljs/recoverStore.js';
import { openEventStore } from '../cliStores.js';
import { defaultHeadSigner } from '../../adapters/node/signing.js';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command, Io, ParsedArgs } from '../cliSupport.js';
import { plural } from '../../core/text.js';
import { CheckFailed, UsageError, progressReporter, teamOptions } from '../cliSupport.js';
import { openCliEngine } from '../cliEngine.js';

export const exportCommand: Command = {
  name: 'export',
  summary: 'write the log as a JSON Lines archive (events/YYYY/MM/DD/<stream>/...)',
  usage: `rag-ledger export DIR [--json]

  Writes every event, vectors included, to DIR (which must be empty or absent), partitioned as
  events/YYYY/MM/DD/<stream-id>/events.jsonl, plus manifest.json. \`import\` reproduces the log.`,
  options: {},
  allowPositionals: 1,
  async run(args, io) {
    const target = args.positionals[0];
    if (!target) throw new UsageError('export needs a target directory: rag-ledger export DIR');
    const dir = resolve(io.cwd, target);
    const store = await openEventStore(args, { mode: 'read' });
    try {
      const progress = progressReporter(io, 'exporting');
      const refused: RefusedByImport[] = [];
      const n = await exportArchive(store, dir, (p) => progress.update(p.done, p.total), { signer: defaultHeadSigner(), logKey: await store.signingKey() }, (e) => refused.push(e));
      progress.done();
      if (refused.length > 0) io.err(`${refusedWarning(refused)}\n`);
      io.out(args.json ? `${JSON.stringify({ exported: n, dir, refusedByImport: refused.slice(0, 100) })}\n` : `exported ${plural(n, 'event')} to ${dir}\n`);
    } finally {
      await store.close();
    }
  },
};

export const importCommand: Command = {
  name: 'import',
  summary: 'read an archive into an empty store',
  usage: `rag-ledger import DIR [--json]

  Reads an archive written by \`export\` into an empty store: same positions, ids, times and
  hashes. The whole archive (hash chain, event ids, stream versions) is checked before anything
  is written, so a bad archive leaves the store empty. A non-empty store is refused. An archive is
  untrusted: every event gets the checks an append makes. Files are read line by line; a line over
  64 MiB is refused (RAG_LEDGER_ARCHIVE_MAX_LINE_BYTES changes the limit).`,
  options: {},
  allowPositionals: 1,
  async run(args, io) {
    const source = args.positionals[0];
    if (!source) throw new UsageError('import needs an archive directory: rag-ledger import DIR');
    const archive = resolve(io.cwd, source);
    // Checked before the store is opened (and created), so a mistyped path leaves nothing behind.
    if (!existsSync(join(archive, 'manifest.json'))) {
      const what = !existsSync(archive) ? 'does not exist' : !statSync(archive).isDirectory() ? 'is not a directory' : 'has no manifest.json';
      throw new CheckFailed(`${archive} ${what}, so it is not a RAG Ledger archive. Give the directory that \`rag-ledger export\` wrote.`);
    }
    const maxLineBytes = maxLineBytesFrom(io.env.RAG_LEDGER_ARCHIVE_MAX_LINE_BYTES);
    // Every line is checked before the store is opened (and created): a refused archive leaves nothing behind.
    const scanned = scanArchive(archive, { maxLineBytes });
    const store = await openEventStore(args, { mode: 'write', owner: 'the rag-ledger CLI (import)' });
    try {
      const n = await scanned.importInto(store);
      io.out(args.json ? `${JSON.stringify({ imported: n, store: args.store })}\n` : `imported ${plural(n, 'event')} into ${args.store}\n`);
    } finally {
      await store.close();
    }
  },
};

function maxLineBytesFrom(text: string | undefined): number {
  if (text === undefined || text === '') return ARCHIVE_MAX_LINE_BYTES;
  if (!/^\d+$/.test(text) || Number(text) < 1024) throw new UsageError(`RAG_LEDGER_ARCHIVE_MAX_LINE_BYTES must be a number of bytes >= 1024, got ${JSON.stringify(text)}`);
  return Number(text);
}

const VECTORS_PROJECTION = 'vectors';

/** `rebuild --projection vectors`: through the engine the extension runs (its Rebuild Index command). */
async function rebuildVectors(args: ParsedArgs, io: Io): Promise<void> {
  const { engine } = await openCliEngine(args, io, 'rebuild', {}, { create: false });
  try {
    await engine.ledger.runner.catchUp();
    const version = (args.values.pipeline as string | undefined) ?? engine.ledger.readModels.activePipeline();
    if (version === undefined) throw new CheckFailed('this store has no active pipeline version; give --pipeline VERSION (see rag-ledger pipelines)');
    const progress = progressReporter(io, 'rebuilding vectors');
    const { pipelineVersion, ...report } = await engine.rebuildIndex({ pipelineVersion: version, onProgress: (p) => progress.update(p.done, p.total) }).finally(() => progress.done());
    if (args.json) io.out(`${JSON.stringify({ projection: VECTORS_PROJECTION, pipelineVersion, ...report })}\n`);
    else io.out(`rebuilt vectors for ${pipelineVersion}: ${report.upserted} chunks of ${report.documents} documents, from the log (nothing embedded)\n`);
  } finally {
    await engine.close();
  }
}

/** `rebuild --projection explorer`: the event-log explorer's indexes. */
const EXPLORER_PROJECTION = 'explorer';

export const rebuildCommand: Command = {
  name: 'rebuild',
  summary: 'rebuild read models by replaying the log',
  usage: `rag-ledger rebuild [--projection NAME] [--pipeline VERSION] [--json]

  Truncates the read model(s) and replays the log into them.
  Projections: document-status, query-history, retrieval-stats, pipelines (default: all), and
  vectors: drops the LanceDB table of a pipeline version (--pipeline, default the active one) and
  recreates it from the chunks and vectors in the log, without embedding or reading any source;
  explorer: the event-log explorer's index and full-text index (explorer/ in the store).`,
  options: { projection: { type: 'string' }, pipeline: { type: 'string' } },
  allowPositionals: 0,
  async run(args, io) {
    const name = args.values.projection as string | undefined;
    if (name === VECTORS_PROJECTION) {
      await rebuildVectors(args, io);
      return;
    }
    const ledger = await openLedger(args.store, { mode: 'write', create: false, owner: 'the rag-ledger CLI (rebuild)', ...teamOptions(args) });
    try {
      if (name === EXPLORER_PROJECTION) {
        const started = Date.now();
        const explorer = await openExplorer(args.store, ledger);
        try {
          const progress = progressReporter(io, 'rebuilding the explorer index');
          await explorer.timeline.rebuild({ onProgress: (p) => progress.update(p.indexed, p.head) });
          progress.done();
          const result = { projection: EXPLORER_PROJECTION, checkpoint: explorer.timeline.checkpoint, millis: Date.now() - started };
          io.out(args.json ? `${JSON.stringify([result])}\n` : `rebuilt ${EXPLORER_PROJECTION}: ${result.checkpoint} events in ${result.millis} ms\n`);
        } finally {
          await explorer.close();
        }
        return;
      }
      if (name !== undefined && !ledger.runner.projections.some((p) => p.name === name)) {
        throw new UsageError(`unknown projection ${JSON.stringify(name)}; known: ${[...ledger.runner.projections.map((p) => p.name), VECTORS_PROJECTION, EXPLORER_PROJECTION].join(', ')}`);
      }
      const progress = progressReporter(io, 'rebuilding');
      const results = await ledger.runner.rebuild(name, { onProgress: (p) => progress.update(p.position, p.head) });
      progress.done();
      await ledger.projections.flush();
      if (args.json) io.out(`${JSON.stringify(results)}\n`);
      else for (const r of results) io.out(`rebuilt ${r.projection} v${r.version}: ${r.handled} events in ${r.millis} ms (checkpoint ${r.checkpoint})\n`);
    } finally {
      await ledger.close();
    }
  },
};

export const recoverCommand: Command = {
  name: 'recover',
  summary: 'rebuild a damaged store from its intact parts, keeping the originals',
  usage: `rag-ledger recover [--json]

  Reads the snapshot (events.sqlite) and the journal (events.journal), keeps the longest intact
  hash chain, renames the original files to *.before-recover-<time> (nothing is deleted), and
  writes a fresh store. Read models are rebuilt on next use.`,
  options: {},
  allowPositionals: 0,
  async run(args, io) {
    // recoverStore refuses a directory that holds no store (nor an interrupted recovery) itself.
    const report = await recoverStore(args.store);
    if (args.json) {
      io.out(`${JSON.stringify(report)}\n`);
      return;
    }
    io.out(
      [
        `recovered ${report.events} events (from ${report.source}; intact: snapshot ${report.intact.snapshot}, journal ${report.intact.journal})`,
        ...report.notes.map((n) => `note: ${n}`),
        ...report.keptFiles.map((f) => `kept: ${f}`),
      ].join('\n') + '\n',
    );
  },
};
