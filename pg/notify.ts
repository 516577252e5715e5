// The limits PostgreSQL's commands/async.c puts on a notification, with its SQLSTATEs and wording: NOTIFY and
// pg_notify() check them where they are called, whichever layer runs them.

import { SqlError } from './errors';
import { NAMEDATALEN } from './names';

/** NOTIFY_PAYLOAD_MAX_LENGTH = BLCKSZ - NAMEDATALEN - 128. */
export const MAX_PAYLOAD_BYTES = 8000;

/** The checks of async.c's Async_Notify. */
export function checkNotification(channel: string, payload: string): void {
  if (!channel) throw new SqlError('22023', 'channel name cannot be empty');
  if (Buffer.byteLength(channel) >= NAMEDATALEN) throw new SqlError('22023', 'channel name too long');
  if (Buffer.byteLength(payload) >= MAX_PAYLOAD_BYTES) throw new SqlError('22023', 'payload string too long');
}
