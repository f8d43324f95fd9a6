/**
 * A synthetic but realistic event log for explorer tests and benchmarks: documents submitted,
 * validated, chunked, embedded and indexed for an active pipeline version, part of them rebuilt for a
 * second version in the shadow, questions with their whole chains, replays, and a sprinkling of
 * failures, spread over time. Deterministic for a given seed. Searchable marker words appear at
 * known rates (see MARKERS).
 */
import { openLedger } from '../../src/adapters/ledger.js';
import type { NewEvent, StreamWrite } from '../../src/core/eventStore.js';
import { embedderKey } from '../../src/core/pipeline/pipelineConfig.js';
import { mulberry32 as prng } from './prng.js';

export interface SyntheticLogOptions {
  readonly documents: number;
  /** Share of documents chunked, embedded and indexed for the second version too. */
  readonly shadowShare?: number;
  readonly questions: number;
  /** Vector dimensions of ChunkEmbedded events. */
  readonly dimensions?: number;
  /** Characters of a document's content (about). */
  readonly documentChars?: number;
  /**
   * Draw each document's size from a log-uniform spread between these characters instead
   * (e.g. [300, 8000], a workspace's mix of small and large files); `documentChars` is then unused.
   */
  readonly documentCharsRange?: readonly [number, number];
  readonly seed?: number;
  /** Put markup and very long words into some paths, questions and answers. */
  readonly hostile?: boolean;
}

export const PV1 = 'pv-000000000001';
export const PV2 = 'pv-000000000002';

/** Marker words and the share of chunks (or questions) that contain them. */
export const MARKERS = { common: ['borrow', 0.1], uncommon: ['lifetime', 0.01], rare: ['zeppelin', 0.001] } as const;

const HOSTILE = ['<img src=x onerror=alert(1)>', '<script>alert(1)</script>', '\u202eevil.md', `${'x'.repeat(4000)}`];

const SYLLABLES = ['ka', 'ro', 'mi', 'tel', 'ser', 'von', 'da', 'lu', 'pex', 'tor', 'an', 'qui', 'bel', 'sto', 'ne', 'fa'];

/** Batches of stream writes, in the order they would be appended, with the clock of each batch. */
export function* syntheticLog(options: SyntheticLogOptions): Generator<{ writes: StreamWrite[]; time: string }> {
  const rand = prng(options.seed ?? 42);
  const dims = options.dimensions ?? 384;
  const chars = options.documentChars ?? 1200;
  const shadowShare = options.shadowShare ?? 0.3;
  const vocabulary = Array.from({ length: 3000 }, (_, i) => `${SYLLABLES[i % 16]}${SYLLABLES[(i >> 4) % 16]}${SYLLABLES[(i >> 8) % 16]}`);
  const word = (): string => vocabulary[Math.floor(rand() ** 2 * vocabulary.length)]!;
  const sentence = (n: number): string => Array.from({ length: n }, word).join(' ');
  const withMarkers = (text: string): string => {
    let out = text;
    for (const [w, share] of Object.values(MARKERS)) if (rand() < share) out += ` ${w}`;
    return out;
  };
  const vector = (): Float32Array => {
    const v = new Float32Array(dims);
    let norm = 0;
    for (let i = 0; i < dims; i++) {
      v[i] = rand() - 0.5;
      norm += v[i]! * v[i]!;
    }
    const s = 1 / Math.sqrt(norm);
    for (let i = 0; i < dims; i++) v[i]! *= s;
    return v;
  };
  let clock = Date.parse('2025-12-01T08:00:00.000Z');
  const tick = (ms: number): string => {
    clock += ms;
    return new Date(clock).toISOString();
  };
  const embedderInfo = { model: 'synthetic/model', revision: 'main', dtype: 'fp32', dimensions: dims, pooling: 'mean', normalize: true } as const;
  // Vectors are recorded under the embedder's key, as the pipeline records them (so a rebuild of the vector table finds them).
  const embedder = embedderKey(embedderInfo);
  const config = (chunkChars: number) => ({
    chunker: { markdownMaxChars: chunkChars, codeWindowLines: 60, codeOverlapLines: 8, textMaxChars: chunkChars },
    embedder: embedderInfo,
    retrieval: { k: 8, mode: 'hybrid' },
    prompt: { template: 'cited-answer-v1' },
    generator: { model: 'llama3.2' },
  });
  let time = tick(0);
  yield {
    time,
    writes: [
      { streamId: `pipeline-${PV1}`, events: [{ type: 'PipelineVersionDefined', data: { pipeline_version: PV1, label: 'first ingest', config: config(1500), defined_at: time } }, { type: 'PipelineVersionActivated', data: { pipeline_version: PV1, activated_at: time } }] },
      { streamId: `pipeline-${PV2}`, events: [{ type: 'PipelineVersionDefined', data: { pipeline_version: PV2, label: 'smaller chunks', config: config(600), defined_at: time } }] },
    ],
  };
  const chunksOf = new Map<number, string[]>();
  const BATCH = 64;
  for (let start = 0; start < options.documents; start += BATCH) {
    time = tick(200 + Math.floor(rand() * 2_000));
    const writes: StreamWrite[] = [];
    for (let i = start; i < Math.min(options.documents, start + BATCH); i++) {
      const documentId = `doc-${i.toString(16).padStart(24, '0')}`;
      const hostile = options.hostile && i % 97 === 13 ? HOSTILE[i % HOSTILE.length] : '';
      const source = `src/module${i % 100}/${hostile}file${i}.md`;
      const range = options.documentCharsRange;
      const docChars = range ? range[0] * Math.exp(rand() * Math.log(range[1] / range[0])) : chars;
      const words = sentence(Math.max(4, Math.round(docChars / 7)));
      const content = withMarkers(range ? words.slice(0, Math.round(docChars)).trimEnd() : words);
      const meta = { actor: 'synthetic', pipeline_version: PV1, causation_id: `sub-${i}` };
      const events: NewEvent[] = [{ type: 'DocumentSubmitted', eventId: `sub-${i}`, data: { document_id: documentId, source, raw_content: content, content_hash: `sha256:${i.toString(16).padStart(64, '0')}`, submitted_at: time } }];
      if (rand() < 0.01) {
        events.push({ type: 'DocumentRejected', data: { document_id: documentId, reason: 'secret', detail: `line 3 holds a private key${hostile ? ` ${hostile}` : ''}`, size_bytes: content.length, rejected_at: time } });
        writes.push({ streamId: `document-${documentId}`, events });
        continue;
      }
      events.push({ type: 'DocumentValidated', data: { document_id: documentId, format: 'markdown', byte_count: content.length, secrets_redacted: 0, validated_at: time } });
      const half = content.length >> 1;
      const ids = [`ck-a-${i}`, `ck-b-${i}`];
      chunksOf.set(i, ids);
      events.push({
        type: 'DocumentChunked',
        metadata: meta,
        data: {
          document_id: documentId,
          chunks: [
            { chunk_id: ids[0]!, text: content.slice(0, half), position: { index: 0, start_line: 1, end_line: 10, start_char: 0, end_char: half } },
            { chunk_id: ids[1]!, text: content.slice(half), position: { index: 1, start_line: 11, end_line: 20, start_char: half, end_char: content.length } },
          ],
          chunked_at: time,
        },
      });
      for (const id of ids) {
        if (rand() < 0.005) events.push({ type: 'ChunkEmbeddingFailed', metadata: meta, data: { chunk_id: id, embedding_model: embedder, reason: 'the model ran out of memory', failed_at: time } });
        else events.push({ type: 'ChunkEmbedded', metadata: meta, data: { chunk_id: id, embedding_model: embedder, dimensions: dims, vector: vector(), embedded_at: time } });
      }
      for (const id of ids) events.push({ type: 'ChunkIndexed', metadata: meta, data: { chunk_id: id, index_name: PV1, indexed_at: time } });
      if (rand() < shadowShare) {
        const meta2 = { ...meta, pipeline_version: PV2 };
        const third = Math.floor(content.length / 3);
        const ids2 = [`ck-c-${i}`, `ck-d-${i}`, `ck-e-${i}`];
        events.push({
          type: 'DocumentChunked',
          metadata: meta2,
          data: {
            document_id: documentId,
            chunks: ids2.map((id, j) => ({ chunk_id: id, text: content.slice(j * third, j === 2 ? content.length : (j + 1) * third), position: { index: j, start_line: 1 + j * 7, end_line: 7 + j * 7, start_char: j * third, end_char: j === 2 ? content.length : (j + 1) * third } })),
            chunked_at: time,
          },
        });
        for (const id of ids2) events.push({ type: 'ChunkEmbedded', metadata: meta2, data: { chunk_id: id, embedding_model: embedder, dimensions: dims, vector: vector(), embedded_at: time } });
        for (const id of ids2) events.push({ type: 'ChunkIndexed', metadata: meta2, data: { chunk_id: id, index_name: PV2, indexed_at: time } });
      }
      if (rand() < 0.005) events.push({ type: 'DocumentDeleted', data: { document_id: documentId, reason: 'the file no longer exists', deleted_at: time } });
      writes.push({ streamId: `document-${documentId}`, events });
    }
    yield { time, writes };
  }
  // Questions come after the ingest, over the following weeks.
  const known = [...chunksOf.keys()];
  const QBATCH = 32;
  for (let start = 0; start < options.questions; start += QBATCH) {
    time = tick(60_000 + Math.floor(rand() * 3_600_000));
    const writes: StreamWrite[] = [];
    for (let q = start; q < Math.min(options.questions, start + QBATCH); q++) {
      const queryId = `q-${q.toString(16).padStart(8, '0')}-synthetic`;
      const hostile = options.hostile && q % 53 === 7 ? HOSTILE[q % HOSTILE.length] : '';
      const question = withMarkers(`how does ${word()} ${word()} work ${hostile}`.trim());
      const meta = { actor: 'synthetic', correlation_id: queryId, pipeline_version: PV1 };
      const cited = known.length === 0 ? [] : Array.from({ length: 8 }, (_, j) => chunksOf.get(known[Math.floor(rand() * known.length)]!)![j % 2]!);
      const unique = [...new Set(cited)];
      const answerText = `${withMarkers(sentence(60))} [1] ${hostile}`;
      const events: NewEvent[] = [
        { type: 'QueryReceived', metadata: meta, data: { query_id: queryId, query_text: question, user_id: 'synthetic', received_at: time } },
        { type: 'ContextRetrieved', metadata: meta, data: { query_id: queryId, chunk_ids: unique, scores: unique.map((_, j) => 1 / (j + 2)), ranks: unique.map((_, j) => j + 1), mode: 'hybrid', pipeline_version: PV1, retrieved_at: time } },
        { type: 'InferenceRequested', metadata: meta, data: { query_id: queryId, model_id: 'llama3.2', prompt_hash: `sha256:${q.toString(16).padStart(64, '0')}`, prompt: { system: 'Answer from the context.', user: `Context:\n${sentence(300)}\n\nQuestion: ${question}` }, requested_at: time } },
      ];
      if (rand() < 0.01) events.push({ type: 'InferenceFailed', metadata: meta, data: { query_id: queryId, model_id: 'llama3.2', reason: 'unreachable', detail: 'no Ollama server answered at http://127.0.0.1:11434', failed_at: time } });
      else events.push({ type: 'InferenceCompleted', metadata: meta, data: { query_id: queryId, response_text: answerText, tokens_used: 420, model_id: 'llama3.2', duration_ms: 800 + Math.floor(rand() * 4000), unmatched_citations: [], completed_at: time } });
      if (rand() < 0.05) {
        const replayId = `r-${q.toString(16).padStart(8, '0')}-synthetic`;
        events.push({
          type: 'ContextReplayed',
          metadata: { actor: 'synthetic', correlation_id: replayId, pipeline_version: PV2 },
          data: { replay_id: replayId, query_id: queryId, pipeline_version: PV2, original_pipeline_version: PV1, mode: 'hybrid', k: 8, chunk_ids: unique.slice(0, 4), scores: [0.5, 0.4, 0.3, 0.2].slice(0, Math.min(4, unique.length)), ranks: [1, 2, 3, 4].slice(0, Math.min(4, unique.length)), diff: { overlap_at_k: 0.5, rbo: 0.61 }, replayed_at: time },
        });
      }
      writes.push({ streamId: `query-${queryId}`, events });
    }
    yield { time, writes };
  }
}

/**
 * Writes a synthetic log into a new store at `dir` (each batch recorded at its own time) and
 * returns the number of events.
 */
export async function buildSyntheticStore(dir: string, options: SyntheticLogOptions, onProgress?: (events: number) => void): Promise<number> {
  let now = new Date().toISOString();
  const ledger = await openLedger(dir, { mode: 'write', clock: () => now, owner: 'a synthetic log' });
  try {
    for (const batch of syntheticLog(options)) {
      now = batch.time;
      await ledger.events.appendMany(batch.writes);
      onProgress?.((await ledger.events.head()).position);
    }
    return (await ledger.events.head()).position;
  } finally {
    await ledger.close();
  }
}
