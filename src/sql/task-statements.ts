// CREATE TASK / CANCEL TASK / ALTER TASK for the router: parse, check privileges, validate, hand to the engine.
import type { Users } from '../../catalog/users';
import { SqlError } from '../../pg/errors';
import { Oid } from '../../pg/types';
import type { ClientSession, PreparedQuery, QueryContext, QueryResult } from '../../wire/handler';
import { type AlterTaskStatement, parseAlterTask } from '../ddl/alter-task';
import { validateTask } from '../ddl/task-validation';
import { parseTaskStatement, type TaskStatement } from '../ddl/tasks';
import type { TaskEngine } from '../engine/engine';
import { commandStatement, requireSysadmin, type StatementModule } from './router';

function paramCount(stmt: TaskStatement): number {
  const refs: number[] = [];
  if (stmt.kind === 'cancel_task') {
    if (typeof stmt.target === 'object') refs.push(stmt.target.param);
  } else {
    for (const o of stmt.options) {
      if (typeof o.value === 'object' && o.value !== null && !Array.isArray(o.value))
        refs.push(o.value.param);
    }
  }
  return refs.length ? Math.max(...refs) : 0;
}

export class TaskModule implements StatementModule {
  constructor(
    private readonly engine: TaskEngine,
    private readonly users: Users,
  ) {}

  prepare(sql: string, types: number[], _session: ClientSession): PreparedQuery | null {
    const alter = parseAlterTask(sql);
    if (alter) {
      const refs = [alter.target, alter.value].flatMap((v) => (typeof v === 'object' && v ? [v.param] : []));
      return commandStatement(
        Array.from({ length: refs.length ? Math.max(...refs) : 0 }, (_, i) => types[i] || Oid.text),
        (params, ctx) => this.alter(alter, params, ctx),
      );
    }
    const stmt = parseTaskStatement(sql, this.engine.types.names());
    if (!stmt) return null;
    const n = paramCount(stmt);
    return commandStatement(
      // Parameters are read as text and converted by the option's type, so any client type works.
      Array.from({ length: n }, (_, i) => types[i] || Oid.text),
      (params, ctx) => this.run(stmt, params, ctx),
    );
  }

  private alter(stmt: AlterTaskStatement, params: unknown[], ctx: QueryContext): QueryResult {
    requireSysadmin(this.users, ctx.session.user, 'ALTER TASK');
    const target = typeof stmt.target === 'object' ? params[stmt.target.param - 1] : stmt.target;
    if (target === undefined || target === null)
      throw new SqlError('42P02', 'ALTER TASK needs a task name or id');
    let value = stmt.value;
    if (typeof value === 'object' && value !== null) {
      const p = params[value.param - 1];
      value = p === null || p === undefined ? null : Number(String(p).trim());
      if (value !== null && (!Number.isSafeInteger(value) || value < 1))
        throw new SqlError('22023', `${stmt.key} must be a positive integer`, {
          hint: 'Or DEFAULT for unlimited.',
        });
    }
    const t = this.engine.setThrottle(String(target), value);
    ctx.notice({
      message: `task ${t.id}${t.name ? ` (${t.name})` : ''}: ${stmt.key} = ${value ?? 'unlimited'}`,
    });
    return { kind: 'command', tag: 'ALTER TASK' };
  }

  private run(stmt: TaskStatement, params: unknown[], ctx: QueryContext): QueryResult {
    const user = ctx.session.user;
    requireSysadmin(this.users, user, stmt.kind === 'create_task' ? 'CREATE TASK' : 'CANCEL TASK');
    if (stmt.kind === 'cancel_task') {
      const target = typeof stmt.target === 'object' ? params[stmt.target.param - 1] : stmt.target;
      if (target === undefined || target === null)
        throw new SqlError('42P02', 'CANCEL TASK needs a task name or id');
      const t = this.engine.cancel(String(target));
      ctx.notice({ message: `task ${t.id}${t.name ? ` (${t.name})` : ''} is being cancelled` });
      return { kind: 'command', tag: 'CANCEL TASK' };
    }
    const v = validateTask(stmt, params, this.engine.types);
    const row = this.engine.create(v, user);
    const where = v.location.type === 'SYSTEM' ? 'SYSTEM' : `${v.location.type} ${v.location.name}`;
    ctx.notice({
      message: `task ${row.id}${row.name ? ` (${row.name})` : ''} created: ${row.type} on ${where}`,
      detail: `Follow it with: SELECT * FROM sys.tasks WHERE id = '${row.id}'`,
    });
    return { kind: 'command', tag: 'CREATE TASK' };
  }
}
