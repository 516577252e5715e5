// HMAC signing of the requests between a coordinator and its storage agents (and of the agents' answers).
// Every request carries, in headers, a timestamp, a random nonce, the segment it may touch ('-' for a request
// about a device or a batch named in its body) and the SHA-256 of its body, and an HMAC-SHA256 with the cluster
// secret over those and the method and path. The agent refuses a request whose signature does not match, whose
// timestamp is outside the replay window, or whose nonce it has already seen within that window; the body
// digest is checked as the body arrives, before anything it carries is made durable. Answers are signed over
// the request's nonce, their status and the digest of their body (in a trailer when the body is streamed), so a
// coordinator knows the bytes it got are the agent's answer to this request.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_VERSION = 'v1';
/** Requests whose timestamp is further than this from the agent's clock are refused (nonces are kept twice as long). */
export const REPLAY_WINDOW_MS = 30_000;
/** Most nonces remembered at once: a bound on memory (over 6,000 requests a second across the window). */
export const MAX_REMEMBERED_NONCES = 200_000;

export const H = {
  timestamp: 'x-segtasks-timestamp',
  nonce: 'x-segtasks-nonce',
  segment: 'x-segtasks-segment',
  digest: 'x-segtasks-content-sha256',
  signature: 'x-segtasks-signature',
} as const;

/** SHA-256 (hex) of the empty body. */
export const EMPTY_DIGEST = createHash('sha256').digest('hex');

export function sha256Hex(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

export interface SignedFields {
  method: string;
  /** Path and query string, as sent on the request line. */
  path: string;
  /** The storage id of the one segment the request may touch, or '-'. */
  segment: string;
  timestamp: number;
  nonce: string;
  digest: string;
}

function canonical(f: SignedFields): string {
  return [
    SIGNATURE_VERSION,
    f.method.toUpperCase(),
    f.path,
    f.segment,
    String(f.timestamp),
    f.nonce,
    f.digest,
  ].join('\n');
}

function hmac(secret: Buffer, text: string): string {
  return createHmac('sha256', secret).update(text).digest('hex');
}

/** The headers that sign a request. */
export function signRequest(
  secret: Buffer,
  r: { method: string; path: string; segment?: string; digest?: string },
  now = Date.now(),
): Record<string, string> {
  const f: SignedFields = {
    method: r.method,
    path: r.path,
    segment: r.segment ?? '-',
    timestamp: now,
    nonce: randomBytes(16).toString('hex'),
    digest: r.digest ?? EMPTY_DIGEST,
  };
  return {
    [H.timestamp]: String(f.timestamp),
    [H.nonce]: f.nonce,
    [H.segment]: f.segment,
    [H.digest]: f.digest,
    [H.signature]: hmac(secret, canonical(f)),
  };
}

function equalHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

export type Refusal = { ok: false; reason: string };
export type Accepted = { ok: true; fields: SignedFields };

/** Remembers the nonces seen within the replay window, so that a captured request cannot be sent again. */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs = REPLAY_WINDOW_MS,
    private readonly max = MAX_REMEMBERED_NONCES,
  ) {}

  /** False when the nonce was seen (or when too many are remembered to tell). */
  admit(nonce: string, now: number): boolean {
    // Map iteration is in insertion order, which is (within clock skew) expiry order: drop the expired head.
    for (const [n, at] of this.seen) {
      if (now - at <= 2 * this.windowMs) break;
      this.seen.delete(n);
    }
    if (this.seen.has(nonce)) return false;
    if (this.seen.size >= this.max) return false;
    this.seen.set(nonce, now);
    return true;
  }
}

/**
 * Checks a request's signature headers against the method and path it arrived with. The body digest in the
 * headers is signed here; that the body matches it is checked as the body is read (the agent's readJson and
 * writeSegment).
 */
export function verifyRequest(
  secret: Buffer,
  method: string,
  path: string,
  headers: Record<string, string | string[] | undefined>,
  guard: ReplayGuard,
  now = Date.now(),
): Accepted | Refusal {
  const get = (h: string) => {
    const v = headers[h];
    return typeof v === 'string' ? v : undefined;
  };
  const ts = get(H.timestamp);
  const nonce = get(H.nonce);
  const segment = get(H.segment);
  const digest = get(H.digest);
  const signature = get(H.signature);
  if (!ts || !nonce || !segment || !digest || !signature)
    return { ok: false, reason: 'request is not signed' };
  const timestamp = Number(ts);
  if (!Number.isSafeInteger(timestamp)) return { ok: false, reason: 'bad timestamp' };
  if (!/^[0-9a-f]{32}$/.test(nonce)) return { ok: false, reason: 'bad nonce' };
  if (!/^[0-9a-f]{64}$/.test(digest)) return { ok: false, reason: 'bad body digest' };
  const fields: SignedFields = { method, path, segment, timestamp, nonce, digest };
  if (!equalHex(hmac(secret, canonical(fields)), signature)) return { ok: false, reason: 'wrong signature' };
  if (Math.abs(now - timestamp) > REPLAY_WINDOW_MS)
    return {
      ok: false,
      reason: `timestamp is ${Math.round((now - timestamp) / 1000)} s from the agent's clock`,
    };
  if (!guard.admit(nonce, now)) return { ok: false, reason: 'replayed request (nonce already seen)' };
  return { ok: true, fields };
}

/** The signature of an answer: over the request's nonce, the status and the digest of the answer's body. */
export function signResponse(secret: Buffer, nonce: string, status: number, digest: string): string {
  return hmac(secret, [SIGNATURE_VERSION, 'response', nonce, String(status), digest].join('\n'));
}

export function verifyResponse(
  secret: Buffer,
  nonce: string,
  status: number,
  digest: string,
  signature: string | undefined,
): boolean {
  return !!signature && equalHex(signResponse(secret, nonce, status, digest), signature);
}

/** Reads the cluster secret: at least 32 bytes once surrounding whitespace is removed. */
export function parseSecret(text: string | Buffer, from: string): Buffer {
  const s = Buffer.from(text.toString().trim(), 'utf8');
  if (s.length < 32)
    throw new Error(
      `the cluster secret in ${from} is ${s.length} bytes; it must be at least 32 (e.g. openssl rand -hex 32)`,
    );
  return s;
}
