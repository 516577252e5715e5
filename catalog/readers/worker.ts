// Worker-thread entry: one ReaderEngine, answering describe/run requests from the pool.
import { parentPort, workerData } from 'node:worker_threads';
import { SqlError } from '../../pg/errors';
import { claim } from './claims';
import { ReaderEngine, type ReaderOptions, type SessionSnapshot } from './reader-engine';

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
    };

export type ReaderResponse =
  | { id: number; ok: true; result: unknown }
  /** Part of a large result's rows, sent ahead of the result (which carries the last part). */
  | { id: number; ok: true; rowsPart: unknown[][] }
  | {
      id: number;
      ok: false;
      error: { code: string; message: string; hint?: string; detail?: string; position?: number };
    };

/** The reader's options and the claim cells of the requests posted to it (claims.ts). */
export type WorkerData = ReaderOptions & { claims: Int32Array };

/** A request as posted, with its sequence number on this worker. */
export interface Posted {
  req: ReaderRequest;
  seq: number;
}

const { claims, ...options } = workerData as WorkerData;
const engine = new ReaderEngine(options);

/**
 * Rows per message: the receiving thread decodes each message in one go, so a large result arrives in parts
 * small enough that the connections it serves are never held for long.
 */
const ROWS_PER_MESSAGE = 2000;

parentPort!.on('message', ({ req, seq }: Posted) => {
  if (!claim(claims, seq)) {
    // Sent again to another worker; the settings it carried are still this worker's latest for the session.
    if (req.op === 'run') engine.rememberSettings(req.session);
    return;
  }
  let res: ReaderResponse;
  try {
    const result =
      req.op === 'describe'
        ? engine.describe(req.sql, req.types)
        : engine.run(req.sql, req.types, req.params, req.session, req.autoParams);
    if ('rows' in result && result.rows.length > ROWS_PER_MESSAGE) {
      const rows = result.rows;
      let at = 0;
      for (; at + ROWS_PER_MESSAGE < rows.length; at += ROWS_PER_MESSAGE)
        parentPort!.postMessage({ id: req.id, ok: true, rowsPart: rows.slice(at, at + ROWS_PER_MESSAGE) });
      result.rows = rows.slice(at);
    }
    res = { id: req.id, ok: true, result };
  } catch (e) {
    const err = e instanceof SqlError ? e : new SqlError('XX000', (e as Error).message ?? String(e));
    res = { id: req.id, ok: false, error: { code: err.code, message: err.message, ...err.extra } };
  }
  parentPort!.postMessage(res);
});
parentPort!.postMessage({ id: 0, ok: true, result: 'ready' });
