// TLS between coordinators and storage agents, and between agents (a rebuild's peer pulls). An agent given a
// certificate serves HTTPS; whoever speaks to it (a coordinator, or another agent) verifies that certificate
// against the CA file it was given, and the agent's address must be in the certificate (an IP address as an IP
// subjectAltName). An agent given a CA for clients (--tls-ca) also asks for the client's certificate and drops a
// client without one signed by that CA before any request is read (mutual TLS). The HMAC signatures of
// signing.ts are kept in any case: TLS hides and protects the bytes on the wire, the signature says the request
// comes from a holder of the cluster secret and names the one segment it may touch.
import { readFileSync } from 'node:fs';

/** What an agent serves HTTPS with. */
export interface AgentServerTls {
  cert: Buffer;
  key: Buffer;
  /** With it, clients must present a certificate signed by this CA (mutual TLS). */
  clientCa?: Buffer;
}

/** What a client of the agents (coordinator or agent) verifies them with, and its own certificate for mutual TLS. */
export interface AgentClientTls {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** Reads a PEM file named by an option; the error names the option. */
export function readPem(file: string, option: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read ${option} ${file}: ${(err as Error).message}`);
  }
}

/** OpenSSL's verdicts on a certificate it could not verify (Node gives them as the error's code). */
const UNTRUSTED = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** What a failed TLS connection to an agent means, for the operator; null when TLS is not why it failed. */
export function tlsFailure(address: string, err: NodeJS.ErrnoException): string | null {
  const code = err.code ?? '';
  if (UNTRUSTED.has(code))
    return `TLS: the certificate of agent ${address} is not trusted (${code}: ${err.message}); is --agent-ca the CA that signed the agents' certificates, and is ${address.replace(/:\d+$/, '')} in the certificate's subjectAltName?`;
  // A plain HTTP answer to our ClientHello: OpenSSL reports it as EPROTO with the reason in the message.
  if (
    /WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST/.test(code) ||
    (code === 'EPROTO' && /wrong version number|packet length too long|http request/i.test(err.message))
  )
    return `TLS: agent ${address} does not serve TLS (${code === 'EPROTO' ? 'wrong version number' : code}); start it with --tls-cert and --tls-key, or this server without --agent-ca`;
  if (/CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_UNKNOWN|HANDSHAKE_FAILURE/.test(code))
    return `TLS: agent ${address} refused this server's client certificate (${code}); give --tls-client-cert and --tls-client-key, signed by the CA of the agent's --tls-ca`;
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO')
    return `TLS handshake with agent ${address} failed (${code}: ${err.message})`;
  return null;
}
