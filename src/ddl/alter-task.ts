// ALTER TASK: changes what a running task may change without a restart.
//   ALTER TASK 'task_name_or_id' SET max_bytes_per_sec = { n | DEFAULT }
//   ALTER TASK 'task_name_or_id' RESET max_bytes_per_sec
// DEFAULT and RESET mean unlimited, as the option's default is. The name is a bare identifier or a quoted
// string, as in CANCEL TASK; n may be a $n parameter.
import { Cursor } from './lexer';
import { semanticError } from './tasks';

/** The options ALTER TASK can change while the task runs; the others are fixed by the plan. */
export const ALTERABLE_OPTIONS = ['max_bytes_per_sec'] as const;

export interface AlterTaskStatement {
  kind: 'alter_task';
  target: string | { param: number };
  key: (typeof ALTERABLE_OPTIONS)[number];
  /** null: back to the default (unlimited). */
  value: number | null | { param: number };
  valueAt: number;
}

/** Returns the parsed statement, or null when the SQL is not ALTER TASK. */
export function parseAlterTask(sql: string): AlterTaskStatement | null {
  const c = Cursor.of(sql);
  if (!(c.isKeyword('alter') && c.isKeyword('task', 1))) return null;
  c.next();
  c.next();
  const t = c.peek();
  let target: string | { param: number };
  if (t.kind === 'string' || t.kind === 'qident') target = c.next().value;
  else if (t.kind === 'ident') target = c.next().raw;
  else if (t.kind === 'param') target = { param: Number(c.next().value) };
  else throw c.unexpected("the task name or id, e.g. ALTER TASK 'my_task' SET max_bytes_per_sec = 1000000");
  const reset = c.acceptKeyword('reset');
  if (!reset) c.expectKeyword('set', 'SET or RESET');
  const k = c.peek();
  if (k.kind !== 'ident' && k.kind !== 'qident') throw c.unexpected('an option name');
  c.next();
  const key = ALTERABLE_OPTIONS.find((o) => o === k.value);
  if (!key) {
    throw semanticError(
      '0A000',
      `ALTER TASK cannot change option "${k.value}"`,
      k.at,
      `ALTER TASK changes ${ALTERABLE_OPTIONS.join(', ')}; for another value, CANCEL TASK and create it again.`,
    );
  }
  let value: AlterTaskStatement['value'] = null;
  let valueAt = k.at;
  if (!reset) {
    if (!c.acceptPunct('=')) c.expectKeyword('to', '= or TO');
    const v = c.peek();
    valueAt = v.at;
    if (c.acceptKeyword('default')) value = null;
    else if (v.kind === 'param') value = { param: Number(c.next().value) };
    else if (v.kind === 'number') {
      c.next();
      value = Number(v.value);
      if (!Number.isSafeInteger(value) || value < 1)
        throw semanticError('22023', `${key} must be a positive integer`, v.at, 'Or DEFAULT for unlimited.');
    } else throw c.unexpected('a positive integer or DEFAULT');
  }
  c.expectEnd();
  return { kind: 'alter_task', target, key, value, valueAt };
}
