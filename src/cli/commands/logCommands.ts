import { openExplorer, openLedger } from '../../adapters/ledger.js';
import { sha256 } from '../../adapters/node/sha256.js';
import { documentIdFor } from '../../app/ingest/ingestService.js';
import { decodeRaw } from '../../core/eventLog.js';
import { chunkSources, lookupVia } from '../../core/chunkTexts.js';
import { parseTimelineFilter } from '../../core/explorer/timelineFilter.js';
import type { RecordedEvent } from '../../core/eventStore.js';
import type { TimelineFilter } from '../../shared/explorerModel.js';
import { openEventStore } from '../cliStores.js';
import { ValidationError } from '../../core/errors.js';
import { isEventType, eventTypes } from '../../core/events/eventCatalog.js';
import { GENESIS_HASH, parseExpectedVersion, planAppend } from '../../core/eventLog.js';
import type { NewEvent } from '../../core/eventStore.js';
import type { Command } from '../cliSupport.js';
import { plural } from '../../core/text.js';
import type { ExpectedHead } from '../../core/signing.js';
import { parseExpectedHead } from '../../core/signing.js';
import { CheckFailed, UsageError, intOption, progressReporter, textOption, timeOption, typeOptions, warnIfDamaged, teamOptions } from '../cliSupport.js';
import { logLine } from '../explorerRender.js';
import { envelopeJson } from '../render.js';
import type { LedgerEventStore } from '../../adapters/ledger.js';
import { LedgerListener } from '../../adapters/postgres/pgListener.js';
import { onSigint } from '../cliEngine.js';
import type { Io, ParsedArgs } from '../cliSupport.js';

export const logCommand: Command = {
  name: 'log',
  summary: 'print events from the log',
  usage: `rag-ledger log [--type T]... [--stream S | --document PATH] [--category C] [--correlation ID] [--pipeline V]
                     [--failures] [--search WORDS] [--from N] [--since ISO] [--until ISO] [--limit N] [--follow] [--json]

  --type T            only events of type T (repeatable, or comma-separated)
  --stream S          only stream S
  --document PATH     only the document at PATH (workspace-relative) or with this id: its versions,
                      chunkings, embeddings and indexing
  --category C        only streams of category C (the prefix before the first "-", e.g. document)
  --correlation ID    only the events of one correlation: a question's whole chain (its id), a replay
  --pipeline V        only events produced by pipeline version V
  --failures          only failures: rejected documents, failed embeddings and answers
  --search WORDS      only events whose text (question, answer, chunk text, path, failure) contains
                      every one of these words (whole words, any case or accent)
                      The last five use the event-log explorer's index (built on first use; the
                      VS Code extension keeps it up to date) and take the same filters as its timeline.
  --from N       start at global position N
  --since ISO    recorded at or after this time
  --until ISO    recorded before this time (exclusive)
                 ISO is a date, meaning midnight UTC (2026-01-31), or a date and time with an optional
                 offset: 2026-01-31T12:00, 2026-01-31T12:00:00.250Z, 2026-01-31T14:00:00+02:00.
                 A time without an offset is UTC, not local time. Impossible dates (2026-02-30) are refused.
  --limit N      at most N events
  --follow       after the last event, wait for new ones and print them as they are appended (by any
                 process, or any member of a team ledger: pushed by the server) until Ctrl+C
  --json         JSON Lines, one envelope per line:
                 position, eventId, streamId, streamVersion, type, schemaVersion, data, metadata, recordedAt, hash
                 (binary vectors appear in data as base64 of little-endian Float32)`,
  options: {
    type: { type: 'string', multiple: true },
    stream: { type: 'string' },
    category: { type: 'string' },
    from: { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    limit: { type: 'string' },
    document: { type: 'string' },
    correlation: { type: 'string' },
    pipeline: { type: 'string' },
    failures: { type: 'boolean' },
    search: { type: 'string' },
    follow: { type: 'boolean' },
  },
  allowPositionals: 0,
  async run(args, io) {
    const v = args.values;
    if (v.follow === true && (v.until !== undefined || v.limit !== undefined)) throw new UsageError('--follow cannot be combined with --until or --limit');
    if (v.follow === true && ['document', 'correlation', 'pipeline', 'failures', 'search'].some((k) => v[k] !== undefined)) throw new UsageError('--follow takes --type, --stream, --category, --from and --since');
    if (['document', 'correlation', 'pipeline', 'failures', 'search'].some((k) => v[k] !== undefined)) return logTimeline(args, io);
    const types = typeOptions(v.type);
    const options = {
      ...(types ? { types } : {}),
      ...(v.stream !== undefined ? { streamId: textOption(v.stream, 'stream')! } : {}),
      ...(v.category !== undefined ? { category: textOption(v.category, 'category')! } : {}),
      fromPosition: intOption(v.from, 'from', 1) ?? 1,
      ...(v.since !== undefined ? { since: timeOption(v.since, 'since')! } : {}),
      ...(v.until !== undefined ? { until: timeOption(v.until, 'until')! } : {}),
      ...(v.limit !== undefined ? { limit: intOption(v.limit, 'limit', 1)! } : {}),
    };
    const store = await openEventStore(args, { mode: 'read' });
    warnIfDamaged(io, store);
    try {
      // Writes in batches and waits while stdout is backed up, so a slow reader (a pager, a
      // network pipe) holds the log back instead of it piling up in memory.
      const write = async (lines: string[]): Promise<void> => {
        if (!io.out(`${lines.join('\n')}\n`)) await io.drain();
      };
      let buffer: string[] = [];
      let next = options.fromPosition;
      const print = async (): Promise<void> => {
        for await (const e of store.readAll({ ...options, fromPosition: next })) {
          buffer.push(args.json ? envelopeJson(e) : logLine(e));
          next = e.position + 1;
          if (buffer.length >= 500) {
            await write(buffer);
            buffer = [];
          }
        }
        if (buffer.length > 0) await write(buffer);
        buffer = [];
        // Filtered out or not, nothing before the head is read again.
        next = Math.max(next, (await store.head()).position + 1);
      };
      await print();
      if (v.follow === true) await follow(args, store, print);
    } finally {
      await store.close();
    }
  },
};

/**
 * `log --follow`: prints what is appended after the head until Ctrl+C. A team ledger pushes each
 * commit (LISTEN/NOTIFY, reconnecting after a drop and reading from where it was); a local store
 * is looked at twice a second.
 */
async function follow(args: ParsedArgs, store: LedgerEventStore, print: () => Promise<void>): Promise<void> {
  await onSigint(
    (signal) =>
      new Promise<void>((resolve, reject) => {
        let busy = Promise.resolve();
        const check = (): void => {
          busy = busy.then(async () => {
            await store.refresh();
            await print();
          }).catch((err: unknown) => {
            stop();
            reject(err instanceof Error ? err : new Error(String(err)));
          });
        };
        let stop: () => void;
        if (args.team) {
          const listener = new LedgerListener(args.team, { onHead: check });
          void listener.start();
          stop = () => void listener.stop();
        } else {
          const timer = setInterval(check, 500);
          stop = () => clearInterval(timer);
        }
        signal.addEventListener('abort', () => {
          stop();
          void busy.then(resolve);
        });
      }),
  );
}

/** `log` with the explorer's filters: pages of the same timeline the explorer shows. */
async function logTimeline(args: ParsedArgs, io: Io): Promise<void> {
  const v = args.values;
  if (v.category !== undefined) throw new UsageError('--category cannot be combined with --document, --correlation, --pipeline, --failures or --search; use --type');
  if (v.document !== undefined && v.stream !== undefined) throw new UsageError('give --document or --stream, not both');
  const types = typeOptions(v.type);
  const document = textOption(v.document, 'document');
  const stream = document === undefined ? textOption(v.stream, 'stream') : `document-${/^doc-[0-9a-f]+$/.test(document) ? document : documentIdFor(sha256, document.replace(/\\/g, '/').replace(/^\.\//, ''))}`;
  let filter: TimelineFilter;
  try {
    filter = parseTimelineFilter({
      ...(types ? { types } : {}),
      ...(stream !== undefined ? { stream } : {}),
      ...(v.correlation !== undefined ? { correlation: textOption(v.correlation, 'correlation') } : {}),
      ...(v.pipeline !== undefined ? { pipeline: textOption(v.pipeline, 'pipeline') } : {}),
      ...(v.failures === true ? { failures: true } : {}),
      ...(v.search !== undefined ? { text: textOption(v.search, 'search') } : {}),
      ...(v.since !== undefined ? { since: timeOption(v.since, 'since') } : {}),
      ...(v.until !== undefined ? { until: timeOption(v.until, 'until') } : {}),
    });
  } catch (err) {
    if (err instanceof ValidationError) throw new UsageError(err.message);
    throw err;
  }
  const from = intOption(v.from, 'from', 1) ?? 1;
  const limit = intOption(v.limit, 'limit', 1) ?? Number.MAX_SAFE_INTEGER;
  const ledger = await openLedger(args.store, { mode: 'read', ...teamOptions(args) });
  warnIfDamaged(io, ledger.events);
  try {
    await ledger.runner.catchUp();
    const explorer = await openExplorer(args.store, ledger);
    try {
      const progress = progressReporter(io, 'indexing the log');
      await explorer.timeline.catchUp({ onProgress: (p) => progress.update(p.indexed, p.head) });
      progress.done();
      let start = from > 1 ? (await explorer.timeline.locate(filter, { position: from })).index : 0;
      let written = 0;
      for (;;) {
        const page = await explorer.timeline.page(filter, start, Math.min(300, limit - written));
        if (page.truncated && start === 0) io.err(`rag-ledger log: ${page.truncated}\n`);
        if (page.rows.length === 0) break;
        const raws = await ledger.events.readPositions(page.rows.map((r) => r.position));
        const sourceOf = await chunkSources(raws, lookupVia(ledger.events));
        const lines = raws.map((raw) => {
          let e: RecordedEvent;
          try {
            e = decodeRaw(raw, sourceOf(raw));
          } catch (err) {
            const why = `cannot be read: ${(err as Error).message}`;
            return args.json
              ? JSON.stringify({ position: raw.position, eventId: raw.eventId, streamId: raw.streamId, streamVersion: raw.streamVersion, type: raw.type, schemaVersion: raw.schemaVersion, recordedAt: raw.recordedAt, hash: raw.hash, error: why })
              : `${String(raw.position).padStart(7)}  ${raw.recordedAt}  ${raw.type.padEnd(24)} ${raw.streamId}@${raw.streamVersion}  ✗ ${why}`;
          }
          return args.json ? envelopeJson(e) : logLine(e);
        });
        if (!io.out(`${lines.join('\n')}\n`)) await io.drain();
        written += raws.length;
        start += page.rows.length;
        if (written >= limit || start >= page.total) break;
      }
    } finally {
      await explorer.close();
    }
  } finally {
    await ledger.close();
  }
}

/** Turns CLI JSON into event data: vectors given as number arrays become Float32Array. */
function dataFromJson(type: string, text: string): unknown {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--data is not valid JSON (${(err as Error).message})`);
  }
  if (type === 'ChunkEmbedded' && typeof data === 'object' && data !== null && Array.isArray((data as { vector?: unknown }).vector)) {
    const vector = Float32Array.from((data as { vector: number[] }).vector);
    return { dimensions: vector.length, ...(data), vector };
  }
  return data;
}

export const appendCommand: Command = {
  name: 'append',
  summary: 'append one event (for scripts and debugging)',
  usage: `rag-ledger append --stream S --type T --data JSON [--expected-version V] [--event-id ID] [--metadata JSON] [--json]

  --stream S             the stream, e.g. document-42 (created on first append)
  --type T               the event type, one of: ${eventTypes.join(', ')}
  --data JSON            the event's data (snake_case fields; a ChunkEmbedded vector may be a number array)
  --expected-version V   a number (the stream's event count; 0 = no stream), no_stream, stream_exists or any (default any)
  --event-id ID          an id of your own; appending the same id again is a no-op
  --metadata JSON        metadata such as {"correlation_id":"...","actor":"..."}`,
  options: {
    stream: { type: 'string' },
    type: { type: 'string' },
    data: { type: 'string' },
    'expected-version': { type: 'string' },
    'event-id': { type: 'string' },
    metadata: { type: 'string' },
  },
  allowPositionals: 0,
  async run(args, io) {
    const v = args.values;
    for (const required of ['stream', 'type', 'data'] as const) if (v[required] === undefined) throw new UsageError(`--${required} is required`);
    const type = v.type as string;
    if (!isEventType(type)) throw new UsageError(`unknown event type ${JSON.stringify(type)}; known types: ${eventTypes.join(', ')}`);
    const expectedVersion = v['expected-version'] === undefined ? 'any' : parseExpectedVersionOrUsage(v['expected-version'] as string);
    let metadata: unknown;
    if (v.metadata !== undefined) {
      try {
        metadata = JSON.parse(v.metadata as string);
      } catch (err) {
        throw new UsageError(`--metadata is not valid JSON (${(err as Error).message})`);
      }
      if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) throw new UsageError('--metadata must be a JSON object such as {"actor":"me"}');
    }
    const event = {
      type,
      data: dataFromJson(type, v.data as string),
      ...(v['event-id'] !== undefined ? { eventId: v['event-id'] as string } : {}),
      ...(metadata !== undefined ? { metadata } : {}),
    } as NewEvent;
    validateAppend(v.stream as string, event);
    const store = await openEventStore(args, { mode: 'write', owner: 'the rag-ledger CLI (append)' });
    try {
      const result = await store.append(v.stream as string, [event], { expectedVersion });
      if (args.json) io.out(`${JSON.stringify({ stream: v.stream, ...result })}\n`);
      else io.out(result.appended === 0 ? `already stored at position ${result.positions[0]} (no-op)\n` : `appended ${type} at position ${result.positions[0]}; ${String(v.stream)} is now at version ${result.nextExpectedVersion}\n`);
    } finally {
      await store.close();
    }
  },
};

/**
 * Runs the store's own checks (stream id, event schema, event id, metadata) on a dry run, so an
 * invalid append fails before the store is opened: nothing is created for an event that is refused.
 */
function validateAppend(streamId: string, event: NewEvent): void {
  try {
    dryRun(streamId, event);
  } catch (err) {
    // A refused event is a mistake in how append was called: exit 2, one line, nothing created.
    if (err instanceof ValidationError) throw new UsageError(`${err.message}. ${err.hint}`);
    throw err;
  }
}

function dryRun(streamId: string, event: NewEvent): void {
  planAppend(streamId, [event], 'any', {
    streamVersion: 0,
    headPosition: 0,
    headHash: GENESIS_HASH,
    now: new Date(0).toISOString(),
    newId: () => 'dry-run',
    hasher: () => '',
    existingPositions: () => new Map(),
  });
}

function parseExpectedVersionOrUsage(text: string): ReturnType<typeof parseExpectedVersion> {
  try {
    return parseExpectedVersion(text);
  } catch (err) {
    if (err instanceof ValidationError) throw new UsageError(`--expected-version: ${err.message}. ${err.hint}`);
    throw err;
  }
}

export const statsCommand: Command = {
  name: 'stats',
  summary: 'summarise the log and its read models',
  usage: `rag-ledger stats [--json]

  Events by type and stream category, head position and hash, file sizes, and the read models:
  documents by state, questions asked, most retrieved documents and chunks.`,
  options: {},
  allowPositionals: 0,
  async run(args, io) {
    const ledger = await openLedger(args.store, { mode: 'read', ...teamOptions(args) });
    try {
      await ledger.runner.catchUp();
      const stats = await ledger.events.stats();
      const byState = ledger.readModels.documentCountsByState();
      const readModels = {
        documents: Object.values(byState).reduce((a, b) => a + b, 0),
        documentsByState: byState,
        queries: ledger.readModels.queryCount(),
        retrievals: ledger.readModels.retrievalTotals().retrievals,
        topDocuments: ledger.readModels.topDocuments(5).map((d) => ({ id: d.id, retrievals: d.retrievals })),
        topChunks: ledger.readModels.topChunks(5).map((c) => ({ id: c.id, retrievals: c.retrievals })),
      };
      if (args.json) {
        io.out(`${JSON.stringify({ ...stats, readModels })}\n`);
        return;
      }
      const lines = [
        `store      ${stats.location}`,
        `events     ${stats.events} in ${stats.streams} streams (head ${stats.headPosition}, ${stats.headHash.slice(0, 16)}…)`,
        `recorded   ${stats.firstRecordedAt ?? '-'} .. ${stats.lastRecordedAt ?? '-'}`,
        `files      ${Object.entries(stats.files).map(([f, n]) => `${f} ${n} B`).join(', ') || '-'}`,
        'by type',
        ...Object.entries(stats.byType).map(([t, n]) => `  ${t.padEnd(26)} ${n}`),
        'by category',
        ...Object.entries(stats.byCategory).map(([c, n]) => `  ${c.padEnd(26)} ${n}`),
        `documents  ${readModels.documents} (${Object.entries(byState).map(([s, n]) => `${n} ${s}`).join(', ') || 'none'})`,
        `questions  ${readModels.queries}, retrievals ${readModels.retrievals}`,
        ...readModels.topDocuments.map((d) => `  most retrieved: ${d.id} (${d.retrievals})`),
      ];
      io.out(`${lines.join('\n')}\n`);
    } finally {
      await ledger.close();
    }
  },
};

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'check the hash chain and the signed heads; exit 1 at the first altered, removed or reordered event',
  usage: `rag-ledger verify [--expect-head POSITION:HASH] [--json]

  Recomputes every event's hash, checks the chain and positions, decodes every event, checks
  every signed head (HeadSigned) against the log's signing key, and cross-checks the journal
  against the database. Exit code 1 names the first bad position. Prints the head as
  POSITION:HASH: keep it elsewhere (a ticket, a commit) and check it later with
  --expect-head, which fails when the log no longer holds that hash at that position.`,
  options: { 'expect-head': { type: 'string' } },
  allowPositionals: 0,
  async run(args, io) {
    const expectText = textOption(args.values['expect-head'], 'expect-head');
    let expected: ExpectedHead | undefined;
    try {
      expected = expectText === undefined ? undefined : parseExpectedHead(expectText);
    } catch (err) {
      throw new UsageError(`--expect-head: ${(err as Error).message}; give POSITION:HASH as \`rag-ledger verify\` prints it`);
    }
    const store = await openEventStore(args, { mode: 'read' });
    try {
      const report = await store.verify();
      let expectation: { ok: boolean; detail: string } | undefined;
      if (report.ok && expected) {
        let found: string | undefined;
        if (expected.position <= report.headPosition) for await (const raw of store.readRaw(expected.position)) {
          found = raw.hash;
          break;
        }
        expectation =
          expected.position > report.headPosition ? { ok: false, detail: `the log ends at position ${report.headPosition}, before the expected head ${expected.position}: events were dropped` }
          : found !== expected.hash ? { ok: false, detail: `the hash at position ${expected.position} is ${found ?? '(none)'}, not the expected ${expected.hash}: the log was rewritten` }
          : { ok: true, detail: `head ${expected.position}:${expected.hash} is in the log` };
      }
      const signed = report.signed;
      // A seal is the event just after the head it signs.
      const after = signed?.last ? report.headPosition - signed.last.position - 1 : report.headPosition;
      if (args.json) io.out(`${JSON.stringify({ ...report, ...(expectation ? { expectedHead: expectation } : {}) })}\n`);
      else if (report.ok) {
        const lines = [`ok: ${plural(report.checked, 'event')} verified, head ${report.headPosition}:${report.headHash}`];
        if (signed?.last) lines.push(`signed: ${plural(signed.count, 'seal')} by key ${signed.keyId}, last signed head ${signed.last.position}:${signed.last.hash}${after > 0 ? `; warning: ${plural(after, 'event')} after the last signed head` : ''}`);
        else lines.push('unsigned: no signed head in this log');
        if (expectation?.ok) lines.push(`expected: ${expectation.detail}`);
        io.out(`${lines.join('\n')}\n`);
      }
      if (!report.ok) {
        const f = report.firstFailure!;
        throw new CheckFailed(`verify failed at position ${f.position} (${f.kind}): ${f.detail} (store ${args.store}). Restore from an export, or run \`rag-ledger recover\` to keep the intact part.`);
      }
      if (expectation && !expectation.ok) throw new CheckFailed(`verify --expect-head failed: ${expectation.detail} (store ${args.store}). Restore the log from an export taken at or after that head.`);
    } finally {
      await store.close();
    }
  },
};
