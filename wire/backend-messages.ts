// Encoders for backend (server -> client) messages, one function per message, each returning its bytes.

import { encodeDataRow, formatOf } from '../pg/data-row';
import { typeSize } from '../pg/types';
import { AuthRequest, BackendCode as B, ErrorField, FormatCode, type TxStatus } from './message-codes';
import { MessageWriter } from './message-writer';

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

const w = new MessageWriter();

export const authenticationOk = () => w.int32(AuthRequest.Ok).finish(B.Authentication);
export const authenticationCleartext = () => w.int32(AuthRequest.CleartextPassword).finish(B.Authentication);
export const authenticationMd5 = (salt: Buffer) =>
  w.int32(AuthRequest.MD5Password).bytes(salt).finish(B.Authentication);
export function authenticationSasl(mechanisms: string[]): Buffer {
  w.int32(AuthRequest.SASL);
  for (const m of mechanisms) w.cstring(m);
  return w.byte(0).finish(B.Authentication);
}
export const authenticationSaslContinue = (data: string) =>
  w.int32(AuthRequest.SASLContinue).string(data).finish(B.Authentication);
export const authenticationSaslFinal = (data: string) =>
  w.int32(AuthRequest.SASLFinal).string(data).finish(B.Authentication);

export const parameterStatus = (name: string, value: string) =>
  w.cstring(name).cstring(value).finish(B.ParameterStatus);
export const backendKeyData = (pid: number, secret: number) =>
  w.int32(pid).int32(secret).finish(B.BackendKeyData);
export const readyForQuery = (status: TxStatus) => w.string(status).finish(B.ReadyForQuery);
export const parseComplete = () => w.finish(B.ParseComplete);
export const bindComplete = () => w.finish(B.BindComplete);
export const closeComplete = () => w.finish(B.CloseComplete);
export const noData = () => w.finish(B.NoData);
export const portalSuspended = () => w.finish(B.PortalSuspended);
export const emptyQueryResponse = () => w.finish(B.EmptyQueryResponse);
export const commandComplete = (tag: string) => w.cstring(tag).finish(B.CommandComplete);
export const notificationResponse = (pid: number, channel: string, payload: string) =>
  w.int32(pid).cstring(channel).cstring(payload).finish(B.NotificationResponse);

export function parameterDescription(oids: number[]): Buffer {
  w.int16(oids.length);
  for (const o of oids) w.int32(o);
  return w.finish(B.ParameterDescription);
}

/**
 * The RowDescription of a result's columns in the given formats. The message of a prepared statement's
 * columns is the same at every Describe and Execute: it is kept with the columns (the same array each time)
 * for the last formats asked, instead of being encoded again for every point lookup.
 */
export function rowDescription(fields: FieldDescription[], formats: number[]): Buffer {
  const key = formats.join(',');
  const kept = rowDescriptions.get(fields);
  if (kept?.formats === key) return kept.message;
  w.int16(fields.length);
  fields.forEach((f, i) => {
    w.cstring(f.name)
      .int32(f.tableOid ?? 0)
      .int16(f.columnNo ?? 0)
      .int32(f.typeOid)
      .int16(typeSize(f.typeOid))
      .int32(f.typeMod ?? -1)
      .int16(formatOf(formats, i));
  });
  const message = w.finish(B.RowDescription);
  rowDescriptions.set(fields, { formats: key, message });
  return message;
}
const rowDescriptions = new WeakMap<FieldDescription[], { formats: string; message: Buffer }>();

/** One DataRow; typeOids are the row's column types, taken from its fields once per result, not per row. */
export const dataRow = encodeDataRow;

function noticeOrError(code: number, f: ErrorFields): Buffer {
  w.byte(ErrorField.Severity).cstring(f.severity);
  w.byte(ErrorField.SeverityNonLocalized).cstring(f.severity);
  w.byte(ErrorField.Code).cstring(f.code);
  w.byte(ErrorField.Message).cstring(f.message);
  if (f.detail) w.byte(ErrorField.Detail).cstring(f.detail);
  if (f.hint) w.byte(ErrorField.Hint).cstring(f.hint);
  if (f.position) w.byte(ErrorField.Position).cstring(String(f.position));
  return w.byte(0).finish(code);
}
export const errorResponse = (f: ErrorFields) => noticeOrError(B.ErrorResponse, f);
export const noticeResponse = (f: ErrorFields) => noticeOrError(B.NoticeResponse, f);

// COPY of opaque table bytes: overall format binary or text, no per-column formats.
const copyFormat = (binary: boolean) => (binary ? FormatCode.Binary : FormatCode.Text);
export const copyInResponse = (binary: boolean) =>
  w.byte(copyFormat(binary)).int16(0).finish(B.CopyInResponse);
export const copyOutResponse = (binary: boolean) =>
  w.byte(copyFormat(binary)).int16(0).finish(B.CopyOutResponse);
/** A whole CopyData message: the payload copied once, after its header. */
export function copyData(data: Buffer): Buffer {
  const out = Buffer.allocUnsafe(5 + data.length);
  writeCopyDataHeader(out, data.length);
  data.copy(out, 5);
  return out;
}
/** The 5 bytes before a CopyData payload of n bytes, for a payload sent as it is (not copied). */
export function copyDataHeader(n: number): Buffer {
  const out = Buffer.allocUnsafe(5);
  writeCopyDataHeader(out, n);
  return out;
}
function writeCopyDataHeader(out: Buffer, n: number): void {
  out[0] = B.CopyData;
  out.writeUInt32BE(n + 4, 1);
}
export const copyDone = () => w.finish(B.CopyDone);
