// Statement logging as PostgreSQL's postgres.c does it: log_statement (none / ddl / mod / all, classified as
// utility.c's GetCommandLogLevel does), log_min_duration_statement (ms; -1 off, 0 every statement) and
// log_min_error_statement (a failing statement's text with its SQLSTATE). A simple Query logs its whole
// string once, an Execute its statement. Lines are structured: statement, duration_ms, sqlstate, user, pid,
// application_name.
import { SqlError } from '../pg/errors';
import type { WireLogger } from './backend';
import { ERROR_STATEMENT_LEVELS, LOG_STATEMENT_LEVELS, parseMilliseconds } from './setting-rules';
import type { Settings } from './settings';
import { stripComments } from './splitter';

export type LogClass = 'ddl' | 'mod' | 'all';

const DDL_WORDS = new Set([
  'create',
  'alter',
  'drop',
  'grant',
  'revoke',
  'comment',
  'security',
  'import',
  'reassign',
  'refresh',
]);
const MOD_WORDS = new Set(['insert', 'update', 'delete', 'merge', 'truncate']);

/**
 * The log class of a statement by its first words. extra: the server's own statements (CANCEL TASK, ...)
 * by first word. lookup finds the text of a prepared statement, for EXECUTE.
 */
/** The most of a statement's text one log line carries: a synchronous write of megabytes held the server. */
const MAX_LOGGED_STATEMENT = 64 * 1024;

function logText(sql: string): string {
  return sql.length > MAX_LOGGED_STATEMENT
    ? `${sql.slice(0, MAX_LOGGED_STATEMENT)}... (${sql.length} characters in all)`
    : sql;
}

export function classifyStatement(
  sql: string,
  extra: ReadonlyMap<string, LogClass>,
  lookup: (name: string) => string | undefined = () => undefined,
  depth = 0,
): LogClass {
  const text = stripComments(sql);
  // The first word, from a prefix: splitting a statement of megabytes into words held every connection.
  const first = /[^\s(;]+/.exec(text.slice(0, 256))?.[0]?.toLowerCase() ?? '';
  if (DDL_WORDS.has(first)) return 'ddl';
  if (MOD_WORDS.has(first)) return 'mod';
  if (extra.has(first)) return extra.get(first)!;
  if (depth > 4) return 'all';
  const inner = (body: string | undefined) =>
    body ? classifyStatement(body, extra, lookup, depth + 1) : 'all';
  switch (first) {
    case 'copy':
      return /\bfrom\b/i.test(text) ? 'mod' : 'all';
    case 'select':
      // SELECT ... INTO creates a table.
      return /^select\b[^;]*?\binto\b/i.test(text) && !/\binto\s*\(/i.test(text) ? 'ddl' : 'all';
    case 'prepare': {
      const m = /\bas\s+(.*)$/is.exec(text);
      return inner(m?.[1]);
    }
    case 'execute': {
      const name = /^execute\s+("(?:[^"]|"")+"|[^\s(;]+)/i.exec(text)?.[1] ?? '';
      const key = name.startsWith('"') ? name.slice(1, -1).replace(/""/g, '"') : name.toLowerCase();
      return inner(lookup(key));
    }
    case 'explain':
      return /^explain\s*(\(.*\banalyze\b|analyze\b)/i.test(text)
        ? inner(text.replace(/^explain\s*(\([^)]*\))?\s*(analyze\s+)?(verbose\s+)?/i, ''))
        : 'all';
    default:
      return 'all';
  }
}

export interface StatementLogContext {
  readonly pid: number;
  readonly logger: WireLogger;
  readonly settings: Settings;
  user(): string;
  /** The text of a prepared statement (EXECUTE is logged as what it runs). */
  preparedText(name: string): string | undefined;
}

/** One logged unit: a simple Query's string or an Execute. */
export interface LoggedRun {
  failed(err: unknown): void;
  done(): void;
}

export class StatementLog {
  constructor(
    private readonly ctx: StatementLogContext,
    private readonly extraClasses: ReadonlyMap<string, LogClass>,
  ) {}

  private fields(): Record<string, unknown> {
    return {
      pid: this.ctx.pid,
      user: this.ctx.user(),
      application_name: this.ctx.settings.get('application_name') ?? '',
    };
  }

  /** log_statement: whether any of the statements reaches the configured class. */
  private wanted(statements: string[]): boolean {
    const level = LOG_STATEMENT_LEVELS.indexOf(this.ctx.settings.get('log_statement') ?? 'none');
    if (level <= 0) return false;
    return statements.some(
      (s) =>
        LOG_STATEMENT_LEVELS.indexOf(
          classifyStatement(s, this.extraClasses, (n) => this.ctx.preparedText(n)),
        ) <= level,
    );
  }

  /** A simple Query: its statements are classified one by one, its string is logged once. */
  startQuery(sql: string, statements: string[]): LoggedRun {
    return this.start(sql, statements, {});
  }

  /** An Execute of a portal; name: the prepared statement's, as PostgreSQL's "execute <name>:" says. */
  startExecute(sql: string, name: string): LoggedRun {
    return this.start(sql, [sql], { prepared: name || '<unnamed>' });
  }

  private start(sql: string, statements: string[], extra: Record<string, unknown>): LoggedRun {
    const started = process.hrtime.bigint();
    const logged = this.wanted(statements);
    const log = this.ctx.logger;
    if (logged) log.info({ ...this.fields(), ...extra, statement: logText(sql) }, 'statement');
    let failure: SqlError | null = null;
    return {
      failed: (err) => {
        failure =
          err instanceof SqlError ? err : new SqlError('XX000', String((err as Error)?.message ?? err));
        const min = ERROR_STATEMENT_LEVELS.indexOf(
          this.ctx.settings.get('log_min_error_statement') ?? 'error',
        );
        // 08006: the client left mid-statement; the connection logs that once, at info, not as an error.
        if (failure.code !== '08006' && min <= ERROR_STATEMENT_LEVELS.indexOf('error'))
          log.error(
            {
              ...this.fields(),
              ...extra,
              sqlstate: failure.code,
              error: failure.message,
              statement: logText(sql),
            },
            'statement failed',
          );
      },
      done: () => {
        if (failure) return;
        const threshold =
          parseMilliseconds(this.ctx.settings.get('log_min_duration_statement') ?? '-1') ?? -1;
        if (threshold < 0) return;
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (ms < threshold) return;
        const fields: Record<string, unknown> = {
          ...this.fields(),
          ...extra,
          duration_ms: Math.round(ms * 1000) / 1000,
        };
        // As PostgreSQL: the statement is repeated only when log_statement did not log it already.
        if (!logged) fields.statement = sql;
        log.info(fields, 'duration');
      },
    };
  }
}
