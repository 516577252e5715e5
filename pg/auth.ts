// Password authentication: SCRAM-SHA-256 (RFC 5802/7677 as PostgreSQL uses it), md5 and cleartext.
// Only verifiers are stored: 'SCRAM-SHA-256$<iter>:<salt>$<StoredKey>:<ServerKey>' and 'md5<hex>'.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export type AuthMethod = 'scram' | 'md5' | 'password' | 'trust';

export interface StoredCredentials {
  scramVerifier: string | null;
  md5Hash: string | null;
}

const hmac = (key: Buffer, data: string | Buffer) => createHmac('sha256', key).update(data).digest();
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();

export function makeScramVerifier(password: string, iterations = 4096, salt = randomBytes(16)): string {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256');
  const clientKey = hmac(salted, 'Client Key');
  const storedKey = sha256(clientKey);
  const serverKey = hmac(salted, 'Server Key');
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

export function makeMd5Hash(user: string, password: string): string {
  return (
    'md5' +
    createHash('md5')
      .update(password + user)
      .digest('hex')
  );
}

interface ParsedVerifier {
  iterations: number;
  salt: string;
  storedKey: Buffer;
  serverKey: Buffer;
}

function parseVerifier(v: string): ParsedVerifier | null {
  const m = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(v);
  if (!m) return null;
  return {
    iterations: +m[1],
    salt: m[2],
    storedKey: Buffer.from(m[3], 'base64'),
    serverKey: Buffer.from(m[4], 'base64'),
  };
}

/** Checks a cleartext password against whatever is stored (used by the 'password' method). */
export function checkPassword(user: string, password: string, creds: StoredCredentials | null): boolean {
  if (!creds) return false;
  if (creds.scramVerifier) {
    const v = parseVerifier(creds.scramVerifier);
    if (!v) return false;
    const again = parseVerifier(makeScramVerifier(password, v.iterations, Buffer.from(v.salt, 'base64')))!;
    return timingSafeEqual(again.storedKey, v.storedKey);
  }
  if (creds.md5Hash) return safeEqualStr(makeMd5Hash(user, password), creds.md5Hash);
  return false;
}

/** Checks the client's md5 response: 'md5' + md5(md5hash_without_prefix + salt). */
export function checkMd5Response(response: string, salt: Buffer, creds: StoredCredentials | null): boolean {
  if (!creds?.md5Hash) return false;
  const expected =
    'md5' +
    createHash('md5')
      .update(Buffer.concat([Buffer.from(creds.md5Hash.slice(3)), salt]))
      .digest('hex');
  return safeEqualStr(expected, response);
}

function safeEqualStr(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

export class ScramError extends Error {}

/**
 * One SCRAM-SHA-256 exchange on the server side. For an unknown user it runs a mock exchange with a salt
 * derived from the user name, so a client cannot tell a missing user from a wrong password.
 */
export class ScramExchange {
  private readonly verifier: ParsedVerifier;
  private readonly real: boolean;
  private clientFirstBare = '';
  private serverFirst = '';
  private nonce = '';

  constructor(user: string, storedVerifier: string | null, mockSecret: Buffer) {
    const parsed = storedVerifier ? parseVerifier(storedVerifier) : null;
    this.real = parsed !== null;
    this.verifier = parsed ?? {
      iterations: 4096,
      salt: hmac(mockSecret, user).subarray(0, 16).toString('base64'),
      storedKey: randomBytes(32),
      serverKey: randomBytes(32),
    };
  }

  /** Handles client-first-message ('n,,n=user,r=nonce'); returns server-first-message. */
  start(clientFirst: string): string {
    const m = /^([nyp])(=[^,]*)?,[^,]*,(.*)$/.exec(clientFirst);
    if (!m) throw new ScramError('malformed SCRAM client-first-message');
    if (m[1] === 'p') throw new ScramError('channel binding is not supported');
    this.clientFirstBare = m[3];
    const attrs = parseAttrs(this.clientFirstBare);
    const clientNonce = attrs.get('r');
    if (!clientNonce) throw new ScramError('SCRAM client nonce missing');
    this.nonce = clientNonce + randomBytes(18).toString('base64');
    this.serverFirst = `r=${this.nonce},s=${this.verifier.salt},i=${this.verifier.iterations}`;
    return this.serverFirst;
  }

  /** Handles client-final-message; returns server-final-message, or null when the proof is wrong. */
  finish(clientFinal: string): string | null {
    const proofAt = clientFinal.lastIndexOf(',p=');
    if (proofAt < 0) throw new ScramError('SCRAM proof missing');
    const withoutProof = clientFinal.slice(0, proofAt);
    const attrs = parseAttrs(clientFinal);
    if (attrs.get('r') !== this.nonce) throw new ScramError('SCRAM nonce mismatch');
    const proof = Buffer.from(attrs.get('p') ?? '', 'base64');
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`;
    const clientSignature = hmac(this.verifier.storedKey, authMessage);
    if (proof.length !== clientSignature.length) return null;
    const clientKey = Buffer.alloc(proof.length);
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i] ^ clientSignature[i];
    if (!this.real || !timingSafeEqual(sha256(clientKey), this.verifier.storedKey)) return null;
    return `v=${hmac(this.verifier.serverKey, authMessage).toString('base64')}`;
  }
}

function parseAttrs(s: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of s.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) out.set(part[0], part.slice(2));
  }
  return out;
}
