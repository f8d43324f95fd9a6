/**
 * One line per event for the timeline and `rag-ledger log`: what happened, in words, clipped. Pure
 * function of the decoded event; never includes document content, vectors or prompts.
 */
import type { RecordedEvent } from '../eventStore.js';

/** Rows and subjects are clipped to this many characters (the detail pane shows everything). */
export const SUMMARY_MAX = 240;

/** Shortens to `max` characters on one line (newlines and runs of spaces become one space). */
export function oneLine(text: string, max = SUMMARY_MAX): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

const short = (id: string, n = 12): string => (id.length <= n ? id : `${id.slice(0, n)}…`);
const ratio = (x: unknown): string => (typeof x === 'number' ? x.toFixed(3) : '?');

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function duration(ms: number | undefined): string {
  if (ms === undefined) return '';
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** The one-line summary of an event; an event emptied by a forget says so first. */
export function summarize(e: RecordedEvent): string {
  const text = summarizeData(e);
  return typeof e.metadata.forgotten_by === 'string' ? `content forgotten · ${text}` : text;
}

function summarizeData(e: RecordedEvent): string {
  const pv = typeof e.metadata.pipeline_version === 'string' ? e.metadata.pipeline_version : null;
  switch (e.type) {
    case 'DocumentSubmitted':
      return oneLine(`${e.data.source} · ${e.data.raw_content.length.toLocaleString('en-US')} characters${e.data.content_hash ? ` · ${short(e.data.content_hash.replace(/^sha256:/, ''))}` : ''}`);
    case 'DocumentValidated':
      return oneLine(`valid ${e.data.format}, ${bytes(e.data.byte_count)}${e.data.secrets_redacted > 0 ? `, ${e.data.secrets_redacted} secret${e.data.secrets_redacted === 1 ? '' : 's'} redacted` : ''}`);
    case 'DocumentRejected':
      return oneLine(`rejected (${e.data.reason}${e.data.size_bytes !== null ? `, ${bytes(e.data.size_bytes)}` : ''}): ${e.data.detail}`);
    case 'DocumentChunked':
      return oneLine(`${e.data.chunks.length} chunk${e.data.chunks.length === 1 ? '' : 's'}${pv ? ` for ${pv}` : ''}`);
    case 'DocumentDeleted':
      return oneLine(`deleted: ${e.data.reason}`);
    case 'DocumentForgotten':
      return oneLine(`forgotten by ${e.data.actor}: ${e.data.emptied.length} event${e.data.emptied.length === 1 ? '' : 's'} emptied${e.data.questions.length > 0 ? `, ${e.data.questions.length} question${e.data.questions.length === 1 ? '' : 's'}` : ''}${e.data.reason ? ` · ${e.data.reason}` : ''}`);
    case 'ChunkEmbedded':
      return oneLine(`${e.data.embedding_model} · ${e.data.dimensions} dims · chunk ${short(e.data.chunk_id)}`);
    case 'ChunkEmbeddingFailed':
      return oneLine(`embedding failed (${e.data.embedding_model}): ${e.data.reason}`);
    case 'ChunkIndexed':
      return oneLine(`indexed in ${e.data.index_name} · chunk ${short(e.data.chunk_id)}`);
    case 'QueryReceived':
      return oneLine(`“${e.data.query_text}” asked by ${e.data.user_id}`);
    case 'ContextRetrieved': {
      const top = e.data.scores[0];
      return oneLine(`${e.data.chunk_ids.length} chunks${e.data.mode ? ` · ${e.data.mode}` : ''}${top !== undefined ? ` · top score ${top.toFixed(3)}` : ''}${e.data.pipeline_version ? ` · ${e.data.pipeline_version}` : ''}`);
    }
    case 'InferenceRequested':
    {
      const left = e.data.omitted_chunk_ids?.length ?? 0;
      const clipped = e.data.clipped_chunk_ids?.length ?? 0;
      const fit = left + clipped > 0 ? ` · to fit ${e.data.context_tokens ?? '?'} tokens: ${left} passage${left === 1 ? '' : 's'} left out, ${clipped} clipped` : '';
      return oneLine(`prompt to ${e.data.model_id}${e.data.host ? ` at ${e.data.host}` : ''} · ${short(e.data.prompt_hash.replace(/^sha256:/, ''))}${fit}`);
    }
    case 'InferenceCompleted':
    {
      const unmatched = e.data.unmatched_citations.length > 0 ? ` · ⚠ cites ${e.data.unmatched_citations.map((n) => `[${n}]`).join(', ')}: no such passage` : '';
      return oneLine(`${e.data.model_id ?? 'answer'} · ${e.data.tokens_used} tokens${e.data.duration_ms !== undefined ? ` · ${duration(e.data.duration_ms)}` : ''}${unmatched} · ${e.data.response_text}`);
    }
    case 'InferenceFailed':
      return oneLine(`${e.data.model_id} failed (${e.data.reason}): ${e.data.detail}`);
    case 'ContextReplayed': {
      const d = e.data.diff as { overlap_at_k?: unknown; rbo?: unknown } | null;
      return oneLine(`replayed against ${e.data.pipeline_version}${e.data.as_of_position !== undefined ? ` as of #${e.data.as_of_position}` : ''} · overlap ${ratio(d?.overlap_at_k)} · RBO ${ratio(d?.rbo)}`);
    }
    case 'ReplayAnswered':
      return oneLine(`re-answered by ${e.data.model_id}${e.data.similarity !== undefined ? ` · similarity ${e.data.similarity.toFixed(3)}` : ''}${e.data.generation_failure ? ` · model failed: ${e.data.generation_failure}` : ''}`);
    case 'PipelineVersionDefined':
      return oneLine(`defined ${e.data.pipeline_version} “${e.data.label}”`);
    case 'PipelineVersionActivated':
      return oneLine(`activated ${e.data.pipeline_version}`);
    case 'HeadSigned':
      return oneLine(`signed head #${e.data.position} with key ${e.data.key_id}`);
    default: {
      const unreachable: never = e;
      return String((unreachable as { type: string }).type);
    }
  }
}
