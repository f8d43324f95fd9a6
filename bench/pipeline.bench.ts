// Benchmark of the pipeline (npm run bench:pipeline), measured side by side in one run:
//   (a) event-sourced ingest: IngestService + EmbedService + IndexService on a sql.js store and LanceDB;
//   (b) a bare pipeline with the same walker, checks, chunker, embedder, batching (by text length)
//       and LanceDB writes, and no events;
//   (c) rebuilding the vector table from the log (IndexService.rebuild: nothing embedded or read);
//   retrieval latency (p50/p95) at ~10k and ~100k chunks, with recall@10 of the index against exact search;
//   peak RSS (each retrieval size in a process of its own) and log bytes per document.
// Corpus: ../shared/corpora/rust-book (or $RAG_LEDGER_CORPUS), copied BENCH_SCALE times. Embedder: a
// BERT-shaped ONNX model generated with the corpus's words as vocabulary (see test/support/tinyModel.ts),
// through the real transformers.js path in a worker; it is small, so the pipeline's own overhead shows most.
// Retrieval tables are filled with the corpus's real vectors, repeated up to the size with random
// perturbations of norm 0.3 (clusters of near-duplicates, as real corpora have); queries are corpus
// vectors perturbed the same way.
//
// Knobs: BENCH_SCALE (default 1), BENCH_DIMS (384), BENCH_SIZES ("10000,100000"), BENCH_QUERIES (100).
import * as lancedb from '@lancedb/lancedb';
import { cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { fork } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { cpus, loadavg } from 'node:os';
import { join, relative } from 'node:path';
import { FsWorkspaceSource } from '../src/adapters/fs/fsWorkspaceSource.js';
import { openLedger, openVectorIndex } from '../src/adapters/ledger.js';
import { LanceVectorIndex, tableNameFor } from '../src/adapters/lancedb/lanceVectorIndex.js';
import { sha256 } from '../src/adapters/node/sha256.js';
import { TransformersEmbedder } from '../src/adapters/transformers/transformersEmbedder.js';
import { EmbedService } from '../src/app/embedding/embedService.js';
import { IndexService } from '../src/app/indexing/indexService.js';
import { IngestService, documentIdFor } from '../src/app/ingest/ingestService.js';
import type { IndexedChunk } from '../src/app/indexing/vectorIndex.js';
import { PipelineService } from '../src/app/pipelines/pipelineService.js';
import { chunkDocument, embeddingText } from '../src/core/chunking/chunker.js';
import { DEFAULT_MAX_BYTES, checkDocument } from '../src/core/ingest/documentCheck.js';
import type { PipelineConfig } from '../src/core/pipeline/pipelineConfig.js';
import { DEFAULT_PIPELINE } from '../src/core/pipeline/pipelineConfig.js';
import { rustBookCorpus } from '../test/support/corpus.js';
import { ensureTinyModel } from '../test/support/tinyModel.js';
import { rng } from './storeWorkload.js';
import { TempDirs, corpusWords, dirBytes, envInt, fmt, fmtInt, fmtMiB, markdownTable, median, peakRss, percentile } from './benchUtil.js';

const repoRoot = join(__dirname, '..');
const CORPUS = rustBookCorpus;
const SCALE = envInt('BENCH_SCALE', 1);
const DIMS = envInt('BENCH_DIMS', 384);
const SIZES = (process.env.BENCH_SIZES ?? '10000,100000').split(',').map(Number);
const QUERIES = envInt('BENCH_QUERIES', 100);
const MODEL_ID = `rag-ledger/tiny-bert-bench-${DIMS}`;
const BATCH = 32;

const temp = new TempDirs('rag-ledger-pipeline-bench-');
const rows: string[][] = [];
const results: Record<string, unknown> = {};
const log = (s: string): void => console.log(s);
const row = (metric: string, value: string, target = '', ok: boolean | null = null): void => void rows.push([metric, value, target, ok === null ? '' : ok ? 'yes' : 'NO']);


const clock = (): string => new Date().toISOString();

async function eventSourced(workspace: string, config: PipelineConfig, embedder: TransformersEmbedder) {
  const storeDir = temp.create('store');
  const ledger = await openLedger(storeDir);
  const index = await openVectorIndex(storeDir);
  const deps = { events: ledger.events, runner: ledger.runner, readModels: ledger.readModels, hasher: sha256, clock, actor: 'bench' };
  // How long this thread (the extension host's, in VS Code) is kept busy at a stretch: the model
  // runs in a worker, so what shows here is the log, chunking and indexing work.
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const t0 = performance.now();
  const pv = await new PipelineService(deps).defineAndActivateIfNone(config, 'bench');
  const ingest = await new IngestService(deps).ingest(new FsWorkspaceSource(workspace), {
    walk: { include: [], exclude: [], respectGitignore: true },
    documents: { maxBytes: DEFAULT_MAX_BYTES, allowSecrets: false },
    chunker: config.chunker,
    pipelineVersion: pv,
  });
  const t1 = performance.now();
  const embed = await new EmbedService(deps).embedPending({ pipelineVersion: pv, embedder, batchSize: BATCH });
  const t2 = performance.now();
  const indexer = new IndexService({ ...deps, index });
  const indexed = await indexer.sync(pv);
  const t3 = performance.now();
  await ledger.projections.flush();
  loop.disable();
  const ms = { total: t3 - t0, ingest: t1 - t0, embed: t2 - t1, index: t3 - t2 };
  const blocking = { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 };
  return { blocking, storeDir, ledger, index, indexer, pv, ms, documents: ingest.submitted, chunks: ingest.chunks, embedded: embed.embedded, indexed: indexed.upserted };
}

async function bare(workspace: string, config: PipelineConfig, embedder: TransformersEmbedder) {
  const dir = temp.create('bare');
  const index = await LanceVectorIndex.open(dir);
  const source = new FsWorkspaceSource(workspace);
  const t0 = performance.now();
  // Same policy as the event-sourced pipeline: read and chunk everything, embed in batches of
  // texts sorted by length (least padding), write rows in commits of 500 documents.
  const docs: string[] = [];
  const texts: { row: Omit<IndexedChunk, 'vector'>; input: string }[] = [];
  for await (const file of source.walk({ include: [], exclude: [], respectGitignore: true })) {
    const bytes = await source.read(file.path, { maxBytes: DEFAULT_MAX_BYTES });
    const verdict = checkDocument(file.path, bytes, { maxBytes: DEFAULT_MAX_BYTES, allowSecrets: false });
    if (!verdict.ok) continue;
    const documentId = documentIdFor(sha256, file.path);
    docs.push(documentId);
    for (const c of chunkDocument(documentId, verdict.text, verdict.format, config.chunker, sha256)) {
      texts.push({ row: { chunkId: c.chunk_id, documentId, documentVersion: 1, path: file.path, startLine: c.position.start_line, endLine: c.position.end_line, text: c.text }, input: embeddingText(c) });
    }
  }
  const order = texts.map((_, i) => i).sort((x, y) => texts[x]!.input.length - texts[y]!.input.length);
  const vectors: Float32Array[] = new Array<Float32Array>(texts.length);
  for (let i = 0; i < order.length; i += BATCH) {
    const slice = order.slice(i, i + BATCH);
    const out = await embedder.embed(slice.map((k) => texts[k]!.input));
    slice.forEach((k, n) => (vectors[k] = out[n]!));
  }
  const byDoc = new Map<string, IndexedChunk[]>();
  texts.forEach((t, i) => byDoc.set(t.row.documentId, [...(byDoc.get(t.row.documentId) ?? []), { ...t.row, vector: vectors[i]! }]));
  for (let i = 0; i < docs.length; i += 500) {
    const commit = docs.slice(i, i + 500);
    await index.replaceDocuments('bare', config.embedder.dimensions, commit, commit.flatMap((d) => byDoc.get(d) ?? []));
  }
  await index.optimize('bare');
  const ms = performance.now() - t0;
  await index.close();
  return { ms, chunks: texts.length, dir };
}

/** A vector plus Gaussian noise of about the given total norm, renormalised. */
function jitter(v: Float32Array, noiseNorm: number, next: () => number): Float32Array {
  const sigma = noiseNorm / Math.sqrt(v.length);
  const out = new Float32Array(v.length);
  let norm = 0;
  for (let i = 0; i < v.length; i++) {
    const g = Math.sqrt(-2 * Math.log(next() || 1e-12)) * Math.cos(2 * Math.PI * next());
    out[i] = v[i]! + sigma * g;
    norm += out[i]! * out[i]!;
  }
  norm = Math.sqrt(norm);
  for (let i = 0; i < out.length; i++) out[i]! /= norm;
  return out;
}

async function retrievalAt(size: number, base: readonly { vector: Float32Array; text: string }[]) {
  const dir = temp.create(`retrieval-${size}`);
  const index = await LanceVectorIndex.open(dir);
  const next = rng(size);
  const pv = `bench-${size}`;
  const t0 = performance.now();
  for (let start = 0; start < size; start += 5000) {
    const batch: IndexedChunk[] = [];
    for (let i = start; i < Math.min(size, start + 5000); i++) {
      const b = base[i % base.length]!;
      batch.push({ chunkId: `c${i}`, documentId: `d${Math.floor(i / 4)}`, documentVersion: 1, path: `p${i}.md`, startLine: 1, endLine: 2, text: b.text, vector: i < base.length ? b.vector : jitter(b.vector, 0.3, next) });
    }
    await index.replaceDocuments(pv, DIMS, [...new Set(batch.map((r) => r.documentId))], batch);
  }
  await index.optimize(pv);
  const buildMs = performance.now() - t0;
  const stats = await index.stats(pv);
  const latencies: number[] = [];
  const searches: { query: Float32Array; hits: string[] }[] = [];
  for (let q = 0; q < QUERIES; q++) {
    const query = jitter(base[Math.floor(next() * base.length)]!.vector, 0.3, next);
    const t = performance.now();
    const hits = await index.vectorSearch(pv, query, 10);
    latencies.push(performance.now() - t);
    searches.push({ query, hits: hits.map((h) => h.chunkId) });
  }
  // The footprint of building and searching the index; the exact (flat) searches that follow are
  // the benchmark's ground truth, not something the product does, and scan the whole table.
  const peak = peakRss();
  const raw = await (await lancedb.connect(dir)).openTable(tableNameFor(pv));
  const recalls: number[] = [];
  for (const { query, hits } of searches) {
    const exact = (await raw.vectorSearch(Array.from(query)).distanceType('cosine').bypassVectorIndex().limit(10).select(['chunk_id', '_distance']).toArray()) as { chunk_id: string }[];
    const truth = new Set(exact.map((e) => e.chunk_id));
    recalls.push(hits.filter((h) => truth.has(h)).length / Math.max(1, truth.size));
  }
  raw.close();
  await index.close();
  return { size, annIndex: stats.annIndex, buildMs, p50: percentile(latencies, 50), p95: percentile(latencies, 95), recall: recalls.reduce((a, b) => a + b, 0) / recalls.length, peakRss: peak };
}

/**
 * Each retrieval size runs in a process of its own, as `ask` on a store of that size would: its
 * peak RSS is that of building and searching an index of that many chunks, not of whatever ran
 * before it in this process. The corpus vectors travel through a file.
 */
function retrievalInChild(size: number, baseFile: string): Promise<Awaited<ReturnType<typeof retrievalAt>>> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, [], { env: { ...process.env, BENCH_RETRIEVAL_CHILD: `${size}:${baseFile}` }, execArgv: process.execArgv, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as Awaited<ReturnType<typeof retrievalInChild>>);
      else reject(new Error(`retrieval at ${size} failed (exit ${code}): ${out}`));
    });
  });
}

function writeBase(base: readonly { vector: Float32Array; text: string }[], file: string): void {
  const vectors = new Float32Array(base.length * DIMS);
  base.forEach((b, i) => vectors.set(b.vector, i * DIMS));
  writeFileSync(`${file}.f32`, Buffer.from(vectors.buffer));
  writeFileSync(`${file}.json`, JSON.stringify(base.map((b) => b.text)));
}

function readBase(file: string): { vector: Float32Array; text: string }[] {
  const texts = JSON.parse(readFileSync(`${file}.json`, 'utf8')) as string[];
  const bytes = readFileSync(`${file}.f32`);
  const all = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return texts.map((text, i) => ({ text, vector: all.slice(i * DIMS, (i + 1) * DIMS) }));
}

async function retrievalChild(spec: string): Promise<void> {
  const [size, file] = [Number(spec.slice(0, spec.indexOf(':'))), spec.slice(spec.indexOf(':') + 1)];
  const r = await retrievalAt(size, readBase(file));
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

async function main(): Promise<void> {
  if (!existsSync(CORPUS)) {
    console.error(`corpus not found at ${CORPUS}; set RAG_LEDGER_CORPUS to a folder to benchmark on`);
    process.exit(2);
  }
  log(`# bench:pipeline  corpus ${CORPUS} x${SCALE}, ${DIMS} dims, ${cpus().length} cores, load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const workspace = temp.create('workspace');
  for (let i = 0; i < SCALE; i++) cpSync(CORPUS, join(workspace, `copy-${i}`), { recursive: true });
  const models = temp.create('models');
  ensureTinyModel(models, DIMS, { id: MODEL_ID, words: corpusWords(CORPUS, DEFAULT_MAX_BYTES) });
  const config: PipelineConfig = { ...DEFAULT_PIPELINE, embedder: { ...DEFAULT_PIPELINE.embedder, model: MODEL_ID, dtype: 'fp32', dimensions: DIMS } };
  const embedder = await TransformersEmbedder.load({ model: MODEL_ID, modelDir: models, dtype: 'fp32' });
  await embedder.embed(['warm up the worker and the model']);

  // Alternating runs, medians: the first pass over the model's input shapes is slower than the
  // rest, and the machine is shared; b a b a b evens both out.
  log('\n## (b) bare pipeline and (a) event-sourced, alternating: b a b a b');
  const bRuns: number[] = [];
  const aRuns: number[] = [];
  let a!: Awaited<ReturnType<typeof eventSourced>>;
  for (let round = 0; round < 3; round++) {
    const b = await bare(workspace, config, embedder);
    bRuns.push(b.ms);
    log(`  (b) ${fmt(b.ms / 1000, 2)} s for ${fmtInt(b.chunks)} chunks`);
    if (round === 2) break;
    if (round === 1) {
      await a.index.close();
      await a.ledger.close();
    }
    a = await eventSourced(workspace, config, embedder);
    aRuns.push(a.ms.total);
    log(`  (a) ${fmt(a.ms.total / 1000, 2)} s (ingest+chunk ${fmt(a.ms.ingest / 1000, 2)} s, embed ${fmt(a.ms.embed / 1000, 2)} s, index ${fmt(a.ms.index / 1000, 2)} s) for ${fmtInt(a.chunks)} chunks of ${fmtInt(a.documents)} documents`);
  }
  const aMs = median(aRuns);
  const bMs = median(bRuns);
  const ratio = aMs / bMs;
  row('(a) event-sourced ingest, median of 2 (s)', fmt(aMs / 1000, 2));
  row('(b) bare pipeline, median of 3 (s)', fmt(bMs / 1000, 2));
  row('(a)/(b)', fmt(ratio, 3), '<= 1.25', ratio <= 1.25);
  row('(a) event-loop delay of the ingesting thread, p99 / max (ms)', `${fmt(a.blocking.p99, 1)} / ${fmt(a.blocking.max, 1)}`);

  log('\n## (c) rebuild the vector table from the log');
  const t = performance.now();
  const rebuilt = await a.indexer.rebuild(a.pv);
  const cMs = performance.now() - t;
  log(`  (c) ${fmt(cMs / 1000, 2)} s for ${fmtInt(rebuilt.upserted)} chunks; peak RSS so far ${fmtMiB(peakRss())}`);
  row('(c) rebuild vectors from the log (s)', fmt(cMs / 1000, 2));
  row('(a)/(c) (how much faster the rebuild is)', fmt(aMs / cMs, 2), '>= 5', aMs / cMs >= 5);

  const logBytes = statSync(join(a.storeDir, 'events.journal')).size;
  row('log bytes per document (journal)', fmtInt(logBytes / Math.max(1, a.documents)));
  row('vector table on disk', fmtMiB(dirBytes(join(a.storeDir, 'vectors'))));

  const base: { vector: Float32Array; text: string }[] = [];
  for await (const e of a.ledger.events.readAll({ types: ['ChunkEmbedded'] })) if (e.type === 'ChunkEmbedded') base.push({ vector: e.data.vector, text: e.data.chunk_id });
  await a.index.close();
  await a.ledger.close();
  await embedder.close();
  const baseFile = join(temp.create('base'), 'base');
  writeBase(base, baseFile);

  log(`\n## retrieval (vector search through the index adapter, k=10, ${QUERIES} queries; exact = flat search; each size in a process of its own)`);
  const retrieval = [];
  for (const size of SIZES) {
    const r = await retrievalInChild(size, baseFile);
    retrieval.push(r);
    log(`  ${fmtInt(size)} chunks: build ${fmt(r.buildMs / 1000, 1)} s, ANN index ${r.annIndex ? 'yes' : 'no (flat)'}, p50 ${fmt(r.p50, 1)} ms, p95 ${fmt(r.p95, 1)} ms, recall@10 ${fmt(r.recall, 3)}, peak RSS ${fmtMiB(r.peakRss)}`);
    const big = size >= 100_000;
    row(`retrieval @${fmtInt(size)}: p50 / p95 (ms)`, `${fmt(r.p50, 1)} / ${fmt(r.p95, 1)}`, big ? 'p95 <= 25' : '', big ? r.p95 <= 25 : null);
    row(`retrieval @${fmtInt(size)}: recall@10 vs exact`, fmt(r.recall, 3), big ? '>= 0.95' : '', big ? r.recall >= 0.95 : null);
    row(`peak RSS @${fmtInt(size)} chunks: build + search the index (MiB)`, fmt(r.peakRss / 1024 / 1024, 0), big ? '<= 1024' : '', big ? r.peakRss <= 1024 * 1024 * 1024 : null);
  }
  const peak = peakRss();
  row(`peak RSS of the ingest runs (a) and (b), ${fmtInt(a.chunks)} chunks (MiB)`, fmt(peak / 1024 / 1024, 0));

  Object.assign(results, { corpus: CORPUS, scale: SCALE, dims: DIMS, a: a.ms, aRuns, documents: a.documents, chunks: a.chunks, bareMs: bRuns, ratio, rebuildMs: cMs, logBytes, retrieval, peakRss: peak });
  log('\n## Summary\n');
  log(markdownTable(['metric', 'value', 'target', 'ok'], rows));
  const out = join(repoRoot, 'bench', 'results');
  mkdirSync(out, { recursive: true });
  const file = join(out, `pipeline-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2));
  log(`\nresults written to ${relative(repoRoot, file)}`);
}

(process.env.BENCH_RETRIEVAL_CHILD ? retrievalChild(process.env.BENCH_RETRIEVAL_CHILD) : main())
  .catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => temp.removeAll());
