// One backend as pg_stat_activity shows it (PostgreSQL's PgBackendStatus, the part a client sees). The wire
// keeps it for each session; the catalog's pg_stat_activity and pg_cancel_backend() read a snapshot of all.

export type BackendState = 'active' | 'idle' | 'idle in transaction' | 'idle in transaction (aborted)';

export interface BackendActivity {
  pid: number;
  usename: string;
  datname: string;
  /** The session's role has the sysadmin (superuser) attribute. */
  superuser: boolean;
  application_name: string;
  client_addr: string | null;
  client_port: number | null;
  /** Milliseconds since the epoch. */
  backend_start: number;
  xact_start: number | null;
  query_start: number | null;
  state_change: number;
  state: BackendState;
  /** The current query, or the last one when idle. */
  query: string;
}

/** pg_cancel_backend() and pg_terminate_backend(). */
export type BackendSignal = 'cancel' | 'terminate';
