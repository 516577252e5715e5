// One exchange of the extended query protocol on a node-postgres connection, ending with Sync: what
// node-postgres's own Query does not give (ParameterDescription, a portal executed a batch at a time, each
// DataRow's text exactly as PostgreSQL sent it). node-postgres runs it as any query (a Submittable: its
// messages go out when the connection is free, the connection's replies come to the handle* methods); the
// messages it does not route to queries (ParameterDescription, NoData) are read off the connection itself
// while the step runs. Inside a transaction block the unnamed portal outlives the Sync, so a portal's next
// batch is a step of its own: Execute(n) + Sync.
import pg from 'pg';
import { SqlError } from '../../pg/errors';

/** The node-postgres connection, as far as a step uses it. */
interface Wire {
  parse(q: { name?: string; text: string; types?: number[] }): void;
  bind(b: { portal?: string; statement?: string; values: (string | null)[]; binary?: boolean }): void;
  describe(m: { type: 'S' | 'P'; name?: string }): void;
  execute(e: { portal?: string; rows?: number }): void;
  sync(): void;
  on(event: string, fn: (msg: unknown) => void): void;
  off(event: string, fn: (msg: unknown) => void): void;
}

export interface PgField {
  name: string;
  dataTypeID: number;
}

export interface StepResult {
  /** ParameterDescription, when the step described the statement. */
  paramTypes: number[] | null;
  /** RowDescription (empty for NoData), when the step described the statement or the portal. */
  fields: PgField[] | null;
  /** The rows, each value PostgreSQL's text output (or null). */
  rows: (string | null)[][];
  /** The portal has more rows (PortalSuspended). */
  suspended: boolean;
}

/** What a step sends after its messages, before Sync. */
export type StepMessages = (wire: Wire) => void;

class Step implements pg.Submittable {
  private readonly result: StepResult = { paramTypes: null, fields: null, rows: [], suspended: false };
  private wire: Wire | null = null;
  readonly done: Promise<StepResult>;
  private settle!: { resolve(r: StepResult): void; reject(e: Error): void };
  private readonly onParams = (m: unknown) => {
    this.result.paramTypes = (m as { dataTypeIDs: number[] }).dataTypeIDs;
  };
  private readonly onNoData = () => {
    this.result.fields = [];
  };

  constructor(private readonly messages: StepMessages) {
    this.done = new Promise((resolve, reject) => {
      this.settle = { resolve, reject };
    });
  }

  submit(connection: pg.Connection): void {
    const wire = connection as unknown as Wire;
    this.wire = wire;
    wire.on('parameterDescription', this.onParams);
    wire.on('noData', this.onNoData);
    this.messages(wire);
    wire.sync();
  }

  private detach(): void {
    this.wire?.off('parameterDescription', this.onParams);
    this.wire?.off('noData', this.onNoData);
    this.wire = null;
  }

  handleRowDescription(msg: { fields: PgField[] }): void {
    this.result.fields = msg.fields;
  }
  handleDataRow(msg: { fields: (string | null)[] }): void {
    this.result.rows.push(msg.fields);
  }
  handlePortalSuspended(): void {
    this.result.suspended = true;
  }
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handleCopyInResponse(): void {}
  handleCopyData(): void {}
  handleError(err: Error): void {
    // node-postgres forgets the step on an error; PostgreSQL's ReadyForQuery after the Sync follows.
    this.detach();
    this.settle.reject(sqlErrorOf(err));
  }
  handleReadyForQuery(): void {
    this.detach();
    this.settle.resolve(this.result);
  }
}

/** Runs one step (messages, then Sync) on a client. */
export function step(client: pg.ClientBase, messages: StepMessages): Promise<StepResult> {
  const s = new Step(messages);
  client.query(s);
  return s.done;
}

/** A PostgreSQL error with its SQLSTATE, message, detail, hint and position; anything else as XX000. */
export function sqlErrorOf(err: unknown): SqlError {
  if (err instanceof SqlError) return err;
  const e = err as Partial<pg.DatabaseError> & Error;
  if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) {
    const position = e.position ? Number(e.position) : undefined;
    return new SqlError(e.code, e.message, {
      detail: e.detail,
      hint: e.hint,
      position: Number.isFinite(position) ? position : undefined,
    });
  }
  return new SqlError('XX000', `catalog reader failed: ${e.message}`);
}

/**
 * Sends a CancelRequest for what the client's backend runs (as node-postgres's own cancel does, on a
 * connection of its own). Nothing is awaited: the statement ends with 57014, or ends by itself.
 */
export function cancelBackend(client: pg.ClientBase): void {
  const c = client as unknown as { host: string; port: number; processID: number; secretKey: number };
  if (!c.processID) return;
  const con = new pg.Connection() as unknown as {
    connect(port: number | string, host?: string): void;
    cancel(pid: number, key: number): void;
    on(e: string, fn: () => void): void;
    end(): void;
  };
  con.on('error', () => {});
  con.on('connect', () => con.cancel(c.processID, c.secretKey));
  if (c.host?.startsWith('/')) con.connect(`${c.host}/.s.PGSQL.${c.port}`);
  else con.connect(c.port, c.host || 'localhost');
}
