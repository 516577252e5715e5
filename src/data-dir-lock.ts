// One server per data directory. Two task engines on the same devices would each rebuild and move segments
// behind the other's back, so a server takes the data directory before it opens the catalog.
//
// The exclusive part is a Unix socket in Linux's abstract namespace, named after the directory's real path:
// binding it succeeds for exactly one process, and the kernel releases it when that process exits in any way
// (kill -9 included), so there is no stale lock to clean up and no window between checking and taking it.
// The PID of the holder is written to segtasks.pid in the directory, only to name it in the refusal.
import { createHash } from 'node:crypto';
import { readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holderPid: number | null,
  ) {
    super(
      `data directory ${dataDir} is in use by another segtasks server${holderPid ? ` (PID ${holderPid})` : ''}: stop it first, or choose another --data-dir`,
    );
  }
}

export interface DataDirLock {
  pidFile: string;
  release(): Promise<void>;
}

export const PID_FILE = 'segtasks.pid';

/** The abstract socket name that stands for a data directory (the same for every path that leads to it). */
function lockName(dataDir: string): string {
  const hash = createHash('sha256').update(realpathSync(dataDir)).digest('hex').slice(0, 40);
  return `\0segtasks-data-dir-${hash}`;
}

/** The PID in the file, if that process is alive (a holder that has not written it yet leaves an old one). */
function holderPid(pidFile: string): number | null {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(pidFile, 'utf8'), 10);
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? pid : null;
  }
}

/** Takes the data directory (which must exist) for this process, or fails with DataDirLockedError. */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const pidFile = join(dataDir, PID_FILE);
  const server: Server = createServer((conn) => conn.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? new DataDirLockedError(dataDir, holderPid(pidFile)) : err),
    );
    server.listen(lockName(dataDir), () => resolve());
  });
  // The socket must not keep the process alive on its own.
  server.unref();
  writeFileSync(pidFile, `${process.pid}\n`);
  return {
    pidFile,
    async release() {
      if (holderPid(pidFile) === process.pid) rmSync(pidFile, { force: true });
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
