// The messages between the wire thread and the inline lane (lane.ts, lane-worker.ts), as bytes for the
// shared rings: what a statement needs to run (its text, parameter types and values, the session's identity
// and, when the lane has not seen them, its settings) and what it gave (its rows, encoded as DataRow messages
// or as values, its fields the first time, its effects, or its error). Values are tagged; a value of a kind
// not listed here is not sent at all (Unsendable: the statement goes to a reader, never a guessed value).
import { endianness } from 'node:os';
import type { EncodedRows } from '../../pg/data-row';
import type { ErrorExtra } from '../../pg/errors';
import type { Field, StatementEffects } from './reader-engine';

export class Unsendable extends Error {}

const LITTLE_ENDIAN = endianness() === 'LE';

enum Tag {
  Null = 0,
  Text = 1,
  Number = 2,
  BigInt = 3,
  True = 4,
  False = 5,
  Bytes = 6,
}

export class ByteWriter {
  private buf = Buffer.allocUnsafe(4096);
  private at = 0;

  /** Starts a new message (the buffer is reused). */
  reset(): this {
    this.at = 0;
    return this;
  }

  /** The message so far (a view, valid until the next reset). */
  get bytes(): Buffer {
    return this.buf.subarray(0, this.at);
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.at++] = v;
  }

  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32LE(v >>> 0, this.at);
    this.at += 4;
  }

  f64(v: number): void {
    this.room(8);
    this.buf.writeDoubleLE(v, this.at);
    this.at += 8;
  }

  text(s: string): void {
    // At most 3 bytes per UTF-16 unit; the length goes in front once it is known.
    this.room(4 + s.length * 3);
    const n = this.buf.write(s, this.at + 4, 'utf8');
    this.buf.writeUInt32LE(n, this.at);
    this.at += 4 + n;
  }

  raw(b: Uint8Array): void {
    this.room(4 + b.length);
    this.buf.writeUInt32LE(b.length, this.at);
    this.buf.set(b, this.at + 4);
    this.at += 4 + b.length;
  }

  /** A u32 array starting at a multiple of 4 from the message's start (the reader can view it in place). */
  alignedU32s(a: ArrayLike<number>): void {
    this.u32s(a, true);
  }

  u32s(a: ArrayLike<number>, aligned = false): void {
    this.room(7 + a.length * 4);
    this.u32(a.length);
    if (aligned) while (this.at & 3) this.buf[this.at++] = 0;
    for (let i = 0; i < a.length; i++) {
      this.buf.writeUInt32LE(a[i] >>> 0, this.at);
      this.at += 4;
    }
  }

  value(v: unknown): void {
    if (v === null || v === undefined) this.u8(Tag.Null);
    else if (typeof v === 'string') {
      this.u8(Tag.Text);
      this.text(v);
    } else if (typeof v === 'number') {
      this.u8(Tag.Number);
      this.f64(v);
    } else if (typeof v === 'bigint') {
      this.u8(Tag.BigInt);
      this.text(v.toString());
    } else if (typeof v === 'boolean') this.u8(v ? Tag.True : Tag.False);
    else if (v instanceof Uint8Array) {
      this.u8(Tag.Bytes);
      this.raw(v);
    } else throw new Unsendable(`a ${typeof v} value`);
  }

  values(a: readonly unknown[]): void {
    this.u32(a.length);
    for (const v of a) this.value(v);
  }
}

export class ByteReader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}

  u8(): number {
    return this.buf[this.at++];
  }

  u32(): number {
    const v = this.buf.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }

  f64(): number {
    const v = this.buf.readDoubleLE(this.at);
    this.at += 8;
    return v;
  }

  text(): string {
    const n = this.u32();
    const s = this.buf.toString('utf8', this.at, this.at + n);
    this.at += n;
    return s;
  }

  /** Bytes as a view of the message (the message is the reader's own copy: see SharedRing.read). */
  raw(): Buffer {
    const n = this.u32();
    const b = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }

  /**
   * What alignedU32s wrote, as a view of the message where its memory allows (little-endian, 4-aligned), to
   * spare allocating a typed array, which costs as much as the rest of an answer.
   */
  alignedU32s(): Uint32Array {
    const n = this.u32();
    this.at = (this.at + 3) & ~3;
    const offset = this.buf.byteOffset + this.at;
    let a: Uint32Array;
    if (LITTLE_ENDIAN && (offset & 3) === 0) a = new Uint32Array(this.buf.buffer, offset, n);
    else {
      a = new Uint32Array(n);
      for (let i = 0; i < n; i++) a[i] = this.buf.readUInt32LE(this.at + i * 4);
    }
    this.at += n * 4;
    return a;
  }

  u32s(): number[] {
    const n = this.u32();
    const a = new Array<number>(n);
    for (let i = 0; i < n; i++) a[i] = this.u32();
    return a;
  }

  value(): unknown {
    switch (this.u8() as Tag) {
      case Tag.Null:
        return null;
      case Tag.Text:
        return this.text();
      case Tag.Number:
        return this.f64();
      case Tag.BigInt:
        return BigInt(this.text());
      case Tag.True:
        return true;
      case Tag.False:
        return false;
      case Tag.Bytes:
        return this.raw();
    }
  }

  values(): unknown[] {
    const n = this.u32();
    const a = new Array<unknown>(n);
    for (let i = 0; i < n; i++) a[i] = this.value();
    return a;
  }
}

export enum Op {
  Run = 1,
  Learn = 2,
}

/** Bits of a run request's flags. */
export enum RunFlag {
  AutoParams = 1,
  /** The rows are for a stream (open()): a first batch, encoded when formats come too. */
  Stream = 2,
  Formats = 4,
  /** The session's settings come with the request (the lane has not seen this version of them). */
  Settings = 8,
  /** The wire thread forgot which sessions' settings the lane has: the lane forgets them too. */
  ForgetSettings = 16,
  /** The wire thread forgot the fields it was sent: the lane sends each plan's fields again. */
  ForgetFields = 32,
}

export interface RunRequest {
  flags: number;
  pid: number;
  user: string;
  database: string;
  sql: string;
  types: number[];
  params: unknown[];
  formats: number[] | null;
  settings: [string, string][] | null;
}

export function writeRun(w: ByteWriter, r: RunRequest): void {
  w.u8(Op.Run);
  w.u8(r.flags);
  w.u32(r.pid);
  w.text(r.user);
  w.text(r.database);
  w.text(r.sql);
  w.u32s(r.types);
  w.values(r.params);
  if (r.flags & RunFlag.Formats) w.u32s(r.formats ?? []);
  if (r.flags & RunFlag.Settings) {
    const s = r.settings ?? [];
    w.u32(s.length);
    for (const [k, v] of s) {
      w.text(k);
      w.text(v);
    }
  }
}

export function readRun(r: ByteReader): RunRequest {
  const flags = r.u8();
  const pid = r.u32();
  const user = r.text();
  const database = r.text();
  const sql = r.text();
  const types = r.u32s();
  const params = r.values();
  const formats = flags & RunFlag.Formats ? r.u32s() : null;
  let settings: [string, string][] | null = null;
  if (flags & RunFlag.Settings) {
    const n = r.u32();
    settings = [];
    for (let i = 0; i < n; i++) settings.push([r.text(), r.text()]);
  }
  return { flags, pid, user, database, sql, types, params, formats, settings };
}

export function writeLearn(w: ByteWriter, sql: string, types: number[], autoParams: boolean): void {
  w.u8(Op.Learn);
  w.u8(autoParams ? RunFlag.AutoParams : 0);
  w.text(sql);
  w.u32s(types);
}

export function readLearn(r: ByteReader): { sql: string; types: number[]; autoParams: boolean } {
  const autoParams = (r.u8() & RunFlag.AutoParams) !== 0;
  return { autoParams, sql: r.text(), types: r.u32s() };
}

/** What a run request gave; one answer per run request, in the order of the requests. */
export enum Answer {
  /** Not run here: the statement goes to a reader. */
  NotInline = 0,
  Ok = 1,
  Error = 2,
}

export interface InlineRows {
  /** The plan's fields: the same array for every answer of one plan (see the lane's fields cache). */
  fieldsId: number;
  fields: Field[] | null;
  rows: unknown[][];
  encoded: EncodedRows | null;
  effects: StatementEffects | null;
}

export function writeRows(w: ByteWriter, a: InlineRows): void {
  w.u8(Answer.Ok);
  w.u32(a.fieldsId);
  w.u8(a.fields ? 1 : 0);
  if (a.fields) {
    w.u32(a.fields.length);
    for (const f of a.fields) {
      w.text(f.name);
      w.u32(f.typeOid);
    }
  }
  w.u8(a.encoded ? 1 : 0);
  if (a.encoded) {
    w.raw(a.encoded.bytes);
    w.alignedU32s(a.encoded.ends);
  } else {
    w.u32(a.rows.length);
    for (const row of a.rows) w.values(row);
  }
  w.u8(a.effects ? 1 : 0);
  if (a.effects) w.text(JSON.stringify(a.effects));
}

export function readRows(r: ByteReader): InlineRows {
  const fieldsId = r.u32();
  let fields: Field[] | null = null;
  if (r.u8()) {
    const n = r.u32();
    fields = [];
    for (let i = 0; i < n; i++) fields.push({ name: r.text(), typeOid: r.u32() });
  }
  let encoded: EncodedRows | null = null;
  let rows: unknown[][] = [];
  if (r.u8()) {
    const bytes = r.raw();
    encoded = { bytes, ends: r.alignedU32s() };
  } else {
    const n = r.u32();
    rows = new Array(n);
    for (let i = 0; i < n; i++) rows[i] = r.values();
  }
  const effects = r.u8() ? (JSON.parse(r.text()) as StatementEffects) : null;
  return { fieldsId, fields, rows, encoded, effects };
}

export function writeError(w: ByteWriter, code: string, message: string, extra: ErrorExtra): void {
  w.u8(Answer.Error);
  w.text(code);
  w.text(message);
  w.text(JSON.stringify(extra));
}

export function readError(r: ByteReader): { code: string; message: string; extra: ErrorExtra } {
  return { code: r.text(), message: r.text(), extra: JSON.parse(r.text()) as ErrorExtra };
}
