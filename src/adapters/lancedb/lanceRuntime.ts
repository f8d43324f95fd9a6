import { availableParallelism } from 'node:os';

/**
 * LanceDB's full-text index build can deadlock when lance's CPU pool has fewer than 3 threads (on
 * 2-core machines an index over ~40k rows hung at 0% CPU, every time: lancedb/lancedb#3568,
 * lance-format/lance#7350). The pool is sized from LANCE_CPU_THREADS when the native module starts,
 * so every module that uses LanceDB imports this one first. A value the user set is kept.
 */
if (process.env.LANCE_CPU_THREADS === undefined && availableParallelism() < 4) process.env.LANCE_CPU_THREADS = '4';

/**
 * A full-text index build runs one worker per CPU thread by default, each holding its own postings
 * (up to 2 GiB before it spills): a build over a million events' words peaked about 200 MB higher
 * with the default than with one worker, which was no slower on 2 cores. One worker also keeps the
 * workers fewer than the CPU threads, which the deadlock above needs. A value the user set is kept.
 */
if (process.env.LANCE_FTS_NUM_SHARDS === undefined) process.env.LANCE_FTS_NUM_SHARDS = '1';
