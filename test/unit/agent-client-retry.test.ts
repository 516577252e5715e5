// The agent client's one retry: a request that meets a reset on a pooled connection (the agent closed it while
// idle and the close did not reach us) is sent again on a fresh connection; a reset on a fresh connection, or
// after the answer began, is the agent being unreachable.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import test from 'ava';
import { AgentClient } from '../../src/agent/client';
import { H, sha256Hex, signResponse } from '../../src/agent/signing';

const secret = Buffer.alloc(32, 7);

/** A signed HTTP server answering {n} with the count of requests it has seen. */
async function fakeAgent(): Promise<{ port: number; seen: () => number; close: () => Promise<void> }> {
  let n = 0;
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      n++;
      const body = Buffer.from(JSON.stringify({ n }));
      const nonce = String(req.headers[H.nonce]);
      res.writeHead(200, {
        'content-type': 'application/json',
        [H.signature]: signResponse(secret, nonce, 200, sha256Hex(body)),
      });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    seen: () => n,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/**
 * A TCP proxy in front of `port` that resets a client connection at the first bytes of its `resetAt`-th
 * request on that connection (1-based), as a kept-alive socket the far end has dropped does.
 */
async function resettingProxy(port: number, resetAt: (connection: number) => number | null) {
  let connections = 0;
  const server = net.createServer((client) => {
    const which = ++connections;
    const limit = resetAt(which);
    let requests = 0;
    const upstream = net.connect(port, '127.0.0.1');
    client.on('data', (d) => {
      // A request's first bytes start with its method; one data event per request is enough for these tests.
      if (/^(GET|POST|PUT|DELETE) /.test(d.toString('latin1', 0, 8))) requests++;
      if (limit !== null && requests >= limit) {
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      upstream.write(d);
    });
    upstream.on('data', (d) => client.write(d));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * Runs `body` with a client speaking to a fake agent through a resetting proxy (see resettingProxy), and
 * closes all three after it.
 */
async function throughProxy(
  resetAt: (connection: number) => number | null,
  body: (s: {
    client: AgentClient;
    proxy: { connections(): number };
    agent: { seen(): number };
  }) => Promise<void>,
): Promise<void> {
  const agent = await fakeAgent();
  const proxy = await resettingProxy(agent.port, resetAt);
  const client = new AgentClient(`127.0.0.1:${proxy.port}`, secret);
  try {
    await body({ client, proxy, agent });
  } finally {
    client.close();
    await proxy.close();
    await agent.close();
  }
}

test('a reset on a pooled connection before any answer is retried once, on a fresh connection', async (t) => {
  // The first connection carries one request, then resets at its second; later connections behave.
  await throughProxy(
    (c) => (c === 1 ? 2 : null),
    async ({ client, proxy, agent }) => {
      t.deepEqual(await client.json('GET', '/v1/health'), { n: 1 });
      t.deepEqual(await client.json('GET', '/v1/health'), { n: 2 }, 'the second request arrives, once');
      t.is(proxy.connections(), 2);
      t.is(agent.seen(), 2);
    },
  );
});

test('a reset on a fresh connection is not retried: the agent is unreachable', async (t) => {
  await throughProxy(
    () => 1,
    async ({ client, proxy, agent }) => {
      await t.throwsAsync(client.json('GET', '/v1/health'), { message: /is unreachable: ECONNRESET/ });
      t.is(proxy.connections(), 1, 'one attempt');
      t.is(agent.seen(), 0);
    },
  );
});

test('a second reset, on the retry, is the agent being unreachable', async (t) => {
  // The pooled connection resets at its second request, and so does the fresh one the retry opens.
  await throughProxy(
    (c) => (c === 1 ? 2 : 1),
    async ({ client, proxy, agent }) => {
      await client.json('GET', '/v1/health');
      await t.throwsAsync(client.json('GET', '/v1/health'), { message: /is unreachable: ECONNRESET/ });
      t.is(proxy.connections(), 2, 'one retry, not more');
      t.is(agent.seen(), 1);
    },
  );
});
