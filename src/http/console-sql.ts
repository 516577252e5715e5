// Runs one statement for a console user through the same QueryHandler the wire server uses, with a session of
// that user, and reports the outcome as psql would show it: the command tag and NOTICEs, or the error with
// its SQLSTATE.
import { SqlError } from '../../pg/errors';
import type { ClientSession, Notice, QueryHandler } from '../../wire/handler';

export type SqlOutcome =
  | { ok: true; tag: string; notices: Notice[] }
  | { ok: false; code: string; message: string; hint?: string; detail?: string };

/** A session view for statements run from the console: the user's own settings, as a new session has them. */
class ConsoleClientSession implements ClientSession {
  readonly database = 'segtasks';
  readonly backendPid = 0;
  /** Each console statement runs on its own, as a psql statement outside BEGIN does. */
  readonly inTransactionBlock = false;
  settingsVersion = 0;
  private readonly settings = new Map<string, string>([['application_name', 'segtasks console']]);

  constructor(
    readonly user: string,
    extra: Record<string, string>,
  ) {
    for (const [k, v] of Object.entries(extra)) this.settings.set(k, v);
  }

  setting(name: string): string | undefined {
    return this.settings.get(name);
  }

  setSetting(name: string, value: string): void {
    this.settings.set(name, value);
    this.settingsVersion++;
  }

  allSettings(): [string, string][] {
    return [...this.settings];
  }
}

export async function runAs(handler: QueryHandler, user: string, sql: string): Promise<SqlOutcome> {
  const session = new ConsoleClientSession(user, (await handler.sessionSettings?.(user)) ?? {});
  const notices: Notice[] = [];
  try {
    const prepared = await handler.prepare(sql, [], session, false);
    const result = await prepared.execute([], {
      session,
      signal: new AbortController().signal,
      notice: (n) => notices.push(n),
    });
    if (result.kind === 'command') return { ok: true, tag: result.tag, notices };
    if (result.kind === 'rows') return { ok: true, tag: `${result.tag} ${result.rows.length}`, notices };
    return { ok: false, code: '0A000', message: 'COPY is not available from the console' };
  } catch (err) {
    if (err instanceof SqlError)
      return {
        ok: false,
        code: err.code,
        message: err.message,
        hint: err.extra.hint,
        detail: err.extra.detail,
      };
    return { ok: false, code: 'XX000', message: err instanceof Error ? err.message : String(err) };
  }
}
