// Byte-level tests of the backend message encoders: exact bytes for the fixed messages, and a round trip
// through pg-protocol's public parser for the rest.
import { PassThrough } from 'node:stream';
import test from 'ava';
import { parse } from 'pg-protocol';
import { Oid } from '../../pg/types';
import * as msg from '../../wire/backend-messages';

const bytes = (...parts: (number | string)[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from([p]))));

/** Parses backend bytes with pg-protocol's public parser. */
async function decoded(buf: Buffer): Promise<({ name: string } & Record<string, unknown>)[]> {
  const stream = new PassThrough();
  const out: ({ name: string } & Record<string, unknown>)[] = [];
  const done = parse(stream, (m) => out.push(m as unknown as { name: string } & Record<string, unknown>));
  stream.end(buf);
  await done;
  return out;
}

test('fixed messages: type byte, length that counts itself, body', (t) => {
  t.deepEqual(msg.authenticationOk(), bytes('R', 0, 0, 0, 8, 0, 0, 0, 0));
  t.deepEqual(msg.readyForQuery('T'), bytes('Z', 0, 0, 0, 5, 'T'));
  t.deepEqual(msg.parseComplete(), bytes('1', 0, 0, 0, 4));
  t.deepEqual(msg.bindComplete(), bytes('2', 0, 0, 0, 4));
  t.deepEqual(msg.closeComplete(), bytes('3', 0, 0, 0, 4));
  t.deepEqual(msg.noData(), bytes('n', 0, 0, 0, 4));
  t.deepEqual(msg.portalSuspended(), bytes('s', 0, 0, 0, 4));
  t.deepEqual(msg.emptyQueryResponse(), bytes('I', 0, 0, 0, 4));
  t.deepEqual(msg.commandComplete('SELECT 1'), bytes('C', 0, 0, 0, 13, 'SELECT 1', 0));
  t.deepEqual(msg.backendKeyData(1, 258), bytes('K', 0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 1, 2));
  t.deepEqual(msg.parameterStatus('a', 'b'), bytes('S', 0, 0, 0, 8, 'a', 0, 'b', 0));
  t.deepEqual(msg.copyInResponse(true), bytes('G', 0, 0, 0, 7, 1, 0, 0));
  t.deepEqual(msg.copyOutResponse(false), bytes('H', 0, 0, 0, 7, 0, 0, 0));
  t.deepEqual(msg.copyDone(), bytes('c', 0, 0, 0, 4));
  t.deepEqual(
    msg.authenticationMd5(Buffer.from([9, 8, 7, 6])),
    bytes('R', 0, 0, 0, 12, 0, 0, 0, 5, 9, 8, 7, 6),
  );
});

test('authentication requests round-trip', async (t) => {
  const ms = await decoded(
    Buffer.concat([
      msg.authenticationCleartext(),
      msg.authenticationSasl(['SCRAM-SHA-256']),
      msg.authenticationSaslContinue('r=abc,s=c2FsdA==,i=4096'),
      msg.authenticationSaslFinal('v=xyz'),
    ]),
  );
  t.deepEqual(
    ms.map((m) => m.name),
    [
      'authenticationCleartextPassword',
      'authenticationSASL',
      'authenticationSASLContinue',
      'authenticationSASLFinal',
    ],
  );
  t.deepEqual(ms[1].mechanisms, ['SCRAM-SHA-256']);
  t.is(ms[2].data, 'r=abc,s=c2FsdA==,i=4096');
  t.is(ms[3].data, 'v=xyz');
});

test('RowDescription and DataRow in text and binary, with NULL', async (t) => {
  const fields = [
    { name: 'id', typeOid: Oid.int4, tableOid: 42, columnNo: 1 },
    { name: 'name', typeOid: Oid.text },
  ];
  const typeOids = fields.map((f) => f.typeOid);
  const [desc, text, binary] = await decoded(
    Buffer.concat([
      msg.rowDescription(fields, [1, 0]),
      msg.dataRow([7, null], typeOids, []),
      msg.dataRow([7, 'x'], typeOids, [1]),
    ]),
  );
  const described = desc.fields as Record<string, unknown>[];
  t.deepEqual(
    described.map((f) => [
      f.name,
      f.tableID,
      f.columnID,
      f.dataTypeID,
      f.dataTypeSize,
      f.dataTypeModifier,
      f.format,
    ]),
    [
      ['id', 42, 1, Oid.int4, 4, -1, 'binary'],
      ['name', 0, 0, Oid.text, -1, -1, 'text'],
    ],
  );
  t.deepEqual(text.fields, ['7', null]);
  // pg-protocol hands binary columns over as text of their raw bytes; check those bytes.
  const raw = msg.dataRow([7, 'x'], typeOids, [1]);
  t.deepEqual(raw.subarray(7, 15), bytes(0, 0, 0, 4, 0, 0, 0, 7));
  t.is((binary.fields as unknown[]).length, 2);
});

test('ErrorResponse and NoticeResponse carry severity, code, message, detail, hint, position', async (t) => {
  const [err, notice] = await decoded(
    Buffer.concat([
      msg.errorResponse({
        severity: 'ERROR',
        code: '42601',
        message: 'bad',
        detail: 'd',
        hint: 'h',
        position: 3,
      }),
      msg.noticeResponse({ severity: 'WARNING', code: '25001', message: 'careful' }),
    ]),
  );
  t.is(err.name, 'error');
  t.like(err, { severity: 'ERROR', code: '42601', message: 'bad', detail: 'd', hint: 'h', position: '3' });
  t.is(notice.name, 'notice');
  t.like(notice, { severity: 'WARNING', code: '25001', message: 'careful', detail: undefined });
});

test('ParameterDescription and CopyData round-trip; a large message grows the writer', async (t) => {
  const big = Buffer.alloc(100_000, 0x61);
  const [params, copy] = await decoded(
    Buffer.concat([msg.parameterDescription([23, 25]), msg.copyData(big)]),
  );
  t.deepEqual(params.dataTypeIDs, [23, 25]);
  t.deepEqual(copy.chunk, big);
  t.deepEqual(msg.copyDataHeader(big.length), msg.copyData(big).subarray(0, 5));
  // A message larger than the writer's buffer grows it; the writer is reused: the next message must not
  // carry bytes of the big one.
  const [notice] = await decoded(
    msg.noticeResponse({ severity: 'NOTICE', code: '00000', message: 'x'.repeat(100_000) }),
  );
  t.is(notice.message, 'x'.repeat(100_000));
  t.deepEqual(msg.noData(), bytes('n', 0, 0, 0, 4));
});
