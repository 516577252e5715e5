// A logging proxy between a PostgreSQL client and a server: bytes pass through unchanged in both directions,
// and the frontend side is decoded enough to record every statement the client sends: the text of each
// simple Query, and for the extended protocol each Bind of a parsed statement (its SQL, its parameter type
// OIDs from Parse, and its parameter values as text). Used to capture real clients' catalog traffic against
// a real PostgreSQL 15 (test/fixtures/captures/), which the oracle then replays against both servers.
//
// usage: node dist/test/tools/capture-proxy.js LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT OUT.json
import { writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';

export interface CapturedStatement {
  sql: string;
  /** Parameter values as text (binary ones decoded by their declared type), absent for simple Query. */
  params?: (string | null)[];
  /** Parameter type OIDs the client declared in Parse (0 = let the server infer). */
  paramTypes?: number[];
}

const PROTOCOL_3 = 196608;

/** Decodes a binary parameter of a type whose binary form is simple; other binary values throw. */
function binaryParam(oid: number, b: Buffer): string {
  switch (oid) {
    case 16:
      return b[0] ? 't' : 'f';
    case 21:
      return String(b.readInt16BE(0));
    case 23:
    case 26:
      return oid === 26 ? String(b.readUInt32BE(0)) : String(b.readInt32BE(0));
    case 20:
      return String(b.readBigInt64BE(0));
    case 700:
      return String(b.readFloatBE(0));
    case 701:
      return String(b.readDoubleBE(0));
    case 25:
    case 1043:
    case 19:
      return b.toString('utf8');
    default:
      throw new Error(`capture-proxy: binary parameter of type ${oid} not decoded`);
  }
}

/** Reads the frontend stream of one connection and calls `record` for each statement. */
export class FrontendDecoder {
  private buf = Buffer.alloc(0);
  private started = false;
  private readonly statements = new Map<string, { sql: string; types: number[] }>();

  constructor(private readonly record: (s: CapturedStatement) => void) {}

  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    for (;;) {
      if (!this.started) {
        if (this.buf.length < 8) return;
        const len = this.buf.readInt32BE(0);
        if (this.buf.length < len) return;
        // SSLRequest and GSSENCRequest come before the real startup message, also without a type byte
        if (this.buf.readInt32BE(4) === PROTOCOL_3) this.started = true;
        this.buf = this.buf.subarray(len);
        continue;
      }
      if (this.buf.length < 5) return;
      const len = this.buf.readInt32BE(1);
      if (this.buf.length < len + 1) return;
      this.message(String.fromCharCode(this.buf[0]), this.buf.subarray(5, len + 1));
      this.buf = this.buf.subarray(len + 1);
    }
  }

  private message(type: string, body: Buffer): void {
    let at = 0;
    const cstr = () => {
      const end = body.indexOf(0, at);
      const s = body.toString('utf8', at, end);
      at = end + 1;
      return s;
    };
    const i16 = () => {
      const v = body.readInt16BE(at);
      at += 2;
      return v;
    };
    const i32 = () => {
      const v = body.readInt32BE(at);
      at += 4;
      return v;
    };
    if (type === 'Q') {
      this.record({ sql: cstr() });
    } else if (type === 'P') {
      const name = cstr();
      const sql = cstr();
      const types: number[] = [];
      for (let n = i16(); n > 0; n--) types.push(body.readUInt32BE((at += 4) - 4));
      this.statements.set(name, { sql, types });
    } else if (type === 'B') {
      cstr(); // portal
      const stmt = this.statements.get(cstr());
      const formats: number[] = [];
      for (let n = i16(); n > 0; n--) formats.push(i16());
      const params: (string | null)[] = [];
      const count = i16();
      for (let i = 0; i < count; i++) {
        const len = i32();
        if (len < 0) {
          params.push(null);
          continue;
        }
        const v = body.subarray(at, at + len);
        at += len;
        const binary = (formats.length === 1 ? formats[0] : (formats[i] ?? 0)) === 1;
        params.push(binary ? binaryParam(stmt?.types[i] ?? 0, v) : v.toString('utf8'));
      }
      if (stmt) this.record({ sql: stmt.sql, params, paramTypes: stmt.types });
    }
  }
}

/** Starts the proxy; every statement of every connection is appended to `out` (rewritten as it grows). */
export function startCaptureProxy(
  listenPort: number,
  upstream: { host: string; port: number },
  out: string,
): Promise<{ server: Server; port: number; statements: CapturedStatement[] }> {
  const statements: CapturedStatement[] = [];
  const save = () => writeFileSync(out, JSON.stringify(statements, null, 1) + '\n');
  const server = createServer((client) => {
    const up = connect(upstream.port, upstream.host);
    const decoder = new FrontendDecoder((s) => {
      statements.push(s);
      save();
    });
    client.on('data', (d) => {
      decoder.push(d);
      up.write(d);
    });
    up.on('data', (d) => client.write(d));
    client.on('close', () => up.destroy());
    up.on('close', () => client.destroy());
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
  });
  return new Promise((resolve) => {
    server.listen(listenPort, '127.0.0.1', () => {
      const a = server.address();
      resolve({ server, port: typeof a === 'object' && a ? a.port : listenPort, statements });
    });
  });
}

if (require.main === module) {
  const [listen, host, port, out] = process.argv.slice(2);
  if (!out) {
    console.error('usage: capture-proxy LISTEN_PORT UPSTREAM_HOST UPSTREAM_PORT OUT.json');
    process.exit(2);
  }
  void startCaptureProxy(Number(listen), { host, port: Number(port) }, out).then((p) =>
    console.log(`capture proxy on 127.0.0.1:${p.port} -> ${host}:${port}, writing ${out}`),
  );
}
