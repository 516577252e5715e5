// JSON functions and operators.
import { aggregate, call, type FnDef, fixed, type Register, type V } from './define';

export const definitions: Record<string, FnDef> = {
  json_agg: aggregate('json_group_array', fixed('json')),
  json_build_object: call('json_object', 'json'),
  to_json: call('pg_to_json', 'json'),
  row_to_json: call('pg_to_json', 'json'),
};

export function register(reg: Register): void {
  reg('pg_json_text', (j: V) => {
    if (j === null || j === undefined) return null;
    const text = String(j);
    try {
      const v = JSON.parse(text);
      // ->> of a JSON null is SQL NULL
      if (v === null) return null;
      return typeof v === 'string' ? v : text;
    } catch {
      return text;
    }
  });
  reg('pg_to_json', (v: V) => JSON.stringify(v));
}
