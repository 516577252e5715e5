// The floor of bench/wire: the least a Node.js server can do per transaction of that benchmark on this
// machine. It speaks just enough of the protocol for pgbench (trust login; Query, Parse, Bind, Describe,
// Execute, Sync) and answers every statement with one row of the benchmark's width from bytes made once: no
// parsing beyond framing, no catalog, no settings, one socket write per packet received. What it reaches is
// what one event loop thread can reach with the same socket traffic; the gap between it and this server is
// this server's own work per transaction (docs/benchmarks.md, bench/wire). Run as a child process of
// bench/wire: `node dist/bench/wire-floor.js` prints the port it listens on.
import { createServer } from 'node:net';

function message(type: string, body: Buffer): Buffer {
  const m = Buffer.alloc(5 + body.length);
  m[0] = type.charCodeAt(0);
  m.writeInt32BE(4 + body.length, 1);
  body.copy(m, 5);
  return m;
}
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const int16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};
const cstring = (s: string) => Buffer.from(`${s}\0`);

/** The columns of sys.tasks as bench/wire selects them, all text, and one row of typical values. */
const COLUMNS = [
  ['id', '00000000-0000-4000-8000-000000000042'],
  ['name', 'task-42'],
  ['type', 'check_disk'],
  ['location_type', 'SYSTEM'],
  ['location_name', null],
  ['options', '{}'],
  ['status', 'COMPLETE'],
  ['created_by', 'admin'],
  ['created_at', '2026-12-02 01:23:45.678+00'],
  ['started_at', null],
  ['finished_at', null],
  ['fraction_complete', '0'],
  ['bytes_total', '0'],
  ['bytes_done', '0'],
  ['segments_total', '0'],
  ['segments_done', '0'],
  ['segments_failed', '0'],
  ['error', null],
] as const;

const rowDescription = message(
  'T',
  Buffer.concat([
    int16(COLUMNS.length),
    ...COLUMNS.flatMap(([name]) => [
      cstring(name),
      int32(0),
      int16(0),
      int32(25),
      int16(-1),
      int32(-1),
      int16(0),
    ]),
  ]),
);
const dataRow = message(
  'D',
  Buffer.concat([
    int16(COLUMNS.length),
    ...COLUMNS.flatMap(([, v]) => (v === null ? [int32(-1)] : [int32(Buffer.byteLength(v)), Buffer.from(v)])),
  ]),
);
const commandComplete = message('C', cstring('SELECT 1'));
const readyForQuery = message('Z', Buffer.from('I'));
const empty: Buffer = Buffer.alloc(0);
const answers: Record<number, Buffer> = {
  81: Buffer.concat([rowDescription, dataRow, commandComplete, readyForQuery]), // Query
  80: message('1', empty), // Parse
  66: message('2', empty), // Bind
  68: rowDescription, // Describe (a portal)
  69: Buffer.concat([dataRow, commandComplete]), // Execute
  83: readyForQuery, // Sync
};
const parameter = (k: string, v: string) => message('S', Buffer.concat([cstring(k), cstring(v)]));
const hello = Buffer.concat([
  message('R', int32(0)),
  parameter('server_version', '15.0'),
  parameter('server_encoding', 'UTF8'),
  parameter('client_encoding', 'UTF8'),
  parameter('standard_conforming_strings', 'on'),
  parameter('integer_datetimes', 'on'),
  message('K', Buffer.concat([int32(1), int32(2)])),
  readyForQuery,
]);

const SSL_REQUEST = 80877103;

const server = createServer((socket) => {
  socket.setNoDelay(true);
  let pending: Buffer = empty;
  let startup = true;
  socket.on('data', (data: Buffer) => {
    let buf: Buffer = pending.length ? Buffer.concat([pending, data]) : data;
    const out: Buffer[] = [];
    for (;;) {
      if (startup) {
        if (buf.length < 4 || buf.length < buf.readInt32BE(0)) break;
        const len = buf.readInt32BE(0);
        const code = buf.readInt32BE(4);
        buf = buf.subarray(len);
        if (code === SSL_REQUEST) out.push(Buffer.from('N'));
        else {
          startup = false;
          out.push(hello);
        }
        continue;
      }
      if (buf.length < 5 || buf.length < 1 + buf.readInt32BE(1)) break;
      const type = buf[0];
      buf = buf.subarray(1 + buf.readInt32BE(1));
      if (type === 0x58) {
        socket.end();
        return;
      }
      const answer = answers[type];
      if (answer) out.push(answer);
    }
    pending = buf;
    if (out.length) socket.write(out.length === 1 ? out[0] : Buffer.concat(out));
  });
  socket.on('error', () => socket.destroy());
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  if (addr && typeof addr === 'object') console.log(addr.port);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
