// The coordinator's side of the agent protocol (and an agent's, towards its peers): signed HTTP/1.1 requests
// over keep-alive connections (node:http's Agent, or node:https' when the agents serve TLS), JSON answers and
// streamed segment bodies, every answer's signature checked. A failure to reach the agent (refused, reset,
// timed out, a TLS handshake that fails, or an answer that is not the agent's) is DeviceUnavailable: the
// caller treats the device as absent for now, not its data as lost.
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as https from 'node:https';
import { DeviceUnavailable } from '../store/device-io';
import { H, sha256Hex, signRequest, verifyResponse } from './signing';
import { type AgentClientTls, tlsFailure } from './tls';

type IncomingMessage = http.IncomingMessage;

/** How long a request may wait for a socket to connect or for bytes to move before the agent counts as unreachable. */
export const AGENT_REQUEST_TIMEOUT_MS = 10_000;
/** Largest streamed answer accepted: the largest segment file (256 MiB of payload, its header and table). */
const MAX_STREAM_BYTES = 256 * 1024 * 1024 + 64 + 8 * 2048;
/** Largest JSON answer accepted (a listing of a device's segment files is the largest). */
const MAX_JSON_BYTES = 256 * 1024 * 1024;

/** An answer of the agent other than success: a refusal, a fault it found, or its error. */
export class AgentError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.message ?? body.error ?? `agent answered ${status}`));
  }
}

export function parseAddress(address: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d{1,5})$/.exec(address);
  const port = m ? Number(m[2]) : Number.NaN;
  if (!m || port < 1 || port > 65535) throw new Error(`"${address}" is not host:port`);
  return { host: m[1], port };
}

export interface StreamSink {
  /** Called with the answer's headers before the first chunk. */
  start(headers: IncomingMessage['headers']): void;
  chunk(b: Buffer): void;
}

export interface AgentClientOptions {
  /** Speak HTTPS, verifying the agent's certificate (and presenting ours, for mutual TLS). */
  tls?: AgentClientTls;
  timeoutMs?: number;
}

interface SendOptions {
  segment?: string;
  body?: Buffer[];
  headers?: Record<string, string>;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** A request failed on a pooled connection the agent had already closed; it is sent again (see send()). */
class StaleConnection extends Error {}

/** Connections kept open to one agent, and at most this many at once. */
const MAX_SOCKETS = 32;

export class AgentClient {
  private readonly agent: http.Agent;
  private readonly request: typeof http.request;
  private readonly host: string;
  private readonly port: number;
  private readonly timeoutMs: number;
  private readonly tls: boolean;

  constructor(
    readonly address: string,
    private readonly secret: Buffer,
    opts: AgentClientOptions = {},
  ) {
    ({ host: this.host, port: this.port } = parseAddress(address));
    this.timeoutMs = opts.timeoutMs ?? AGENT_REQUEST_TIMEOUT_MS;
    const keepAlive = { keepAlive: true, maxSockets: MAX_SOCKETS, keepAliveMsecs: 1000 };
    this.tls = !!opts.tls;
    if (opts.tls) {
      // Only the given CA is trusted (not the system's): an agent's certificate comes from the cluster's CA.
      this.agent = new https.Agent({ ...keepAlive, ...opts.tls, rejectUnauthorized: true });
      this.request = https.request;
    } else {
      this.agent = new http.Agent(keepAlive);
      this.request = http.request;
    }
  }

  close(): void {
    this.agent.destroy();
  }

  private unreachable(err: unknown): DeviceUnavailable {
    const e = err as NodeJS.ErrnoException;
    const tls = this.tls ? tlsFailure(this.address, e) : null;
    if (tls) return new DeviceUnavailable(tls);
    // A TLS agent closes a plain connection at its first bytes; a dead one refuses it (ECONNREFUSED).
    const hint = !this.tls && e.code === 'ECONNRESET' ? ' (if the agent serves TLS, give --agent-ca)' : '';
    return new DeviceUnavailable(`agent ${this.address} is unreachable: ${e.code ?? e.message}${hint}`);
  }

  /**
   * Sends a signed request and hands the answer to `onAnswer` (which consumes it). Body parts are sent as they
   * are (no copy); their digest is computed here.
   *
   * A request that fails on a kept-alive connection before any answer came back is sent once more, on a fresh
   * connection, newly signed. The agent closes an idle connection after its keep-alive timeout; when that close
   * did not reach us (a link down at that moment, or the close racing our request) the first write on the
   * pooled socket meets a reset (ECONNRESET, EPIPE). The agent never saw that request, and every agent request
   * is idempotent besides (a segment write replaces the whole file, a removal of a removed file succeeds), so
   * one retry loses nothing; a second failure is the agent's.
   */
  private async send<T>(
    method: string,
    path: string,
    opts: SendOptions,
    onAnswer: (res: IncomingMessage, nonce: string) => Promise<T>,
  ): Promise<T> {
    const parts = opts.body ?? [];
    const hash = createHash('sha256');
    let length = 0;
    for (const p of parts) {
      hash.update(p);
      length += p.length;
    }
    const digest = hash.digest('hex');
    try {
      return await this.attempt(method, path, opts, parts, length, digest, onAnswer, true);
    } catch (err) {
      if (!(err instanceof StaleConnection)) throw err;
      return this.attempt(method, path, opts, parts, length, digest, onAnswer, false);
    }
  }

  private attempt<T>(
    method: string,
    path: string,
    opts: SendOptions,
    parts: Buffer[],
    length: number,
    digest: string,
    onAnswer: (res: IncomingMessage, nonce: string) => Promise<T>,
    mayRetry: boolean,
  ): Promise<T> {
    const signed = signRequest(this.secret, { method, path, segment: opts.segment, digest });
    const nonce = signed[H.nonce];
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      let answered = false;
      const fail = (err: unknown) => {
        if (settled) return;
        settled = true;
        reject(err);
      };
      const req = this.request(
        {
          host: this.host,
          port: this.port,
          method,
          path,
          agent: this.agent,
          timeout: opts.timeoutMs ?? this.timeoutMs,
          signal: opts.signal,
          headers: {
            ...opts.headers,
            ...signed,
            'content-length': String(length),
            ...(parts.length ? { 'content-type': 'application/octet-stream' } : {}),
          },
        },
        (res) => {
          answered = true;
          res.on('error', (err) => fail(opts.signal?.aborted ? opts.signal.reason : this.unreachable(err)));
          onAnswer(res, nonce).then(
            (v) => {
              if (settled) return;
              settled = true;
              resolve(v);
            },
            (err) => {
              res.destroy();
              fail(err);
            },
          );
        },
      );
      req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
      req.on('error', (err) => {
        if (opts.signal?.aborted) return fail(opts.signal.reason);
        const code = (err as NodeJS.ErrnoException).code;
        if (mayRetry && req.reusedSocket && !answered && (code === 'ECONNRESET' || code === 'EPIPE'))
          return fail(new StaleConnection());
        fail(this.unreachable(err));
      });
      for (let i = 0; i < parts.length - 1; i++) req.write(parts[i]);
      req.end(parts[parts.length - 1]);
    });
  }

  /** A JSON request; resolves to the JSON answer of a 2xx status, rejects with AgentError otherwise. */
  json<T>(
    method: string,
    path: string,
    body?: unknown,
    opts: {
      segment?: string;
      signal?: AbortSignal;
      timeoutMs?: number;
      raw?: Buffer[];
      headers?: Record<string, string>;
    } = {},
  ): Promise<T> {
    const parts = opts.raw ?? (body === undefined ? [] : [Buffer.from(JSON.stringify(body))]);
    return this.send(method, path, { ...opts, body: parts }, async (res, nonce) => {
      const text = await this.signedAnswer(res, nonce);
      const parsed = text.length ? (JSON.parse(text.toString()) as Record<string, unknown>) : {};
      if ((res.statusCode ?? 0) >= 300) throw new AgentError(res.statusCode ?? 0, parsed);
      return parsed as T;
    });
  }

  /**
   * The whole body of an answer (at most MAX_JSON_BYTES), once its signature shows it is the agent's answer to
   * this request; the agent's refusal of our signature, which it cannot sign, is an AgentError 401.
   */
  private async signedAnswer(res: IncomingMessage, nonce: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of res as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > MAX_JSON_BYTES) throw new DeviceUnavailable(`answer of agent ${this.address} is too large`);
      chunks.push(c);
    }
    const text = Buffer.concat(chunks);
    const status = res.statusCode ?? 0;
    // The agent's refusal of our signature is not signed (it cannot tell us apart from a stranger).
    if (status === 401)
      throw new AgentError(401, {
        message: `agent ${this.address} refused the request (${text.toString().slice(0, 200)}): is its secret the same as this server's?`,
      });
    const sig = res.headers[H.signature];
    if (
      !verifyResponse(this.secret, nonce, status, sha256Hex(text), typeof sig === 'string' ? sig : undefined)
    )
      throw new DeviceUnavailable(
        `the answer from ${this.address} (status ${status}) is not signed by an agent of this cluster`,
      );
    return text;
  }

  /**
   * A streamed GET: the body goes to `sink` as it arrives, and its digest and signature (trailers) are checked
   * at the end. An error the sink throws is rethrown only once the rest of the body has arrived and proved to
   * be what the agent sent (so a fault the sink finds is the agent's data, not the network's).
   */
  stream(
    path: string,
    segment: string,
    sink: StreamSink,
    opts: { signal?: AbortSignal; range?: [number, number] } = {},
  ): Promise<void> {
    const headers: Record<string, string> = opts.range
      ? { range: `bytes=${opts.range[0]}-${opts.range[1]}` }
      : {};
    return this.send('GET', path, { segment, signal: opts.signal, headers }, async (res, nonce) => {
      const status = res.statusCode ?? 0;
      if (status !== 200 && status !== 206) {
        const text = await this.signedAnswer(res, nonce);
        throw new AgentError(status, text.length ? JSON.parse(text.toString()) : {});
      }
      const hash = createHash('sha256');
      let received = 0;
      let sinkError: unknown = null;
      try {
        sink.start(res.headers);
      } catch (err) {
        sinkError = err;
      }
      for await (const c of res as AsyncIterable<Buffer>) {
        received += c.length;
        if (received > MAX_STREAM_BYTES)
          throw new DeviceUnavailable(`agent ${this.address} sent more than the largest segment file`);
        hash.update(c);
        if (sinkError) continue;
        try {
          sink.chunk(c);
        } catch (err) {
          sinkError = err;
        }
      }
      const digest = hash.digest('hex');
      const t = res.trailers;
      if (t[H.digest] !== digest || !verifyResponse(this.secret, nonce, status, digest, t[H.signature]))
        throw new DeviceUnavailable(
          `the stream from agent ${this.address} did not arrive intact (digest or signature differs)`,
        );
      if (sinkError) throw sinkError;
    });
  }
}
