// Removals that fail: a file the catalog no longer points at (a replaced source, a copy given up, a failed
// COPY's segments) stays until the orphan scan at the next start removes it, so a failed removal loses
// nothing; but it is told, where, which file and why, instead of being swallowed: a disk that refuses
// unlinks (read-only remount, EACCES) is something an operator wants to know before the next start.
import type { Logger } from 'pino';
import type { DeviceIO } from './device-io';

export type RemovalLog = Pick<Logger, 'warn'>;

/** Tells nothing (tests, tools). */
export const SILENT: RemovalLog = { warn: () => {} };

/** How many of a failed removal's paths a log line or report names. */
const PATHS_NAMED = 10;

/**
 * What a removal that failed left behind, for a log line: where, how many files, the one that failed when the
 * error names it, the first paths, and the error. A file already gone (ENOENT) is no failure: null.
 */
export function failedRemoval(
  where: string,
  paths: readonly string[],
  err: unknown,
): { where: string; files: number; path?: string; paths: string[]; error: string } | null {
  const e = err as NodeJS.ErrnoException | undefined;
  if (e?.code === 'ENOENT') return null;
  return {
    where,
    files: paths.length,
    ...(e?.path ? { path: e.path } : {}),
    paths: paths.slice(0, PATHS_NAMED),
    error: e?.message ?? String(err),
  };
}

export type FailedRemoval = NonNullable<ReturnType<typeof failedRemoval>>;

/** Removes `paths` through `dio`: null, or what failed (said of `where`, the device I/O's by default). */
export async function tryRemove(
  dio: Pick<DeviceIO, 'remove' | 'where'>,
  paths: string[],
  where = dio.where,
): Promise<FailedRemoval | null> {
  try {
    await dio.remove(paths);
    return null;
  } catch (err) {
    return failedRemoval(where, paths, err);
  }
}

/** Removes `paths` through `dio`; a failure is told to `log` as `what`, never thrown. */
export async function removeTold(
  dio: Pick<DeviceIO, 'remove' | 'where'>,
  paths: string[],
  log: RemovalLog,
  what: string,
): Promise<void> {
  const failed = await tryRemove(dio, paths);
  if (failed) log.warn(failed, what);
}
