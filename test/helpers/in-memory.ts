// Drives a wire Connection without a server or a socket: an in-memory duplex pair, a fake QueryHandler,
// and a client that writes pg-protocol's serialized frontend messages and reads backend messages with
// pg-protocol's public parser.
import { Duplex } from 'node:stream';
import { parse, serialize } from 'pg-protocol';
import { makeMd5Hash } from '../../pg/auth';
import { SqlError } from '../../pg/errors';
import { Oid } from '../../pg/types';
import { Admission } from '../../wire/admission';
import { Connection, type ConnectionOptions } from '../../wire/connection';
import type { PreparedQuery, QueryHandler, QueryResult } from '../../wire/handler';

export { serialize };

/** A backend message as pg-protocol's parser gives it; fields depend on the name. */
export type Received = { name: string } & Record<string, unknown>;

/** Two connected in-memory streams: what one writes, the other reads. */
export function duplexPair(): [Duplex, Duplex] {
  const sides: Duplex[] = [];
  const make = (other: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk, _enc, cb) {
        other().push(chunk);
        cb();
      },
      final(cb) {
        other().push(null);
        cb();
      },
    });
  sides.push(make(() => sides[1]));
  sides.push(make(() => sides[0]));
  return [sides[0], sides[1]];
}

/**
 * A handler that answers a few statements: 'rows N' (or 'select rows N') returns N rows of one int4 column,
 * 'fail' raises 42000 at position 1, 'copy in' and 'copy out' run COPY, anything with $1 takes one int4
 * parameter and returns it.
 */
export class FakeHandler implements QueryHandler {
  copied: Buffer[] = [];
  /** How many payloads each run handed to COPY FROM held. */
  copyRuns: number[] = [];
  prepared: string[] = [];

  async credentials(user: string) {
    return user === 'nobody' ? null : { scramVerifier: null, md5Hash: makeMd5Hash(user, 'secret') };
  }

  async prepare(sql: string, clientParamTypes: number[]): Promise<PreparedQuery> {
    this.prepared.push(sql);
    const text = sql
      .trim()
      .toLowerCase()
      .replace(/^select (?=rows )/, '');
    if (text === 'fail') throw new SqlError('42000', 'fake failure', { position: 1 });
    const rows = /^rows (\d+)$/.exec(text);
    const field = { name: 'n', typeOid: Oid.int4 };
    if (text.includes('$1')) {
      return {
        paramTypes: [clientParamTypes[0] || Oid.int4],
        fields: [field],
        execute: async (params) => ({ kind: 'rows', fields: [field], rows: [[params[0]]], tag: 'SELECT' }),
      };
    }
    return {
      paramTypes: [],
      fields: rows ? [field] : null,
      execute: async () => this.run(text, rows ? Number(rows[1]) : 0),
    };
  }

  private run(text: string, n: number): QueryResult {
    if (text === 'copy in') {
      return {
        kind: 'copyIn',
        binary: false,
        consume: async (data) => {
          for await (const run of data) {
            this.copyRuns.push(run.length);
            for (const chunk of run) this.copied.push(Buffer.from(chunk));
          }
          return `COPY ${this.copied.length}`;
        },
      };
    }
    if (text === 'copy out') {
      return {
        kind: 'copyOut',
        binary: false,
        async *produce() {
          yield Buffer.from('1\n');
          yield Buffer.from('2\n');
        },
        tag: () => 'COPY 2',
      };
    }
    if (text.startsWith('rows')) {
      const rows = Array.from({ length: n }, (_, i) => [i + 1]);
      return { kind: 'rows', fields: [{ name: 'n', typeOid: Oid.int4 }], rows, tag: 'SELECT' };
    }
    return { kind: 'command', tag: text.toUpperCase() };
  }
}

export class TestClient {
  private readonly messages: Received[] = [];
  private waiters: (() => void)[] = [];
  ended = false;

  constructor(private readonly stream: Duplex) {
    void parse(stream, (m) => {
      this.messages.push(m as unknown as Received);
      this.wake();
    });
    stream.on('end', () => {
      this.ended = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  write(...bufs: Buffer[]): void {
    this.stream.write(Buffer.concat(bufs));
  }

  /** Everything received up to and including the next message with this name. */
  async until(name: string): Promise<Received[]> {
    for (;;) {
      const i = this.messages.findIndex((m) => m.name === name);
      if (i >= 0) return this.messages.splice(0, i + 1);
      if (this.ended)
        throw new Error(`ended before ${name}; got ${this.messages.map((m) => m.name).join(',')}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Everything received until the server ended the stream. */
  async untilEnd(): Promise<Received[]> {
    while (!this.ended) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.messages.splice(0);
  }

  close(): void {
    this.stream.end();
  }
}

export interface Harness {
  client: TestClient;
  handler: FakeHandler;
  /** Settles when the connection has ended. */
  done: Promise<void>;
}

/** A connection over an in-memory pair, before startup. */
export function openConnection(opts: Partial<ConnectionOptions> = {}): Harness {
  const [serverSide, clientSide] = duplexPair();
  const handler = new FakeHandler();
  const quiet = () => {};
  const conn = new Connection(serverSide, {
    handler,
    auth: 'trust',
    tls: null,
    limits: { maxMessageBytes: 1024 * 1024, maxCopyDataBytes: 1024 * 1024 },
    serverName: 'unit',
    logger: { info: quiet, warn: quiet, error: quiet, debug: quiet },
    mockSecret: Buffer.alloc(32),
    lookupBackend: () => undefined,
    register: quiet,
    unregister: quiet,
    admission: arrived(new Admission(100, 3)),
    authenticationTimeoutMs: 60_000,
    serverSettings: {},
    ...opts,
  });
  return { client: new TestClient(clientSide), handler, done: conn.run() };
}

/** An Admission that has already counted one arriving connection, as the listener does before a Connection. */
export function arrived(a: Admission): Admission {
  a.arrive();
  return a;
}

/** A connection that has completed startup with trust authentication. */
export async function loggedIn(): Promise<Harness> {
  const h = openConnection();
  h.client.write(serialize.startup({ user: 'admin', database: 'db' }));
  await h.client.until('readyForQuery');
  return h;
}

export const names = (ms: Received[]) => ms.map((m) => m.name);
