// A seeded protocol fuzzer: each case is one connection that sends a startup phase (valid or not) and then a
// few frontend messages, well-formed or mangled, including binary parameters of every type the codecs know.
// The server must answer with well-framed messages or close; it must never crash or hang. Used by
// test/protocol-fuzz.test.ts (a short run) and bench/fuzz.ts (a long one).
import { connect } from 'node:net';
import { serialize } from 'pg-protocol';

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzStats {
  cases: number;
  /** SQLSTATEs of the ErrorResponses received, with counts. */
  codes: Record<string, number>;
  /** Replies that were not well-framed backend messages (must stay 0). */
  badFraming: number;
  /** Cases where the server neither answered nor closed in time (must stay 0). */
  hangs: number;
}

const TYPES: [number, string][] = [
  [16, 'bool'],
  [17, 'bytea'],
  [20, 'int8'],
  [21, 'int2'],
  [23, 'int4'],
  [25, 'text'],
  [26, 'oid'],
  [114, 'json'],
  [700, 'float4'],
  [701, 'float8'],
  [1043, 'varchar'],
  [1082, 'date'],
  [1083, 'time'],
  [1114, 'timestamp'],
  [1184, 'timestamptz'],
  [1186, 'interval'],
  [1700, 'numeric'],
  [2950, 'uuid'],
  [3802, 'jsonb'],
];

const SQL = [
  'SELECT 1',
  'SELECT $1',
  'SHOW statement_timeout',
  'SET statement_timeout = 100',
  'BEGIN',
  'COMMIT',
  'ROLLBACK',
  'SELECT * FROM sys.tasks',
  'SELECT relname FROM pg_catalog.pg_class LIMIT 3',
  'SELECT table_name FROM information_schema.tables LIMIT 3',
  'COPY t FROM STDIN',
  '',
  ';;',
  "SELECT 'unterminated",
  'SELECT pg_sleep(0.01)',
];

function bytes(r: () => number, max: number): Buffer {
  const n = Math.floor(r() * max);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

function framed(type: number, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head[0] = type;
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

const pick = <T>(r: () => number, xs: T[]): T => xs[Math.floor(r() * xs.length)];

/** One frontend message: well-formed, well-framed with a random body, or with a wrong length. */
function message(r: () => number): Buffer {
  const roll = r();
  if (roll < 0.55) {
    const [oid, name] = pick(r, TYPES);
    switch (Math.floor(r() * 8)) {
      case 0:
        return serialize.query(pick(r, SQL));
      case 1:
        return serialize.parse({ name: '', text: `SELECT $1::${name}`, types: [oid] });
      case 2: {
        // A binary parameter of random bytes for the statement above: too short, too long, or right.
        const b = serialize.bind({ values: [bytes(r, 20)], binary: false });
        const formats = Buffer.from([0, 0, 0, 1, 0, 1]);
        // Patch the parameter format to binary: pg-protocol writes format codes after the names.
        const i = b.indexOf(Buffer.from([0, 0, 0, 1]), 5);
        return i > 0 ? Buffer.concat([b.subarray(0, i), formats, b.subarray(i + 4)]) : b;
      }
      case 3:
        return serialize.describe({ type: r() < 0.5 ? 'S' : 'P', name: '' });
      case 4:
        return serialize.execute({ portal: '', rows: Math.floor(r() * 3) });
      case 5:
        return serialize.sync();
      case 6:
        return serialize.flush();
      default:
        return serialize.copyData(bytes(r, 64));
    }
  }
  const type = pick(r, [
    0x51,
    0x50,
    0x42,
    0x45,
    0x44,
    0x43,
    0x53,
    0x48,
    0x46,
    0x64,
    0x63,
    0x66,
    0x70,
    Math.floor(r() * 256),
  ]);
  if (roll < 0.9) return framed(type, bytes(r, 48));
  // A length that lies: shorter than its header, or announcing far more than is sent.
  const b = framed(type, bytes(r, 16));
  b.writeInt32BE(pick(r, [0, 3, -1, 2 ** 31 - 1, 9000, 70_000_000]), 1);
  return b;
}

function startupPhase(r: () => number): Buffer {
  const roll = r();
  if (roll < 0.75) return serialize.startup({ user: 'admin', database: 'segtasks' });
  if (roll < 0.8) {
    const b = Buffer.alloc(8);
    b.writeInt32BE(8, 0);
    b.writeInt32BE(80877103, 4); // SSLRequest
    return Buffer.concat([b, serialize.startup({ user: 'admin', database: 'segtasks' })]);
  }
  if (roll < 0.85) {
    const b = Buffer.alloc(16);
    b.writeInt32BE(16, 0);
    b.writeInt32BE(80877102, 4); // CancelRequest for a backend that does not exist
    return b;
  }
  const b = bytes(r, 40);
  if (b.length >= 4) b.writeInt32BE(pick(r, [b.length, 4, 3, 10_001, 8, -5]), 0);
  return b;
}

/** Checks framing of the backend's bytes and collects the SQLSTATEs of ErrorResponses. */
function readReplies(data: Buffer, stats: FuzzStats): void {
  let i = 0;
  // A lone 'N' or 'S' answers SSLRequest.
  if (data.length && (data[0] === 0x4e || data[0] === 0x53) && (data.length === 1 || data[1] !== 0)) {
    if (data.length === 1 || data.subarray(1).length >= 5) i = 1;
  }
  while (i + 5 <= data.length) {
    const type = data[i];
    const len = data.readInt32BE(i + 1);
    if (len < 4 || i + 1 + len > data.length) break;
    if (type === 0x45) {
      const body = data.subarray(i + 5, i + 1 + len);
      let j = 0;
      while (j < body.length && body[j] !== 0) {
        const field = body[j];
        const end = body.indexOf(0, j + 1);
        if (end < 0) break;
        if (field === 0x43) {
          const code = body.subarray(j + 1, end).toString();
          stats.codes[code] = (stats.codes[code] ?? 0) + 1;
        }
        j = end + 1;
      }
    }
    i += 1 + len;
  }
  if (i !== data.length) stats.badFraming++;
}

/** Runs one case: resolves when the server has closed or been quiet for quietMs after the last byte sent. */
function runCase(port: number, r: () => number, stats: FuzzStats, quietMs = 150): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    let deadline: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      clearTimeout(deadline);
      s.destroy();
      readReplies(Buffer.concat(got), stats);
      resolve();
    };
    const rearm = () => {
      clearTimeout(timer);
      timer = setTimeout(finish, quietMs);
    };
    s.on('data', (d) => {
      got.push(d);
      rearm();
    });
    s.on('close', finish);
    s.on('error', () => {});
    s.on('connect', () => {
      s.write(startupPhase(r));
      const n = 1 + Math.floor(r() * 8);
      for (let k = 0; k < n; k++) s.write(message(r));
      if (r() < 0.5) s.write(serialize.sync());
      rearm();
      // A case that keeps the server busy past this is a hang.
      deadline = setTimeout(() => {
        stats.hangs++;
        finish();
      }, 10_000);
    });
  });
}

/** Runs cases until `cases` are done or `untilMs` (a Date.now() value) passes; health() runs every 20 cases. */
export async function fuzzProtocol(
  port: number,
  seed: number,
  limit: { cases?: number; untilMs?: number },
  health: () => Promise<void>,
): Promise<FuzzStats> {
  const r = rng(seed);
  const stats: FuzzStats = { cases: 0, codes: {}, badFraming: 0, hangs: 0 };
  while (
    (limit.cases === undefined || stats.cases < limit.cases) &&
    (limit.untilMs === undefined || Date.now() < limit.untilMs)
  ) {
    // A few connections at once, as real clients come.
    await Promise.all(Array.from({ length: 4 }, () => runCase(port, r, stats)));
    stats.cases += 4;
    if (stats.cases % 20 === 0) await health();
  }
  return stats;
}
