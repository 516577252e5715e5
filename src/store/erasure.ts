// Reed-Solomon over @ronomon/reed-solomon (native, runs on the libuv thread pool). A group of width n has
// k = n - m data shards and m parity shards, all of the same size (a multiple of 8 bytes).
// Shard i < k lives in `data` at i * shardSize; shard k + j lives in `parity` at j * shardSize.

// biome-ignore lint/suspicious/noExplicitAny: the module ships no types
const RS: any = require('@ronomon/reed-solomon');

export class ErasureCoder {
  private readonly context: unknown;

  constructor(
    readonly k: number,
    readonly m: number,
  ) {
    if (k < 1 || m < 0 || k > RS.MAX_K || m > RS.MAX_M) {
      throw new RangeError(
        `unsupported code: ${k} data + ${m} parity shards (at most ${RS.MAX_K} + ${RS.MAX_M})`,
      );
    }
    this.context = m > 0 ? RS.create(k, m) : null;
  }

  /** Computes all parity shards from the data shards. */
  encode(data: Buffer, parity: Buffer, shardSize: number): Promise<void> {
    if (this.m === 0) return Promise.resolve();
    let sources = 0;
    for (let i = 0; i < this.k; i++) sources |= 1 << i;
    let targets = 0;
    for (let i = this.k; i < this.k + this.m; i++) targets |= 1 << i;
    return this.run(sources, targets, data, parity, shardSize);
  }

  /**
   * Rebuilds the shards listed in `missing` (indexes 0..n-1) in place from the others. Needs at least k
   * shards present; throws otherwise.
   */
  reconstruct(data: Buffer, parity: Buffer, shardSize: number, missing: number[]): Promise<void> {
    if (!missing.length) return Promise.resolve();
    if (missing.length > this.m) {
      throw new RangeError(`${missing.length} shards lost, but only ${this.m} can be rebuilt`);
    }
    let targets = 0;
    for (const i of missing) targets |= 1 << i;
    let sources = 0;
    for (let i = 0; i < this.k + this.m; i++) if (!(targets & (1 << i))) sources |= 1 << i;
    return this.run(sources, targets, data, parity, shardSize);
  }

  private run(
    sources: number,
    targets: number,
    data: Buffer,
    parity: Buffer,
    shardSize: number,
  ): Promise<void> {
    if (shardSize % 8 !== 0) throw new RangeError(`shard size ${shardSize} is not a multiple of 8`);
    return new Promise((resolve, reject) => {
      RS.encode(
        this.context,
        sources,
        targets,
        data,
        0,
        shardSize * this.k,
        parity,
        0,
        shardSize * this.m,
        (err: Error | undefined) => (err ? reject(err) : resolve()),
      );
    });
  }
}

const coders = new Map<string, ErasureCoder>();

/** Coders are reusable and safe to share; one per (k, m). */
export function coderFor(k: number, m: number): ErasureCoder {
  const key = `${k}+${m}`;
  let c = coders.get(key);
  if (!c) {
    c = new ErasureCoder(k, m);
    coders.set(key, c);
  }
  return c;
}
