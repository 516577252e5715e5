// Prepared statements and portals, like PostgreSQL's portalmem.c plus the statement cache of postgres.c:
// two namespaces where the unnamed entry is silently replaced and a named one must be closed first. SQL's
// PREPARE / DEALLOCATE share the statements with Parse / Close, DECLARE / CLOSE share the portals with Bind.

import { SqlError } from '../pg/errors';
import type { FieldDescription } from './backend-messages';
import type { Cursor } from './cursor';
import type { PreparedQuery } from './handler';
import type { SessionCommand } from './session';

export interface Statement {
  sql: string;
  paramTypes: number[];
  /**
   * A statement is a session command (run by the wire layer), a handler query, or empty (both null).
   * DECLARE is both: the command, and its query planned with the statement.
   */
  sessionCommand: SessionCommand | null;
  query: PreparedQuery | null;
}

/**
 * A portal's result rows once it has run: the cursor over them (which may hold a reader until it is closed),
 * how to describe and tag them.
 */
export interface PortalRows {
  cursor: Cursor;
  fields: FieldDescription[];
  tag: string;
  /** A BINARY cursor sends every column in binary, whatever the FETCH asked. */
  binary: boolean;
}

export interface Portal {
  statement: Statement;
  /** The prepared statement's name ('' for the unnamed one or a statement of a simple Query). */
  statementName: string;
  params: unknown[];
  resultFormats: number[];
  rows: PortalRows | null;
  done: boolean;
  /** DECLARE ... WITH HOLD: survives the COMMIT of its transaction. */
  holdable: boolean;
  /** A holdable cursor whose transaction has not committed yet: a ROLLBACK drops it. */
  uncommitted: boolean;
}

export function newPortal(statement: Statement, params: unknown[], resultFormats: number[]): Portal {
  return {
    statement,
    statementName: '',
    params,
    resultFormats,
    rows: null,
    done: false,
    holdable: false,
    uncommitted: false,
  };
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

  findStatement(name: string): Statement | undefined {
    return this.statements.get(name);
  }

  checkPortalFree(name: string): void {
    if (name && this.portals.has(name)) throw new SqlError('42P03', `cursor "${name}" already exists`);
  }

  addPortal(name: string, portal: Portal): void {
    this.checkPortalFree(name);
    // The unnamed portal is replaced silently: what the old one held is freed.
    this.drop(name);
    this.portals.set(name, portal);
  }

  /** Removes a portal and frees the reader its rows may hold. */
  private drop(name: string): void {
    const p = this.portals.get(name);
    if (!p) return;
    this.portals.delete(name);
    p.rows?.cursor.close();
  }

  portal(name: string): Portal {
    const portal = this.portals.get(name);
    if (!portal) throw new SqlError('34000', `portal "${name}" does not exist`);
    return portal;
  }

  /** A portal as FETCH, MOVE and CLOSE name it. */
  cursor(name: string): Portal {
    const portal = this.portals.get(name);
    if (!portal) throw new SqlError('34000', `cursor "${name}" does not exist`);
    return portal;
  }

  findPortal(name: string): Portal | undefined {
    return this.portals.get(name);
  }

  /** Close: closing what does not exist is not an error. */
  closeStatement(name: string): void {
    this.statements.delete(name);
  }

  /** DEALLOCATE: unlike Close, an unknown name is an error. */
  deallocate(name: string): void {
    if (!this.statements.delete(name))
      throw new SqlError('26000', `prepared statement "${name}" does not exist`);
  }

  deallocateAll(): void {
    this.statements.clear();
  }

  closePortal(name: string): void {
    this.drop(name);
  }

  /** CLOSE ALL: every cursor and portal of the session (and at disconnect). */
  closeAllPortals(): void {
    for (const name of [...this.portals.keys()]) this.drop(name);
  }

  /**
   * At the end of a transaction, as AtCommit_Portals / AtAbort_Portals: portals live no longer, except
   * holdable cursors, which a COMMIT keeps and a ROLLBACK keeps only if they were committed before.
   */
  endTransaction(committed: boolean): void {
    for (const [name, p] of this.portals) {
      if (!p.holdable || (!committed && p.uncommitted)) this.drop(name);
      else p.uncommitted = false;
    }
  }

  /** DISCARD ALL. */
  closeAll(): void {
    this.statements.clear();
    this.closeAllPortals();
  }
}
