// `segtasks agent`: one process per storage host, serving the devices of its host to the coordinators over
// HTTP/1.1 (node:http), or over HTTPS when given a certificate (tls.ts; with a client CA, mutual TLS). Every
// request must be signed with the cluster secret (signing.ts), TLS or not; anything else is refused with 401
// and logged. The agent touches only the segment files of the devices it was told it serves
// (served-devices.ts). Writes are checked as they stream in (the segment's own checksums, and the body digest
// that the signature covers), fsynced with their directory before they are acknowledged; reads stream the file
// in bounded chunks, with the digest and the answer's signature in trailers; check_disk's hashing runs here, on
// the agent's verifier threads. The only state it keeps is the list of devices it serves (in --data-dir, when
// given): at start, and whenever it is told of a device, it removes the temporary files of writes a crash cut.
import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as http from 'node:http';
import * as https from 'node:https';
import { dirname, join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { SqlError } from '../../pg/errors';
import { identityProblem, writeIdentity } from '../store/device-identity';
import {
  DeviceIdentityProblem,
  DeviceUnavailable,
  inspectLocalDevice,
  LocalDeviceIO,
  type PeerRebuild,
} from '../store/device-io';
import { coderFor } from '../store/erasure';
import { RemoteDeviceIO } from '../store/remote-device-io';
import {
  CopyMismatch,
  createIn,
  fsyncDir,
  SegmentFault,
  segmentDir,
  TEMP_SUFFIX,
} from '../store/segment-file';
import { SegmentStreamCheck } from '../store/segment-stream';
import { type VerifyJob, VerifyPool } from '../store/verify-pool';
import { AgentClient } from './client';
import { checkDevicePath, PathRefused, type ServedDevice, ServedDevices } from './served-devices';
import { H, ReplayGuard, sha256Hex, signResponse, verifyRequest } from './signing';
import type { AgentClientTls, AgentServerTls } from './tls';

export interface AgentOptions {
  host: string;
  port: number;
  secret: Buffer;
  /** Where the list of served devices is kept across restarts (optional). */
  dataDir?: string;
  logger: Logger;
  verifierThreads?: number;
  /** Serve HTTPS with this certificate (and, with its client CA, require clients' certificates). */
  tls?: AgentServerTls;
  /** How the peers are spoken to when this agent pulls survivors from them (HTTPS when given). */
  peerTls?: AgentClientTls;
}

export interface RunningAgent {
  port: number;
  close(): Promise<void>;
}

/** Largest JSON request body (a verify batch or a delete list). */
const MAX_JSON_BODY = 16 * 1024 * 1024;
/** Largest segment file accepted: the largest segment size (256 MiB) plus its header and checksum table. */
const MAX_SEGMENT_FILE = 256 * 1024 * 1024 + 64 + 8 * 2048;
/** Reads of a segment go out in chunks of this size, each written before the next is read (backpressure). */
const READ_CHUNK = 256 * 1024;
const STATE_FILE = 'agent-devices.json';

/**
 * Resolves once `res` takes more bytes, or once its client has gone (then no 'drain' ever comes, and a read
 * waiting for one would hold its file and chunk for the agent's life).
 */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.message));
  }
}

export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  const { secret, logger } = opts;
  const served = new ServedDevices();
  const guard = new ReplayGuard();
  const local = new LocalDeviceIO();
  const verifier = new VerifyPool(opts.verifierThreads);
  const statePath = opts.dataDir ? join(opts.dataDir, STATE_FILE) : null;

  /** Removes what a write cut short left on a device: temporary files (never catalogued by anyone). */
  async function cleanPartialWrites(d: ServedDevice): Promise<void> {
    let names: string[];
    try {
      names = await readdir(segmentDir(d.path));
    } catch {
      return;
    }
    const temps = names.filter((n) => n.endsWith(TEMP_SUFFIX));
    await Promise.all(temps.map((n) => unlink(join(segmentDir(d.path), n)).catch(() => {})));
    if (temps.length) {
      await fsyncDir(segmentDir(d.path)).catch(() => {});
      logger.warn(
        { event: 'partial_writes_removed', device: d.path, files: temps.length },
        'removed the temporary files of interrupted writes',
      );
    }
  }

  /**
   * Saves the served list. One save at a time, each of the list as it is when it starts: two declarations at
   * once (two coordinators' heartbeats) could otherwise rename their files in the other order, leaving the
   * older list on disk for the next start.
   */
  let saving: Promise<void> = Promise.resolve();
  function saveState(): Promise<void> {
    const save = saving.then(writeState);
    saving = save.catch(() => {}); // the failure is the caller's; the next save still runs
    return save;
  }

  async function writeState(): Promise<void> {
    if (!statePath) return;
    const tmp = `${statePath}.${randomUUID().slice(0, 8)}${TEMP_SUFFIX}`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify({ devices: served.list() }));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, statePath);
    await fsyncDir(dirname(statePath));
  }

  if (opts.dataDir) {
    await mkdir(opts.dataDir, { recursive: true });
    try {
      const state = JSON.parse(await readFile(statePath!, 'utf8')) as { devices: ServedDevice[] };
      for (const d of state.devices) served.add(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const d of served.list()) await cleanPartialWrites(d);
  }

  async function readJson(req: IncomingMessage, digest: string): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > MAX_JSON_BODY) throw new HttpError(413, { message: 'request body too large' });
      chunks.push(c);
    }
    const body = Buffer.concat(chunks);
    if (sha256Hex(body) !== digest)
      throw new HttpError(400, { message: 'body does not match its signed digest' });
    try {
      return body.length ? (JSON.parse(body.toString()) as Record<string, unknown>) : {};
    } catch {
      throw new HttpError(400, { message: 'body is not JSON' });
    }
  }

  function sendJson(res: ServerResponse, nonce: string, status: number, body: unknown): void {
    const text = Buffer.from(JSON.stringify(body));
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': text.length,
      [H.signature]: signResponse(secret, nonce, status, sha256Hex(text)),
    });
    res.end(text);
  }

  function str(v: unknown, what: string): string {
    if (typeof v !== 'string') throw new HttpError(400, { message: `${what} is missing` });
    return v;
  }

  async function writeSegment(req: IncomingMessage, url: URL, segment: string, digest: string) {
    const p = url.searchParams;
    const id = str(p.get('id'), 'id');
    if (segment !== id) throw new PathRefused(`the request is signed for segment ${segment}, not ${id}`);
    const { device, dir, file } = served.segmentFile(str(p.get('device'), 'device'), id);
    const deviceId = str(p.get('device_id'), 'device_id');
    const problem = await local.writeProblem({ id: deviceId, path: device.path });
    if (problem) throw new HttpError(409, { identity: problem, message: problem });
    const size = Number(req.headers['content-length']);
    if (!Number.isSafeInteger(size) || size < 0 || size > MAX_SEGMENT_FILE)
      throw new HttpError(400, {
        message: 'a segment write needs a Content-Length within the largest segment size',
      });
    const check = new SegmentStreamCheck(
      { storageId: id, groupId: Number(p.get('group')), position: Number(p.get('position')) },
      size,
    );
    const tmp = `${file}.${randomUUID().slice(0, 8)}${TEMP_SUFFIX}`;
    const fh = await createIn(dir, tmp);
    let closed = false;
    try {
      const hash = createHash('sha256');
      let pos = 0;
      // Each chunk is written before the next is read: the socket is paused meanwhile (backpressure).
      for await (const chunk of req as AsyncIterable<Buffer>) {
        hash.update(chunk);
        check.push(chunk);
        let off = 0;
        while (off < chunk.length) {
          const { bytesWritten } = await fh.write(chunk, off, chunk.length - off, pos + off);
          off += bytesWritten;
        }
        pos += chunk.length;
      }
      if (hash.digest('hex') !== digest)
        throw new HttpError(400, { message: 'body does not match its signed digest' });
      const result = check.finish();
      // durable=0: a batch's files are synced together later (POST /v1/sync), before the catalog names them.
      const durable = p.get('durable') !== '0';
      if (durable) await fh.sync();
      await fh.close();
      closed = true;
      await rename(tmp, file);
      if (durable) await fsyncDir(dir);
      return { path: file, size, checksum: result.checksum };
    } catch (err) {
      if (!closed) await fh.close().catch(() => {});
      await unlink(tmp).catch(() => {});
      throw err;
    }
  }

  async function readSegment(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    segment: string,
    nonce: string,
  ) {
    const id = str(url.searchParams.get('id'), 'id');
    if (segment !== id) throw new PathRefused(`the request is signed for segment ${segment}, not ${id}`);
    const { file } = served.segmentFile(str(url.searchParams.get('device'), 'device'), id);
    let fh: Awaited<ReturnType<typeof open>>;
    try {
      fh = await open(file, 'r');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT')
        throw new HttpError(404, {
          fault: 'MISSING',
          message: `segment file ${id}.seg does not exist in ${dirname(file)}`,
        });
      throw new HttpError(422, { fault: 'UNREADABLE', message: `cannot open ${file}: ${e.message}` });
    }
    try {
      const size = (await fh.stat()).size;
      let from = 0;
      let to = size;
      let status = 200;
      const range = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers.range ?? ''));
      if (range) {
        from = Number(range[1]);
        to = Math.min(size, Number(range[2]) + 1);
        if (from >= to)
          throw new HttpError(416, {
            message: `range ${req.headers.range} is outside the file (${size} bytes)`,
          });
        status = 206;
      }
      res.writeHead(status, {
        'content-type': 'application/octet-stream',
        'x-segtasks-file-size': String(size),
        trailer: `${H.digest}, ${H.signature}`,
      });
      const hash = createHash('sha256');
      for (let pos = from; pos < to; ) {
        const buf = Buffer.allocUnsafe(Math.min(READ_CHUNK, to - pos));
        const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) break;
        const chunk = buf.subarray(0, bytesRead);
        hash.update(chunk);
        pos += bytesRead;
        if (!res.write(chunk)) await drainedOrClosed(res);
        if (res.destroyed) return;
      }
      const digest = hash.digest('hex');
      res.addTrailers({ [H.digest]: digest, [H.signature]: signResponse(secret, nonce, status, digest) });
      res.end();
    } finally {
      await fh.close().catch(() => {});
    }
  }

  /** Clients of the peer agents this agent pulls survivors from (same cluster, same secret). */
  const peers = new Map<string, RemoteDeviceIO>();
  const peer = (address: string) => {
    let io = peers.get(address);
    if (!io)
      peers.set(address, (io = new RemoteDeviceIO(new AgentClient(address, secret, { tls: opts.peerTls }))));
    return io;
  };

  /**
   * Rebuild on the destination: the survivors of the target's group are pulled from the agents that hold them
   * (or read here, for those on this agent's devices), checked as they arrive, in waves until k are good; the
   * target is reconstructed here and written to its device. The coordinator only gets the outcome: the new
   * file, and which survivors were faulty or could not be reached. A request with durable = false is one of a
   * batch (docs/durability.md): the reconstructed bytes are hashed as written and checked against the
   * catalog's checksum of the segment before anything is written, and the file is synced with its batch
   * (POST /v1/sync) before the catalog names it. Otherwise the file is written durably, read back and verified.
   */
  async function rebuildFromPeers(body: Record<string, unknown>, segment: string) {
    const target = body.target as PeerRebuild['target'];
    if (!target || segment !== target.storage_id)
      throw new PathRefused(`the request is signed for segment ${segment}, not ${target?.storage_id}`);
    const k = Number(body.k);
    const m = Number(body.m);
    const S = Number(body.shard_bytes);
    if (
      !Number.isInteger(k) ||
      !Number.isInteger(m) ||
      !Number.isInteger(S) ||
      S <= 0 ||
      S > MAX_SEGMENT_FILE ||
      !Number.isInteger(target.group) ||
      !Number.isInteger(target.position)
    )
      throw new HttpError(400, { message: 'bad group shape' });
    const { device } = served.segmentFile(
      str(target.device, 'target device'),
      str(target.storage_id, 'target id'),
    );
    const survivors = (Array.isArray(body.survivors) ? body.survivors : []) as {
      address: string | null;
      path: string;
      storage_id: string;
      position: number;
    }[];
    if (!survivors.every((sv) => Number.isInteger(sv.position) && sv.position >= 0 && sv.position < k + m))
      throw new HttpError(400, { message: 'bad survivor position' });
    const data = Buffer.alloc(k * S);
    const parity = Buffer.alloc(m * S);
    const shard = (p: number) =>
      p < k ? data.subarray(p * S, (p + 1) * S) : parity.subarray((p - k) * S, (p - k + 1) * S);
    const read = new Set<number>();
    const faults: { storage_id: string; kind: string; message: string; block?: number }[] = [];
    const unavailable: string[] = [];
    const candidates = [...survivors];
    // Waves: as many as are still needed at once; bounded by the survivors listed.
    while (read.size < k && candidates.length) {
      const wave = candidates.splice(0, k - read.size);
      await Promise.all(
        wave.map(async (sv) => {
          if (!sv.address) served.parseSegmentPath(sv.path);
          const io = sv.address ? peer(sv.address) : local;
          try {
            await io.readSegment(
              sv.path,
              { storageId: sv.storage_id, groupId: target.group, position: sv.position, payloadLength: S },
              { into: shard(sv.position) },
            );
            read.add(sv.position);
          } catch (err) {
            if (err instanceof SegmentFault)
              faults.push({
                storage_id: sv.storage_id,
                kind: err.kind,
                message: err.message,
                block: err.block,
              });
            else if (err instanceof DeviceUnavailable) unavailable.push(err.message);
            else throw err;
          }
        }),
      );
    }
    if (read.size < k) return { ok: false, read: [...read], faults, unavailable };
    const missing = Array.from({ length: k + m }, (_, p) => p).filter((p) => !read.has(p));
    await coderFor(k, m).reconstruct(data, parity, S, missing);
    const meta = {
      storageId: target.storage_id,
      groupId: target.group,
      position: target.position,
      isParity: target.parity,
    };
    const ref = { id: str(target.device_id, 'target device_id'), node_name: device.node, path: device.path };
    const durable = body.durable !== false;
    const checksum = typeof target.checksum === 'string' ? target.checksum : undefined;
    let written: Awaited<ReturnType<typeof local.writeSegment>>;
    try {
      written = await local.writeSegment(ref, meta, shard(target.position), { durable, checksum });
    } catch (err) {
      if (err instanceof DeviceIdentityProblem)
        throw new HttpError(409, { identity: err.message, message: err.message });
      if (err instanceof CopyMismatch) throw new HttpError(409, { message: err.message });
      throw err;
    }
    if (durable) await local.readSegment(written.path, { ...meta, payloadLength: S }, {});
    logger.info(
      {
        event: 'rebuilt_from_peers',
        storage_id: target.storage_id,
        group: target.group,
        path: written.path,
        read: [...read],
      },
      'segment reconstructed from its peers',
    );
    return { ok: true, ...written, read: [...read], faults, unavailable };
  }

  async function route(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    f: { segment: string; digest: string; nonce: string },
  ) {
    const { nonce } = f;
    const path = url.pathname;
    if (path === '/v1/segment' && req.method === 'PUT')
      return sendJson(res, nonce, 201, await writeSegment(req, url, f.segment, f.digest));
    if (path === '/v1/segment' && req.method === 'GET') return readSegment(req, res, url, f.segment, nonce);
    if (req.method !== 'POST' && req.method !== 'PUT')
      throw new HttpError(405, { message: 'method not allowed' });
    const body = await readJson(req, f.digest);
    switch (path) {
      case '/v1/devices': {
        // The coordinator's declaration of a node's devices, sent at CREATE NODE and with every heartbeat.
        const node = str(body.node, 'node');
        const devices = (Array.isArray(body.devices) ? body.devices : []) as { id: string; path: string }[];
        let changed = false;
        for (const d of devices) {
          const device = {
            id: str(d.id, 'device id'),
            node,
            path: checkDevicePath(str(d.path, 'device path')),
          };
          const before = served.get(device.path);
          if (!before) await cleanPartialWrites(device);
          if (served.add(device) || before?.id !== device.id || before?.node !== node) changed = true;
        }
        if (changed) await saveState();
        return sendJson(res, nonce, 200, { devices: served.list().length });
      }
      case '/v1/inspect':
        // Only looks at the directory (CREATE NODE's checks); nothing is served until it is declared.
        return sendJson(
          res,
          nonce,
          200,
          await inspectLocalDevice(str(body.path, 'path'), checkDevicePath(str(body.path, 'path'))),
        );
      case '/v1/identity': {
        const device = served.device(str(body.device, 'device'));
        const ref = {
          id: str(body.device_id, 'device_id'),
          path: device.path,
          node_name: String(body.node ?? device.node),
        };
        if (body.write === true) {
          await writeIdentity(ref);
          return sendJson(res, nonce, 200, { problem: null });
        }
        return sendJson(res, nonce, 200, { problem: await identityProblem(ref) });
      }
      case '/v1/usable':
        return sendJson(res, nonce, 200, {
          usable: await local.usable(served.device(str(body.device, 'device')).path),
        });
      case '/v1/verify': {
        const jobs = (Array.isArray(body.jobs) ? body.jobs : []) as VerifyJob[];
        for (const j of jobs) served.parseSegmentPath(str(j.path, 'path'));
        return sendJson(res, nonce, 200, { results: await verifier.verify(jobs) });
      }
      case '/v1/rebuild':
        return sendJson(res, nonce, 200, await rebuildFromPeers(body, f.segment));
      case '/v1/delete': {
        const paths = (Array.isArray(body.paths) ? body.paths : []) as string[];
        for (const p of paths) served.parseSegmentPath(str(p, 'path'));
        await local.remove(paths);
        return sendJson(res, nonce, 200, { removed: paths.length });
      }
      case '/v1/sync': {
        const paths = (Array.isArray(body.paths) ? body.paths : []) as string[];
        for (const p of paths) served.parseSegmentPath(str(p, 'path'));
        await local.makeDurable(paths);
        return sendJson(res, nonce, 200, { synced: paths.length });
      }
      case '/v1/list': {
        const device = served.device(str(body.device, 'device'));
        return sendJson(res, nonce, 200, { names: await local.listSegmentDir(device.path) });
      }
      default:
        throw new HttpError(404, { message: `no such operation ${req.method} ${path}` });
    }
  }

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    const url = new URL(req.url ?? '/', 'http://agent');
    const auth = verifyRequest(secret, req.method ?? '', req.url ?? '', req.headers, guard);
    if (!auth.ok) {
      logger.warn(
        {
          event: 'agent_request_refused',
          reason: auth.reason,
          method: req.method,
          path: url.pathname,
          remote,
        },
        'refused an unauthenticated request',
      );
      req.resume();
      res.writeHead(401, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ error: 'unauthorized', message: auth.reason }));
      return;
    }
    route(req, res, url, auth.fields).catch((err: unknown) => {
      let status = 500;
      let body: Record<string, unknown>;
      if (err instanceof HttpError) ({ status, body } = err);
      else if (err instanceof PathRefused) {
        status = 403;
        body = { message: err.message };
        logger.warn(
          {
            event: 'agent_path_refused',
            reason: err.message,
            method: req.method,
            path: url.pathname,
            remote,
          },
          'refused a path outside the served devices',
        );
      } else if (err instanceof SegmentFault) {
        status = 422;
        body = { fault: err.kind, message: err.message, block: err.block };
      } else if (err instanceof SqlError) {
        status = 422;
        body = { code: err.code, message: err.message, hint: err.extra.hint };
      } else {
        body = { message: (err as Error).message };
        logger.error({ err, method: req.method, path: url.pathname }, 'agent request failed');
      }
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // A body not read to its end leaves the connection unusable: close it after the answer.
      if (!req.readableEnded) res.setHeader('connection', 'close');
      sendJson(res, auth.fields.nonce, status, body);
      if (!req.readableEnded) req.resume();
    });
  };
  const tls = opts.tls;
  const server: http.Server = tls
    ? https.createServer(
        {
          cert: tls.cert,
          key: tls.key,
          ca: tls.clientCa,
          requestCert: !!tls.clientCa,
          rejectUnauthorized: !!tls.clientCa,
        },
        handle,
      )
    : http.createServer(handle);
  if (tls)
    server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
      // A client that hangs up during the handshake (a heartbeat given up) is not a refusal.
      if (err.code === 'ECONNRESET') return;
      logger.warn(
        {
          event: 'agent_tls_refused',
          reason: err.code ?? err.message,
          message: err.message,
          remote: `${socket.remoteAddress}:${socket.remotePort}`,
        },
        'refused a connection that did not complete the TLS handshake',
      );
    });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await verifier.close();
    },
  };
}
