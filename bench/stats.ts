// Rounds of a benchmark: segtasks and its peer (or physical limit) run in turn, segtasks, peer, segtasks,
// peer, ..., so that the drift of a shared machine hits both sides alike; each round gives one ratio
// (segtasks' figure over the peer's, taken next to each other in time), and what is quoted is the median of
// the rounds' ratios with their spread (min and max).

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

/** Median (mean of the two middle values for an even count), min and max. */
export function spread(values: number[]): Spread {
  if (!values.length) throw new RangeError('no values to summarize');
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
}

/**
 * Runs `rounds` pairs in alternation: before each side `prepare` (drop caches, reset state) if given, then
 * ours, then the peer. Returns both sides' results in round order.
 */
export async function alternate<A, B>(
  rounds: number,
  ours: (round: number) => Promise<A>,
  peer: (round: number) => Promise<B>,
  prepare?: (side: 'ours' | 'peer', round: number) => Promise<void>,
): Promise<{ ours: A[]; peer: B[] }> {
  const out: { ours: A[]; peer: B[] } = { ours: [], peer: [] };
  for (let r = 0; r < rounds; r++) {
    await prepare?.('ours', r);
    out.ours.push(await ours(r));
    await prepare?.('peer', r);
    out.peer.push(await peer(r));
  }
  return out;
}

/** The rounds' ratios, ours[i] / peer[i]. */
export function pairRatios(ours: number[], peer: number[]): number[] {
  if (ours.length !== peer.length) throw new RangeError('both sides need the same number of rounds');
  return ours.map((o, i) => o / peer[i]);
}
