// A channel of the PostgreSQL catalog that every coordinator on it publishes to and listens on (NOTIFY and
// LISTEN): how the task events of one coordinator reach the clients of the others, and how a CANCEL, PAUSE or
// ALTER TASK given to one reaches the one that runs the task without waiting for its next heartbeat. A
// notification is delivered only to the sessions listening when it commits, and not at all to one whose
// connection broke: the listener reconnects by itself, and what it may have missed is the heartbeat's poll
// to catch up on (engine/ownership.ts).
import type pg from 'pg';
import type { Sql } from './sql';

export const TASK_CHANNEL_NAME = 'segtasks_coordinators';

/** PostgreSQL refuses payloads of 8000 bytes or more. */
export const MAX_PAYLOAD_BYTES = 7999;

export class CatalogChannel {
  private client: pg.PoolClient | null = null;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;

  constructor(
    private readonly catalog: { sql: Sql; pool: pg.Pool },
    private readonly onMessage: (payload: string) => void,
    private readonly onError: (err: Error) => void,
    private readonly reconnectMs = 1000,
    readonly name = TASK_CHANNEL_NAME,
  ) {}

  /**
   * Sends payloads, in order, to every coordinator listening (this one included), once the statement commits:
   * one statement for all of them (a checkpoint's findings go together).
   */
  async publish(payloads: string[]): Promise<void> {
    if (!payloads.length) return;
    await this.catalog.sql.run(
      'SELECT pg_notify(?, p) FROM unnest(?::text[]) WITH ORDINALITY AS u(p, n) ORDER BY n',
      [this.name, payloads],
    );
  }

  /** Starts listening, on a connection of the catalog's pool kept for it; resolves once LISTEN is in place. */
  async listen(): Promise<void> {
    const client = await this.catalog.pool.connect();
    if (this.closed) {
      client.release();
      return;
    }
    const broken = (err: Error) => {
      if (this.client !== client) return;
      this.client = null;
      client.removeAllListeners('notification');
      client.release(err);
      this.onError(err);
      this.reconnect();
    };
    client.on('error', broken);
    client.on('notification', (m) => {
      if (m.channel === this.name && m.payload !== undefined) this.onMessage(m.payload);
    });
    this.client = client;
    try {
      await client.query(`LISTEN ${this.name}`);
    } catch (err) {
      broken(err as Error);
    }
  }

  private reconnect(): void {
    if (this.closed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.listen().catch((err) => {
        this.onError(err as Error);
        this.reconnect();
      });
    }, this.reconnectMs);
    this.retry.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = null;
    if (!client) return;
    client.removeAllListeners('notification');
    try {
      await client.query(`UNLISTEN ${this.name}`);
      client.release();
    } catch (err) {
      client.release(err as Error);
    }
  }
}
