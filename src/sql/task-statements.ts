// The task statements for the router: CREATE / ALTER TASK, CANCEL / PAUSE / RESUME / WAIT FOR TASK and the
// schedule DDL. Parse, check the transaction block and privileges, validate, hand to the engine or the scheduler.
import type { Users } from '../../catalog/users';
import { SqlError } from '../../pg/errors';
import { Oid } from '../../pg/types';
import type { ClientSession, PreparedQuery, QueryContext, QueryResult } from '../../wire/handler';
import { type AlterTaskStatement, parseAlterTask } from '../ddl/alter-task';
import { validateTask } from '../ddl/task-validation';
import { ACTION_NAMES, parseTaskStatement, type ScheduleStatement, type TaskStatement } from '../ddl/tasks';
import type { TaskEngine } from '../engine/engine';
import { TaskError } from '../engine/errors';
import type { TaskScheduler } from '../engine/scheduler';
import { commandStatement, requireSysadmin, type StatementModule } from './router';

function paramCount(stmt: TaskStatement): number {
  const refs: number[] = [];
  if (stmt.kind === 'create_task') {
    for (const o of stmt.options) {
      if (typeof o.value === 'object' && o.value !== null && !Array.isArray(o.value))
        refs.push(o.value.param);
    }
  } else if ('target' in stmt && typeof stmt.target === 'object') refs.push(stmt.target.param);
  return refs.length ? Math.max(...refs) : 0;
}

function statementName(stmt: TaskStatement): string {
  switch (stmt.kind) {
    case 'create_task':
      return 'CREATE TASK';
    case 'create_schedule':
      return 'CREATE SCHEDULE';
    case 'alter_schedule':
      return 'ALTER SCHEDULE';
    case 'drop_schedule':
      return 'DROP SCHEDULE';
    default:
      return ACTION_NAMES[stmt.kind];
  }
}

/** WAIT FOR TASK's row: the task as it ended. */
const WAIT_FIELDS = [
  { name: 'id', typeOid: Oid.uuid },
  { name: 'name', typeOid: Oid.text },
  { name: 'status', typeOid: Oid.text },
  { name: 'error', typeOid: Oid.text },
];

const TASK_VERB = /^\s*(create|cancel)\s+task\b/i;

export class TaskModule implements StatementModule {
  constructor(
    private readonly engine: TaskEngine,
    private readonly scheduler: TaskScheduler,
    private readonly users: Users,
  ) {}

  async prepare(sql: string, types: number[], session: ClientSession): Promise<PreparedQuery | null> {
    // The privilege is checked before the parse: a non-sysadmin's statement costs no more than this look.
    const verb = TASK_VERB.exec(sql.slice(0, 256))?.[1]?.toLowerCase();
    if (verb)
      await requireSysadmin(this.users, session.user, verb === 'create' ? 'CREATE TASK' : 'CANCEL TASK');
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
    // Parameters are read as text and converted by the option's type, so any client type works.
    const paramTypes = Array.from({ length: n }, (_, i) => types[i] || Oid.text);
    if (stmt.kind === 'wait_task') {
      return {
        paramTypes,
        fields: WAIT_FIELDS,
        execute: (params, ctx) => this.wait(stmt.target, params, ctx),
      };
    }
    return commandStatement(paramTypes, (params, ctx) => this.run(stmt, params, ctx));
  }

  private async alter(stmt: AlterTaskStatement, params: unknown[], ctx: QueryContext): Promise<QueryResult> {
    if (ctx.session.inTransactionBlock)
      throw new SqlError('25001', 'ALTER TASK cannot run inside a transaction block');
    await requireSysadmin(this.users, ctx.session.user, 'ALTER TASK');
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
    const t = await this.engine.setThrottle(String(target), value);
    ctx.notice({
      message: `task ${t.id}${t.name ? ` (${t.name})` : ''}: ${stmt.key} = ${value ?? 'unlimited'}`,
    });
    return { kind: 'command', tag: 'ALTER TASK' };
  }

  private async run(stmt: TaskStatement, params: unknown[], ctx: QueryContext): Promise<QueryResult> {
    const user = ctx.session.user;
    const what = statementName(stmt);
    // Nothing here can be rolled back: refused inside a block, as PostgreSQL refuses VACUUM.
    if (ctx.session.inTransactionBlock)
      throw new SqlError('25001', `${what} cannot run inside a transaction block`);
    await requireSysadmin(this.users, user, what);
    switch (stmt.kind) {
      case 'create_task': {
        const v = validateTask(stmt, params, this.engine.types);
        const row = await this.engine.create(v, user);
        const where = v.location.type === 'SYSTEM' ? 'SYSTEM' : `${v.location.type} ${v.location.name}`;
        ctx.notice({
          message: `task ${row.id}${row.name ? ` (${row.name})` : ''} created: ${row.type} on ${where}`,
          detail: `Follow it with: SELECT * FROM sys.tasks WHERE id = '${row.id}'`,
        });
        return { kind: 'command', tag: 'CREATE TASK' };
      }
      case 'cancel_task':
      case 'pause_task':
      case 'resume_task': {
        const target = this.target(stmt.target, params, what);
        if (stmt.kind === 'cancel_task') {
          const t = await this.engine.cancel(target, user);
          ctx.notice({ message: `task ${t.id}${t.name ? ` (${t.name})` : ''} is being cancelled` });
        } else if (stmt.kind === 'pause_task') {
          const t = await this.engine.pause(target, user);
          ctx.notice({
            message: `task ${t.id}${t.name ? ` (${t.name})` : ''} paused at ${Math.round(t.fraction_complete * 100)}%`,
            hint: `RESUME TASK '${t.name ?? t.id}' continues it.`,
          });
        } else {
          const t = await this.engine.resume(target, user);
          ctx.notice({ message: `task ${t.id}${t.name ? ` (${t.name})` : ''} resumed` });
        }
        return { kind: 'command', tag: what };
      }
      case 'wait_task':
        throw new Error('WAIT FOR TASK returns rows: it is prepared apart');
      case 'create_schedule':
      case 'alter_schedule':
      case 'drop_schedule':
        return this.schedule(stmt, user, ctx);
    }
  }

  private async schedule(stmt: ScheduleStatement, user: string, ctx: QueryContext): Promise<QueryResult> {
    switch (stmt.kind) {
      case 'create_schedule': {
        const s = await this.scheduler.create(stmt, user);
        ctx.notice({
          message: `schedule ${s.name} created: every ${s.interval}, next run at ${s.next_run}`,
          detail: `Follow it with: SELECT * FROM sys.task_schedules WHERE name = '${s.name}'`,
        });
        return { kind: 'command', tag: 'CREATE SCHEDULE' };
      }
      case 'alter_schedule':
        await this.scheduler.setPaused(stmt.name, stmt.action === 'pause');
        return { kind: 'command', tag: 'ALTER SCHEDULE' };
      case 'drop_schedule':
        if (!(await this.scheduler.drop(stmt.name))) {
          if (!stmt.ifExists) throw new SqlError('42704', `schedule "${stmt.name}" does not exist`);
          ctx.notice({ message: `schedule "${stmt.name}" does not exist, skipping` });
        }
        return { kind: 'command', tag: 'DROP SCHEDULE' };
    }
  }

  private target(given: string | { param: number }, params: unknown[], what: string): string {
    const target = typeof given === 'object' ? params[given.param - 1] : given;
    if (target === undefined || target === null)
      throw new SqlError('42P02', `${what} needs a task name or id`);
    return String(target);
  }

  /** WAIT FOR TASK (any user): one row once the task has ended; CancelRequest and statement_timeout end it. */
  private async wait(
    given: string | { param: number },
    params: unknown[],
    ctx: QueryContext,
  ): Promise<QueryResult> {
    const target = this.target(given, params, 'WAIT FOR TASK');
    // The wire aborts ctx.signal on a CancelRequest and when statement_timeout passes, with the error to give.
    const signal = ctx.signal;
    try {
      const t = await this.engine.waitFor(target, signal);
      return { kind: 'rows', fields: WAIT_FIELDS, rows: [[t.id, t.name, t.status, t.error]], tag: 'SELECT' };
    } catch (err) {
      if (!signal.aborted || err instanceof TaskError) throw err;
      throw signal.reason instanceof SqlError
        ? signal.reason
        : new SqlError('57014', 'canceling statement due to user request');
    }
  }
}
