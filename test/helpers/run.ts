// Runs a client program as a subprocess and returns what it printed.
import { spawn } from 'node:child_process';

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function run(
  cmd: string,
  args: string[],
  opts: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

export const PYTHON = '/usr/bin/python3';
export const JDBC_JAR = '/usr/share/java/postgresql.jar';

/**
 * Runs one of the single-file Java client programs in test/clients with pgjdbc and returns its "key=value"
 * lines as an object (the programs print what they observed that way).
 */
export async function runJdbcProgram(
  name: string,
  args: string[],
): Promise<{ code: number | null; stderr: string; out: Record<string, string> }> {
  const { join } = await import('node:path');
  const program = join(__dirname, '..', '..', '..', 'test', 'clients', name);
  const r = await run('java', ['-cp', JDBC_JAR, program, ...args], { timeoutMs: 90_000 });
  const out = Object.fromEntries(
    r.stdout
      .trim()
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return { code: r.code, stderr: r.stderr, out };
}
