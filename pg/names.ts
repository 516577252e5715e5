// PostgreSQL's NAMEDATALEN: names (identifiers, user, database and application names, channels) are at most
// NAMEDATALEN - 1 bytes; longer ones are truncated where PostgreSQL truncates them, refused where it refuses.

export const NAMEDATALEN = 64;

/** Cuts s to at most NAMEDATALEN - 1 UTF-8 bytes, never in the middle of a character. */
export function truncateName(s: string): string {
  if (s.length < NAMEDATALEN / 4 || Buffer.byteLength(s) < NAMEDATALEN) return s;
  let bytes = 0;
  let out = '';
  for (const ch of s) {
    bytes += Buffer.byteLength(ch);
    if (bytes > NAMEDATALEN - 1) break;
    out += ch;
  }
  return out;
}
