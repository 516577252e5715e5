// The inline lane: one worker thread that runs the statements whose plans are bounded (point lookups: see
// bounded-plan.ts and the pool's runInline), reached through two shared-memory rings (shared-ring.ts)
// instead of messages. Running them on the wire thread itself (as before) spared the readers' thread hops but
// put SQLite's work and the building of every row on the thread that also serves every socket: at 16 clients
// that was about half of its time. The lane takes that half to the other core, and a request costs the wire
// thread the copy of a few hundred bytes each way.
//
// The lane answers in the order it is asked, so the answers are matched to a queue of the requests waiting.
// The wire thread never blocks: it waits for answers with Atomics.waitAsync and takes every answer there is at
// each wake-up. Whatever the lane cannot take (it is starting, its ring is full, a value the codec does not
// carry, it died) gets null: the statement then goes to a reader, as one the guard refuses does. A statement
// run here is only ever read-only and deterministic (the guard refuses anything else), so giving one to a
// reader after the lane failed with it is safe.
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SqlError } from '../../pg/errors';
import {
  Answer,
  ByteReader,
  ByteWriter,
  RunFlag,
  readError,
  readRows,
  Unsendable,
  writeLearn,
  writeRun,
} from './lane-codec';
import type { LaneData } from './lane-worker';
import type {
  Field,
  ReaderOptions,
  RunResult,
  SessionSnapshot,
  StatementEffects,
  StreamedRun,
} from './reader-engine';
import { ringMemory, SharedRing } from './shared-ring';

/** Ring sizes: requests are small; an answer holds at most a batch (1 MiB) of encoded rows. */
const REQUEST_RING = 1024 * 1024;
const ANSWER_RING = 4 * 1024 * 1024;
/** Sessions (or plans' fields) remembered before the lists start again (they are sent again then). */
const FORGET_AFTER = 4096;

interface Waiting {
  stream: boolean;
  resolve(r: StreamedRun | RunResult | null): void;
  reject(e: Error): void;
}

export class InlineLane {
  private readonly worker: Worker;
  private readonly requests: SharedRing;
  private readonly answers: SharedRing;
  private readonly out = new ByteWriter();
  private readonly waiting: Waiting[] = [];
  private ready = false;
  /** Resolves when the lane has built its engine (or has ended). */
  readonly started: Promise<void>;
  private dead = false;
  /** An Atomics.waitAsync on the answer ring is pending. */
  private armed = false;
  /** Which settings version of each session the lane has. */
  private settingsSent = new Map<number, number>();
  private forgetSettings = false;
  /** The fields of each plan, as the lane sent them the first time. */
  private readonly fields = new Map<number, Field[]>();
  private forgetFields = false;

  constructor(opts: ReaderOptions, budgetMs: number) {
    const requests = ringMemory(REQUEST_RING);
    const answers = ringMemory(ANSWER_RING);
    this.requests = new SharedRing(requests);
    this.answers = new SharedRing(answers);
    const workerData: LaneData = { ...opts, requests, answers, budgetMs };
    this.worker = new Worker(join(__dirname, 'lane-worker.js'), { workerData });
    this.started = new Promise((resolve) => {
      this.worker.once('message', () => {
        this.ready = true;
        resolve();
      });
      const fail = () => {
        this.died();
        resolve();
      };
      this.worker.on('error', fail);
      this.worker.on('exit', fail);
    });
  }

  /**
   * Runs a statement on the lane: its result, null when it is to go to a reader, or its own error. Returns
   * null at once (without a promise) when the lane cannot take it now.
   */
  run(
    sql: string,
    types: number[],
    params: unknown[],
    session: SessionSnapshot,
    autoParams: boolean,
    stream: { formats: number[] | null } | null,
  ): Promise<StreamedRun | RunResult | null> | null {
    if (!this.ready || this.dead) return null;
    const sent = this.settingsSent.get(session.pid);
    const withSettings = sent !== session.settingsVersion;
    // Settings the lane lacks and the caller did not give: a reader (which is sent them) runs it.
    if (withSettings && !session.settings) return null;
    let flags = autoParams ? RunFlag.AutoParams : 0;
    if (stream) flags |= RunFlag.Stream;
    if (stream?.formats) flags |= RunFlag.Formats;
    if (withSettings) flags |= RunFlag.Settings;
    if (this.forgetSettings) flags |= RunFlag.ForgetSettings;
    if (this.forgetFields) flags |= RunFlag.ForgetFields;
    try {
      writeRun(this.out.reset(), {
        flags,
        pid: session.pid,
        user: session.user,
        database: session.database,
        sql,
        types,
        params,
        formats: stream?.formats ?? null,
        settings: session.settings,
      });
    } catch (e) {
      if (e instanceof Unsendable) return null;
      throw e;
    }
    if (!this.requests.tryWrite(this.out.bytes)) return null;
    this.forgetSettings = false;
    this.forgetFields = false;
    if (withSettings) {
      // The next request tells the lane to forget every session's settings, these included: they are not
      // recorded as sent, so that they go again with this session's next statement.
      if (this.settingsSent.size >= FORGET_AFTER) {
        this.settingsSent = new Map();
        this.forgetSettings = true;
      } else this.settingsSent.set(session.pid, session.settingsVersion);
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ stream: stream !== null, resolve, reject });
      if (!this.armed) this.pump();
    });
  }

  /** A reader found the statement bounded: the lane plans it, to run it next time. */
  learn(sql: string, types: number[], autoParams: boolean): void {
    if (this.dead) return;
    writeLearn(this.out.reset(), sql, types, autoParams);
    this.requests.tryWrite(this.out.bytes); // a full ring: it is learnt another time
  }

  async close(): Promise<void> {
    this.died();
    await this.worker.terminate();
  }

  /** Takes every answer there is, then waits for the next while requests wait for theirs. */
  private pump(): void {
    for (;;) {
      const seen = this.answers.signal;
      for (let m = this.answers.read(); m; m = this.answers.read()) this.answered(new ByteReader(m));
      if (!this.waiting.length || this.dead) return;
      const next = this.answers.writeAfter(seen);
      if (next) {
        this.armed = true;
        next.then(this.woken);
        return;
      }
    }
  }

  private readonly woken = () => {
    this.armed = false;
    this.pump();
  };

  private answered(m: ByteReader): void {
    const w = this.waiting.shift();
    if (w) this.settle(w, m);
  }

  private settle(w: Waiting, m: ByteReader): void {
    const kind = m.u8() as Answer;
    if (kind === Answer.NotInline) {
      w.resolve(null);
      return;
    }
    if (kind === Answer.Error) {
      const e = readError(m);
      w.reject(new SqlError(e.code, e.message, e.extra));
      return;
    }
    const a = readRows(m);
    if (a.fields) this.fields.set(a.fieldsId, a.fields);
    const fields = this.fields.get(a.fieldsId);
    if (!this.waiting.length && this.fields.size >= FORGET_AFTER) {
      this.fields.clear();
      this.forgetFields = true;
    }
    const effects = a.effects ?? NO_EFFECTS;
    // Every plan's fields come with its first answer; without them (a bug) a reader answers instead.
    if (!fields) w.resolve(null);
    else if (!w.stream) w.resolve({ fields, rows: a.rows, bounded: true, ...effects });
    else w.resolve({ fields, rows: a.rows, encoded: a.encoded, done: true, bounded: true, ...effects });
  }

  /** The lane ended (it failed, or the pool closed): what waits goes to the readers. */
  private died(): void {
    this.dead = true;
    for (const w of this.waiting.splice(0)) w.resolve(null);
  }
}

/** The effects of a statement that had none (frozen: every such answer's). */
const NO_EFFECTS: StatementEffects = Object.freeze({
  changedSettings: Object.freeze([]) as unknown as [string, string][],
  notifications: Object.freeze([]) as unknown as [string, string][],
  signals: Object.freeze([]) as unknown as StatementEffects['signals'],
  warnings: Object.freeze([]) as unknown as string[],
});
