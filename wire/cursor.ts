// A portal's rows and its position, like PostgreSQL's pquery.c PortalRunSelect / DoPortalRunFetch over a
// tuplestore. Rows are pulled from a RowSource in batches; a scrollable cursor keeps what it pulled so it can
// go back, a forward-only one forgets rows behind it. Positions are PostgreSQL's: 0 before the first row,
// k on row k, count + 1 after the last. Rows are kept and handed out in the batches they came in (cut where a
// FETCH ends), so that a run of encoded DataRow messages stays one buffer from the reader to the socket.
import { type Cancellation, onAbort, StatementCancel } from '../pg/cancel';
import { SqlError } from '../pg/errors';
import type { ResultRow, RowBatch, RowStream, RowsResult } from './handler';

/** Where a portal's rows come from, a batch at a time. pull() returns an empty batch once there are no more. */
export interface RowSource {
  /**
   * A cancellation that aborts stops whatever produces the rows (a CancelRequest, a statement timeout).
   * formats: the result formats of the rows being fetched, in which the producer may encode them (a
   * cursor's FETCH).
   */
  pull(max: number, cancel?: Cancellation, formats?: number[]): Promise<RowBatch>;
  /** Pulls are for exactly the rows a FETCH returns (they are encoded in its formats): no reading ahead. */
  readonly exact?: boolean;
  /** No more rows are wanted: frees their producer (a reader holding the query). */
  close(): void;
}

/** How many rows batches hold together. */
export function rowCount(batches: readonly RowBatch[]): number {
  let n = 0;
  for (const b of batches) n += b.length;
  return n;
}

/** A result the handler already holds in full. */
export function materializedRows(rows: ResultRow[]): RowSource {
  let at = 0;
  return {
    async pull(max) {
      const batch = rows.slice(at, at + max);
      at += batch.length;
      return batch;
    },
    close() {
      rows = [];
    },
  };
}

/** Rows already fetched, in their batches, as the stream of a result (a FETCH's rows, sent on as they are). */
export function fetchedRows(batches: RowBatch[]): RowStream {
  let at = 0;
  return {
    async next() {
      const rows = batches[at++] ?? [];
      return { rows, done: at >= batches.length };
    },
    close() {
      batches = [];
    },
  };
}

/**
 * A result whose first rows came with it and whose rest is produced on demand. With readAhead (a portal, whose
 * formats are fixed) one batch is asked for ahead while the last is sent, and no more: a client that does not
 * read stops the producer after that batch. Without it (a cursor, whose every FETCH may ask for other
 * formats) each pull asks for exactly its rows, in its formats.
 */
export function streamedRows(first: ResultRow[], rest: RowStream, readAhead: boolean): RowSource {
  let head: ResultRow[] | null = first.length ? first : null;
  let ahead: Promise<{ rows: RowBatch; done: boolean }> | null = null;
  let done = false;
  let closed = false;
  // The batch asked for ahead is not tied to any one statement: a cancel of the statement waiting for it
  // aborts it through this cancellation, which then ends the stream (its AbortSignal is made only if the
  // producer listens: a result of one batch never needs it).
  const producer = new StatementCancel();
  const ask = (max: number, formats?: number[]) => {
    const p = rest.next(max, producer, formats);
    p.catch(() => {}); // seen by whoever awaits it; a batch asked ahead and never awaited is dropped
    return p;
  };
  return {
    exact: !readAhead,
    async pull(max, cancel, formats) {
      if (head) {
        const rows = head.length > max ? head.splice(0, max) : head;
        if (rows === head) head = null;
        if (readAhead && !head && !done && !closed) ahead ??= ask(BATCH);
        return rows;
      }
      if (done || closed) return [];
      const stopListening = onAbort(cancel, (reason) => producer.abort(reason));
      try {
        const batch = await (ahead ?? ask(readAhead ? Math.max(max, BATCH) : max, formats));
        ahead = null;
        done = batch.done;
        if (readAhead && !done) ahead = ask(BATCH);
        return batch.rows;
      } catch (err) {
        done = true;
        throw err;
      } finally {
        stopListening();
      }
    },
    close() {
      if (closed) return;
      closed = true;
      head = null;
      if (!done) rest.close();
    },
  };
}

/** The rows of a result: all of them, or the first ones and a stream of the rest (see streamedRows). */
export function rowSource(result: RowsResult, readAhead: boolean): RowSource {
  return result.rest ? streamedRows(result.rows, result.rest, readAhead) : materializedRows(result.rows);
}

/** FETCH/MOVE directions as PostgreSQL's parser reduces them (gram.y fetch_args). */
export type FetchDirection =
  | { kind: 'forward'; count: number }
  | { kind: 'backward'; count: number }
  | { kind: 'absolute'; count: number }
  | { kind: 'relative'; count: number };

/** FETCH ALL's count. */
export const ALL = Number.POSITIVE_INFINITY;

const BATCH = 1000;

export class Cursor {
  /** Rows pulled and kept, in the batches they came in; firsts[i] is the number of batch i's first row. */
  private kept: RowBatch[] = [];
  private firsts: number[] = [];
  /** Rows before the first kept one (forgotten). */
  private dropped = 0;
  private pulled = 0;
  private exhausted = false;
  private pos = 0;
  /** The cancellation and result formats of the statement now fetching, passed to the source. */
  private cancel: Cancellation | undefined;
  private formats: number[] | undefined;

  constructor(
    private readonly source: RowSource,
    readonly scrollable: boolean,
  ) {}

  /** The index in kept of the batch that holds row k (a kept row). */
  private batchOf(k: number): number {
    const firsts = this.firsts;
    let lo = 0;
    let hi = firsts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (firsts[mid] <= k) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  private row(k: number): ResultRow {
    const i = this.batchOf(k);
    return this.kept[i].at(k - this.firsts[i])!;
  }

  /** Rows from to to (kept, from <= to), in as few batches as they are kept in. */
  private rowsBetween(from: number, to: number): RowBatch[] {
    const out: RowBatch[] = [];
    for (let i = this.batchOf(from); i < this.kept.length && this.firsts[i] <= to; i++) {
      const b = this.kept[i];
      const first = this.firsts[i];
      const start = Math.max(from - first, 0);
      const end = Math.min(to - first + 1, b.length);
      out.push(start === 0 && end === b.length ? b : b.slice(start, end));
    }
    return out;
  }

  /** Pulls until row k is held or the source is exhausted; true when row k exists. */
  private async reach(k: number): Promise<boolean> {
    while (this.pulled < k && !this.exhausted) {
      const need = k - this.pulled;
      const want = !Number.isFinite(k) ? BATCH : this.source.exact ? need : Math.max(need, BATCH);
      const batch = await this.source.pull(want, this.cancel, this.formats);
      if (!batch.length) this.exhausted = true;
      else {
        this.kept.push(batch);
        this.firsts.push(this.pulled + 1);
        this.pulled += batch.length;
      }
    }
    return this.pulled >= k;
  }

  /** True when rows remain after the current position (Execute's PortalSuspended). */
  async hasMore(cancel?: Cancellation): Promise<boolean> {
    this.cancel = cancel;
    this.formats = undefined;
    return this.reach(this.pos + 1);
  }

  /** The cursor is closed: its source's producer is freed. */
  close(): void {
    this.exhausted = true;
    this.kept = [];
    this.firsts = [];
    this.source.close();
  }

  /** PortalRunSelect forward: up to count rows after the position. */
  private async forward(count: number): Promise<RowBatch[]> {
    if (count <= 0) return [];
    await this.reach(this.pos + count);
    const from = this.pos + 1;
    const to = Math.min(this.pos + count, this.pulled);
    const rows = from <= to ? this.rowsBetween(from, to) : [];
    this.pos = to - from + 1 < count ? this.pulled + 1 : to;
    if (!this.scrollable) this.forget();
    return rows;
  }

  /** PortalRunSelect backward: up to count rows before the position, nearest first. */
  private backward(count: number): RowBatch[] {
    this.checkScrollable();
    if (count <= 0) return [];
    const rows: ResultRow[] = [];
    for (let k = this.pos - 1; k >= 1 && rows.length < count; k--) rows.push(this.row(k));
    this.pos = rows.length < count ? 0 : this.pos - rows.length;
    return [rows];
  }

  /** DoPortalRewind: a forward-only cursor that has moved cannot go back to its start. */
  private rewind(): void {
    if (this.pos === 0) return;
    this.checkScrollable();
    this.pos = 0;
  }

  private checkScrollable(): void {
    if (!this.scrollable)
      throw new SqlError('55000', 'cursor can only scan forward', {
        hint: 'Declare it with SCROLL option to enable backward scan.',
      });
  }

  /** Drops the batches wholly behind the position once they hold more than a batch's rows. */
  private forget(): void {
    const behind = Math.min(this.pos, this.pulled) - this.dropped;
    if (behind <= BATCH) return;
    let n = 0;
    while (n < this.kept.length && this.firsts[n] + this.kept[n].length - 1 <= this.pos) n++;
    if (!n) return;
    this.dropped = this.firsts[n - 1] + this.kept[n - 1].length - 1;
    this.kept = this.kept.slice(n);
    this.firsts = this.firsts.slice(n);
  }

  private get onRow(): boolean {
    return this.pos > 0 && !(this.exhausted && this.pos > this.pulled);
  }

  /**
   * DoPortalRunFetch: the rows a FETCH returns (a MOVE moves the same way and reports the count).
   * move: MOVE counts without returning rows (MOVE 0 reports whether FETCH 0 would return a row).
   */
  async fetch(
    direction: FetchDirection,
    move = false,
    cancel?: Cancellation,
    formats?: number[],
  ): Promise<RowBatch[]> {
    this.cancel = cancel;
    this.formats = formats;
    let { kind, count } = direction;
    if (kind === 'absolute') return this.absolute(count);
    if (kind === 'relative') {
      if (count > 1) {
        await this.forward(count - 1);
        return this.forward(1);
      }
      if (count < -1) {
        this.backward(-count - 1);
        return this.backward(1);
      }
      if (count === 1) return this.forward(1);
      if (count === -1) return this.backward(1);
      kind = 'forward';
    }
    if (count < 0) {
      kind = kind === 'forward' ? 'backward' : 'forward';
      count = -count;
    }
    if (count === 0) {
      // FETCH 0 fetches the current row again; MOVE 0 says whether there is one.
      const on = this.onRow;
      if (move) return on ? [[this.row(this.pos)]] : [];
      if (!on) return [];
      this.backward(1);
      return this.forward(1);
    }
    return kind === 'forward' ? this.forward(count) : this.backward(count);
  }

  private async absolute(count: number): Promise<RowBatch[]> {
    if (count > 0) {
      const at = this.exhausted && this.pos > this.pulled ? this.pulled : this.pos;
      if (count - 1 < at) {
        this.rewind();
        await this.forward(count - 1);
      } else if (count - 1 > at) await this.forward(count - 1 - at);
      return this.forward(1);
    }
    if (count < 0) {
      await this.forward(ALL);
      this.backward(-count - 1);
      return this.backward(1);
    }
    this.rewind();
    return [];
  }
}
