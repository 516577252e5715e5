// A short seeded run of the protocol fuzzer (the long one is bench/fuzz.ts): every reply is well framed, no
// case hangs, the server stays up and answers SELECT 1 quickly throughout.
import test from 'ava';
import pg from 'pg';
import { fuzzProtocol } from './helpers/protocol-fuzz';
import { startTestServer } from './helpers/server';

test('protocol fuzzer, seed 16, 200 cases: well-framed answers, no hang, the server stays responsive', async (t) => {
  const server = await startTestServer({ auth: 'trust' });
  const probe = new pg.Client(server.pgConfig);
  await probe.connect();
  let slowest = 0;
  try {
    const stats = await fuzzProtocol(server.port, 16, { cases: 200 }, async () => {
      const t0 = performance.now();
      await probe.query('SELECT 1');
      slowest = Math.max(slowest, performance.now() - t0);
    });
    t.log(JSON.stringify(stats), `slowest SELECT 1 between cases: ${Math.round(slowest)} ms`);
    t.is(stats.cases, 200);
    t.is(stats.badFraming, 0);
    t.is(stats.hangs, 0);
    t.true(slowest < 2000);
    t.true(Object.keys(stats.codes).length > 3, 'the cases reached several error paths');
  } finally {
    await probe.end();
    await server.stop();
  }
});
