// Worker-thread entry of the inline lane (lane.ts): one ReaderEngine with the inline guard, running the
// statements whose plans are bounded (bounded-plan.ts) as they come through the request ring, in order, and
// answering each through the response ring. The thread does nothing else, so it blocks on the ring between
// requests (Atomics.wait) instead of running an event loop: a request is picked up as soon as it is written.
import { parentPort, workerData } from 'node:worker_threads';
import { SqlError } from '../../pg/errors';
import { InlineGuard } from './inline-guard';
import {
  Answer,
  ByteReader,
  ByteWriter,
  type InlineRows,
  Op,
  RunFlag,
  readLearn,
  readRun,
  Unsendable,
  writeError,
  writeRows,
} from './lane-codec';
import type { Field, ReaderOptions, RunResult, StreamedRun } from './reader-engine';
import { ReaderEngine } from './reader-engine';
import { type RingMemory, SharedRing } from './shared-ring';

export type LaneData = ReaderOptions & {
  requests: RingMemory;
  answers: RingMemory;
  /** How long an inline statement's functions may be called (see InlineGuard). */
  budgetMs: number;
};

const { requests: requestMemory, answers: answerMemory, budgetMs, ...options } = workerData as LaneData;
const requests = new SharedRing(requestMemory);
const answers = new SharedRing(answerMemory);
const engine = new ReaderEngine(options, undefined, new InlineGuard());
const out = new ByteWriter();

/** The settings of each session as last sent, by pid: the engine is given them with every statement. */
let settingsByPid = new Map<number, [string, string][]>();
/** An id per plan's fields array, so that the wire thread is sent each plan's fields once. */
let fieldIds = new WeakMap<Field[], number>();
let nextFieldsId = 1;

function run(msg: ByteReader): void {
  const r = readRun(msg);
  if (r.flags & RunFlag.ForgetSettings) settingsByPid = new Map();
  if (r.flags & RunFlag.ForgetFields) fieldIds = new WeakMap();
  if (r.settings) settingsByPid.set(r.pid, r.settings);
  const session = {
    user: r.user,
    database: r.database,
    pid: r.pid,
    settingsVersion: 0,
    settings: settingsByPid.get(r.pid) ?? [],
  };
  const stream = r.flags & RunFlag.Stream ? { formats: r.formats } : null;
  out.reset();
  let result: RunResult | StreamedRun | null;
  try {
    result = engine.runInline(
      r.sql,
      r.types,
      r.params,
      session,
      (r.flags & RunFlag.AutoParams) !== 0,
      stream,
      budgetMs,
    );
  } catch (e) {
    const err = e instanceof SqlError ? e : new SqlError('XX000', (e as Error).message ?? String(e));
    writeError(out, err.code, err.message, err.extra);
    answer(out.bytes);
    return;
  }
  if (result) {
    try {
      writeRows(out, rowsOf(result));
    } catch (e) {
      // A value the codec cannot carry: a reader answers instead.
      if (!(e instanceof Unsendable)) throw e;
      out.reset();
      result = null;
    }
  }
  if (!result) out.reset().u8(Answer.NotInline);
  // An answer too large for the ring goes the readers' way too.
  if (out.bytes.length > answers.maxMessage) out.reset().u8(Answer.NotInline);
  answer(out.bytes);
}

function rowsOf(result: RunResult | StreamedRun): InlineRows {
  let fieldsId = fieldIds.get(result.fields);
  const first = fieldsId === undefined;
  if (fieldsId === undefined) {
    fieldsId = nextFieldsId++;
    fieldIds.set(result.fields, fieldsId);
  }
  const { changedSettings, notifications, signals, warnings } = result;
  const effects =
    changedSettings.length || notifications.length || signals.length || warnings.length
      ? { changedSettings, notifications, signals, warnings }
      : null;
  return {
    fieldsId,
    fields: first ? result.fields : null,
    rows: result.rows,
    encoded: 'encoded' in result ? result.encoded : null,
    effects,
  };
}

/** Writes an answer, waiting for room when the wire thread has not read the answers before it yet. */
function answer(bytes: Uint8Array): void {
  while (!answers.tryWrite(bytes)) answers.waitForRoom(50);
}

// The engine is built (its catalog emulation took the time): the wire thread may send statements now.
parentPort?.postMessage('ready');
for (;;) {
  const seen = requests.signal;
  for (let m = requests.read(); m; m = requests.read()) {
    const msg = new ByteReader(m);
    const op = msg.u8() as Op;
    if (op === Op.Run) run(msg);
    else if (op === Op.Learn) {
      const l = readLearn(msg);
      engine.learn(l.sql, l.types, l.autoParams);
    }
  }
  // Until the next request (the pool ends the thread with worker.terminate(), which ends the wait too).
  requests.waitForWrite(seen);
}
