// COPY TO's group buffers are reused from group to group (SegmentStore.read): a buffer goes back to the pool
// only when the reader has moved past its group and every read into it has settled, so a hedged read that was
// stopped, and that still writes into its part until it settles, cannot reach the bytes of a later group.
// A fake catalog and device I/O stand in for SQLite and the segment files.
import test from 'ava';
import type { Segment, SegmentGroup, StorageCatalog } from '../../catalog/storage';
import type { DeviceIO, StorageIO } from '../../src/store/device-io';
import { coderFor } from '../../src/store/erasure';
import { HEDGE_AFTER_MS, SegmentStore } from '../../src/store/store';

const K = 2;
const M = 1;
const S = 4096;
const GROUPS = 6;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The shards of each group: its data (a byte pattern of its own) and the parity computed from it. */
async function groupShards(g: number): Promise<Buffer[]> {
  const data = Buffer.alloc(K * S);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + g * 17 + 1) & 0xff;
  const parity = Buffer.alloc(M * S);
  await coderFor(K, M).encode(data, parity, S);
  return [
    ...Array.from({ length: K }, (_, p) => data.subarray(p * S, (p + 1) * S)),
    ...Array.from({ length: M }, (_, p) => parity.subarray(p * S, (p + 1) * S)),
  ];
}

test('a stopped hedged read that writes until it settles never shows in a later group, and buffers are reused', async (t) => {
  const shards = await Promise.all(Array.from({ length: GROUPS }, (_, g) => groupShards(g)));
  const expected = shards.map((s) => Buffer.concat(s.slice(0, K)));
  const groups: SegmentGroup[] = Array.from(
    { length: GROUPS },
    (_, g) =>
      ({
        id: g + 1,
        width: K + M,
        parity_width: M,
        shard_bytes: S,
        data_bytes: K * S,
      }) as unknown as SegmentGroup,
  );
  const catalog = {
    table: async (name: string) => ({ id: 1, name, cluster_name: 'c' }),
    groupsOfTable: async () => groups,
    segmentsOfGroup: async (id: number) =>
      Array.from(
        { length: K + M },
        (_, position) =>
          ({
            storage_id: `s-${id}-${position}`,
            segment_group_id: id,
            position,
            status: 'INTACT',
            node_name: 'n1',
            path: `/dev/null/${id}/${position}`,
          }) as unknown as Segment,
      ),
    setSegmentStatus: async () => {},
  } as unknown as StorageCatalog;
  let staleWrites = 0;
  const io: Partial<DeviceIO> = {
    async readSegment(_path, expected, opts) {
      const g = expected.groupId! - 1;
      const into = opts.into!;
      if (g === 0 && expected.position === 1) {
        // Hung until stopped by the hedge; after the stop it still writes into its part for a while (as a
        // read in flight does) and only then settles.
        await new Promise<void>((resolve) => opts.signal!.addEventListener('abort', () => resolve()));
        await sleep(100);
        into.fill(0xee);
        staleWrites++;
        throw opts.signal!.reason;
      }
      await sleep(1);
      shards[g][expected.position!].copy(into);
      return {} as never;
    },
  };
  const storageIO = { forNode: async () => io as DeviceIO } as unknown as StorageIO;
  const store = new SegmentStore(catalog, storageIO);
  const got: Buffer[] = [];
  const buffers = new Set<ArrayBufferLike>();
  const started = Date.now();
  // The hedge's timer does not hold the process open (a server's sockets do): this does, for the test.
  const alive = setInterval(() => {}, 1000);
  t.teardown(() => clearInterval(alive));
  for await (const chunk of store.read('t')) {
    buffers.add(chunk.buffer);
    // The reader holds each chunk a while (a socket write in progress) before it reads its bytes.
    await sleep(60);
    got.push(Buffer.from(chunk));
  }
  t.true(Date.now() - started >= HEDGE_AFTER_MS, 'the first group waited for the hedge');
  t.is(staleWrites, 1);
  t.is(got.length, GROUPS);
  for (let g = 0; g < GROUPS; g++) t.true(got[g].equals(expected[g]), `group ${g}`);
  // The groups' bytes went through fewer buffers than there are groups.
  t.true(buffers.size < GROUPS, `${buffers.size} buffers for ${GROUPS} groups`);
});
