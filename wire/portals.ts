// Prepared statements and portals, like PostgreSQL's portalmem.c plus the statement cache of postgres.c:
// two namespaces where the unnamed entry is silently replaced and a named one must be closed first.

import { SqlError } from '../pg/errors';
import type { FieldDescription } from './backend-messages';
import type { PreparedQuery } from './handler';
import type { SessionCommand } from './session';

export interface Statement {
  sql: string;
  paramTypes: number[];
  /** A statement is a session command (run by the wire layer), a handler query, or empty (both null). */
  sessionCommand: SessionCommand | null;
  query: PreparedQuery | null;
}

/** Rows of a portal's result still to send: Execute with a row limit leaves the rest here (PortalSuspended). */
export interface PendingRows {
  rows: unknown[][];
  sent: number;
  tag: string;
  fields: FieldDescription[];
}

export interface Portal {
  statement: Statement;
  params: unknown[];
  resultFormats: number[];
  pending: PendingRows | null;
  done: boolean;
}

export function newPortal(statement: Statement, params: unknown[], resultFormats: number[]): Portal {
  return { statement, params, resultFormats, pending: null, done: false };
}

export class PortalRegistry {
  private readonly statements = new Map<string, Statement>();
  private readonly portals = new Map<string, Portal>();

  /** Fails early, before planning, when a named statement already exists. */
  checkStatementFree(name: string): void {
    if (name && this.statements.has(name))
      throw new SqlError('42P05', `prepared statement "${name}" already exists`);
  }

  addStatement(name: string, stmt: Statement): void {
    this.statements.set(name, stmt);
  }

  statement(name: string): Statement {
    const stmt = this.statements.get(name);
    if (!stmt) throw new SqlError('26000', `prepared statement "${name}" does not exist`);
    return stmt;
  }

  addPortal(name: string, portal: Portal): void {
    if (name && this.portals.has(name)) throw new SqlError('42P03', `cursor "${name}" already exists`);
    this.portals.set(name, portal);
  }

  portal(name: string): Portal {
    const portal = this.portals.get(name);
    if (!portal) throw new SqlError('34000', `portal "${name}" does not exist`);
    return portal;
  }

  /** Close: closing what does not exist is not an error. */
  closeStatement(name: string): void {
    this.statements.delete(name);
  }

  closePortal(name: string): void {
    this.portals.delete(name);
  }

  /** At the end of a transaction (portals live no longer). */
  closePortals(): void {
    this.portals.clear();
  }

  /** DISCARD ALL. */
  closeAll(): void {
    this.statements.clear();
    this.portals.clear();
  }
}
