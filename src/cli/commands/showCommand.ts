import { openLedger } from '../../adapters/ledger.js';
import { ProvenanceService } from '../../app/provenance/provenanceService.js';
import { unmatchedCitationsWarning } from '../../core/answer/citations.js';
import type { Command } from '../cliSupport.js';
import { UsageError, warnIfDamaged, teamOptions } from '../cliSupport.js';

export const showCommand: Command = {
  name: 'show',
  summary: "a question's provenance: answer, prompt, context chunks, embeddings, chunking, document versions",
  usage: `rag-ledger show QUERY_ID [--json]

  Everything the log holds about one question (the id ask prints, e.g. q-1b2c…): the question, the
  retrieval (mode, pipeline version, ranks, scores), each inference (model, prompt hash, outcome) and
  the answer; then, for every retrieved chunk, the DocumentChunked that produced it, the document
  version (DocumentSubmitted: content hash and time) and the ChunkEmbedded of its vector, with their
  log positions. The full prompt is in --json (InferenceRequested.data.prompt).`,
  options: {},
  allowPositionals: 1,
  async run(args, io) {
    const queryId = args.positionals[0];
    if (queryId === undefined) throw new UsageError('show needs the question id (ask prints it)');
    const ledger = await openLedger(args.store, { mode: 'read', ...teamOptions(args) });
    warnIfDamaged(io, ledger.events);
    try {
      const p = await new ProvenanceService({ events: ledger.events, runner: ledger.runner, readModels: ledger.readModels }).show(queryId);
      if (args.json) {
        io.out(`${JSON.stringify(p, (_k, v: unknown) => (v instanceof Float32Array ? Array.from(v) : v))}\n`);
        return;
      }
      const lines: string[] = [];
      for (const e of p.chain) {
        const at = `#${e.position} ${e.recordedAt}`;
        switch (e.type) {
          case 'QueryReceived':
            lines.push(`${at} QueryReceived      "${e.data.query_text}" by ${e.data.user_id}`);
            break;
          case 'ContextRetrieved':
            lines.push(`${at} ContextRetrieved   ${e.data.chunk_ids.length} chunks, ${e.data.mode ?? '?'} retrieval, pipeline ${e.data.pipeline_version ?? '?'}`);
            break;
          case 'InferenceRequested':
            lines.push(`${at} InferenceRequested ${e.data.model_id}${e.data.host ? ` at ${e.data.host}` : ''}, prompt ${e.data.prompt_hash.slice(0, 23)}…`);
            if ((e.data.omitted_chunk_ids?.length ?? 0) + (e.data.clipped_chunk_ids?.length ?? 0) > 0) {
              lines.push(`    to fit ${e.data.context_tokens ?? '?'} tokens: left out ${e.data.omitted_chunk_ids?.join(', ') || 'none'}; clipped ${e.data.clipped_chunk_ids?.join(', ') || 'none'}`);
            }
            break;
          case 'InferenceCompleted':
            lines.push(`${at} InferenceCompleted ${e.data.model_id ?? ''} ${e.data.tokens_used} tokens${e.data.duration_ms !== undefined ? `, ${e.data.duration_ms} ms` : ''}`);
            if (e.metadata.forgotten_by !== undefined) lines.push('    (answer emptied: source forgotten)');
            else lines.push(...e.data.response_text.split('\n').map((l) => `    ${l}`));
            if (e.data.unmatched_citations.length > 0) lines.push(`    ${unmatchedCitationsWarning(e.data.unmatched_citations)}`);
            break;
          case 'InferenceFailed':
            lines.push(`${at} InferenceFailed    ${e.data.model_id}: ${e.data.reason}: ${e.data.detail}`);
            break;
          case 'ContextReplayed': {
            const d = e.data.diff as { overlap_at_k?: number; rbo?: number } | null;
            lines.push(
              `${at} ContextReplayed    replay ${e.data.replay_id}: ${e.data.chunk_ids.length} chunks, ${e.data.mode} retrieval, pipeline ${e.data.pipeline_version}` +
                `${e.data.as_of_position !== undefined ? ` as of #${e.data.as_of_position}` : ''}; overlap@${e.data.k} ${d?.overlap_at_k?.toFixed(3) ?? '?'}, RBO ${d?.rbo?.toFixed(3) ?? '?'}`,
            );
            break;
          }
          case 'ReplayAnswered':
            lines.push(`${at} ReplayAnswered     replay ${e.data.replay_id} by ${e.data.model_id}${e.data.similarity !== undefined ? `, similarity to the original ${e.data.similarity.toFixed(3)}` : ''}`);
            break;
          default:
            lines.push(`${at} ${e.type}`);
        }
      }
      lines.push('context:');
      for (const c of p.chunks) {
        lines.push(`  [${c.rank}] ${c.path ?? '?'}:${c.lines ?? '?'}  score ${c.score.toFixed(4)}  chunk ${c.chunkId}`);
        if (c.sourceForgotten) lines.push(`      source forgotten #${c.sourceForgotten.position} at ${c.sourceForgotten.forgottenAt}${c.sourceForgotten.reason ? ` (${c.sourceForgotten.reason})` : ''}: its text and vector are no longer in the log`);
        if (c.documentVersion) lines.push(`      document version #${c.documentVersion.position} (${c.documentVersion.contentHash ?? 'no hash'}, submitted ${c.documentVersion.submittedAt})`);
        if (c.chunking) lines.push(`      chunked #${c.chunking.position} for ${c.chunking.pipelineVersion}`);
        lines.push(c.embedding ? `      embedded #${c.embedding.position} by ${c.embedding.model}` : '      no vector (lexical retrieval)');
      }
      io.out(`${lines.join('\n')}\n`);
    } finally {
      await ledger.close();
    }
  },
};
