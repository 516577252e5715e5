// LOCK [TABLE] [ONLY] name [*] [, ...] [IN lockmode MODE] [NOWAIT], as pg_dump sends it for every table it
// dumps (IN ACCESS SHARE MODE, in its REPEATABLE READ, READ ONLY transaction). The sys tables change only
// through this server's own statements and their shape never changes, so the share modes, which in PostgreSQL
// only keep concurrent DDL away, hold without doing anything. The modes that would keep writers away
// (ROW EXCLUSIVE and stronger, ACCESS EXCLUSIVE when no mode is given) cannot be granted: the server writes
// the catalog whenever its tasks progress. PostgreSQL's rules otherwise: 25P01 outside a transaction block,
// 42P01 for a relation that does not exist.
import { SqlError } from '../../pg/errors';
import { lex, type Token } from '../../pg/lexer';
import type { ClientSession, PreparedQuery, QueryContext } from '../../wire/handler';

const MODES = [
  'access share',
  'row share',
  'row exclusive',
  'share update exclusive',
  'share',
  'share row exclusive',
  'exclusive',
  'access exclusive',
];
const GRANTABLE = new Set(['access share', 'row share']);

export interface LockTable {
  /** The relations, as qualified names to resolve (schema.name or name). */
  relations: { schema: string | null; name: string }[];
  mode: string;
}

const syntaxError = (t: Token | undefined, sqlLength: number) =>
  t
    ? new SqlError('42601', `syntax error at or near "${t.raw}"`, { position: t.at + 1 })
    : new SqlError('42601', 'syntax error at end of input', { position: sqlLength + 1 });

/** Parses a LOCK statement, or returns null when the statement is not one. */
export function parseLockTable(sql: string): LockTable | null {
  const tokens = lex(sql).filter((t) => !(t.kind === 'punct' && t.raw === ';'));
  let i = 0;
  const word = (w: string) => tokens[i]?.kind === 'ident' && tokens[i].value === w;
  if (!word('lock')) return null;
  i++;
  if (word('table')) i++;
  const relations: LockTable['relations'] = [];
  for (;;) {
    if (word('only')) i++;
    const first = tokens[i];
    if (first?.kind !== 'ident' && first?.kind !== 'qident') throw syntaxError(first, sql.length);
    i++;
    let schema: string | null = null;
    let name = first.value;
    if (tokens[i]?.kind === 'punct' && tokens[i].raw === '.') {
      const second = tokens[i + 1];
      if (second?.kind !== 'ident' && second?.kind !== 'qident') throw syntaxError(second, sql.length);
      schema = name;
      name = second.value;
      i += 2;
    }
    if (tokens[i]?.kind === 'op' && tokens[i].raw === '*') i++;
    relations.push({ schema, name });
    if (tokens[i]?.kind === 'punct' && tokens[i].raw === ',') {
      i++;
      continue;
    }
    break;
  }
  let mode = 'access exclusive';
  if (word('in')) {
    i++;
    const words: string[] = [];
    while (tokens[i]?.kind === 'ident' && tokens[i].value !== 'mode') words.push(tokens[i++].value);
    if (!word('mode') || !MODES.includes(words.join(' '))) throw syntaxError(tokens[i], sql.length);
    mode = words.join(' ');
    i++;
  }
  if (word('nowait')) i++;
  if (i < tokens.length) throw syntaxError(tokens[i], sql.length);
  return { relations, mode };
}

/**
 * The prepared LOCK: `exists` resolves a relation name as a query would (false: 42P01), on the catalog the
 * caller reads.
 */
export function lockTableStatement(
  stmt: LockTable,
  exists: (schema: string | null, name: string) => Promise<boolean>,
): PreparedQuery {
  return {
    paramTypes: [],
    fields: null,
    execute: async (_params: unknown[], ctx: QueryContext) => {
      requireBlock(ctx.session);
      for (const r of stmt.relations) {
        if (!(await exists(r.schema, r.name))) {
          const shown = r.schema ? `${r.schema}.${r.name}` : r.name;
          throw new SqlError('42P01', `relation "${shown}" does not exist`);
        }
      }
      if (!GRANTABLE.has(stmt.mode)) {
        throw new SqlError(
          '42501',
          `LOCK TABLE ... IN ${stmt.mode.toUpperCase()} MODE is not allowed: the catalog is changed only by this server's own statements`,
          {
            hint: 'ACCESS SHARE and ROW SHARE locks are granted; the server keeps writing the catalog as tasks run.',
          },
        );
      }
      return { kind: 'command', tag: 'LOCK TABLE' };
    },
  };
}

function requireBlock(session: ClientSession): void {
  if (!session.inTransactionBlock)
    throw new SqlError('25P01', 'LOCK TABLE can only be used in transaction blocks');
}
