import test from 'ava';
import {
  EMPTY_DIGEST,
  H,
  parseSecret,
  REPLAY_WINDOW_MS,
  ReplayGuard,
  sha256Hex,
  signRequest,
  signResponse,
  verifyRequest,
  verifyResponse,
} from '../../src/agent/signing';

const secret = Buffer.from('0123456789abcdef0123456789abcdef');
const other = Buffer.from('fedcba9876543210fedcba9876543210');
const seg = '5f0c6b3e-2a47-4c1e-9d0a-0b6c2f1e9a11';

function signed(over: { path?: string; segment?: string; digest?: string; now?: number } = {}) {
  return signRequest(
    secret,
    {
      method: 'PUT',
      path: over.path ?? `/v1/segment?id=${seg}`,
      segment: over.segment ?? seg,
      digest: over.digest,
    },
    over.now,
  );
}

test('a correctly signed request is accepted, with the fields it was signed with', (t) => {
  const digest = sha256Hex(Buffer.from('body'));
  const h = signed({ digest });
  const r = verifyRequest(secret, 'PUT', `/v1/segment?id=${seg}`, h, new ReplayGuard());
  t.true(r.ok);
  if (r.ok) {
    t.is(r.fields.segment, seg);
    t.is(r.fields.digest, digest);
  }
});

test('a request without signature headers is refused', (t) => {
  const r = verifyRequest(secret, 'GET', '/v1/segment', {}, new ReplayGuard());
  t.deepEqual(r, { ok: false, reason: 'request is not signed' });
});

test('a request signed with another secret is refused', (t) => {
  const h = signRequest(other, { method: 'PUT', path: '/v1/segment', segment: seg });
  const r = verifyRequest(secret, 'PUT', '/v1/segment', h, new ReplayGuard());
  t.deepEqual(r, { ok: false, reason: 'wrong signature' });
});

test('changing the method, the path, the segment or the digest breaks the signature', (t) => {
  const guard = new ReplayGuard();
  const h = signed();
  t.false(verifyRequest(secret, 'GET', `/v1/segment?id=${seg}`, h, guard).ok);
  t.false(verifyRequest(secret, 'PUT', '/v1/segment?id=00000000-0000-0000-0000-000000000000', h, guard).ok);
  t.false(verifyRequest(secret, 'PUT', `/v1/segment?id=${seg}`, { ...h, [H.segment]: '-' }, guard).ok);
  t.false(
    verifyRequest(
      secret,
      'PUT',
      `/v1/segment?id=${seg}`,
      { ...h, [H.digest]: sha256Hex(Buffer.from('x')) },
      guard,
    ).ok,
  );
  const bad = verifyRequest(
    secret,
    'PUT',
    `/v1/segment?id=${seg}`,
    { ...h, [H.timestamp]: String(Date.now() + 1) },
    guard,
  );
  t.deepEqual(bad, { ok: false, reason: 'wrong signature' });
});

test('a request outside the replay window is refused', (t) => {
  const old = Date.now() - REPLAY_WINDOW_MS - 1000;
  const h = signed({ now: old });
  const r = verifyRequest(secret, 'PUT', `/v1/segment?id=${seg}`, h, new ReplayGuard());
  t.false(r.ok);
  t.regex((r as { reason: string }).reason, /from the agent's clock/);
  const future = signed({ now: Date.now() + REPLAY_WINDOW_MS + 1000 });
  t.false(verifyRequest(secret, 'PUT', `/v1/segment?id=${seg}`, future, new ReplayGuard()).ok);
});

test('the same request sent twice is refused the second time', (t) => {
  const guard = new ReplayGuard();
  const h = signed();
  t.true(verifyRequest(secret, 'PUT', `/v1/segment?id=${seg}`, h, guard).ok);
  t.deepEqual(verifyRequest(secret, 'PUT', `/v1/segment?id=${seg}`, h, guard), {
    ok: false,
    reason: 'replayed request (nonce already seen)',
  });
});

test('the replay guard forgets nonces older than the window and is bounded', (t) => {
  const g = new ReplayGuard(1000, 3);
  t.true(g.admit('a', 0));
  t.true(g.admit('b', 10));
  t.true(g.admit('c', 20));
  t.false(g.admit('d', 30), 'full: refused rather than forgetting a nonce still in the window');
  t.true(g.admit('d', 5000), 'expired ones are dropped');
  t.true(g.admit('a', 5001), 'a nonce past the window can no longer be replayed anyway');
});

test('answers are signed over the request nonce, status and body digest', (t) => {
  const nonce = 'ab'.repeat(16);
  const d = sha256Hex(Buffer.from('{"ok":true}'));
  const sig = signResponse(secret, nonce, 200, d);
  t.true(verifyResponse(secret, nonce, 200, d, sig));
  t.false(verifyResponse(secret, nonce, 201, d, sig));
  t.false(verifyResponse(secret, 'cd'.repeat(16), 200, d, sig));
  t.false(verifyResponse(secret, nonce, 200, EMPTY_DIGEST, sig));
  t.false(verifyResponse(other, nonce, 200, d, sig));
  t.false(verifyResponse(secret, nonce, 200, d, undefined));
});

test('a cluster secret must be at least 32 bytes', (t) => {
  t.throws(() => parseSecret('short\n', 'f'), { message: /at least 32/ });
  t.is(parseSecret(`  ${'x'.repeat(32)}\n`, 'f').length, 32);
});
