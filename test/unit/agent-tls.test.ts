import test from 'ava';
import { tlsFailure } from '../../src/agent/tls';

const err = (code: string, message = code) => Object.assign(new Error(message), { code });

test('an untrusted agent certificate is named, with the options to look at', (t) => {
  for (const code of [
    'SELF_SIGNED_CERT_IN_CHAIN',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'ERR_TLS_CERT_ALTNAME_INVALID',
  ])
    t.regex(
      tlsFailure('10.0.0.5:7433', err(code, 'detail')) ?? '',
      new RegExp(
        `^TLS: the certificate of agent 10\\.0\\.0\\.5:7433 is not trusted \\(${code}: detail\\); is --agent-ca the CA that signed the agents' certificates, and is 10\\.0\\.0\\.5 in the certificate's subjectAltName\\?$`,
      ),
    );
});

test('an agent without TLS, and a refused client certificate, are told apart', (t) => {
  t.regex(tlsFailure('h:1', err('ERR_SSL_WRONG_VERSION_NUMBER')) ?? '', /^TLS: agent h:1 does not serve TLS/);
  t.regex(
    tlsFailure('h:1', err('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED')) ?? '',
    /^TLS: agent h:1 refused this server's client certificate .*--tls-client-cert/,
  );
  t.regex(
    tlsFailure('h:1', err('ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE')) ?? '',
    /refused this server's client certificate/,
  );
  t.regex(
    tlsFailure('h:1', err('ERR_SSL_SOMETHING_ELSE', 'x')) ?? '',
    /^TLS handshake with agent h:1 failed \(ERR_SSL_SOMETHING_ELSE: x\)$/,
  );
});

test('a plain HTTP agent met by a TLS client (EPROTO, wrong version number) is named as such', (t) => {
  const e = err(
    'EPROTO',
    'write EPROTO 801C09D9807F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:ssl3_record.c:350:',
  );
  t.is(
    tlsFailure('h:1', e),
    'TLS: agent h:1 does not serve TLS (wrong version number); start it with --tls-cert and --tls-key, or this server without --agent-ca',
  );
});

test('failures that are not TLS are left to the caller', (t) => {
  for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH'])
    t.is(tlsFailure('h:1', err(code)), null);
});
