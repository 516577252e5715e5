// The utility statements the wire runs itself, at the connection level with the fake handler: prepared
// statements by name, cursors, LISTEN / NOTIFY between connections, statement logging and its settings.
import test from 'ava';
import type { ConnectionOptions } from '../../wire/connection';
import { NotificationHub } from '../../wire/notifications';
import { FakeHandler, names, openConnection, type Received, serialize } from '../helpers/in-memory';

const status = (ms: Received[]) => ms.at(-1)?.status;
const errorOf = (ms: Received[]) => ms.find((m) => m.name === 'error') as Received | undefined;
const tags = (ms: Received[]) => ms.filter((m) => m.name === 'commandComplete').map((m) => m.text);
const values = (ms: Received[]) =>
  ms.filter((m) => m.name === 'dataRow').map((m) => (m.fields as string[])[0]);

class SuperuserHandler extends FakeHandler {
  async sessionSettings(user: string) {
    return { is_superuser: user === 'admin' ? 'on' : 'off' };
  }
}

async function connect(opts: Partial<ConnectionOptions> = {}, startup: Record<string, string> = {}) {
  const h = openConnection({ handler: new SuperuserHandler(), ...opts });
  h.client.write(serialize.startup({ user: 'admin', database: 'db', ...startup }));
  const ms = await h.client.until('readyForQuery');
  const query = async (sql: string) => {
    h.client.write(serialize.query(sql));
    return h.client.until('readyForQuery');
  };
  return { ...h, query, startup: ms };
}

test('PREPARE / EXECUTE / DEALLOCATE share the statements of Parse, with 42P05 and 26000', async (t) => {
  const { client, query } = await connect();
  t.deepEqual(tags(await query('PREPARE p AS select rows 2')), ['PREPARE']);
  const run = await query('EXECUTE p');
  t.deepEqual(names(run), ['rowDescription', 'dataRow', 'dataRow', 'commandComplete', 'readyForQuery']);
  t.deepEqual(tags(run), ['SELECT 2']);
  t.is(errorOf(await query('PREPARE p AS select rows 1'))?.code, '42P05');
  // A statement made by PREPARE can be bound by the protocol, one made by Parse dropped by DEALLOCATE.
  client.write(
    serialize.bind({ statement: 'p' }),
    serialize.execute({}),
    serialize.parse({ name: '_PLAN0x5581', text: 'rows 1' }),
    serialize.sync(),
  );
  t.deepEqual(values(await client.until('readyForQuery')), ['1', '2']);
  t.deepEqual(tags(await query('DEALLOCATE "_PLAN0x5581"')), ['DEALLOCATE']);
  client.write(serialize.bind({ statement: '_PLAN0x5581' }), serialize.sync());
  t.is(errorOf(await client.until('readyForQuery'))?.code, '26000');
  const gone = errorOf(await query('DEALLOCATE "_PLAN0x5581"'));
  t.is(gone?.code, '26000');
  t.is(gone?.message, 'prepared statement "_PLAN0x5581" does not exist');
  t.deepEqual(tags(await query('DEALLOCATE ALL')), ['DEALLOCATE ALL']);
  t.is(errorOf(await query('EXECUTE p'))?.code, '26000');
});

test('EXECUTE with arguments: typed by PREPARE, counted (42601), constants read as the type reads text', async (t) => {
  const { query } = await connect();
  await query('PREPARE q (int4) AS select $1');
  t.deepEqual(values(await query("EXECUTE q ('41')")), ['41']);
  t.deepEqual(values(await query('EXECUTE q (-7)')), ['-7']);
  const wrong = errorOf(await query('EXECUTE q'));
  t.is(wrong?.code, '42601');
  t.is(wrong?.detail, 'Expected 1 parameters but got 0.');
  t.is(errorOf(await query("EXECUTE q ('x')"))?.code, '22P02');
  t.is(errorOf(await query('PREPARE r (nosuchtype) AS select $1'))?.code, '42704');
  // Only a query can be prepared, as PostgreSQL's PreparableStmt.
  t.is(errorOf(await query('PREPARE s AS BEGIN'))?.code, '42601');
});

test('cursors: 25P01 outside a block, FETCH / MOVE tags, closed at COMMIT, 34000 and 42P03', async (t) => {
  const { query } = await connect();
  const outside = errorOf(await query('DECLARE c CURSOR FOR select rows 5'));
  t.is(outside?.code, '25P01');
  t.is(outside?.message, 'DECLARE CURSOR can only be used in transaction blocks');
  t.is(status(await query('BEGIN')), 'T');
  t.deepEqual(tags(await query('DECLARE c SCROLL CURSOR FOR select rows 5')), ['DECLARE CURSOR']);
  t.is(errorOf(await query('DECLARE c CURSOR FOR select rows 1'))?.code, '42P03');
  await query('ROLLBACK');
  await query('BEGIN');
  await query('DECLARE c SCROLL CURSOR FOR select rows 5');
  const two = await query('FETCH 2 FROM c');
  t.deepEqual(names(two), ['rowDescription', 'dataRow', 'dataRow', 'commandComplete', 'readyForQuery']);
  t.deepEqual(tags(two), ['FETCH 2']);
  t.deepEqual(tags(await query('MOVE FORWARD ALL IN c')), ['MOVE 3']);
  t.deepEqual(values(await query('FETCH BACKWARD 2 c')), ['5', '4']);
  t.deepEqual(values(await query('FETCH FIRST c')), ['1']);
  t.deepEqual(tags(await query('FETCH ABSOLUTE 9 c')), ['FETCH 0']);
  t.deepEqual(tags(await query('CLOSE c')), ['CLOSE CURSOR']);
  t.is(errorOf(await query('FETCH c'))?.code, '34000');
  t.is(status(await query('ROLLBACK')), 'I');
  await query('BEGIN; DECLARE d CURSOR FOR select rows 3');
  t.deepEqual(tags(await query('COMMIT')), ['COMMIT']);
  const closed = errorOf(await query('FETCH d'));
  t.is(closed?.code, '34000');
  t.is(closed?.message, 'cursor "d" does not exist');
});

test('a NO SCROLL cursor refuses to go back with 55000 and fails the block', async (t) => {
  const { query } = await connect();
  await query('BEGIN; DECLARE n NO SCROLL CURSOR FOR select rows 3');
  t.deepEqual(values(await query('FETCH NEXT n')), ['1']);
  const back = await query('FETCH PRIOR n');
  t.is(errorOf(back)?.code, '55000');
  t.is(errorOf(back)?.hint, 'Declare it with SCROLL option to enable backward scan.');
  t.is(status(back), 'E');
  t.is(errorOf(await query('FETCH n'))?.code, '25P02');
  await query('ROLLBACK');
});

test('WITH HOLD survives COMMIT, is dropped by a ROLLBACK of its own transaction, not by a later one', async (t) => {
  const { query } = await connect();
  t.deepEqual(tags(await query('DECLARE h CURSOR WITH HOLD FOR select rows 4')), ['DECLARE CURSOR']);
  t.deepEqual(values(await query('FETCH 2 h')), ['1', '2']);
  await query('BEGIN; DECLARE k CURSOR WITH HOLD FOR select rows 2');
  await query('COMMIT');
  await query('BEGIN; DECLARE r CURSOR WITH HOLD FOR select rows 2');
  await query('ROLLBACK');
  t.is(errorOf(await query('FETCH r'))?.code, '34000');
  t.deepEqual(values(await query('FETCH ALL h')), ['3', '4']);
  t.deepEqual(values(await query('FETCH ALL k')), ['1', '2']);
  t.deepEqual(tags(await query('CLOSE ALL')), ['CLOSE CURSOR ALL']);
  t.is(errorOf(await query('FETCH k'))?.code, '34000');
});

test('a multi-statement Query is an implicit block: DECLARE and FETCH in one string, closed at its end', async (t) => {
  const { query } = await connect();
  const ms = await query('DECLARE c CURSOR FOR select rows 3; FETCH ALL c');
  t.deepEqual(tags(ms), ['DECLARE CURSOR', 'FETCH 3']);
  t.is(status(ms), 'I');
  t.is(errorOf(await query('FETCH c'))?.code, '34000');
});

test('extended protocol: DECLARE with a parameter, FETCH described by its cursor', async (t) => {
  const { client, query } = await connect();
  await query('BEGIN');
  client.write(
    serialize.parse({ text: 'DECLARE c CURSOR FOR select $1', types: [23] }),
    serialize.bind({ values: ['7'] }),
    serialize.execute({}),
    serialize.parse({ name: 'f', text: 'FETCH 5 FROM c' }),
    serialize.describe({ type: 'S', name: 'f' }),
    serialize.bind({ statement: 'f' }),
    serialize.execute({}),
    serialize.sync(),
  );
  const ms = await client.until('readyForQuery');
  t.deepEqual(names(ms), [
    'parseComplete',
    'bindComplete',
    'commandComplete',
    'parseComplete',
    'parameterDescription',
    'rowDescription',
    'bindComplete',
    'dataRow',
    'commandComplete',
    'readyForQuery',
  ]);
  t.deepEqual(values(ms), ['7']);
  t.deepEqual(tags(ms), ['DECLARE CURSOR', 'FETCH 1']);
  // Outside a block (the extended protocol has no implicit block), DECLARE without HOLD is 25P01.
  await query('COMMIT');
  client.write(
    serialize.parse({ text: 'DECLARE c CURSOR FOR select rows 1' }),
    serialize.bind({}),
    serialize.execute({}),
    serialize.sync(),
  );
  t.is(errorOf(await client.until('readyForQuery'))?.code, '25P01');
});

test('NOTIFY reaches a listening idle session; in a block only at COMMIT, collapsed; dropped by ROLLBACK', async (t) => {
  const hub = new NotificationHub(new Set(['server_owned']));
  const a = await connect({ notifications: hub });
  const b = await connect({ notifications: hub });
  t.deepEqual(tags(await a.query('LISTEN "Chan"')), ['LISTEN']);
  await b.query(`NOTIFY "Chan", 'one'`);
  const [n] = await a.client.until('notification');
  t.like(n, { channel: 'Chan', payload: 'one' });
  t.is(typeof n.processId, 'number');
  await b.query('BEGIN');
  await b.query(`NOTIFY "Chan", 'x'; NOTIFY "Chan", 'x'; NOTIFY "Chan", 'y'`);
  await b.query(`ROLLBACK`);
  await b.query(`BEGIN; NOTIFY "Chan", 'z'; NOTIFY "Chan", 'z'; NOTIFY "Chan", 'w'; COMMIT`);
  const got = await a.client.until('notification');
  const second = await a.client.until('notification');
  t.deepEqual([got.at(-1)?.payload, second.at(-1)?.payload], ['z', 'w']);
  // A session inside a block receives when its block ends, before its ReadyForQuery.
  await a.query('BEGIN');
  await b.query(`NOTIFY "Chan", 'later'`);
  const commit = await a.query('COMMIT');
  t.deepEqual(names(commit), ['commandComplete', 'notification', 'readyForQuery']);
  // Its own notifications come back to a listening session, before ReadyForQuery.
  const own = await a.query(`NOTIFY "Chan", 'self'`);
  t.deepEqual(names(own), ['commandComplete', 'notification', 'readyForQuery']);
  await a.query('UNLISTEN *');
  await b.query(`NOTIFY "Chan", 'unheard'; NOTIFY "Chan", 'after'`);
  await a.query('LISTEN "Chan"');
  await b.query(`NOTIFY "Chan", 'heard'`);
  t.is((await a.client.until('notification')).at(-1)?.payload, 'heard');
});

test('NOTIFY limits and the server-owned channel', async (t) => {
  const hub = new NotificationHub(new Set(['server_owned']));
  const { query } = await connect({ notifications: hub });
  const long = errorOf(await query(`NOTIFY c, '${'x'.repeat(8000)}'`));
  t.is(long?.code, '22023');
  t.is(long?.message, 'payload string too long');
  t.falsy(errorOf(await query(`NOTIFY c, '${'x'.repeat(7999)}'`)));
  const owned = errorOf(await query(`NOTIFY server_owned, 'x'`));
  t.is(owned?.code, '42501');
  t.is(owned?.message, 'permission denied to notify channel "server_owned"');
  t.deepEqual(tags(await query('LISTEN server_owned')), ['LISTEN']);
});

interface LogLine {
  msg: string;
  [k: string]: unknown;
}

function capture(): { lines: LogLine[]; logger: ConnectionOptions['logger'] } {
  const lines: LogLine[] = [];
  const push = (obj: object, msg?: string) => lines.push({ ...obj, msg: msg ?? '' });
  return { lines, logger: { info: push, warn: push, error: push, debug: () => {} } };
}

test('log_statement classes, log_min_error_statement with the SQLSTATE, durations', async (t) => {
  const { lines, logger } = capture();
  const { query } = await connect(
    { logger, serverSettings: { log_statement: 'ddl' }, logClasses: new Map([['cancel', 'ddl']]) },
    { application_name: 'unit' },
  );
  await query('rows 1');
  await query("cancel task 'x'");
  await query('create thing');
  await query('insert stuff');
  const logged = lines.filter((l) => l.msg === 'statement').map((l) => l.statement);
  t.deepEqual(logged, ["cancel task 'x'", 'create thing']);
  t.like(
    lines.find((l) => l.msg === 'statement'),
    { user: 'admin', application_name: 'unit' },
  );
  await query("SET log_statement = 'mod'");
  await query('insert stuff; rows 1');
  t.is(lines.filter((l) => l.msg === 'statement').at(-1)?.statement, 'insert stuff; rows 1');
  await query('fail');
  t.like(
    lines.find((l) => l.msg === 'statement failed'),
    { sqlstate: '42000', statement: 'fail', user: 'admin' },
  );
  await query("SET log_min_duration_statement = 0; SET log_statement = 'none'");
  await query('rows 3');
  t.like(lines.filter((l) => l.msg === 'duration').at(-1), { statement: 'rows 3' });
  t.is(typeof lines.filter((l) => l.msg === 'duration').at(-1)?.duration_ms, 'number');
});

test('log settings: checked values, superusers only (42501), startup options, SHOW', async (t) => {
  const { query } = await connect({}, { options: '-c log_statement=all --log-min-duration-statement=250' });
  t.deepEqual(values(await query('SHOW log_statement')), ['all']);
  t.deepEqual(values(await query('SHOW log_min_duration_statement')), ['250ms']);
  await query("SET log_min_duration_statement = '2s'");
  t.deepEqual(values(await query('SHOW log_min_duration_statement')), ['2s']);
  const bad = errorOf(await query("SET log_statement = 'some'"));
  t.is(bad?.code, '22023');
  t.is(bad?.hint, 'Available values: none, ddl, mod, all.');
  t.is(errorOf(await query('SET log_connections = on'))?.code, '55P02');
  const user = openConnection({ handler: new SuperuserHandler() });
  user.client.write(serialize.startup({ user: 'bob', database: 'db' }));
  await user.client.until('readyForQuery');
  user.client.write(serialize.query("SET log_statement = 'all'"));
  const denied = errorOf(await user.client.until('readyForQuery'));
  t.is(denied?.code, '42501');
  t.is(denied?.message, 'permission denied to set parameter "log_statement"');
  const refused = openConnection({ handler: new SuperuserHandler() });
  refused.client.write(serialize.startup({ user: 'bob', database: 'db', options: '-c log_statement=all' }));
  const fatal = errorOf(await refused.client.untilEnd());
  t.is(fatal?.severity, 'FATAL');
  t.is(fatal?.code, '42501');
});

test('a BINARY cursor fetches every column in binary; its RowDescription says so', async (t) => {
  const { query } = await connect();
  await query('BEGIN; DECLARE b BINARY CURSOR FOR select rows 2');
  const ms = await query('FETCH 1 b');
  const desc = ms.find((m) => m.name === 'rowDescription') as { fields?: { format: string }[] } | undefined;
  t.deepEqual(
    desc?.fields?.map((f) => f.format),
    ['binary'],
  );
  t.deepEqual(
    // pg-protocol's parser hands fields over as strings: the four bytes of int4 1 in binary.
    ms.filter((m) => m.name === 'dataRow').map((m) => (m.fields as string[])[0]),
    ['\u0000\u0000\u0000\u0001'],
  );
  await query('ROLLBACK');
});

test('log_connections and log_disconnections: set at startup by a superuser, logged with the session', async (t) => {
  const { lines, logger } = capture();
  const { client, done } = await connect({ logger }, { log_connections: 'on', log_disconnections: 'yes' });
  t.like(
    lines.find((l) => l.msg === 'connection authorized'),
    { user: 'admin', database: 'db' },
  );
  client.write(serialize.end());
  await done;
  t.is(typeof lines.find((l) => l.msg === 'disconnection')?.session_ms, 'number');
});
