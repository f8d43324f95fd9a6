import { documentStatusProjection } from './documentStatus.js';
import { pipelinesProjection } from './pipelines.js';
import type { Projection } from './projection.js';
import { queryHistoryProjection } from './queryHistory.js';
import { retrievalStatsProjection } from './retrievalStats.js';

/** The read models every RAG Ledger store maintains. */
export const standardProjections: readonly Projection[] = [documentStatusProjection, queryHistoryProjection, retrievalStatsProjection, pipelinesProjection];
