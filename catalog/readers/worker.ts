// Worker-thread entry: one ReaderEngine, answering describe/run requests from the pool, and streaming the
// rows of a query a batch at a time when the pool lets it hold a cursor.
import { parentPort, workerData } from 'node:worker_threads';
import type { EncodedRows } from '../../pg/data-row';
import { SqlError } from '../../pg/errors';
import { claim } from './claims';
import { waitUnlessChanged, waitUnlessInterrupted } from './interrupt';
import { BATCH_ROWS, ReaderEngine, type ReaderOptions, type SessionSnapshot } from './reader-engine';

export type ReaderRequest =
  | { id: number; op: 'describe'; sql: string; types: number[] }
  | {
      id: number;
      op: 'run';
      sql: string;
      types: number[];
      params: unknown[];
      session: SessionSnapshot;
      autoParams: boolean;
      /** The caller reads the rows as a stream (the pool decides at dispatch whether this worker may hold them). */
      stream: boolean;
      /** Keep the query open as this worker's cursor when its rows do not fit the first batch. */
      hold?: boolean;
      /** The result formats the rows are sent in: a held query's rows come encoded as DataRow messages. */
      formats: number[] | null;
    }
  /** The next batch of the open cursor (the cursor is named by the id of the request that opened it). */
  /** formats: encode this batch in them (else as the query was opened). */
  | { id: number; op: 'next'; cursor: number; max: number; formats?: number[] }
  /** Ends the open cursor; not answered. */
  | { id: number; op: 'close'; cursor: number };

export type ReaderResponse =
  | { id: number; ok: true; result: unknown }
  /** Part of a large result's rows, sent ahead of the result (which carries the last part). */
  | { id: number; ok: true; rowsPart: unknown[][] }
  /** Not run: this worker holds a cursor; the pool sends the request to another worker. */
  | { id: number; ok: false; bounced: true }
  | {
      id: number;
      ok: false;
      error: { code: string; message: string; hint?: string; detail?: string; position?: number };
    };

/**
 * The reader's options, the claim cells of the requests posted to it (claims.ts) and the cell through which
 * the pool interrupts the request it runs (interrupt.ts).
 */
export type WorkerData = ReaderOptions & { claims: Int32Array; interrupt: Int32Array };

/** A request as posted, with its sequence number on this worker (its claim cell); they come in arrays. */
export interface Posted {
  req: ReaderRequest;
  seq: number;
}

const { claims, interrupt, ...options } = workerData as WorkerData;
/** The id of the request being answered: the one an interrupt must name to stop it. */
let current = 0;
/** While reading a cursor's rows ahead: the interrupt cell as it was then (any interrupt stops the wait). */
let aheadBase: number | null = null;
const engine = new ReaderEngine(options, (ms) => {
  const waited =
    aheadBase === null
      ? waitUnlessInterrupted(interrupt, current, ms)
      : waitUnlessChanged(interrupt, aheadBase, ms);
  if (!waited) throw new SqlError('57014', 'canceling statement due to user request');
});

/**
 * Rows per message: the receiving thread decodes each message in one go, so a large result arrives in parts
 * small enough that the connections it serves are never held for long.
 */
const ROWS_PER_MESSAGE = 2000;

/** Sends a large result's rows ahead of it in parts, leaving the last part in the result. */
function sendInParts(id: number, result: { rows: unknown[][] }): void {
  const rows = result.rows;
  if (rows.length <= ROWS_PER_MESSAGE) return;
  let at = 0;
  flush();
  for (; at + ROWS_PER_MESSAGE < rows.length; at += ROWS_PER_MESSAGE)
    parentPort!.postMessage([{ id, ok: true, rowsPart: rows.slice(at, at + ROWS_PER_MESSAGE) }]);
  result.rows = rows.slice(at);
}

function answer(req: ReaderRequest): ReaderResponse | null {
  switch (req.op) {
    case 'describe':
      return { id: req.id, ok: true, result: engine.describe(req.sql, req.types) };
    case 'next': {
      const result = engine.next(req.cursor, req.max, req.formats);
      sendInParts(req.id, result);
      return { id: req.id, ok: true, result };
    }
    case 'close':
      engine.closeCursor(req.cursor);
      return null;
    case 'run': {
      if (req.hold) {
        const result = engine.open(
          req.sql,
          req.types,
          req.params,
          req.session,
          req.autoParams,
          req.id,
          req.formats,
        );
        return { id: req.id, ok: true, result };
      }
      const result = engine.run(req.sql, req.types, req.params, req.session, req.autoParams);
      sendInParts(req.id, result);
      return { id: req.id, ok: true, result: { ...result, encoded: null, done: true } };
    }
  }
}

/**
 * Answers wait to go out together (one message for several, as the pool posts several requests in one) only
 * while the worker goes on with requests it knows to be quick: an answer is never held behind a request that
 * may take long.
 */
let outbox: ReaderResponse[] = [];
function send(res: ReaderResponse): void {
  outbox.push(res);
}
function flush(): void {
  if (!outbox.length) return;
  parentPort!.postMessage(outbox, movable(outbox));
  outbox = [];
}

/**
 * The buffers of the answers' encoded rows, moved to the pool's thread instead of copied: each is the rows'
 * own (encodeDataRows allocates them at their exact size) and nothing here reads it again.
 */
function movable(answers: ReaderResponse[]): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  const whole = (a: Uint8Array | Uint32Array) =>
    a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && a.buffer instanceof ArrayBuffer;
  for (const a of answers) {
    const encoded = a.ok && 'result' in a ? (a.result as { encoded?: EncodedRows | null }).encoded : null;
    if (!encoded) continue;
    for (const part of [encoded.bytes, encoded.ends]) if (whole(part)) out.push(part.buffer as ArrayBuffer);
  }
  return out;
}

/** How long each statement took when it last ran here (ms), to know which are quick. */
const lastMs = new Map<string, number>();
const QUICK_MS = 1;
const statementKey = (req: ReaderRequest) =>
  req.op === 'run'
    ? `r${req.hold ? 'h' : ''}${req.autoParams ? 'a' : ''}${req.sql}`
    : req.op === 'describe'
      ? `d${req.sql}`
      : null;

parentPort!.on('message', (batch: Posted[]) => {
  for (const posted of batch) {
    const key = statementKey(posted.req);
    if (outbox.length && !(key !== null && (lastMs.get(key) ?? Infinity) < QUICK_MS)) flush();
    const t0 = performance.now();
    serve(posted);
    if (key !== null) {
      if (lastMs.size > 1000) lastMs.clear();
      lastMs.set(key, performance.now() - t0);
    }
  }
  flush();
});

function serve({ req, seq }: Posted): void {
  if (!claim(claims, seq)) {
    // Withdrawn by the pool and sent to another worker; the settings it carried are now this worker's too.
    if (req.op === 'run') engine.rememberSession(req.session);
    return;
  }
  current = req.id;
  const open = engine.openCursor;
  if (open !== null && !((req.op === 'next' || req.op === 'close') && req.cursor === open)) {
    // Sent before the pool knew this worker would hold a cursor: run elsewhere (the settings are kept, as the
    // pool now counts them as sent here).
    if (req.op === 'run') engine.rememberSession(req.session);
    if (req.op !== 'close' && req.op !== 'next') send({ id: req.id, ok: false, bounced: true });
    else if (req.op === 'next')
      send(failure(req.id, new SqlError('34000', 'the cursor of this portal is no longer open')));
    return;
  }
  let res: ReaderResponse | null;
  try {
    res = answer(req);
  } catch (e) {
    res = failure(req.id, e);
  }
  if (!res) return;
  send(res);
  // A cursor left open: its next rows are read while the wire sends these.
  if (res.ok && 'result' in res && (res.result as { done?: boolean }).done === false) {
    flush();
    aheadBase = Atomics.load(interrupt, 0);
    engine.readAhead(req.op === 'next' ? req.max : BATCH_ROWS);
    aheadBase = null;
  }
}
parentPort!.postMessage([{ id: 0, ok: true, result: 'ready' }] satisfies ReaderResponse[]);

function failure(id: number, e: unknown): ReaderResponse {
  const err = e instanceof SqlError ? e : new SqlError('XX000', (e as Error).message ?? String(e));
  return { id, ok: false, error: { code: err.code, message: err.message, ...err.extra } };
}
