// The query handler the wire server calls: classifies each statement and sends it where it belongs.
//   SELECT / WITH / VALUES / TABLE      -> catalog readers (worker threads, read-only SQLite)
//   CREATE/ALTER/DROP USER, GRANT, ...  -> users in the catalog (sysadmin only)
//   statements registered by modules    -> their own handlers (tasks, storage DDL, COPY)
//   anything that would write the catalog -> refused

import type { SessionSnapshot, StatementEffects, StreamedBatch } from '../../catalog/readers/reader-engine';
import type { Readers } from '../../catalog/readers/readers';
import type { Users } from '../../catalog/users';
import type { StoredCredentials } from '../../pg/auth';
import { signalOf } from '../../pg/cancel';
import { SqlError } from '../../pg/errors';
import { DataRowRun } from '../../wire/data-row-run';
import type {
  ClientSession,
  PreparedQuery,
  QueryContext,
  QueryHandler,
  QueryResult,
  RowBatch,
  RowStream,
} from '../../wire/handler';
import { firstWord, stripComments } from '../../wire/splitter';
import { lex } from '../ddl/lexer';
import { parseUserStatement, type UserStatement } from '../ddl/users';
import { lockTableStatement, parseLockTable } from './lock-table';

/** A module that recognises and runs statements of its own (CREATE TASK, storage DDL, COPY ...). */
export interface StatementModule {
  /** Returns a prepared statement when the SQL is one of this module's statements, else null. */
  prepare(
    sql: string,
    paramTypes: number[],
    session: ClientSession,
  ): PreparedQuery | null | Promise<PreparedQuery | null>;
}

/**
 * The longest statement other than a query that is parsed here, on the thread that serves every connection
 * (queries are parsed by the reader threads). Real DDL is far shorter; the bound keeps any one statement's
 * parse to milliseconds.
 */
export const MAX_COMMAND_BYTES = 64 * 1024;

const READ_WORDS = new Set(['select', 'with', 'values', 'table']);
const WRITE_WORDS = new Set([
  'insert',
  'update',
  'delete',
  'merge',
  'truncate',
  'create',
  'drop',
  'alter',
  'attach',
  'detach',
  'pragma',
  'vacuum',
  'reindex',
  'analyze',
  'cluster',
  'comment',
  'lock',
  'refresh',
  'import',
  'security',
  'reassign',
]);

/**
 * What CREATE, ALTER and DROP may be followed by in PostgreSQL (with OR REPLACE, TEMP, UNIQUE ... before
 * it): such a statement is real SQL this server refuses (42501); any other word is a syntax error there.
 */
const PG_OBJECT_WORDS = new Set([
  'access',
  'aggregate',
  'cast',
  'collation',
  'conversion',
  'database',
  'default',
  'domain',
  'event',
  'extension',
  'foreign',
  'function',
  'global',
  'group',
  'index',
  'language',
  'large',
  'local',
  'materialized',
  'operator',
  'or',
  'owned',
  'policy',
  'procedure',
  'publication',
  'recursive',
  'role',
  'routine',
  'rule',
  'schema',
  'sequence',
  'server',
  'statistics',
  'subscription',
  'system',
  'table',
  'tablespace',
  'temp',
  'temporary',
  'text',
  'transform',
  'trigger',
  'type',
  'unique',
  'unlogged',
  'user',
  'view',
  'concurrently',
  'if',
]);

/** 42501 unless the user has the sysadmin role; `what` names the statement. */
export async function requireSysadmin(users: Users, user: string, what: string): Promise<void> {
  if (!(await users.isSysadmin(user))) {
    throw new SqlError('42501', `permission denied: ${what} requires the sysadmin role`, {
      hint: 'A sysadmin can grant it: GRANT sysadmin TO <user>.',
    });
  }
}

/** A statement that returns no rows, for the statement modules. */
export function commandStatement(
  paramTypes: number[],
  run: (params: unknown[], ctx: QueryContext) => QueryResult | Promise<QueryResult>,
): PreparedQuery {
  return { paramTypes, fields: null, execute: async (params, ctx) => run(params, ctx) };
}

/**
 * Statements that may read the server's sessions (pg_stat_activity, pg_cancel_backend, pg_terminate_backend):
 * only with them does the snapshot of every session cross to the reader. A test on the text that matches
 * more than it must (a comment naming them) costs a copy, never an answer: what the statement reads is
 * decided by its plan.
 */
const READS_SESSIONS = /pg_stat_activity|pg_cancel_backend|pg_terminate_backend/i;

export function sessionSnapshot(s: ClientSession): SessionSnapshot {
  return {
    user: s.user,
    database: s.database,
    pid: s.backendPid,
    settingsVersion: s.settingsVersion,
    settings: s.allSettings(),
  };
}

/** Hands the session what a statement's functions asked of it (settings, notices, signals, NOTIFYs). */
function applyEffects(e: StatementEffects, ctx: QueryContext): void {
  for (const [k, v] of e.changedSettings) ctx.session.setSetting(k, v);
  for (const w of e.warnings) ctx.notice({ severity: 'WARNING', code: '01000', message: w });
  for (const [pid, how] of e.signals) ctx.signalBackend?.(pid, how);
  if (e.notifications.length) {
    if (!ctx.notify) throw new SqlError('0A000', 'pg_notify() is not available outside a client session');
    for (const [channel, payload] of e.notifications) ctx.notify(channel, payload);
  }
}

export class Router implements QueryHandler {
  private readonly modules: StatementModule[] = [];

  constructor(
    private readonly readers: Readers,
    private readonly users: Users,
  ) {}

  use(module: StatementModule): this {
    this.modules.push(module);
    return this;
  }

  async credentials(user: string): Promise<StoredCredentials | null> {
    return this.users.credentials(user);
  }

  async sessionSettings(user: string): Promise<Record<string, string>> {
    return { is_superuser: (await this.users.isSysadmin(user)) ? 'on' : 'off' };
  }

  async prepare(
    sql: string,
    types: number[],
    session: ClientSession,
    describe: boolean,
  ): Promise<PreparedQuery> {
    // Classified by its first word: a long statement costs nothing here before it is known what it is.
    const first = firstWord(sql, true);
    if (READ_WORDS.has(first)) {
      const body = first === 'table' ? `SELECT * FROM ${stripComments(sql).replace(/^table\s+/i, '')}` : sql;
      return this.readQuery(body, types, describe, session.user);
    }
    if (sql.length > MAX_COMMAND_BYTES) {
      throw new SqlError(
        '54000',
        `statement is too long: ${sql.length} bytes, and statements other than queries are limited to ${MAX_COMMAND_BYTES}`,
      );
    }
    const user = parseUserStatement(sql);
    if (user) return this.userStatement(user);
    for (const m of this.modules) {
      const p = await m.prepare(sql, types, session);
      if (p) return p;
    }
    if (first === 'create' || first === 'alter' || first === 'drop') {
      // The word after the verb, where PostgreSQL's grammar would stop at a typo such as CREATE TASKS.
      const object = lex(sql).find((t, i, all) => i > 0 && all[i - 1].kind === 'ident' && t.kind !== 'punct');
      if (object && !(object.kind === 'ident' && PG_OBJECT_WORDS.has(object.value))) {
        throw new SqlError(
          '42601',
          object.kind === 'end' ? 'syntax error at end of input' : `syntax error at or near "${object.raw}"`,
          { position: object.at + 1 },
        );
      }
    }
    const lock = first === 'lock' ? parseLockTable(sql) : null;
    if (lock) return lockTableStatement(lock, (schema, name) => this.relationExists(schema, name));
    if (WRITE_WORDS.has(first)) {
      throw new SqlError(
        '42501',
        `${first.toUpperCase()} is not allowed: the catalog is changed only by this server's own statements`,
        {
          hint: 'Tasks are created with CREATE TASK; see the README for the statements this server accepts.',
        },
      );
    }
    if (
      first === 'explain' ||
      // PREPARE TRANSACTION (PREPARE name AS ... and the cursor and channel statements are the wire's).
      first === 'prepare' ||
      first === 'do' ||
      first === 'call' ||
      first === 'copy'
    ) {
      throw new SqlError('0A000', `${first.toUpperCase()} is not supported by this server`);
    }
    const at = sql.search(/\S/);
    throw new SqlError('42601', `syntax error at or near "${/^\S+/.exec(sql.slice(at))?.[0] ?? ''}"`, {
      position: at + 1,
    });
  }

  /** Whether a query may name the relation: a catalog relation, or a user table (read with COPY). */
  private async relationExists(schema: string | null, name: string): Promise<boolean> {
    const q = (id: string) => `"${id.replace(/"/g, '""')}"`;
    try {
      await this.readers.describe(`SELECT FROM ${schema ? `${q(schema)}.` : ''}${q(name)}`, []);
      return true;
    } catch (e) {
      if ((e as SqlError).code === '42P01') return false;
      if ((e as SqlError).code === '0A000') return true; // a user table: it exists, and is read with COPY
      throw e;
    }
  }

  private async readQuery(
    sql: string,
    types: number[],
    describe: boolean,
    user: string,
  ): Promise<PreparedQuery> {
    const readers = this.readers;
    const desc = describe ? await readers.describe(sql, types, user) : null;
    const readsSessions = READS_SESSIONS.test(sql);
    return {
      paramTypes: desc?.paramTypes ?? [],
      fields: desc?.fields ?? null,
      async execute(params: unknown[], ctx: QueryContext): Promise<QueryResult> {
        // A simple-protocol statement (planned without describe) has its constants turned into parameters.
        const session = sessionSnapshot(ctx.session);
        if (readsSessions) session.activity = ctx.activity?.() ?? [];
        // Contexts made outside the wire have a signal only.
        const cancel = ctx.cancel ?? ctx.signal;
        if (!ctx.stream) {
          const r = await readers.run(sql, types, params, session, cancel, !describe);
          applyEffects(r, ctx);
          return { kind: 'rows', fields: r.fields, rows: r.rows, tag: 'SELECT' };
        }
        const formats = ctx.resultFormats ?? null;
        const r = await readers.open(sql, types, params, session, cancel, !describe, formats);
        // A streamed query's functions run as its batches are produced: their effects come with each batch.
        const apply = (batch: StreamedBatch): RowBatch => {
          applyEffects(batch, ctx);
          return batch.encoded ? DataRowRun.of(batch.encoded) : batch.rows;
        };
        // The first batch is the stream's first answer, whatever it is asked for: in the formats it was
        // opened with when it came encoded, which are final then.
        let first: RowBatch | null = apply(r);
        const cursor = r.cursor;
        const rest: RowStream = {
          whole: cursor ? undefined : first,
          async next(max, cancel, formats) {
            if (first) {
              const rows = first;
              first = null;
              return { rows, done: !cursor };
            }
            if (!cursor) return { rows: [], done: true };
            const batch = await cursor.next(max, signalOf(cancel), formats);
            return { rows: apply(batch), done: batch.done };
          },
          close: () => {
            first = null;
            cursor?.close();
          },
        };
        return { kind: 'rows', fields: r.fields, rows: [], rest, tag: 'SELECT' };
      },
    };
  }

  private userStatement(stmt: UserStatement): PreparedQuery {
    const users = this.users;
    return commandStatement([], async (_params, ctx) => {
      const self = ctx.session.user;
      // Anyone may change their own password.
      if (!(stmt.kind === 'alter_user' && stmt.name === self))
        await requireSysadmin(users, self, describeUserStmt(stmt));
      switch (stmt.kind) {
        case 'create_user':
          await users.create(stmt.name, stmt.password);
          return { kind: 'command', tag: 'CREATE ROLE' };
        case 'alter_user':
          await users.setPassword(stmt.name, stmt.password);
          return { kind: 'command', tag: 'ALTER ROLE' };
        case 'drop_user':
          if (stmt.name === self) throw new SqlError('55006', 'current user cannot be dropped');
          await users.drop(stmt.name, stmt.ifExists);
          return { kind: 'command', tag: 'DROP ROLE' };
        case 'grant':
          await users.grant(stmt.role, stmt.user);
          return { kind: 'command', tag: 'GRANT ROLE' };
        case 'revoke':
          await users.revoke(stmt.role, stmt.user);
          return { kind: 'command', tag: 'REVOKE ROLE' };
      }
    });
  }
}

function describeUserStmt(s: UserStatement): string {
  return {
    create_user: 'CREATE USER',
    alter_user: 'ALTER USER',
    drop_user: 'DROP USER',
    grant: 'GRANT',
    revoke: 'REVOKE',
  }[s.kind];
}
