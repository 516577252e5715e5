// Checks a parsed CREATE TASK against what its task type declares (engine/task-type.ts): type, location,
// option keys, value kinds and per-option rules, with the positions and hints an operator needs; fills in
// the defaults.
import { decodeParam, parseBool } from '../../pg/codecs';
import { SqlError } from '../../pg/errors';
import { Oid } from '../../pg/types';
import type { TaskTypeRegistry } from '../engine/registry';
import {
  type OptionDef,
  type OptionDefs,
  type OptionKind,
  type TaskOptions,
  withDefaults,
} from '../engine/task-options';
import type { OptionsOf, ValidatedTask } from '../engine/task-type';
import { type CreateTaskStatement, type OptionValue, semanticError } from './tasks';

const kindName: Record<OptionKind, string> = {
  bool: 'a boolean (true, false, on, off, yes, no, 1 or 0)',
  string: "a 'quoted string'",
  int: 'a positive integer',
  fraction: 'a number in (0, 1]',
  int_list: 'a list of integers, e.g. [53, 54]',
  string_list: "a list of strings, e.g. ['id1', 'id2']",
  uuid_list: "a list of uuids, e.g. ['6f1c0000-0000-4000-8000-000000000001']",
};

/** Boolean words and numbers as every PostgreSQL boolean setting reads them (pg/codecs parseBool). */
function asBool(v: unknown): boolean | null {
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === 0) return v === 1;
  if (typeof v !== 'string') return null;
  try {
    return parseBool(v);
  } catch {
    return null;
  }
}

function coerce(
  key: string,
  def: OptionDef,
  v: OptionValue | string | null,
  at: number,
  type: string,
  fromParam: boolean,
): unknown {
  const bad = () =>
    semanticError(
      '22023',
      `option "${key}" of ${type} must be ${kindName[def.kind]}`,
      at,
      `${key}: ${def.describe}`,
    );
  // Values bound to $n parameters arrive as text: read them the way the literal would have been written.
  if (fromParam && typeof v === 'string' && def.kind !== 'string' && def.kind !== 'string_list') {
    const s = v.trim();
    if (def.kind === 'bool') v = s;
    else if ((def.kind === 'int' || def.kind === 'fraction') && s !== '' && Number.isFinite(Number(s)))
      v = Number(s);
    else if (def.kind === 'int_list') {
      const inner = s.replace(/^[[{]|[\]}]$/g, '').trim();
      v = inner ? inner.split(',').map((x) => Number(x.trim())) : [];
    } else throw bad();
  }
  if (fromParam && (def.kind === 'string_list' || def.kind === 'uuid_list') && typeof v === 'string') {
    const inner = v
      .trim()
      .replace(/^[[{]|[\]}]$/g, '')
      .trim();
    v = inner ? inner.split(',').map((x) => x.trim().replace(/^['"]|['"]$/g, '')) : [];
  }
  switch (def.kind) {
    case 'bool': {
      const b = asBool(v);
      if (b === null) throw bad();
      return b;
    }
    case 'string':
      if (typeof v !== 'string') throw bad();
      return v;
    case 'int':
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw bad();
      return v;
    case 'fraction':
      if (typeof v !== 'number' || !(v > 0 && v <= 1)) throw bad();
      return v;
    case 'int_list':
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isSafeInteger(x))) throw bad();
      return v;
    case 'string_list':
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw bad();
      return v;
    case 'uuid_list':
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw bad();
      return v.map((x) => {
        try {
          return decodeParam(Buffer.from(x), Oid.uuid, false);
        } catch (err) {
          throw err instanceof SqlError ? semanticError(err.code, err.message, at) : err;
        }
      });
  }
}

export function validateTask(
  stmt: CreateTaskStatement,
  params: unknown[],
  registry: TaskTypeRegistry,
): ValidatedTask {
  const taskType = registry.get(stmt.type);
  if (!taskType) {
    const names = registry.names();
    const lower = stmt.type.toLowerCase();
    const hint = `Valid task types are ${names.join(', ')} (case-sensitive)${names.includes(lower) ? `: did you mean ${lower}?` : '.'}`;
    throw semanticError('22023', `unknown task type "${stmt.type}"`, stmt.typeAt, hint);
  }
  const type = taskType.name;
  if (!taskType.locations.includes(stmt.location.type)) {
    throw semanticError(
      '22023',
      `${type} cannot run at LOCATION ${stmt.location.type}: it takes ${taskType.locations.join(' or ')}`,
      stmt.location.at,
      taskType.refusedLocationHint?.(stmt.location),
    );
  }
  const defs = registry.optionsOf(taskType);
  const options: TaskOptions = {};
  const seen = new Set<string>();
  const valid = Object.keys(defs).join(', ');
  for (const o of stmt.options) {
    if (seen.has(o.key))
      throw semanticError(
        '42710',
        `option "${o.key}" is given twice`,
        o.at,
        `Valid options for ${type}: ${valid}.`,
      );
    seen.add(o.key);
    const def = defs[o.key];
    if (!def)
      throw semanticError(
        '22023',
        `unknown option "${o.key}" for ${type}`,
        o.at,
        `Valid options for ${type}: ${valid}.`,
      );
    let v: OptionValue | string | null = o.value;
    const fromParam = typeof v === 'object' && v !== null && !Array.isArray(v) && 'param' in v;
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && 'param' in v) {
      const p = params[v.param - 1];
      if (p === undefined) throw new SqlError('42P02', `there is no parameter $${v.param}`);
      v = p === null ? null : typeof p === 'boolean' || typeof p === 'number' ? (p as never) : String(p);
      if (v === null) throw semanticError('22004', `option "${o.key}" cannot be NULL`, o.at);
    }
    options[o.key] = coerce(o.key, def, v, o.at, type, fromParam);
  }
  withDefaults(defs, options);
  // Rules of single options that depend on the others (sample_rate needs sample), once all are known.
  for (const o of stmt.options) {
    const broken = defs[o.key].check?.(options[o.key], options);
    if (broken) throw semanticError('22023', broken.message, o.at, broken.hint);
  }
  // Every option of the type and of the engine has its value now: the shape OptionsOf describes.
  return { name: stmt.name, type, location: stmt.location, options: options as OptionsOf<OptionDefs> };
}
