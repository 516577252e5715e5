// Console login sessions: in memory (a restart logs everyone out, which is what a restart of the server should
// do), each with an idle expiry and its own CSRF token. The session id travels only in an HttpOnly,
// SameSite=Strict cookie; forms that change something also carry the CSRF token, checked in constant time.
import { randomBytes, timingSafeEqual } from 'node:crypto';

export interface ConsoleSession {
  id: string;
  user: string;
  csrf: string;
  expiresAt: number;
  /** A message for the next page shown to this session (after a redirect), as markup. */
  flash?: string;
}

export const SESSION_COOKIE = 'segtasks_session';

export class SessionStore {
  private readonly sessions = new Map<string, ConsoleSession>();

  constructor(
    /** Idle time after which a session ends. */
    private readonly idleMs = 30 * 60 * 1000,
    private readonly now: () => number = Date.now,
  ) {}

  create(user: string): ConsoleSession {
    this.sweep();
    const s: ConsoleSession = {
      id: randomBytes(32).toString('base64url'),
      user,
      csrf: randomBytes(24).toString('base64url'),
      expiresAt: this.now() + this.idleMs,
    };
    this.sessions.set(s.id, s);
    return s;
  }

  /** The live session with this id, its expiry pushed forward; undefined when unknown or expired. */
  touch(id: string | undefined): ConsoleSession | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (s.expiresAt <= this.now()) {
      this.sessions.delete(id);
      return undefined;
    }
    s.expiresAt = this.now() + this.idleMs;
    return s;
  }

  /** Whether the session still lives, without extending it (a page left open does not keep it alive). */
  alive(id: string): boolean {
    const s = this.sessions.get(id);
    return s !== undefined && s.expiresAt > this.now();
  }

  end(id: string): void {
    this.sessions.delete(id);
  }

  /** Ends every session of a user (after DROP USER, for instance). */
  endUser(user: string): void {
    for (const [id, s] of this.sessions) if (s.user === user) this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  get idleSeconds(): number {
    return Math.floor(this.idleMs / 1000);
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(id);
  }
}

export function csrfMatches(session: ConsoleSession, given: string | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    try {
      out.set(part.slice(0, eq).trim(), decodeURIComponent(part.slice(eq + 1).trim()));
    } catch {
      // A cookie that is not valid percent-encoding is someone else's: ignore it.
    }
  }
  return out;
}
