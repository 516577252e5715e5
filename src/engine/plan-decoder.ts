// Reads a subtask's plan back from the catalog (sys.subtasks.plan is JSON text) into the type its task type
// planned, checking its shape on the way: a plan written by another version, or edited by hand, fails its
// subtask with a clear message instead of surfacing as undefined somewhere in `run`.

export type Decoder<T> = (value: unknown, path: string) => T;

export class PlanDecodeError extends Error {}

function fail(path: string, want: string, got: unknown): never {
  throw new PlanDecodeError(`stored plan is invalid: ${path} should be ${want}, is ${JSON.stringify(got)}`);
}

export const string: Decoder<string> = (v, p) => (typeof v === 'string' ? v : fail(p, 'a string', v));
export const number: Decoder<number> = (v, p) =>
  typeof v === 'number' && Number.isFinite(v) ? v : fail(p, 'a number', v);
export const boolean: Decoder<boolean> = (v, p) => (typeof v === 'boolean' ? v : fail(p, 'a boolean', v));

export function nullable<T>(d: Decoder<T>): Decoder<T | null> {
  return (v, p) => (v === null ? null : d(v, p));
}

export function optional<T>(d: Decoder<T>): Decoder<T | undefined> {
  return (v, p) => (v === undefined ? undefined : d(v, p));
}

export function array<T>(d: Decoder<T>): Decoder<T[]> {
  return (v, p) => (Array.isArray(v) ? v.map((x, i) => d(x, `${p}[${i}]`)) : fail(p, 'a list', v));
}

/** An object with these fields (others are ignored); fields whose decoder is `optional` may be absent. */
export function object<T extends object>(fields: { [K in keyof T]-?: Decoder<T[K]> }): Decoder<T> {
  return (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(p, 'an object', v);
    const out: Record<string, unknown> = {};
    for (const [k, d] of Object.entries(fields) as [string, Decoder<unknown>][]) {
      const x = d((v as Record<string, unknown>)[k], `${p}.${k}`);
      if (x !== undefined) out[k] = x;
    }
    return out as T;
  };
}

/** Decodes the stored JSON text of a plan (null when the subtask has none). */
export function decodePlan<T>(d: Decoder<T>, stored: string | null): T {
  return d(stored === null ? null : JSON.parse(stored), 'plan');
}
