// Measures how fast another connection is answered while something heavy runs: SELECT 1 (or the query given)
// in a loop, one at a time, until stopped (or until maxQueries, so the loop is bounded whatever happens). The loop runs in a
// worker thread, so that the heavy client's own work in the test's thread does not count against the server.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import pg from 'pg';

export interface LatencyReport {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export interface LatencyProbe {
  stop(): Promise<LatencyReport>;
}

export async function startLatencyProbe(
  config: pg.ClientConfig,
  maxQueries = 20_000,
  query = 'SELECT 1',
): Promise<LatencyProbe> {
  const worker = new Worker(__filename, { workerData: { config, maxQueries, query } });
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  return {
    stop: () =>
      new Promise<LatencyReport>((resolve, reject) => {
        worker.once('message', (r: LatencyReport) => {
          void worker.terminate();
          resolve(r);
        });
        worker.once('error', reject);
        worker.postMessage('stop');
      }),
  };
}

async function probeLoop(config: pg.ClientConfig, maxQueries: number, query: string): Promise<void> {
  const client = new pg.Client(config);
  await client.connect();
  const times: number[] = [];
  let stopping = false;
  parentPort!.on('message', () => (stopping = true));
  parentPort!.postMessage('ready');
  while (!stopping && times.length < maxQueries) {
    const t0 = performance.now();
    await client.query(query);
    times.push(performance.now() - t0);
    // A pause between queries, so the probe measures waiting, not its own load.
    await new Promise((r) => setTimeout(r, 2));
  }
  while (!stopping) await new Promise((r) => setTimeout(r, 10));
  await client.end();
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const round = (n: number) => Math.round(n * 10) / 10;
  parentPort!.postMessage({
    count: sorted.length,
    p50: round(at(0.5)),
    p99: round(at(0.99)),
    max: round(sorted.at(-1) ?? 0),
  });
}

if (!isMainThread && workerData?.config)
  void probeLoop(workerData.config, workerData.maxQueries, workerData.query);
