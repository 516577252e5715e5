// The protocol itself, byte by byte: extended-query state, error recovery, and malformed input.
import test from 'ava';
import pg from 'pg';
import type { DatabaseError } from 'pg-protocol';
import {
  type DataRowMessage,
  names,
  type ParameterDescriptionMessage,
  RawClient,
  type RowDescriptionMessage,
  serialize,
} from './helpers/raw';
import { startTestServer, type TestServer } from './helpers/server';

let server: TestServer;
test.before(async () => {
  server = await startTestServer({ auth: 'trust' });
});
test.after.always(async () => {
  await server?.stop();
});

function frame(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

async function stillServes(t: { is: (a: unknown, b: unknown) => void }) {
  const c = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'admin', database: 'segtasks' });
  await c.connect();
  const r = await c.query('SELECT 1 AS one');
  t.is(r.rows[0].one, 1);
  await c.end();
}

test('SSLRequest without TLS configured is answered N, then startup proceeds', async (t) => {
  const c = await RawClient.open(server.port);
  const ssl = Buffer.alloc(8);
  ssl.writeInt32BE(8, 0);
  ssl.writeInt32BE(80877103, 4);
  c.write(ssl);
  await c.until('sslRefused');
  c.write(serialize.startup({ user: 'admin', database: 'segtasks' }));
  const ms = await c.until('readyForQuery');
  const params = Object.fromEntries(
    ms
      .filter((m) => m.name === 'parameterStatus')
      .map((m) => [
        (m as unknown as { parameterName: string }).parameterName,
        (m as unknown as { parameterValue: string }).parameterValue,
      ]),
  );
  t.regex(params.server_version, /^15\.0 /);
  t.is(params.client_encoding, 'UTF8');
  t.is(params.server_encoding, 'UTF8');
  t.regex(params.DateStyle, /^ISO/);
  t.is(params.integer_datetimes, 'on');
  t.is(params.standard_conforming_strings, 'on');
  for (const k of [
    'TimeZone',
    'IntervalStyle',
    'is_superuser',
    'session_authorization',
    'application_name',
    'default_transaction_read_only',
    'in_hot_standby',
  ]) {
    t.true(k in params, `ParameterStatus ${k}`);
  }
  t.true(names(ms).includes('backendKeyData'));
  c.end();
});

test('protocol 2.0 is refused with FATAL', async (t) => {
  const c = await RawClient.open(server.port);
  const b = Buffer.alloc(8);
  b.writeInt32BE(8, 0);
  b.writeInt32BE(0x00020000, 4);
  c.write(b);
  const ms = await c.waitClosed();
  const err = ms.find((m) => m.name === 'error') as DatabaseError;
  t.is(err.severity, 'FATAL');
  t.regex(err.message, /unsupported frontend protocol 2\.0/);
});

for (const [label, bytes] of [
  ['an unknown message type', frame('~', Buffer.alloc(3))],
  ['a negative length', Buffer.from([0x51, 0xff, 0xff, 0xff, 0xf0])],
  ['a length over the limit', Buffer.from([0x51, 0x7f, 0xff, 0xff, 0xff])],
  ['a truncated Bind', frame('B', Buffer.from([0, 0, 0, 5]))],
  ['a Parse without string terminator', frame('P', Buffer.from('abc'))],
] as [string, Buffer][]) {
  test(`${label} ends that connection with FATAL 08P01; the server goes on`, async (t) => {
    const c = await RawClient.login(server.port);
    c.write(bytes);
    const ms = await c.waitClosed();
    const err = ms.find((m) => m.name === 'error') as DatabaseError | undefined;
    t.truthy(err, `got ${names(ms)}`);
    t.is(err?.code, '08P01');
    t.is(err?.severity, 'FATAL');
    t.true(c.closed);
    await stillServes(t);
  });
}

test('an oversized message is refused before it is buffered (memory stays bounded)', async (t) => {
  const before = process.memoryUsage().rss;
  const c = await RawClient.login(server.port);
  const head = Buffer.alloc(5);
  head.write('Q', 0);
  head.writeInt32BE(200 * 1024 * 1024, 1); // 200 MiB announced, over the 64 MiB default
  c.write(head);
  c.write(Buffer.alloc(1024 * 1024, 0x41));
  const ms = await c.waitClosed();
  t.is((ms.find((m) => m.name === 'error') as DatabaseError)?.code, '08P01');
  t.true(process.memoryUsage().rss - before < 100 * 1024 * 1024);
  await stillServes(t);
});

test('extended protocol: named statement, inferred parameter types, Describe, portal suspension', async (t) => {
  const c = await RawClient.login(server.port);
  c.write(
    Buffer.concat([
      serialize.parse({
        name: 's1',
        text: 'SELECT value, value * $1 AS scaled FROM generate_series(1, 5) AS g(value) WHERE value > $2',
        types: [],
      }),
      serialize.describe({ type: 'S', name: 's1' }),
      serialize.bind({ portal: 'p1', statement: 's1', values: ['10', '0'] }),
      serialize.execute({ portal: 'p1', rows: 2 }),
      serialize.execute({ portal: 'p1', rows: 2 }),
      serialize.execute({ portal: 'p1', rows: 2 }),
      serialize.sync(),
    ]),
  );
  const ms = await c.until('readyForQuery');
  t.deepEqual(names(ms), [
    'parseComplete',
    'parameterDescription',
    'rowDescription',
    'bindComplete',
    'dataRow',
    'dataRow',
    'portalSuspended',
    'dataRow',
    'dataRow',
    'portalSuspended',
    'dataRow',
    'commandComplete',
    'readyForQuery',
  ]);
  t.deepEqual((ms[1] as ParameterDescriptionMessage).dataTypeIDs, [23, 23]);
  t.deepEqual(
    (ms[2] as RowDescriptionMessage).fields.map((f) => [f.name, f.dataTypeID]),
    [
      ['value', 23],
      ['scaled', 23],
    ],
  );
  t.deepEqual((ms[4] as DataRowMessage).fields, ['1', '10']);
  c.end();
});

test('extended protocol errors: 26000, 34000, 42P05, 42601 for two commands; skip to Sync; one ReadyForQuery per Sync', async (t) => {
  const c = await RawClient.login(server.port);
  const code = async () =>
    ((await c.until('readyForQuery')).find((m) => m.name === 'error') as DatabaseError)?.code;
  c.write(Buffer.concat([serialize.bind({ statement: 'nope' }), serialize.execute({}), serialize.sync()]));
  t.is(await code(), '26000');
  c.write(Buffer.concat([serialize.execute({ portal: 'nope' }), serialize.sync()]));
  t.is(await code(), '34000');
  c.write(
    Buffer.concat([
      serialize.parse({ name: 'x', text: 'SELECT 1' }),
      serialize.parse({ name: 'x', text: 'SELECT 2' }),
      serialize.sync(),
    ]),
  );
  t.is(await code(), '42P05');
  c.write(Buffer.concat([serialize.parse({ text: 'SELECT 1; SELECT 2' }), serialize.sync()]));
  t.is(await code(), '42601');
  // after an error, messages up to Sync are skipped and exactly one ReadyForQuery comes back
  c.write(
    Buffer.concat([
      serialize.parse({ text: 'SELECT nope' }),
      serialize.bind({}),
      serialize.execute({}),
      serialize.sync(),
      serialize.parse({ text: 'SELECT 7' }),
      serialize.bind({}),
      serialize.execute({}),
      serialize.sync(),
    ]),
  );
  t.deepEqual(names(await c.until('readyForQuery')), ['error', 'readyForQuery']);
  const ok = await c.until('readyForQuery');
  t.deepEqual(names(ok), ['parseComplete', 'bindComplete', 'dataRow', 'commandComplete', 'readyForQuery']);
  c.end();
});

test('simple query: empty and comment-only strings get one EmptyQueryResponse', async (t) => {
  const c = await RawClient.login(server.port);
  for (const q of ['', '   ', '-- nothing\n', '/* a /* nested */ comment */']) {
    c.write(serialize.query(q));
    t.deepEqual(names(await c.until('readyForQuery')), ['emptyQuery', 'readyForQuery'], JSON.stringify(q));
  }
  c.write(serialize.query("SELECT 'a;b' AS s; SELECT $$x;y$$ AS d; SELECT E'it\\'s' AS e"));
  const ms = await c.until('readyForQuery');
  t.deepEqual(
    ms.filter((m) => m.name === 'dataRow').map((m) => (m as DataRowMessage).fields[0]),
    ['a;b', 'x;y', "it's"],
  );
  c.end();
});

test('transaction status I/T/E in ReadyForQuery', async (t) => {
  const c = await RawClient.login(server.port);
  const status = async (q: string) => {
    c.write(serialize.query(q));
    const ms = await c.until('readyForQuery');
    return (ms[ms.length - 1] as unknown as { status: string }).status;
  };
  t.is(await status('SELECT 1'), 'I');
  t.is(await status('BEGIN'), 'T');
  t.is(await status('SELECT 1'), 'T');
  t.is(await status('SELECT nope'), 'E');
  t.is(await status('SELECT 1'), 'E');
  t.is(await status('ROLLBACK'), 'I');
  t.is(await status('START TRANSACTION; SAVEPOINT a; SELECT nope'), 'E');
  t.is(await status('ROLLBACK TO SAVEPOINT a'), 'T');
  t.is(await status('COMMIT'), 'I');
  c.end();
});
