// Encoders for backend (server -> client) messages, on pg-protocol's Writer.
import { Writer } from 'pg-protocol/dist/buffer-writer';
import { encodeBinary, encodeText } from '../pg/codecs';
import { typeSize } from '../pg/types';

export interface FieldDescription {
  name: string;
  typeOid: number;
  tableOid?: number;
  columnNo?: number;
  typeMod?: number;
}

export interface ErrorFields {
  severity: 'ERROR' | 'FATAL' | 'PANIC' | 'WARNING' | 'NOTICE' | 'INFO' | 'DEBUG' | 'LOG';
  code: string;
  message: string;
  detail?: string;
  hint?: string;
  position?: number;
}

const writer = new Writer(1024);

function msg(code: string, build?: (w: Writer) => void): Buffer {
  if (build) build(writer);
  return writer.flush(code.charCodeAt(0));
}

export const authenticationOk = () => msg('R', (w) => w.addInt32(0));
export const authenticationCleartext = () => msg('R', (w) => w.addInt32(3));
export const authenticationMd5 = (salt: Buffer) => msg('R', (w) => w.addInt32(5).add(salt));
export const authenticationSasl = (mechanisms: string[]) =>
  msg('R', (w) => {
    w.addInt32(10);
    for (const m of mechanisms) w.addCString(m);
    w.add(Buffer.from([0]));
  });
export const authenticationSaslContinue = (data: string) => msg('R', (w) => w.addInt32(11).addString(data));
export const authenticationSaslFinal = (data: string) => msg('R', (w) => w.addInt32(12).addString(data));

export const parameterStatus = (name: string, value: string) =>
  msg('S', (w) => w.addCString(name).addCString(value));
export const backendKeyData = (pid: number, secret: number) =>
  msg('K', (w) => w.addInt32(pid).addInt32(secret));
export const readyForQuery = (status: 'I' | 'T' | 'E') => msg('Z', (w) => w.addString(status));
export const parseComplete = () => msg('1');
export const bindComplete = () => msg('2');
export const closeComplete = () => msg('3');
export const noData = () => msg('n');
export const portalSuspended = () => msg('s');
export const emptyQueryResponse = () => msg('I');
export const commandComplete = (tag: string) => msg('C', (w) => w.addCString(tag));

export const parameterDescription = (oids: number[]) =>
  msg('t', (w) => {
    w.addInt16(oids.length);
    for (const o of oids) w.addInt32(o);
  });

export const rowDescription = (fields: FieldDescription[], formats: number[]) =>
  msg('T', (w) => {
    w.addInt16(fields.length);
    fields.forEach((f, i) => {
      w.addCString(f.name)
        .addInt32(f.tableOid ?? 0)
        .addInt16(f.columnNo ?? 0)
        .addInt32(f.typeOid)
        .addInt16(typeSize(f.typeOid))
        .addInt32(f.typeMod ?? -1)
        .addInt16(formatOf(formats, i));
    });
  });

/** Result format of column i from a Bind's format codes (none = text, one = all, else per column). */
export function formatOf(formats: number[], i: number): number {
  if (formats.length === 0) return 0;
  if (formats.length === 1) return formats[0];
  return formats[i] ?? 0;
}

export function dataRow(values: readonly unknown[], fields: FieldDescription[], formats: number[]): Buffer {
  return msg('D', (w) => {
    w.addInt16(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === null || v === undefined) {
        w.addInt32(-1);
        continue;
      }
      const oid = fields[i].typeOid;
      const bytes =
        formatOf(formats, i) === 1 ? encodeBinary(v, oid) : Buffer.from(encodeText(v, oid), 'utf8');
      w.addInt32(bytes.length).add(bytes);
    }
  });
}

function noticeOrError(code: 'E' | 'N', f: ErrorFields): Buffer {
  return msg(code, (w) => {
    w.addString('S').addCString(f.severity);
    w.addString('V').addCString(f.severity);
    w.addString('C').addCString(f.code);
    w.addString('M').addCString(f.message);
    if (f.detail) w.addString('D').addCString(f.detail);
    if (f.hint) w.addString('H').addCString(f.hint);
    if (f.position) w.addString('P').addCString(String(f.position));
    w.add(Buffer.from([0]));
  });
}
export const errorResponse = (f: ErrorFields) => noticeOrError('E', f);
export const noticeResponse = (f: ErrorFields) => noticeOrError('N', f);

// COPY of opaque table bytes: overall format binary or text, no per-column formats.
export const copyInResponse = (binary: boolean) =>
  msg('G', (w) => w.add(Buffer.from([binary ? 1 : 0])).addInt16(0));
export const copyOutResponse = (binary: boolean) =>
  msg('H', (w) => w.add(Buffer.from([binary ? 1 : 0])).addInt16(0));
export const copyData = (data: Buffer) => msg('d', (w) => w.add(data));
export const copyDone = () => msg('c');
