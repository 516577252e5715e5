// The rows of pg_proc: the type I/O functions and handlers the catalog names (pg_type and pg_am join to them by
// OID), and every function a query may call (FUNCTIONS and the table functions), with PostgreSQL 15's OIDs,
// argument and result types and properties as pg15-proc.json holds them (generated from a real PostgreSQL 15
// by test/oracle/gen-pg-proc.ts). A function is listed when the query engine implements its name; its
// PostgreSQL overloads are all listed (the engine resolves a call by name, not by argument types).
import { formatArrayLiteral } from '../../../pg/codecs';
import { IO_FUNCTIONS } from '../../../pg/type-io';
import { namespaceOid } from '../../relations';
import { FUNCTIONS, tableFunction } from '.';
import PG15_PROCS from './pg15-proc.json';

/** One row of pg15-proc.json, in the order gen-pg-proc.ts writes. */
type Pg15Proc = [
  oid: number,
  proname: string,
  namespace: string,
  prokind: string,
  proretset: boolean,
  provolatile: string,
  proisstrict: boolean,
  pronargs: number,
  pronargdefaults: number,
  prorettype: number,
  proargtypes: string,
  provariadic: number,
  procost: number,
  prorows: number,
  proargnames: string[] | null,
  proallargtypes: number[] | null,
  proargmodes: string[] | null,
  prolang: number,
  prosrc: string,
  proparallel: string,
  proleakproof: boolean,
  description: string | null,
];

export interface ProcRow {
  oid: number;
  name: string;
  namespace: string;
  /** The pg_proc row, in its column order (pg-catalog.ts PG_CATALOG_COLUMNS.pg_proc). */
  row: unknown[];
  /** PostgreSQL's comment on the function (pg_description), if any. */
  description: string | null;
}

const array = (v: readonly unknown[] | null) => (v ? formatArrayLiteral(v) : null);

let procs: ProcRow[] | null = null;

export function pgProcRows(): readonly ProcRow[] {
  if (procs) return procs;
  const io: ProcRow[] = IO_FUNCTIONS.map((f) => ({
    oid: f.oid,
    name: f.name,
    namespace: 'pg_catalog',
    description: null,
    // oid proname pronamespace proowner prolang procost prorows provariadic prosupport prokind prosecdef
    // proleakproof proisstrict proretset provolatile proparallel pronargs pronargdefaults prorettype
    // proargtypes proallargtypes proargmodes proargnames proargdefaults protrftypes prosrc probin prosqlbody
    // proconfig proacl
    row: [
      ...[f.oid, f.name, 11, 10, 12, 1, 0, 0, 0, 'f', false, false, true, false, f.volatility, 's'],
      ...[
        f.args.length,
        0,
        f.returns,
        f.args.join(' '),
        null,
        null,
        null,
        null,
        null,
        f.name,
        null,
        null,
        null,
        null,
      ],
    ],
  }));
  const known = new Set(io.map((p) => p.oid));
  const functions = (PG15_PROCS as Pg15Proc[])
    .filter(([oid, name]) => isImplemented(name) && !known.has(oid))
    .map((p): ProcRow => {
      const [oid, name, namespace, kind, retset, volatile, strict, nargs, ndefaults, rettype, argtypes] = p;
      const [, , , , , , , , , , , variadic, cost, rows, argnames, allargtypes, argmodes, lang, src] = p;
      const [parallel, leakproof, description] = [p[19], p[20], p[21]];
      return {
        oid,
        name,
        namespace,
        description,
        row: [
          ...[oid, name, namespaceOid(namespace), 10, lang, cost, rows, variadic, 0, kind, false, leakproof],
          ...[strict, retset, volatile, parallel, nargs, ndefaults, rettype, argtypes, array(allargtypes)],
          ...[array(argmodes), array(argnames), null, null, src, null, null, null, null],
        ],
      };
    });
  procs = [...io, ...functions];
  return procs;
}

/** Whether a query may call the function: FUNCTIONS has it, or it is a table function (for some arguments). */
export function isImplemented(name: string): boolean {
  if (Object.hasOwn(FUNCTIONS, name)) return true;
  try {
    return tableFunction(name, []) !== null;
  } catch {
    return true; // it exists, but not for these argument types
  }
}
