// The connection state machine driven over an in-memory stream with a fake handler: no server, no SQLite.
import test from 'ava';
import { loggedIn, names, openConnection, type Received, serialize } from '../helpers/in-memory';

const status = (ms: Received[]) => ms.at(-1)?.status;
const errorOf = (ms: Received[]) => ms.find((m) => m.name === 'error') as Received | undefined;

test('startup with trust: AuthenticationOk, reported settings, BackendKeyData, ReadyForQuery idle', async (t) => {
  const { client } = openConnection();
  client.write(serialize.startup({ user: 'admin', database: 'db', application_name: 'unit-test' }));
  const ms = await client.until('readyForQuery');
  t.is(ms[0].name, 'authenticationOk');
  const params = Object.fromEntries(
    ms.filter((m) => m.name === 'parameterStatus').map((m) => [m.parameterName, m.parameterValue]),
  );
  t.is(params.application_name, 'unit-test');
  t.is(params.session_authorization, 'admin');
  t.is(params.client_encoding, 'UTF8');
  t.deepEqual(names(ms).slice(-2), ['backendKeyData', 'readyForQuery']);
  t.is(status(ms), 'I');
});

test('trust refuses an unknown role with FATAL 28000 and closes', async (t) => {
  const { client, done } = openConnection();
  client.write(serialize.startup({ user: 'nobody' }));
  const ms = await client.untilEnd();
  t.is(errorOf(ms)?.code, '28000');
  t.is(errorOf(ms)?.severity, 'FATAL');
  await done;
});

test('md5: the right password logs in, a wrong one is 28P01', async (t) => {
  const { createHash } = await import('node:crypto');
  const md5 = (s: string | Buffer) => createHash('md5').update(s).digest('hex');
  for (const [password, ok] of [
    ['secret', true],
    ['wrong', false],
  ] as const) {
    const { client } = openConnection({ auth: 'md5' });
    client.write(serialize.startup({ user: 'admin' }));
    const [challenge] = await client.until('authenticationMD5Password');
    const salt = challenge.salt as Buffer;
    const inner = md5(password + 'admin');
    client.write(serialize.password(`md5${md5(Buffer.concat([Buffer.from(inner), salt]))}`));
    if (ok) t.is(status(await client.until('readyForQuery')), 'I');
    else t.is(errorOf(await client.untilEnd())?.code, '28P01');
  }
});

test('cleartext password: a message other than PasswordMessage is a protocol violation', async (t) => {
  const { client } = openConnection({ auth: 'password' });
  client.write(serialize.startup({ user: 'admin' }));
  await client.until('authenticationCleartextPassword');
  client.write(serialize.query('rows 1'));
  const err = errorOf(await client.untilEnd());
  t.is(err?.code, '08P01');
  t.regex(String(err?.message), /expected password response, got message type "Q"/);
});

test('an unsupported protocol version is FATAL 0A000', async (t) => {
  const { client } = openConnection();
  const packet = Buffer.alloc(8);
  packet.writeInt32BE(8, 0);
  packet.writeInt32BE(0x00020000, 4);
  client.write(packet);
  const err = errorOf(await client.untilEnd());
  t.is(err?.code, '0A000');
  t.regex(String(err?.message), /unsupported frontend protocol 2\.0/);
});

test('simple query with several statements: a result each, one ReadyForQuery', async (t) => {
  const { client } = await loggedIn();
  client.write(serialize.query('rows 2; rows 1; ping'));
  const ms = await client.until('readyForQuery');
  t.deepEqual(names(ms), [
    'rowDescription',
    'dataRow',
    'dataRow',
    'commandComplete',
    'rowDescription',
    'dataRow',
    'commandComplete',
    'commandComplete',
    'readyForQuery',
  ]);
  t.deepEqual(
    ms.filter((m) => m.name === 'commandComplete').map((m) => m.text),
    ['SELECT 2', 'SELECT 1', 'PING'],
  );
});

test('simple query: the first error ends the string, its position counts from the whole string', async (t) => {
  const { client, handler } = await loggedIn();
  client.write(serialize.query('rows 1; fail; rows 3'));
  const ms = await client.until('readyForQuery');
  t.deepEqual(names(ms), ['rowDescription', 'dataRow', 'commandComplete', 'error', 'readyForQuery']);
  t.is(errorOf(ms)?.code, '42000');
  // The handler said position 1 of ' fail', the piece after the first semicolon: character 8 of the string.
  t.is(errorOf(ms)?.position, '8');
  t.false(handler.prepared.some((s) => s.includes('rows 3')));
});

test('an empty query string answers EmptyQueryResponse', async (t) => {
  const { client } = await loggedIn();
  client.write(serialize.query('  -- nothing\n'));
  t.deepEqual(names(await client.until('readyForQuery')), ['emptyQuery', 'readyForQuery']);
});

test('extended protocol: after an error everything up to Sync is skipped', async (t) => {
  const { client } = await loggedIn();
  client.write(
    serialize.parse({ text: 'fail' }),
    serialize.bind({}),
    serialize.execute({}),
    serialize.parse({ name: 'never', text: 'rows 1' }),
    serialize.sync(),
  );
  const ms = await client.until('readyForQuery');
  t.deepEqual(names(ms), ['error', 'readyForQuery']);
  t.is(status(ms), 'I');
  // The skipped Parse did not create "never".
  client.write(serialize.describe({ type: 'S', name: 'never' }), serialize.sync());
  t.is(errorOf(await client.until('readyForQuery'))?.code, '26000');
});

test('extended protocol: Parse, Bind with a parameter, Describe, Execute', async (t) => {
  const { client } = await loggedIn();
  client.write(
    serialize.parse({ name: 's1', text: 'select $1', types: [23] }),
    serialize.describe({ type: 'S', name: 's1' }),
    serialize.bind({ statement: 's1', values: ['42'] }),
    serialize.describe({ type: 'P' }),
    serialize.execute({}),
    serialize.sync(),
  );
  const ms = await client.until('readyForQuery');
  t.deepEqual(names(ms), [
    'parseComplete',
    'parameterDescription',
    'rowDescription',
    'bindComplete',
    'rowDescription',
    'dataRow',
    'commandComplete',
    'readyForQuery',
  ]);
  t.deepEqual(ms.find((m) => m.name === 'parameterDescription')?.dataTypeIDs, [23]);
  t.deepEqual(ms.find((m) => m.name === 'dataRow')?.fields, ['42']);
});

test('extended protocol: a named statement cannot be parsed twice, a wrong parameter count is 08P01', async (t) => {
  const { client } = await loggedIn();
  client.write(serialize.parse({ name: 'a', text: 'rows 1' }), serialize.sync());
  await client.until('readyForQuery');
  client.write(serialize.parse({ name: 'a', text: 'rows 1' }), serialize.sync());
  t.is(errorOf(await client.until('readyForQuery'))?.code, '42P05');
  client.write(serialize.bind({ statement: 'a', values: ['1'] }), serialize.sync());
  const ms = await client.until('readyForQuery');
  t.is(errorOf(ms)?.code, '08P01');
  t.is(errorOf(ms)?.severity, 'ERROR');
});

test('Execute with a row limit suspends the portal and continues where it stopped', async (t) => {
  const { client } = await loggedIn();
  client.write(
    serialize.parse({ text: 'rows 5' }),
    serialize.bind({}),
    serialize.execute({ rows: 2 }),
    serialize.execute({ rows: 2 }),
    serialize.execute({ rows: 2 }),
    serialize.execute({ rows: 2 }),
    serialize.sync(),
  );
  const ms = await client.until('readyForQuery');
  t.deepEqual(names(ms), [
    'parseComplete',
    'bindComplete',
    'dataRow',
    'dataRow',
    'portalSuspended',
    'dataRow',
    'dataRow',
    'portalSuspended',
    'dataRow',
    'commandComplete',
    'commandComplete',
    'readyForQuery',
  ]);
  t.deepEqual(
    ms.filter((m) => m.name === 'dataRow').map((m) => (m.fields as string[])[0]),
    ['1', '2', '3', '4', '5'],
  );
  t.deepEqual(
    ms.filter((m) => m.name === 'commandComplete').map((m) => m.text),
    ['SELECT 1', 'SELECT 0'],
  );
});

test('transaction status: I, T, E with 25P02, back to I on ROLLBACK; SET is undone', async (t) => {
  const { client } = await loggedIn();
  client.write(serialize.query('BEGIN'));
  t.is(status(await client.until('readyForQuery')), 'T');
  client.write(serialize.query("SET application_name = 'inside'"));
  const set = await client.until('readyForQuery');
  t.is(set.find((m) => m.name === 'parameterStatus')?.parameterValue, 'inside');
  client.write(serialize.query('fail'));
  t.is(status(await client.until('readyForQuery')), 'E');
  client.write(serialize.query('rows 1'));
  const aborted = await client.until('readyForQuery');
  t.is(errorOf(aborted)?.code, '25P02');
  t.is(status(aborted), 'E');
  client.write(serialize.query('COMMIT'));
  const end = await client.until('readyForQuery');
  t.is(end.find((m) => m.name === 'commandComplete')?.text, 'ROLLBACK');
  t.is(end.find((m) => m.name === 'parameterStatus')?.parameterValue, '');
  t.is(status(end), 'I');
  client.write(serialize.query('SAVEPOINT a'));
  t.is(errorOf(await client.until('readyForQuery'))?.code, '25P01');
});

test('idle_in_transaction_session_timeout set inside the block applies to the next wait (the parsed limits follow SET)', async (t) => {
  const { client, done } = await loggedIn();
  // The statement reads the limits at their defaults (no idle limit); the SET must be seen at the next wait.
  client.write(serialize.query('BEGIN; rows 1'));
  t.is(status(await client.until('readyForQuery')), 'T');
  client.write(serialize.query("SET idle_in_transaction_session_timeout = '20ms'"));
  let timer: NodeJS.Timeout | undefined;
  const stale = new Promise<'stale'>((resolve) => {
    timer = setTimeout(() => resolve('stale'), 10_000);
  });
  const ms = await Promise.race([client.untilEnd(), stale]);
  clearTimeout(timer);
  if (ms === 'stale') return t.fail('the connection still waits with the limit it had before the SET');
  t.is(errorOf(ms)?.code, '25P03');
  t.is(errorOf(ms)?.severity, 'FATAL');
  await done;
});

test('SHOW and RESET answer from the settings', async (t) => {
  const { client } = await loggedIn();
  client.write(serialize.query("SET search_path TO 'x'; SHOW search_path; RESET search_path; SHOW nope"));
  const ms = await client.until('readyForQuery');
  t.deepEqual(ms.find((m) => m.name === 'dataRow')?.fields, ['x']);
  t.deepEqual(
    ms.filter((m) => m.name === 'commandComplete').map((m) => m.text),
    ['SET', 'SHOW', 'RESET'],
  );
  t.is(errorOf(ms)?.code, '42704');
});

test('COPY FROM STDIN streams CopyData to the handler until CopyDone', async (t) => {
  const { client, handler } = await loggedIn();
  client.write(serialize.query('copy in'));
  await client.until('copyInResponse');
  client.write(
    serialize.copyData(Buffer.from('a\n')),
    serialize.flush(),
    serialize.copyData(Buffer.from('b\n')),
    serialize.copyDone(),
  );
  const ms = await client.until('readyForQuery');
  t.deepEqual(names(ms), ['commandComplete', 'readyForQuery']);
  t.is(ms[0].text, 'COPY 2');
  t.deepEqual(handler.copied.map(String), ['a\n', 'b\n']);
});

test('CopyData messages that arrived together reach COPY FROM as one run, in order', async (t) => {
  const { client, handler } = await loggedIn();
  client.write(serialize.query('copy in'));
  await client.until('copyInResponse');
  client.write(serialize.copyData(Buffer.from('a\n')));
  await new Promise((r) => setTimeout(r, 20));
  // One write: the first message wakes the COPY, the two behind it are there by then and come with it; the
  // Flush ends the run (a run holds CopyData only), the message after it is a run of its own.
  client.write(
    serialize.copyData(Buffer.from('b\n')),
    serialize.copyData(Buffer.from('c\n')),
    serialize.copyData(Buffer.from('d\n')),
    serialize.flush(),
    serialize.copyData(Buffer.from('e\n')),
    serialize.copyDone(),
  );
  const ms = await client.until('readyForQuery');
  t.is(ms[0].text, 'COPY 5');
  t.deepEqual(handler.copied.map(String), ['a\n', 'b\n', 'c\n', 'd\n', 'e\n']);
  t.deepEqual(handler.copyRuns, [1, 3, 1]);
});

test('CopyFail ends COPY FROM STDIN with 57014 and the connection goes on', async (t) => {
  const { client } = await loggedIn();
  client.write(serialize.query('copy in'));
  await client.until('copyInResponse');
  client.write(serialize.copyData(Buffer.from('a\n')), serialize.copyFail('client gave up'));
  const ms = await client.until('readyForQuery');
  t.is(errorOf(ms)?.code, '57014');
  t.regex(String(errorOf(ms)?.message), /client gave up/);
  client.write(serialize.query('rows 1'));
  t.is(status(await client.until('readyForQuery')), 'I');
});

test('COPY TO STDOUT sends CopyOutResponse, CopyData, CopyDone, CommandComplete', async (t) => {
  const { client } = await loggedIn();
  client.write(serialize.query('copy out'));
  const ms = await client.until('readyForQuery');
  t.deepEqual(names(ms), [
    'copyOutResponse',
    'copyData',
    'copyData',
    'copyDone',
    'commandComplete',
    'readyForQuery',
  ]);
  t.deepEqual(
    ms.filter((m) => m.name === 'copyData').map((m) => String(m.chunk)),
    ['1\n', '2\n'],
  );
});

test('a malformed message is FATAL 08P01 and closes the connection', async (t) => {
  const { client, done } = await loggedIn();
  const bind = serialize.bind({});
  // One trailing byte, counted in the length.
  const bad = Buffer.concat([bind, Buffer.from([0])]);
  bad.writeInt32BE(bind.length, 1);
  client.write(bad);
  const err = errorOf(await client.untilEnd());
  t.is(err?.code, '08P01');
  t.is(err?.severity, 'FATAL');
  t.regex(String(err?.message), /trailing bytes/);
  await done;
});

test('an unknown message type is FATAL 08P01', async (t) => {
  const { client } = await loggedIn();
  client.write(Buffer.from([0x21, 0, 0, 0, 4]));
  const err = errorOf(await client.untilEnd());
  t.is(err?.code, '08P01');
  t.regex(String(err?.message), /invalid frontend message type 33/);
});

test('messages skipped before Sync are not decoded: a malformed one there is no violation', async (t) => {
  const { client } = await loggedIn();
  client.write(serialize.parse({ text: 'fail' }), Buffer.from([0x42, 0, 0, 0, 5, 0xff]), serialize.sync());
  const ms = await client.until('readyForQuery');
  t.deepEqual(names(ms), ['error', 'readyForQuery']);
});

test('FunctionCall is refused with 0A000 and the connection goes on', async (t) => {
  const { client } = await loggedIn();
  client.write(Buffer.from([0x46, 0, 0, 0, 4]), serialize.sync());
  const ms = await client.until('readyForQuery');
  t.is(errorOf(ms)?.code, '0A000');
  t.is(status(ms), 'I');
});

test('Terminate ends the connection without a reply', async (t) => {
  const { client, done } = await loggedIn();
  client.write(serialize.end());
  t.deepEqual(await client.untilEnd(), []);
  await done;
});
