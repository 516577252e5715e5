// The StartupMessage's "options" parameter, as PostgreSQL's pg_split_opts and process_postgres_switches read
// it: command-line switches separated by spaces (a backslash keeps the next character, spaces included);
// `-c name=value` and `--name=value` set a run-time setting. Other switches are refused, as a server that
// has no such switches must.
import { Fatal } from './fatal';

export function parseStartupOptions(options: string): [string, string][] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < options.length; i++) {
    const c = options[i];
    if (c === '\\' && i + 1 < options.length) {
      word += options[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  const settings: [string, string][] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    let assignment: string | undefined;
    if (w === '-c') assignment = words[++i];
    else if (w.startsWith('-c')) assignment = w.slice(2);
    else if (w.startsWith('--')) assignment = w.slice(2);
    else throw new Fatal('42601', `invalid command-line argument for server process: ${w}`);
    const eq = assignment?.indexOf('=') ?? -1;
    if (!assignment || eq <= 0) {
      throw new Fatal(
        '42601',
        assignment
          ? `-c ${assignment} requires a value`
          : 'invalid command-line argument for server process: -c',
      );
    }
    // PostgreSQL accepts dashes for underscores in switch names.
    settings.push([assignment.slice(0, eq).replace(/-/g, '_'), assignment.slice(eq + 1)]);
  }
  return settings;
}
