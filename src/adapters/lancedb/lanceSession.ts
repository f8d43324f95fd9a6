import './lanceRuntime.js';
import * as lancedb from '@lancedb/lancedb';

/** LanceDB's index cache (IVF partitions, RaBitQ codes, posting lists): a query over 200k chunks uses about 20 MB. */
const INDEX_CACHE_BYTES = 64 * 1024 * 1024;
/**
 * Manifests, fragment and file metadata. LanceDB's default of 1 GB keeps the manifest of every table
 * version a long catch-up commits (hundreds of appends), which grows a process by hundreds of MB.
 */
const METADATA_CACHE_BYTES = 32 * 1024 * 1024;

let session: lancedb.Session | undefined;

/** The process's LanceDB session: every connection shares its caches, which are bounded. */
export function lanceSession(): lancedb.Session {
  session ??= new lancedb.Session(BigInt(INDEX_CACHE_BYTES), BigInt(METADATA_CACHE_BYTES));
  return session;
}
