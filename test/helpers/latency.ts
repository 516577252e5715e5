// Measures how fast another connection is answered while something heavy runs: SELECT 1 in a loop, one at a
// time, until stopped (or until maxQueries, so the loop is bounded whatever happens).
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

export async function startLatencyProbe(config: pg.ClientConfig, maxQueries = 20_000): Promise<LatencyProbe> {
  const client = new pg.Client(config);
  await client.connect();
  const times: number[] = [];
  let stopping = false;
  const loop = (async () => {
    while (!stopping && times.length < maxQueries) {
      const t0 = performance.now();
      await client.query('SELECT 1');
      times.push(performance.now() - t0);
      // A pause between queries, so the probe measures waiting, not its own load.
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  return {
    async stop() {
      stopping = true;
      await loop;
      await client.end();
      const sorted = [...times].sort((a, b) => a - b);
      const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
      const round = (n: number) => Math.round(n * 10) / 10;
      return {
        count: sorted.length,
        p50: round(at(0.5)),
        p99: round(at(0.99)),
        max: round(sorted.at(-1) ?? 0),
      };
    },
  };
}
