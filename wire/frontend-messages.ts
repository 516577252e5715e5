// Typed decoding of frontend (client -> server) messages: a Frame in, a discriminated union out. Malformed
// bodies raise ProtocolViolation (08P01), which ends the connection.
import { BodyReader } from './body-reader';
import { ProtocolViolation } from './fatal';
import type { Frame } from './framer';
import { codeChar, FrontendCode as F, StartupCode, TargetKind } from './message-codes';

/** The untyped first packet of a connection (or the one after an SSL/GSSENC answer). */
export type StartupPacket =
  | { kind: 'SSLRequest' }
  | { kind: 'GSSENCRequest' }
  | { kind: 'CancelRequest'; pid: number; secret: number }
  | { kind: 'StartupMessage'; params: Map<string, string> }
  | { kind: 'UnsupportedProtocol'; major: number; minor: number };

export type Target = 'statement' | 'portal';

export type FrontendMessage =
  | { kind: 'Query'; sql: string }
  | { kind: 'Parse'; name: string; sql: string; paramTypes: number[] }
  | {
      kind: 'Bind';
      portal: string;
      statement: string;
      paramFormats: number[];
      /** Raw parameter bytes; null is SQL NULL. */
      params: (Buffer | null)[];
      resultFormats: number[];
    }
  | { kind: 'Describe'; target: Target; name: string }
  | { kind: 'Execute'; portal: string; maxRows: number }
  | { kind: 'Close'; target: Target; name: string }
  | { kind: 'Sync' }
  | { kind: 'Flush' }
  | { kind: 'Terminate' }
  | { kind: 'FunctionCall' }
  | { kind: 'CopyData'; data: Buffer }
  | { kind: 'CopyDone' }
  | { kind: 'CopyFail'; message: string }
  /** PasswordMessage or a SASL message: which one depends on the auth exchange (see decodePassword etc.). */
  | { kind: 'Password'; body: Buffer };

export function decodeStartupPacket(body: Buffer): StartupPacket {
  const r = new BodyReader(body);
  const code = r.int32();
  switch (code) {
    case StartupCode.SSLRequest:
      return { kind: 'SSLRequest' };
    case StartupCode.GSSENCRequest:
      return { kind: 'GSSENCRequest' };
    case StartupCode.CancelRequest:
      return { kind: 'CancelRequest', pid: r.int32(), secret: r.int32() };
    case StartupCode.Protocol3: {
      const params = new Map<string, string>();
      while (r.remaining > 1) {
        const k = r.cstring();
        params.set(k, r.cstring());
      }
      return { kind: 'StartupMessage', params };
    }
    default:
      return { kind: 'UnsupportedProtocol', major: code >>> 16, minor: code & 0xffff };
  }
}

export function decodeMessage(frame: Frame): FrontendMessage {
  const r = new BodyReader(frame.body);
  switch (frame.type) {
    case F.Query:
      return { kind: 'Query', sql: r.cstring() };
    case F.Parse: {
      const name = r.cstring();
      const sql = r.cstring();
      const paramTypes = int32s(r, r.int16());
      r.end();
      return { kind: 'Parse', name, sql, paramTypes };
    }
    case F.Bind: {
      const portal = r.cstring();
      const statement = r.cstring();
      const paramFormats = int16s(r, r.int16());
      const nParams = r.int16();
      const params: (Buffer | null)[] = [];
      for (let i = 0; i < nParams; i++) {
        const len = r.int32();
        // Views of the message, not copies: Bind decodes each at once into a value of its own (a string, a
        // number, a bytea's own copy), so nothing keeps the socket's chunk alive through them.
        params.push(len === -1 ? null : r.bytes(len));
      }
      const resultFormats = int16s(r, r.int16());
      r.end();
      return { kind: 'Bind', portal, statement, paramFormats, params, resultFormats };
    }
    case F.Describe: {
      const kind = r.byte();
      return { kind: 'Describe', name: r.cstring(), target: target(kind, 'DESCRIBE') };
    }
    case F.Execute:
      return { kind: 'Execute', portal: r.cstring(), maxRows: r.int32() };
    case F.Close: {
      const kind = r.byte();
      return { kind: 'Close', name: r.cstring(), target: target(kind, 'CLOSE') };
    }
    case F.Sync:
      return { kind: 'Sync' };
    case F.Flush:
      return { kind: 'Flush' };
    case F.Terminate:
      return { kind: 'Terminate' };
    case F.FunctionCall:
      return { kind: 'FunctionCall' };
    case F.CopyData:
      return { kind: 'CopyData', data: frame.body };
    case F.CopyDone:
      return { kind: 'CopyDone' };
    case F.CopyFail:
      return { kind: 'CopyFail', message: decodeCopyFail(frame.body) };
    case F.Password:
      return { kind: 'Password', body: frame.body };
    default:
      throw new ProtocolViolation(`invalid frontend message type ${frame.type}`);
  }
}

function target(kind: number, message: string): Target {
  if (kind === TargetKind.Statement) return 'statement';
  if (kind === TargetKind.Portal) return 'portal';
  throw new ProtocolViolation(`invalid ${message} message subtype ${codeChar(kind)}`);
}

function int16s(r: BodyReader, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(r.int16());
  return out;
}

function int32s(r: BodyReader, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(r.int32());
  return out;
}

/** CopyFail: the client's reason. */
export const decodeCopyFail = (body: Buffer): string => new BodyReader(body).cstring();

/** PasswordMessage: the password (cleartext or md5 response). */
export const decodePassword = (body: Buffer): string => new BodyReader(body).cstring();

/** SASLInitialResponse: the chosen mechanism and the client-first-message. */
export function decodeSaslInitialResponse(body: Buffer): { mechanism: string; data: string } {
  const r = new BodyReader(body);
  const mechanism = r.cstring();
  const len = r.int32();
  return { mechanism, data: r.bytes(len).toString('utf8') };
}

/** SASLResponse: the client-final-message. */
export const decodeSaslResponse = (body: Buffer): string => body.toString('utf8');
