// Connection slots, as PostgreSQL's postmaster and InitPostgres count them: max_connections sessions, of
// which the last superuser_reserved_connections are for sysadmins. Connections that have not yet logged in
// count too, bounded by max_connections of their own (the postmaster's limit on its children is of the same
// kind), so idle sockets cannot pile up: each leaves at authentication_timeout, and beyond the bound a new
// one is answered 53300 at once instead of waiting.
import { Fatal } from './fatal';

export const TOO_MANY_CLIENTS = 'sorry, too many clients already';
/** PostgreSQL 15's wording (16 names the SUPERUSER attribute instead). */
export const RESERVED_FOR_SUPERUSERS =
  'remaining connection slots are reserved for non-replication superuser connections';

export class Admission {
  private sessions = 0;
  private unauthenticated = 0;

  constructor(
    private readonly maxConnections: number,
    private readonly reservedForSuperusers: number,
  ) {}

  /** A new socket: false when it must be answered 53300 and closed. Otherwise the caller must leave(). */
  arrive(): boolean {
    if (this.unauthenticated >= this.maxConnections) return false;
    this.unauthenticated++;
    return true;
  }

  /** Authentication succeeded: takes a session slot or throws FATAL 53300. */
  admit(superuser: boolean): void {
    if (this.sessions >= this.maxConnections) throw new Fatal('53300', TOO_MANY_CLIENTS);
    if (!superuser && this.sessions >= this.maxConnections - this.reservedForSuperusers)
      throw new Fatal('53300', RESERVED_FOR_SUPERUSERS);
    this.unauthenticated--;
    this.sessions++;
  }

  /** The connection is gone; admitted says whether it held a session slot. */
  leave(admitted: boolean): void {
    if (admitted) this.sessions--;
    else this.unauthenticated--;
  }

  get counts(): { sessions: number; unauthenticated: number } {
    return { sessions: this.sessions, unauthenticated: this.unauthenticated };
  }
}
