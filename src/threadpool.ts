// The size of libuv's thread pool, set for this process before anything uses the pool. Every file read, write
// and fsync of a repair (and of COPY and check_disk) runs on that pool; with libuv's default of four threads the
// reads of a rebuild or rebalance wait behind its write-backs and directory fsyncs (docs/benchmarks.md, sessions
// 10-11). libuv reads UV_THREADPOOL_SIZE once, when the pool is first used, so this module must be the first
// import of an entry point (src/cli.ts, and the benches that start the app in process, so that they measure
// what the server runs with). A size the user set in the environment is kept as it is.
// 8 and not 16: on the repair bench (docs/benchmarks.md, session 11, branch repair8) the two did the same (rebuild
// 0.81x / 0.79x of its bound against 0.73x with four, rebalance 0.80x / 0.81x against 0.80x), and sixteen threads
// on two cores spent twice as long waiting for a CPU (1.45 s against 0.87 s a rebuild).

/** The pool size the server asks libuv for when the environment does not name one. */
export const SERVER_THREADPOOL_SIZE = 8;

/** The pool size for a process with environment `env`: the user's setting when there is one, else the server's. */
export function threadpoolSize(env: NodeJS.ProcessEnv): string {
  const given = env.UV_THREADPOOL_SIZE;
  return given !== undefined && given.trim() !== '' ? given : String(SERVER_THREADPOOL_SIZE);
}

process.env.UV_THREADPOOL_SIZE = threadpoolSize(process.env);
