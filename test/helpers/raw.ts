// A minimal raw protocol client for tests: writes frontend bytes (pg-protocol's serializer, or hand-made
// bytes for malformed input) and reads backend messages with pg-protocol's public parser.
import { connect, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { parse, serialize } from 'pg-protocol';

export { serialize };

/** A backend message as pg-protocol's parser delivers it. */
export type BackendMessage = Parameters<Parameters<typeof parse>[1]>[0];
export type DataRowMessage = BackendMessage & { fields: (string | null)[] };
export type ParameterDescriptionMessage = BackendMessage & { dataTypeIDs: number[] };
export type RowDescriptionMessage = BackendMessage & { fields: { name: string; dataTypeID: number }[] };

export class RawClient {
  private readonly messages: BackendMessage[] = [];
  private waiters: (() => void)[] = [];
  private closedFlag = false;
  readonly raw: Buffer[] = [];

  private constructor(readonly socket: Socket) {
    // Framed bytes go through a stream to the parser, which delivers each message as it completes.
    const framed = new PassThrough();
    const parsed = parse(framed, (m) => {
      this.messages.push(m);
      this.wake();
    });
    socket.on('data', (d) => {
      this.raw.push(d);
      // A single 'N'/'S' byte answers SSLRequest; it is not a framed message.
      if (d.length === 1 && (d[0] === 0x4e || d[0] === 0x53)) {
        this.messages.push({
          name: d[0] === 0x4e ? 'sslRefused' : 'sslAccepted',
          length: 1,
        } as unknown as BackendMessage);
        this.wake();
      } else framed.write(d);
    });
    // Closed only once every message received before the close has been parsed.
    socket.on('close', () => {
      framed.end();
      void parsed.then(() => {
        this.closedFlag = true;
        this.wake();
      });
    });
    socket.on('error', () => {});
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  static async open(port: number): Promise<RawClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  /** Opens a connection and logs in (the server must use trust auth). */
  static async login(port: number): Promise<RawClient> {
    const c = await RawClient.open(port);
    c.write(serialize.startup({ user: 'admin', database: 'segtasks' }));
    await c.until('readyForQuery');
    return c;
  }

  write(b: Buffer): void {
    this.socket.write(b);
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Waits for a message with the given name; returns everything received up to and including it. */
  async until(name: string, timeoutMs = 5000): Promise<BackendMessage[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.messages.findIndex((m) => m.name === name);
      if (i >= 0) return this.messages.splice(0, i + 1);
      if (this.closedFlag)
        throw new Error(
          `connection closed before ${name}; got ${this.messages.map((m) => m.name).join(',')}`,
        );
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${name}; got ${this.messages.map((m) => m.name).join(',')}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  async waitClosed(timeoutMs = 5000): Promise<BackendMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closedFlag && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.messages.splice(0);
  }

  end(): void {
    this.socket.destroy();
  }
}

export const names = (ms: BackendMessage[]) => ms.map((m) => m.name);
