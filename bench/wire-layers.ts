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
import { serialize } from 'pg-protocol';
import pino from 'pino';
import { Oid } from '../pg/types';
import { Admission } from '../wire/admission';
import { Connection } from '../wire/connection';
import type { QueryHandler } from '../wire/handler';
import { BackendCode } from '../wire/message-codes';
import { machine, POINT_SELECT, seedTasks, startBenchApp } from './common';
import { spread } from './stats';

const TX = Number(process.env.BENCH_TX ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ROWS = 10_000;
/** Which layers and modes to run (all by default): BENCH_LAYERS=server BENCH_MODES=prepared, say. */
const LAYERS = (process.env.BENCH_LAYERS ?? 'wire,server').split(',');
const MODES = (process.env.BENCH_MODES ?? 'prepared,simple').split(',') as ('prepared' | 'simple')[];

const FIELDS = [
  { name: 'id', typeOid: Oid.text },
  { name: 'name', typeOid: Oid.text },
];
/** The protocol layer alone: every statement answers one canned row. */
const canned: QueryHandler = {
  credentials: async () => ({ scramVerifier: null, md5Hash: null }),
  prepare: async (sql) => ({
    paramTypes: (sql.match(/\$\d+/g) ?? []).map(() => Oid.text),
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
        if (type === BackendCode.ErrorResponse) errors++;
        if (type === BackendCode.ReadyForQuery && onReady) {
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
  // What pgbench sends, serialized by pg-protocol (as the tests' raw client does).
  await send(serialize.startup({ user: 'admin', database: 'segtasks' }));
  await send(
    Buffer.concat([serialize.parse({ name: 's', text: POINT_SELECT, types: [] }), serialize.sync()]),
  );
  const txs = Array.from({ length: 64 }, (_, k) =>
    mode === 'prepared'
      ? Buffer.concat([
          serialize.bind({ portal: '', statement: 's', values: [String(k + 1)] }),
          serialize.describe({ type: 'P', name: '' }),
          serialize.execute({ portal: '', rows: 0 }),
          serialize.sync(),
        ])
      : serialize.query(POINT_SELECT.replace('$1', String(k + 1))),
  );
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

async function main() {
  console.log("bench/wire-layers: CPU per transaction of bench/wire's point SELECT, without sockets");
  console.log(machine());
  const dir = mkdtempSync(join(tmpdir(), 'segtasks-bench-layers-'));
  const app = await startBenchApp(join(dir, 'data'), 0, 'trust');
  try {
    seedTasks(app, ROWS);
    console.log('| layer | mode | CPU µs per transaction, median (min-max) |');
    console.log('|---|---|---|');
    for (const [layer, handler] of [
      ['wire', canned],
      ['server', app.handler],
    ] as const) {
      if (!LAYERS.includes(layer)) continue;
      for (const mode of MODES) {
        const x = spread(await measure(handler, mode));
        console.log(
          `| ${layer} | ${mode} | ${x.median.toFixed(1)} (${x.min.toFixed(1)}-${x.max.toFixed(1)}) |`,
        );
      }
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
