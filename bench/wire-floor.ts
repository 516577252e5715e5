// The floor of bench/wire: the least a Node.js server can do per transaction of that benchmark on this
// machine. It speaks just enough of the protocol for pgbench (trust login; Query, Parse, Bind, Describe,
// Execute, Sync) and answers every statement with one row of the benchmark's width from bytes made once: no
// parsing beyond framing, no catalog, no settings, one socket write per packet received. What it reaches is
// what one event loop thread can reach with the same socket traffic; the gap between it and this server is
// this server's own work per transaction (docs/benchmarks.md, bench/wire). Run as a child process of
// bench/wire: `node dist/bench/wire-floor.js` prints the port it listens on.
import { createServer } from 'node:net';
import { Oid } from '../pg/types';
import * as msg from '../wire/backend-messages';
import { EncryptionAnswer, FrontendCode, StartupCode } from '../wire/message-codes';

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

// Every answer is encoded once here, by this server's own message encoders; serving them is a lookup.
const rowDescription = msg.rowDescription(
  COLUMNS.map(([name]) => ({ name, typeOid: Oid.text })),
  [],
);
const dataRow = msg.dataRow(
  COLUMNS.map(([, v]) => v),
  COLUMNS.map(() => Oid.text),
  [],
);
const commandComplete = msg.commandComplete('SELECT 1');
const readyForQuery = msg.readyForQuery('I');
const empty: Buffer = Buffer.alloc(0);
const answers: Record<number, Buffer> = {
  [FrontendCode.Query]: Buffer.concat([rowDescription, dataRow, commandComplete, readyForQuery]),
  [FrontendCode.Parse]: msg.parseComplete(),
  [FrontendCode.Bind]: msg.bindComplete(),
  [FrontendCode.Describe]: rowDescription, // of a portal
  [FrontendCode.Execute]: Buffer.concat([dataRow, commandComplete]),
  [FrontendCode.Sync]: readyForQuery,
};
const hello = Buffer.concat([
  msg.authenticationOk(),
  msg.parameterStatus('server_version', '15.0'),
  msg.parameterStatus('server_encoding', 'UTF8'),
  msg.parameterStatus('client_encoding', 'UTF8'),
  msg.parameterStatus('standard_conforming_strings', 'on'),
  msg.parameterStatus('integer_datetimes', 'on'),
  msg.backendKeyData(1, 2),
  readyForQuery,
]);

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
        if (code === StartupCode.SSLRequest) out.push(Buffer.of(EncryptionAnswer.Refused));
        else {
          startup = false;
          out.push(hello);
        }
        continue;
      }
      if (buf.length < 5 || buf.length < 1 + buf.readInt32BE(1)) break;
      const type = buf[0];
      buf = buf.subarray(1 + buf.readInt32BE(1));
      if (type === FrontendCode.Terminate) {
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
