// Byte-level tests of the frontend message decoder, against pg-protocol's serializer and hand-made bytes.
import test from 'ava';
import { serialize } from 'pg-protocol';
import { Fatal } from '../../wire/fatal';
import type { Frame } from '../../wire/framer';
import {
  decodeMessage,
  decodePassword,
  decodeSaslInitialResponse,
  decodeSaslResponse,
  decodeStartupPacket,
} from '../../wire/frontend-messages';

/** A serialized typed message as the framer hands it on: type byte and body without the length. */
const frameOf = (bytes: Buffer): Frame => ({ type: bytes[0], body: bytes.subarray(5) });
const startupBody = (bytes: Buffer) => bytes.subarray(4);

function violation(t: import('ava').ExecutionContext, fn: () => unknown, message: RegExp): void {
  const err = t.throws(fn, { instanceOf: Fatal });
  t.is(err?.code, '08P01');
  t.regex(String(err?.message), message);
}

test('StartupMessage: protocol 3.0 and its parameters', (t) => {
  t.deepEqual(decodeStartupPacket(startupBody(serialize.startup({ user: 'u', database: 'd' }))), {
    kind: 'StartupMessage',
    params: new Map([
      ['user', 'u'],
      ['database', 'd'],
      ['client_encoding', 'UTF8'],
    ]),
  });
});

test('SSLRequest, CancelRequest and an unknown protocol version', (t) => {
  t.deepEqual(decodeStartupPacket(startupBody(serialize.requestSsl())), { kind: 'SSLRequest' });
  t.deepEqual(decodeStartupPacket(startupBody(serialize.cancel(1234, 5678))), {
    kind: 'CancelRequest',
    pid: 1234,
    secret: 5678,
  });
  t.deepEqual(decodeStartupPacket(Buffer.from([0, 2, 0, 1])), {
    kind: 'UnsupportedProtocol',
    major: 2,
    minor: 1,
  });
  const gss = Buffer.alloc(4);
  gss.writeInt32BE(80877104);
  t.deepEqual(decodeStartupPacket(gss), { kind: 'GSSENCRequest' });
});

test('a truncated CancelRequest is a protocol violation', (t) => {
  violation(t, () => decodeStartupPacket(startupBody(serialize.cancel(1, 2)).subarray(0, 6)), /truncated/);
});

test('Query', (t) => {
  t.deepEqual(decodeMessage(frameOf(serialize.query('SELECT 1'))), { kind: 'Query', sql: 'SELECT 1' });
});

test('Parse with parameter types', (t) => {
  t.deepEqual(decodeMessage(frameOf(serialize.parse({ name: 's', text: 'SELECT $1', types: [23, 25] }))), {
    kind: 'Parse',
    name: 's',
    sql: 'SELECT $1',
    paramTypes: [23, 25],
  });
});

test('Bind with text, NULL and binary parameters and result formats', (t) => {
  const m = decodeMessage(
    frameOf(serialize.bind({ portal: 'p', statement: 's', values: ['abc', null, Buffer.from([1, 2])] })),
  );
  t.deepEqual(m, {
    kind: 'Bind',
    portal: 'p',
    statement: 's',
    paramFormats: [0, 0, 1],
    params: [Buffer.from('abc'), null, Buffer.from([1, 2])],
    resultFormats: [0],
  });
});

test('Describe, Execute, Close, Sync, Flush, Terminate', (t) => {
  t.deepEqual(decodeMessage(frameOf(serialize.describe({ type: 'S', name: 'x' }))), {
    kind: 'Describe',
    target: 'statement',
    name: 'x',
  });
  t.deepEqual(decodeMessage(frameOf(serialize.describe({ type: 'P' }))), {
    kind: 'Describe',
    target: 'portal',
    name: '',
  });
  t.deepEqual(decodeMessage(frameOf(serialize.execute({ portal: 'p', rows: 10 }))), {
    kind: 'Execute',
    portal: 'p',
    maxRows: 10,
  });
  t.deepEqual(decodeMessage(frameOf(serialize.close({ type: 'P', name: 'p' }))), {
    kind: 'Close',
    target: 'portal',
    name: 'p',
  });
  t.deepEqual(decodeMessage(frameOf(serialize.sync())), { kind: 'Sync' });
  t.deepEqual(decodeMessage(frameOf(serialize.flush())), { kind: 'Flush' });
  t.deepEqual(decodeMessage(frameOf(serialize.end())), { kind: 'Terminate' });
});

test('CopyData, CopyDone, CopyFail', (t) => {
  t.deepEqual(decodeMessage(frameOf(serialize.copyData(Buffer.from('1\t2\n')))), {
    kind: 'CopyData',
    data: Buffer.from('1\t2\n'),
  });
  t.deepEqual(decodeMessage(frameOf(serialize.copyDone())), { kind: 'CopyDone' });
  t.deepEqual(decodeMessage(frameOf(serialize.copyFail('why'))), { kind: 'CopyFail', message: 'why' });
});

test('password and SASL messages', (t) => {
  const pw = decodeMessage(frameOf(serialize.password('secret')));
  t.is(pw.kind, 'Password');
  if (pw.kind === 'Password') t.is(decodePassword(pw.body), 'secret');
  const first = frameOf(serialize.sendSASLInitialResponseMessage('SCRAM-SHA-256', 'n,,n=*,r=abc'));
  t.deepEqual(decodeSaslInitialResponse(first.body), { mechanism: 'SCRAM-SHA-256', data: 'n,,n=*,r=abc' });
  const final = frameOf(serialize.sendSCRAMClientFinalMessage('c=biws,r=abc,p=xyz'));
  t.is(decodeSaslResponse(final.body), 'c=biws,r=abc,p=xyz');
});

test('malformed bodies raise 08P01', (t) => {
  const parse = frameOf(serialize.parse({ text: 'SELECT 1' }));
  violation(
    t,
    () => decodeMessage({ type: parse.type, body: Buffer.concat([parse.body, Buffer.from([7])]) }),
    /trailing bytes/,
  );
  violation(
    t,
    () => decodeMessage({ type: parse.type, body: parse.body.subarray(0, 3) }),
    /missing string terminator/,
  );
  const bind = frameOf(serialize.bind({ values: ['abc'] }));
  violation(
    t,
    () => decodeMessage({ type: bind.type, body: bind.body.subarray(0, bind.body.length - 4) }),
    /truncated/,
  );
  violation(
    t,
    () => decodeMessage({ type: 0x44, body: Buffer.from([0x58, 0]) }),
    /invalid DESCRIBE message subtype X/,
  );
  violation(
    t,
    () => decodeMessage({ type: 0x43, body: Buffer.from([0x51, 0]) }),
    /invalid CLOSE message subtype Q/,
  );
  violation(
    t,
    () => decodeMessage({ type: 0x21, body: Buffer.alloc(0) }),
    /invalid frontend message type 33/,
  );
  const negative = Buffer.alloc(8);
  negative.writeInt32BE(-2, 4);
  violation(
    t,
    () =>
      decodeMessage({
        type: 0x42,
        body: Buffer.concat([Buffer.from([0, 0, 0, 0, 0, 1]), negative.subarray(4)]),
      }),
    /invalid length -2/,
  );
});
