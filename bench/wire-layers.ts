// bench/wire-layers: a point lookup's CPU per transaction on the wire thread, layer by layer, without sockets.
// A Connection runs over an in-memory duplex and is fed what pgbench sends for bench/wire's point SELECT
// (-M prepared: Bind, Describe, Execute, Sync; -M simple: Query), BENCH_TX transactions per round:
// - "wire": with a handler that answers every statement with one canned row (the protocol layer alone);
// - "server": with this server's own handler (router, metrics, the inline engine, SQLite) over 10,000 tasks.
// It prints process.cpuUsage() per transaction, the median of BENCH_ROUNDS rounds. CPU time, not wall time:
// a profile of the server under pgbench counts the socket write's wake-up of pgbench as the writer's time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import pino from 'pino';
import { nowText } from '../catalog/db';
import { Admission } from '../wire/admission';
import { Connection } from '../wire/connection';
import type { QueryHandler } from '../wire/handler';
import { machine, startBenchApp } from './common';

const TX = Number(process.env.BENCH_TX ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROWS = 10_000;
const POINT =
  "SELECT * FROM sys.tasks WHERE id = ('00000000-0000-4000-8000-' || lpad($1::text, 12, '0'))::uuid";

function message(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const m = Buffer.alloc(5 + body.length);
  m[0] = type.charCodeAt(0);
  m.writeInt32BE(4 + body.length, 1);
  body.copy(m, 5);
  return m;
}
const int32 = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const int16 = (n: number) => Buffer.from([(n >>> 8) & 255, n & 255]);
const cstring = (s: string) => Buffer.from(`${s}\0`);

const FIELDS = [
  { name: 'id', typeOid: 25 },
  { name: 'name', typeOid: 25 },
];
/** The protocol layer alone: every statement answers one canned row. */
const canned: QueryHandler = {
  credentials: async () => ({ scramVerifier: null, md5Hash: null }),
  prepare: async (sql) => ({
    paramTypes: (sql.match(/\$\d+/g) ?? []).map(() => 25),
    fields: FIELDS,
    execute: async () => ({
      kind: 'rows',
      fields: FIELDS,
      rows: [['00000000-0000-4000-8000-000000000001', 'task-1']],
      tag: 'SELECT',
    }),
  }),
};

/** CPU µs per transaction of `mode` against `handler`, one value per round. */
async function measure(handler: QueryHandler, mode: 'prepared' | 'simple'): Promise<number[]> {
  let onReady: (() => void) | null = null;
  let errors = 0;
  const pipe = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, done) {
      for (let i = 0; i < chunk.length; ) {
        const type = chunk[i];
        if (type === 0x45) errors++; // ErrorResponse
        if (type === 0x5a && onReady) {
          const f = onReady;
          onReady = null;
          f();
        }
        i += 1 + chunk.readInt32BE(i + 1);
      }
      done();
    },
  });
  const conn = new Connection(pipe, {
    handler,
    auth: 'trust',
    tls: null,
    limits: { maxMessageBytes: 1 << 26, maxCopyDataBytes: 1 << 28 },
    serverName: 'bench',
    logger: pino({ level: 'silent' }),
    mockSecret: Buffer.alloc(32),
    lookupBackend: () => undefined,
    register() {},
    unregister() {},
    admission: new Admission(100, 3),
    authenticationTimeoutMs: 60_000,
  });
  void conn.run();
  const send = (b: Buffer) =>
    new Promise<void>((resolve) => {
      onReady = resolve;
      pipe.push(b);
    });
  const startup = Buffer.concat([
    int32(3 << 16),
    cstring('user'),
    cstring('admin'),
    cstring('database'),
    cstring('segtasks'),
    Buffer.from([0]),
  ]);
  await send(Buffer.concat([int32(startup.length + 4), startup]));
  await send(Buffer.concat([message('P', cstring('s'), cstring(POINT), int16(0)), message('S')]));
  const txs = Array.from({ length: 64 }, (_, k) => {
    const id = Buffer.from(String(k + 1));
    return mode === 'prepared'
      ? Buffer.concat([
          message('B', cstring(''), cstring('s'), int16(0), int16(1), int32(id.length), id, int16(0)),
          message('D', Buffer.from('P'), cstring('')),
          message('E', cstring(''), int32(0)),
          message('S'),
        ])
      : message('Q', cstring(POINT.replace('$1', String(k + 1))));
  });
  const run = async (n: number) => {
    for (let i = 0; i < n; i++) await send(txs[i & 63]);
  };
  await run(Math.min(TX, 2000)); // plans learned, code compiled
  const perTx: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = process.cpuUsage();
    await run(TX);
    const c = process.cpuUsage(c0);
    perTx.push((c.user + c.system) / TX);
  }
  pipe.destroy();
  if (errors) throw new Error(`${errors} statements failed`);
  return perTx;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  console.log("bench/wire-layers: CPU per transaction of bench/wire's point SELECT, without sockets");
  console.log(machine());
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-bench-layers-'));
  const app = await startBenchApp(join(dir, 'data'), 0, 'trust');
  try {
    const ins = app.sqlite!.db.prepare(
      `INSERT INTO tasks (id, name, type, location_type, options, status, created_by, created_at) VALUES (?, ?, 'check_disk', 'SYSTEM', '{}', 'COMPLETE', 'admin', ?)`,
    );
    app.sqlite!.db.transaction(() => {
      for (let i = 1; i <= ROWS; i++)
        ins.run(`00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, `task-${i}`, nowText());
    })();
    console.log('| layer | mode | CPU µs per transaction, median (min-max) |');
    console.log('|---|---|---|');
    for (const [layer, handler] of [
      ['wire', canned],
      ['server', app.handler],
    ] as const)
      for (const mode of ['prepared', 'simple'] as const) {
        const xs = await measure(handler, mode);
        console.log(
          `| ${layer} | ${mode} | ${median(xs).toFixed(1)} (${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)}) |`,
        );
      }
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
