// The StartupMessage's "options" parameter, as PostgreSQL's pg_split_opts and process_postgres_switches read
// it: command-line switches separated by spaces (a backslash keeps the next character, spaces included);
// `-c name=value` and `--name=value` set a run-time setting. Other switches are refused, as a server that
// has no such switches must.
import { Fatal } from './fatal';

export function parseStartupOptions(options: string): [string, string][] {
  const words: string[] = [];
  // Words are separated by spaces; a backslash escapes the next character (pg_split_opts).
  let word = '';
  let escaped = false;
  let any = false;
  for (const c of options) {
    if (escaped) {
      word += c;
      escaped = false;
    } else if (c === '\\') {
      escaped = true;
      any = true;
    } else if (/\s/.test(c)) {
      if (any) words.push(word);
      word = '';
      any = false;
    } else {
      word += c;
      any = true;
    }
  }
  if (any) words.push(word);
  const settings: [string, string][] = [];
  for (let i = 0; i < words.length; i++) {
    let pair: string | undefined;
    if (words[i] === '-c') pair = words[++i];
    else if (words[i].startsWith('-c')) pair = words[i].slice(2);
    else if (words[i].startsWith('--')) pair = words[i].slice(2);
    else throw new Fatal('42601', `invalid command-line argument for server process: ${words[i]}`);
    const eq = pair?.indexOf('=') ?? -1;
    if (!pair || eq <= 0) throw new Fatal('42601', `-c ${pair ?? ''} requires a value`);
    settings.push([pair.slice(0, eq).replace(/-/g, '_'), pair.slice(eq + 1)]);
  }
  return settings;
}
