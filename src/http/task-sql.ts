// The console's forms become SQL text, so that creating or cancelling a task from a page runs exactly the
// statement a psql user would type: the same parser, privileges, validation and errors. Only quoting happens
// here; nothing is checked that the statement itself checks.

/** What the console knows of a task type: its name and options, for the form and for quoting values. */
export interface TaskTypeForm {
  name: string;
  options: Record<string, { kind: string; default: unknown; describe: string }>;
}

/** A string literal as PostgreSQL reads it with standard_conforming_strings on. */
export function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** A double-quoted identifier (names such as cluster and node names keep their exact spelling). */
export function quoteIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

export interface TaskForm {
  name?: string;
  type: string;
  location: string;
  locationName?: string;
  /** Option values as typed in the form, by key; empty values are left out (the default applies). */
  options: Record<string, string>;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** An option value in CREATE TASK syntax; a value that is not what the option's kind expects is sent as a
 * string, so that the statement's own validation reports it (22023 with the option's name). */
function optionLiteral(kind: string | undefined, raw: string): string {
  const v = raw.trim();
  switch (kind) {
    case 'bool':
      return v === 'true' || v === 'false' ? v : quoteLiteral(v);
    case 'int':
    case 'fraction':
      return NUMBER.test(v) ? v : quoteLiteral(v);
    case 'int_list':
    case 'string_list':
    case 'uuid_list': {
      const items = v
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== '');
      return `[${items.map((x) => (kind === 'int_list' && NUMBER.test(x) ? x : quoteLiteral(x))).join(', ')}]`;
    }
    default:
      return quoteLiteral(v);
  }
}

/** `types` gives each option's kind, so a value is written as the option expects (unknown keys as strings). */
export function createTaskSql(f: TaskForm, types: readonly TaskTypeForm[]): string {
  const parts = ['CREATE TASK'];
  if (f.name?.trim()) parts.push(quoteLiteral(f.name.trim()));
  parts.push('TYPE', quoteLiteral(f.type));
  const loc = f.location.toUpperCase();
  if (loc === 'SYSTEM') parts.push('LOCATION SYSTEM');
  else if (loc === 'CLUSTER' || loc === 'NODE') parts.push('LOCATION', loc, quoteIdent(f.locationName ?? ''));
  const spec = types.find((t) => t.name === f.type)?.options ?? {};
  const opts: string[] = [];
  for (const [key, raw] of Object.entries(f.options)) {
    if (raw.trim() === '') continue;
    opts.push(`${quoteIdent(key)} = ${optionLiteral(spec[key]?.kind, raw)}`);
  }
  if (opts.length) parts.push('OPTIONS', opts.join(', '));
  return parts.join(' ');
}

/** The statements a task page's buttons run. */
export type TaskAction = 'cancel' | 'pause' | 'resume';

export function taskActionSql(action: TaskAction, nameOrId: string): string {
  return `${action.toUpperCase()} TASK ${quoteLiteral(nameOrId)}`;
}

export const cancelTaskSql = (nameOrId: string) => taskActionSql('cancel', nameOrId);
