// An agent's segment read whose client goes away while the socket is full: the read stops and its file is
// closed, instead of waiting for a 'drain' that never comes (an fd and a chunk held for the agent's life).
import { randomUUID } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import pino from 'pino';
import { AgentClient } from '../../src/agent/client';
import { startAgent } from '../../src/agent/server';
import { signRequest } from '../../src/agent/signing';

const secret = Buffer.alloc(32, 9);

/** Whether this process has `file` open. */
function isOpen(file: string): boolean {
  return readdirSync('/proc/self/fd').some((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === file;
    } catch {
      return false;
    }
  });
}

test('a read whose client hangs up with the socket full closes its file', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'agent-abandoned-'));
  const device = join(root, 'dev');
  mkdirSync(join(device, 'segments'), { recursive: true });
  const agent = await startAgent({
    host: '127.0.0.1',
    port: 0,
    secret,
    logger: pino({ level: 'silent' }),
    verifierThreads: 1,
  });
  const client = new AgentClient(`127.0.0.1:${agent.port}`, secret);
  try {
    await client.json('POST', '/v1/devices', { node: 'n1', devices: [{ id: randomUUID(), path: device }] });
    // Far more than the socket buffers hold: the agent is left waiting for the client to read.
    const id = randomUUID();
    const file = join(device, 'segments', `${id}.seg`);
    writeFileSync(file, '');
    truncateSync(file, 64 * 1024 * 1024);
    const path = `/v1/segment?id=${id}&device=${encodeURIComponent(device)}`;
    await new Promise<void>((resolve, reject) => {
      const req = http.get(
        {
          host: '127.0.0.1',
          port: agent.port,
          path,
          headers: signRequest(secret, { method: 'GET', path, segment: id }),
        },
        (res) => {
          t.is(res.statusCode, 200);
          res.pause(); // never read
          setTimeout(() => {
            t.true(isOpen(file), 'the agent is still reading when the client hangs up');
            req.destroy();
            resolve();
          }, 300);
        },
      );
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    });
    const until = Date.now() + 3000;
    while (isOpen(file) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    t.false(isOpen(file));
  } finally {
    client.close();
    await agent.close();
    rmSync(root, { recursive: true, force: true });
  }
});
