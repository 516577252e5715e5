// Startup and authentication (PostgreSQL's ProcessStartupPacket and auth.c): answers SSL/GSSENC requests,
// passes CancelRequest on, checks the protocol version, then runs the configured password exchange.
import { randomBytes } from 'node:crypto';
import type { SecureContext } from 'node:tls';
import { type AuthMethod, checkMd5Response, checkPassword, ScramError, ScramExchange } from '../pg/auth';
import type { WireLogger } from './backend';
import * as msg from './backend-messages';
import { Fatal, ProtocolViolation } from './fatal';
import {
  decodePassword,
  decodeSaslInitialResponse,
  decodeSaslResponse,
  decodeStartupPacket,
} from './frontend-messages';
import type { QueryHandler } from './handler';
import { codeChar, EncryptionAnswer, FrontendCode } from './message-codes';
import type { Transport } from './transport';

export interface StartupRequest {
  user: string;
  database: string;
  /** Every parameter of the StartupMessage, user and database included. */
  params: Map<string, string>;
}

/**
 * Reads startup packets until a StartupMessage; returns null when the connection ends without one (it
 * closed, or it was a CancelRequest, which cancel() has passed on).
 */
export async function readStartup(
  transport: Transport,
  tls: SecureContext | null,
  cancel: (pid: number, secret: number) => void,
  logger: WireLogger,
): Promise<StartupRequest | null> {
  for (;;) {
    const f = await transport.next();
    if (!f) return null;
    const packet = decodeStartupPacket(f.body);
    logger.debug({ kind: packet.kind, len: f.body.length }, 'startup message');
    switch (packet.kind) {
      case 'SSLRequest':
      case 'GSSENCRequest':
        if (transport.pendingBytes)
          throw new ProtocolViolation('received unencrypted data after SSL request');
        if (packet.kind === 'SSLRequest' && tls) {
          transport.writeByte(EncryptionAnswer.Accepted);
          await transport.upgradeToTls(tls);
        } else transport.writeByte(EncryptionAnswer.Refused);
        transport.expectStartupPacket();
        continue;
      case 'CancelRequest':
        cancel(packet.pid, packet.secret);
        return null;
      case 'UnsupportedProtocol':
        throw new Fatal(
          '0A000',
          `unsupported frontend protocol ${packet.major}.${packet.minor}: server supports 3.0 to 3.0`,
        );
      case 'StartupMessage': {
        const user = packet.params.get('user') ?? '';
        if (!user) throw new Fatal('28000', 'no PostgreSQL user name specified in startup packet');
        return { user, database: packet.params.get('database') || user, params: packet.params };
      }
    }
  }
}

export interface AuthOptions {
  method: AuthMethod;
  handler: QueryHandler;
  /** Keys the mock SCRAM exchange for unknown users. */
  mockSecret: Buffer;
  logger: WireLogger;
  remote: string;
}

/** Runs the password exchange for user; throws Fatal (28000/28P01) when it fails. AuthenticationOk is the caller's. */
export async function authenticate(transport: Transport, user: string, o: AuthOptions): Promise<void> {
  const creds = await o.handler.credentials(user);
  const failed: (method: string) => never = (method) => {
    o.logger.warn({ remote: o.remote, user, method }, 'authentication failed');
    throw new Fatal('28P01', `password authentication failed for user "${user}"`);
  };
  const response = async (): Promise<Buffer> => {
    await transport.flush();
    const f = await transport.next();
    if (!f) throw new Fatal('08006', 'connection closed during authentication');
    if (f.type !== FrontendCode.Password)
      throw new ProtocolViolation(`expected password response, got message type "${codeChar(f.type)}"`);
    return f.body;
  };
  switch (o.method) {
    case 'trust':
      if (!creds) throw new Fatal('28000', `role "${user}" does not exist`);
      return;
    case 'password': {
      transport.send(msg.authenticationCleartext());
      if (!checkPassword(user, decodePassword(await response()), creds)) failed('password');
      return;
    }
    case 'md5': {
      const salt = randomBytes(4);
      transport.send(msg.authenticationMd5(salt));
      if (!checkMd5Response(decodePassword(await response()), salt, creds)) failed('md5');
      return;
    }
    case 'scram': {
      transport.send(msg.authenticationSasl(['SCRAM-SHA-256']));
      const first = decodeSaslInitialResponse(await response());
      if (first.mechanism !== 'SCRAM-SHA-256')
        throw new Fatal('28000', `unsupported SASL mechanism "${first.mechanism}"`);
      const exchange = new ScramExchange(user, creds?.scramVerifier ?? null, o.mockSecret);
      try {
        transport.send(msg.authenticationSaslContinue(exchange.start(first.data)));
        const serverFinal = exchange.finish(decodeSaslResponse(await response()));
        if (!serverFinal) failed('scram');
        transport.send(msg.authenticationSaslFinal(serverFinal));
      } catch (err) {
        if (err instanceof ScramError) throw new Fatal('08P01', err.message);
        throw err;
      }
      return;
    }
  }
}
