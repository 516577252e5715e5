// Certificates for TLS between coordinators and storage agents, made with openssl for a test or a benchmark:
// a CA, and a certificate signed by it for each agent (its IP address as subjectAltName, usable both as a
// server certificate and as a client one, since an agent is its peers' client) and for a coordinator.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertFiles {
  cert: string;
  key: string;
}

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}

/** Makes a CA in `dir` (name.crt, name.key); returns its files. */
export function makeCa(dir: string, name = 'ca'): CertFiles {
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=segtasks test ${name}`,
    '-keyout',
    files.key,
    '-out',
    files.cert,
  );
  return files;
}

/** Makes a certificate signed by `ca` for the IP addresses given (none: a client-only certificate). */
export function makeCert(dir: string, name: string, ca: CertFiles, ips: string[]): CertFiles {
  const files = { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(
    ext,
    [
      'basicConstraints = CA:FALSE',
      'keyUsage = digitalSignature, keyEncipherment',
      'extendedKeyUsage = serverAuth, clientAuth',
      ...(ips.length ? [`subjectAltName = ${ips.map((ip) => `IP:${ip}`).join(', ')}`] : []),
    ].join('\n'),
  );
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', files.key, '-out', csr);
  openssl(
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.cert,
    '-CAkey',
    ca.key,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    ext,
    '-out',
    files.cert,
  );
  return files;
}

/** The options of `segtasks agent` serving TLS with `cert`, verifying peers with `ca`, and (mutual) clients. */
export function agentTlsArgs(cert: CertFiles, ca: CertFiles, mutual: boolean): string[] {
  return [
    '--tls-cert',
    cert.cert,
    '--tls-key',
    cert.key,
    '--agent-ca',
    ca.cert,
    ...(mutual ? ['--tls-ca', ca.cert] : []),
  ];
}
