import { availableParallelism } from 'node:os';

/**
 * LanceDB's full-text index build can deadlock when lance's CPU pool has fewer than 3 threads (on
 * 2-core machines an index over ~40k rows hung at 0% CPU, every time: lancedb/lancedb#3568,
 * lance-format/lance#7350). The pool is sized from LANCE_CPU_THREADS when the native module starts,
 * so every module that uses LanceDB imports this one first. A value the user set is kept.
 */
if (process.env.LANCE_CPU_THREADS === undefined && availableParallelism() < 4) process.env.LANCE_CPU_THREADS = '4';
