// An agent that refuses the client's signature (another cluster secret) answers 401, unsigned: the client
// says that the secrets may differ, for a streamed read as for a JSON request.
import test from 'ava';
import pino from 'pino';
import { AgentClient, AgentError } from '../../src/agent/client';
import { startAgent } from '../../src/agent/server';

test('a refused signature is an AgentError 401 that names the secret, for stream() as for json()', async (t) => {
  const agent = await startAgent({
    host: '127.0.0.1',
    port: 0,
    secret: Buffer.alloc(32, 1),
    logger: pino({ level: 'silent' }),
    verifierThreads: 1,
  });
  const client = new AgentClient(`127.0.0.1:${agent.port}`, Buffer.alloc(32, 2));
  try {
    const refused = { instanceOf: AgentError, message: /refused the request .*is its secret the same/ };
    const json = await t.throwsAsync(client.json('POST', '/v1/list', { device: '/nowhere' }), refused);
    t.is(json?.status, 401);
    const id = '00000000-0000-4000-8000-000000000000';
    const sink = { start() {}, chunk() {} };
    const streamed = await t.throwsAsync(
      client.stream(`/v1/segment?id=${id}&device=/nowhere`, id, sink),
      refused,
    );
    t.is(streamed?.status, 401);
  } finally {
    client.close();
    await agent.close();
  }
});
