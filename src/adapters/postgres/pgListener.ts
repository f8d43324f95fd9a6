import pg from 'pg';
import { PgEventStore } from './pgEventStore.js';
import type { TeamLedgerAddress } from './pgUrl.js';
import { parseTeamLedgerUrl } from './pgUrl.js';

export interface LedgerListenerOptions {
  readonly password?: string;
  /** Told of every change: a new head announced by NOTIFY, or a (re)connection (catch up from your checkpoint). */
  readonly onHead: (position: number | null) => void;
  /** Told when the connection is up or down, with the reason when down. */
  readonly onStatus?: (connected: boolean, reason?: string) => void;
  /** First reconnect delay (doubles to `maxRetryMs`). */
  readonly retryMs?: number;
  readonly maxRetryMs?: number;
}

/**
 * Listens for new events on the team ledger: every append NOTIFYs its new head position on commit.
 * A notification carries only the position (payloads are capped at 8,000 bytes, and one can be
 * missed while disconnected): listeners read from their own checkpoint, so nothing is ever lost.
 * After a disconnect it reconnects with backoff and reports `onHead(null)`: "catch up now".
 */
export class LedgerListener {
  private client: pg.Client | null = null;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  private delay: number;
  private readonly address: TeamLedgerAddress;
  connected = false;

  constructor(
    url: string,
    private readonly options: LedgerListenerOptions,
  ) {
    this.address = parseTeamLedgerUrl(url, options.password);
    this.delay = options.retryMs ?? 250;
  }

  /** Connects (and keeps reconnecting until stopped). Resolves after the first attempt. */
  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ ...this.address.config, keepAlive: true, keepAliveInitialDelayMillis: 5_000 });
    this.client = client;
    const lost = (reason: string): void => {
      if (this.client !== client) return;
      this.client = null;
      client.removeAllListeners('notification');
      void client.end().catch(() => undefined);
      if (this.connected) {
        this.connected = false;
        this.options.onStatus?.(false, reason);
      }
      this.schedule();
    };
    client.on('error', (err) => lost(err.message));
    client.on('end', () => lost('the connection was closed'));
    client.on('notification', (msg) => {
      const position = Number(msg.payload);
      this.options.onHead(Number.isSafeInteger(position) ? position : null);
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${PgEventStore.channelOf(this.address.schema)}"`);
    } catch (err) {
      if (!this.connected) this.options.onStatus?.(false, (err as Error).message);
      lost((err as Error).message);
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.delay = this.options.retryMs ?? 250;
    this.connected = true;
    this.options.onStatus?.(true);
    // Whatever was appended while we were away: the listener's owner reads from its checkpoint.
    this.options.onHead(null);
  }

  private schedule(): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, this.delay);
    this.timer.unref();
    this.delay = Math.min(this.delay * 2, this.options.maxRetryMs ?? 10_000);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const c = this.client;
    this.client = null;
    this.connected = false;
    await c?.end().catch(() => undefined);
  }
}
