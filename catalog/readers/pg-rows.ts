// Rows from PostgreSQL (each value its text output, as the reader connection received it) as DataRow
// messages in the client's result formats. A text column is PostgreSQL's own bytes, untouched. A binary
// column is encoded from that text with pg/codecs, which reads the text forms PostgreSQL prints with the
// settings below; with another setting in force, or for a type whose binary form cannot be made from its
// text here, the statement fails rather than send a guess.
import { encodeBinary, PgText } from '../../pg/codecs';
import { DATA_ROW, type EncodedRows, formatOf } from '../../pg/data-row';
import { SqlError } from '../../pg/errors';
import { arrayElement, Oid, typeNameOfOid } from '../../pg/types';

/** The session settings that decide how PostgreSQL prints the values a binary column is made from. */
export interface OutputStyle {
  datestyle: string;
  intervalstyle: string;
  extra_float_digits: string;
  bytea_output: string;
}

const DATE_TYPES = new Set<number>([Oid.date, Oid.timestamp, Oid.timestamptz]);
const FLOAT_TYPES = new Set<number>([Oid.float4, Oid.float8]);
const REG_TYPES = new Set<number>([
  Oid.regclass,
  Oid.regtype,
  Oid.regnamespace,
  Oid.regproc,
  Oid.regprocedure,
]);

/** Why a column of this type cannot be sent in binary under this style, or null when it can. */
function binaryObstacle(oid: number, style: OutputStyle): string | null {
  const name = typeNameOfOid(oid) ?? String(oid);
  const elem = arrayElement(oid);
  if (elem !== undefined)
    return elem === Oid.bytea
      ? `binary output of type ${name} is not available here`
      : binaryObstacle(elem, style);
  if (DATE_TYPES.has(oid) && !/^\s*iso/i.test(style.datestyle))
    return `binary output of type ${name} needs DateStyle ISO here`;
  if (FLOAT_TYPES.has(oid) && !(Number(style.extra_float_digits) >= 1))
    return `binary output of type ${name} needs extra_float_digits of 1 or more here`;
  if (oid === Oid.interval && style.intervalstyle.toLowerCase() !== 'postgres')
    return `binary output of type ${name} needs IntervalStyle postgres here`;
  if (oid === Oid.bytea && style.bytea_output.toLowerCase() !== 'hex')
    return `binary output of type ${name} needs bytea_output hex here`;
  // Their text is a name; the binary form is an OID this side does not look up.
  if (REG_TYPES.has(oid)) return `binary output of type ${name} is not available here`;
  return null;
}

function binaryValue(text: string, oid: number): Buffer {
  if (oid === Oid.bytea) return Buffer.from(text.slice(2), 'hex');
  return encodeBinary(text, oid);
}

function checkBinary(oid: number, style: OutputStyle): void {
  const why = binaryObstacle(oid, style);
  if (why)
    throw new SqlError('0A000', why, {
      hint: 'The catalog on PostgreSQL makes binary results from its text output: ask for this column in text.',
    });
}

/** Checks, before any row, that every binary column can be encoded (the error names the first that cannot). */
export function checkBinaryColumns(
  oids: readonly number[],
  formats: readonly number[],
  style: OutputStyle,
): void {
  oids.forEach((oid, i) => {
    if (formatOf(formats, i) === 1) checkBinary(oid, style);
  });
}

/**
 * The rows as values for a result taken whole (its formats are chosen when it is sent): PgText, whose text is
 * PostgreSQL's and whose binary form is made as a streamed binary column's is.
 */
export function pgValues(
  rows: readonly (readonly (string | null)[])[],
  oids: readonly number[],
  style: OutputStyle,
): unknown[][] {
  return rows.map((row) =>
    row.map((v, i) =>
      v === null
        ? null
        : new PgText(v, () => {
            checkBinary(oids[i], style);
            return binaryValue(v, oids[i]);
          }),
    ),
  );
}

/** The DataRow messages of the rows, back to back. */
export function encodePgRows(
  rows: readonly (readonly (string | null)[])[],
  oids: readonly number[],
  formats: readonly number[],
  style: OutputStyle,
): EncodedRows {
  checkBinaryColumns(oids, formats, style);
  const parts: Buffer[] = [];
  const ends = new Uint32Array(rows.length);
  let at = 0;
  rows.forEach((row, r) => {
    const values = row.map((v, i) =>
      v === null ? null : formatOf(formats, i) === 1 ? binaryValue(v, oids[i]) : Buffer.from(v, 'utf8'),
    );
    let size = 7;
    for (const v of values) size += 4 + (v ? v.length : 0);
    const msg = Buffer.allocUnsafe(size);
    msg[0] = DATA_ROW;
    msg.writeUInt32BE(size - 1, 1);
    msg.writeUInt16BE(values.length, 5);
    let pos = 7;
    for (const v of values) {
      if (!v) {
        msg.writeInt32BE(-1, pos);
        pos += 4;
        continue;
      }
      msg.writeInt32BE(v.length, pos);
      v.copy(msg, pos + 4);
      pos += 4 + v.length;
    }
    parts.push(msg);
    at += size;
    ends[r] = at;
  });
  const bytes = Buffer.concat(parts, at);
  return { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), ends };
}
