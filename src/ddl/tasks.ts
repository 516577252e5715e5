// The task statements, as tasks.md gives them:
//   CREATE TASK [ task_name ] TYPE type_name            (a registered task type: rebuild, check_disk, ...)
//       [ LOCATION { SYSTEM | CLUSTER cluster_name | NODE node_name } ]
//       [ OPTIONS key = value [, key = value ... ] ]
//   CANCEL TASK 'x' | PAUSE TASK 'x' | RESUME TASK 'x' | WAIT FOR TASK 'x'      (x: task name or id)
// and the schedules (docs/tasks.md), whose definition is a whole CREATE TASK:
//   CREATE SCHEDULE name EVERY 'interval' [ STARTING AT 'timestamptz' ] FOR CREATE TASK ...
//   ALTER SCHEDULE name { PAUSE | RESUME }
//   DROP SCHEDULE [ IF EXISTS ] name
// Keywords are case-insensitive; TYPE values and task names are case-sensitive. Names are bare identifiers
// or single-quoted strings. Option values: 'string', true/false, integers, decimals, [lists], $n parameters.
import { SqlError } from '../../pg/errors';
import { Cursor, type Lexeme, syntaxError } from './lexer';

export type OptionValue = string | number | boolean | (string | number)[] | { param: number };

export interface CreateTaskStatement {
  kind: 'create_task';
  name: string | null;
  type: string;
  typeAt: number;
  location: { type: 'SYSTEM' | 'CLUSTER' | 'NODE'; name: string | null; at: number };
  options: { key: string; value: OptionValue; at: number }[];
}

/** The statements that name one task: CANCEL TASK, PAUSE TASK, RESUME TASK, WAIT FOR TASK. */
export interface TaskActionStatement {
  kind: 'cancel_task' | 'pause_task' | 'resume_task' | 'wait_task';
  target: string | { param: number };
}

/** For messages and privileges: the statement as an operator writes it. */
export const ACTION_NAMES: Record<TaskActionStatement['kind'], string> = {
  cancel_task: 'CANCEL TASK',
  pause_task: 'PAUSE TASK',
  resume_task: 'RESUME TASK',
  wait_task: 'WAIT FOR TASK',
};

export interface CreateScheduleStatement {
  kind: 'create_schedule';
  name: string;
  every: string;
  everyAt: number;
  startingAt: string | null;
  startingAtPos: number;
  /** The CREATE TASK the schedule runs, as written (stored, and parsed again at each run). */
  definition: string;
  task: CreateTaskStatement;
}

export interface AlterScheduleStatement {
  kind: 'alter_schedule';
  name: string;
  action: 'pause' | 'resume';
}

export interface DropScheduleStatement {
  kind: 'drop_schedule';
  name: string;
  ifExists: boolean;
}

export type ScheduleStatement = CreateScheduleStatement | AlterScheduleStatement | DropScheduleStatement;

export type TaskStatement = CreateTaskStatement | TaskActionStatement | ScheduleStatement;

/** Names: bare identifiers keep their spelling (task names are case-sensitive); quoted strings as written. */
function nameValue(t: Lexeme): string {
  return t.kind === 'ident' ? t.raw : t.value;
}

function optionValue(c: Cursor): OptionValue {
  const t = c.peek();
  if (t.kind === 'string') return c.next().value;
  if (t.kind === 'number') {
    c.next();
    const n = Number(t.value);
    if (!Number.isFinite(n)) throw syntaxError(`invalid number "${t.raw}"`, t.at);
    return n;
  }
  if (t.kind === 'param') return { param: Number(c.next().value) };
  if (t.kind === 'ident' && (t.value === 'true' || t.value === 'false')) return c.next().value === 'true';
  // on, off, yes, no: boolean words as PostgreSQL settings take them bare; the option's kind reads them.
  if (t.kind === 'ident' && ['on', 'off', 'yes', 'no'].includes(t.value)) return c.next().value;
  if (t.kind === 'punct' && t.value === '[') {
    c.next();
    const items: (string | number)[] = [];
    if (!c.acceptPunct(']')) {
      do {
        const v = c.peek();
        if (v.kind === 'string') items.push(c.next().value);
        else if (v.kind === 'number') items.push(Number(c.next().value));
        else throw c.unexpected("a list item: an integer or a 'quoted string'");
      } while (c.acceptPunct(','));
      c.expectPunct(']');
    }
    return items;
  }
  throw c.unexpected("an option value: 'string', true, false, a number, or a [list]");
}

function actionTarget(c: Cursor, kind: TaskActionStatement['kind']): TaskActionStatement {
  const t = c.peek();
  let target: string | { param: number };
  if (t.kind === 'string' || t.kind === 'ident' || t.kind === 'qident') target = nameValue(c.next());
  else if (t.kind === 'param') target = { param: Number(c.next().value) };
  else throw c.unexpected(`the task name or id, e.g. ${ACTION_NAMES[kind]} 'my_task'`);
  c.expectEnd();
  return { kind, target };
}

function parseSchedule(c: Cursor, sql: string, typeNames: readonly string[]): ScheduleStatement {
  const verb = c.next().value;
  c.next(); // SCHEDULE
  if (verb === 'drop') {
    let ifExists = false;
    if (c.isKeyword('if') && c.isKeyword('exists', 1)) {
      c.next();
      c.next();
      ifExists = true;
    }
    const name = nameValue(c.name('a schedule name', true));
    c.expectEnd();
    return { kind: 'drop_schedule', name, ifExists };
  }
  if (verb === 'alter') {
    const name = nameValue(c.name('a schedule name', true));
    let action: 'pause' | 'resume';
    if (c.acceptKeyword('pause')) action = 'pause';
    else if (c.acceptKeyword('resume')) action = 'resume';
    else throw c.unexpected('PAUSE or RESUME');
    c.expectEnd();
    return { kind: 'alter_schedule', name, action };
  }
  const nameTok = c.name('a schedule name', true);
  const name = nameValue(nameTok);
  if (!name) throw syntaxError('a schedule name cannot be empty', nameTok.at);
  c.expectKeyword('every', 'EVERY');
  const every = c.string("an interval, e.g. EVERY '1 day'");
  let startingAt: Lexeme | null = null;
  if (c.acceptKeyword('starting')) {
    c.expectKeyword('at', 'AT');
    startingAt = c.string("a timestamp, e.g. STARTING AT '2026-12-01 03:00:00+00'");
  }
  c.expectKeyword('for', startingAt ? 'FOR' : 'STARTING AT or FOR');
  const create = c.peek();
  if (!(c.isKeyword('create') && c.isKeyword('task', 1))) throw c.unexpected('CREATE TASK ...');
  c.next();
  c.next();
  const task = parseCreateTask(c, typeNames);
  return {
    kind: 'create_schedule',
    name,
    every: every.value,
    everyAt: every.at,
    startingAt: startingAt?.value ?? null,
    startingAtPos: startingAt?.at ?? 0,
    definition: sql.slice(create.at).replace(/[\s;]+$/, ''),
    task,
  };
}

/**
 * Returns the parsed statement, or null when the SQL is not one of the task statements. `typeNames` (the
 * registered task types) only name the choices in the error for a missing type; validation checks the type.
 */
export function parseTaskStatement(sql: string, typeNames: readonly string[] = []): TaskStatement | null {
  const c = Cursor.of(sql);
  for (const [verb, kind] of [
    ['cancel', 'cancel_task'],
    ['pause', 'pause_task'],
    ['resume', 'resume_task'],
  ] as const) {
    if (c.isKeyword(verb) && c.isKeyword('task', 1)) {
      c.next();
      c.next();
      return actionTarget(c, kind);
    }
  }
  if (c.isKeyword('wait') && c.isKeyword('for', 1) && c.isKeyword('task', 2)) {
    c.next();
    c.next();
    c.next();
    return actionTarget(c, 'wait_task');
  }
  if ((c.isKeyword('create') || c.isKeyword('alter') || c.isKeyword('drop')) && c.isKeyword('schedule', 1))
    return parseSchedule(c, sql, typeNames);
  if (!(c.isKeyword('create') && c.isKeyword('task', 1))) return null;
  c.next();
  c.next();
  return parseCreateTask(c, typeNames);
}

/** CREATE TASK after its first two words, to the end of the statement. */
function parseCreateTask(c: Cursor, typeNames: readonly string[]): CreateTaskStatement {
  let name: string | null = null;
  // A name is present unless the next word is the TYPE keyword followed by a type value
  // (so a task may itself be called "type": CREATE TASK type TYPE rebuild).
  const first = c.peek();
  const typeClauseNext = c.isKeyword('type') && !c.isKeyword('type', 1) && c.peek(1).kind !== 'end';
  if (!typeClauseNext) {
    if (first.kind === 'ident' || first.kind === 'string' || first.kind === 'qident')
      name = nameValue(c.next());
    else throw c.unexpected('a task name or TYPE');
    if (!name) throw syntaxError('a task name cannot be empty', first.at);
  }
  c.expectKeyword('type', 'TYPE');
  const typeTok = c.peek();
  if (typeTok.kind !== 'ident' && typeTok.kind !== 'string' && typeTok.kind !== 'qident') {
    throw c.unexpected(typeNames.length ? `a task type: ${spokenList(typeNames)}` : 'a task type');
  }
  c.next();
  const stmt: CreateTaskStatement = {
    kind: 'create_task',
    name,
    type: nameValue(typeTok),
    typeAt: typeTok.at,
    location: { type: 'SYSTEM', name: null, at: typeTok.at },
    options: [],
  };
  if (c.isKeyword('location')) {
    c.next();
    const lt = c.peek();
    if (c.acceptKeyword('system')) stmt.location = { type: 'SYSTEM', name: null, at: lt.at };
    else if (c.acceptKeyword('cluster')) {
      const n = c.name('a cluster name', true);
      stmt.location = { type: 'CLUSTER', name: n.value, at: n.at };
    } else if (c.acceptKeyword('node')) {
      const n = c.name('a node name', true);
      stmt.location = { type: 'NODE', name: n.value, at: n.at };
    } else throw c.unexpected('SYSTEM, CLUSTER <name> or NODE <name>');
  }
  if (c.isKeyword('options')) {
    c.next();
    do {
      const k = c.peek();
      if (k.kind !== 'ident' && k.kind !== 'qident') throw c.unexpected('an option name');
      c.next();
      c.expectPunct('=');
      stmt.options.push({ key: k.value, value: optionValue(c), at: k.at });
    } while (c.acceptPunct(','));
  }
  if (!c.atEnd()) {
    const t = c.peek();
    if (c.isKeyword('location') || c.isKeyword('options')) {
      throw syntaxError(
        `syntax error at or near "${t.raw}": LOCATION comes before OPTIONS, and each only once`,
        t.at,
      );
    }
    throw c.unexpected('LOCATION, OPTIONS or the end of the statement');
  }
  c.expectEnd();
  return stmt;
}

/** "a, b or c" */
function spokenList(items: readonly string[]): string {
  return items.length > 1 ? `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}` : items.join('');
}

export function semanticError(
  code: string,
  message: string,
  at: number | undefined,
  hint?: string,
): SqlError {
  return new SqlError(code, message, { position: at !== undefined ? at + 1 : undefined, hint });
}
