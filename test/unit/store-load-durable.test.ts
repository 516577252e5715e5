// COPY FROM's files are written back while the load goes on (SegmentStore.load, DeviceIO.writeBack), and still
// every file is made durable, directory included (makeDurable), before the catalog transaction that names
// them; a write-back that fails fails the load and leaves no file. A fake catalog and device I/O stand in for
// SQLite and the segment files.
import test from 'ava';
import type { DeviceIO, StorageIO } from '../../src/store/device-io';
import { SegmentStore } from '../../src/store/store';
import { fakeLoadCatalog } from '../helpers/load-catalog';

const K = 2;
const M = 1;
const SHARD = 64 * 1024;

interface Run {
  events: string[];
  /** Paths written and not removed. */
  files: Set<string>;
  /** Paths in a makeDurable call that had returned when the catalog transaction began. */
  durableAtCommit: Set<string> | null;
}

function setup(opts: { writeBackFails?: boolean } = {}) {
  const run: Run = { events: [], files: new Set(), durableAtCommit: null };
  const durable = new Set<string>();
  /** Files whose data a returned writeBack or makeDurable has synced. */
  const dataSynced = new Set<string>();
  const { catalog } = fakeLoadCatalog(
    { K, M, SHARD },
    {
      addGroups: () => {
        run.events.push('addGroups');
        run.durableAtCommit = new Set(durable);
      },
    },
  );
  const io: DeviceIO = {
    where: 'test',
    async serve() {},
    async writeSegment(d, meta) {
      await new Promise((r) => setImmediate(r));
      const path = `${d.path}/segments/${meta.storageId}.seg`;
      run.files.add(path);
      return { path, checksum: '0', size: SHARD };
    },
    async writeBack(paths) {
      run.events.push(`writeBack ${paths.length}`);
      await new Promise((r) => setTimeout(r, 2));
      if (opts.writeBackFails) throw new Error('fdatasync: EIO');
      for (const p of paths) dataSynced.add(p);
    },
    async makeDurable(paths, writtenBack) {
      await new Promise((r) => setTimeout(r, 2));
      let synced = 0;
      for (const p of paths) {
        // A file passed as written back is trusted only if a writeBack of it really returned.
        if (!writtenBack?.has(p)) {
          dataSynced.add(p);
          synced++;
        }
        if (dataSynced.has(p)) durable.add(p);
      }
      run.events.push(`makeDurable ${paths.length} (${synced} fdatasynced)`);
    },
    async remove(paths) {
      for (const p of paths) run.files.delete(p);
    },
  } as Partial<DeviceIO> as DeviceIO;
  const storageIO = { forNode: async () => io } as unknown as StorageIO;
  return { store: new SegmentStore(catalog, storageIO), run };
}

async function* chunks(total: number): AsyncGenerator<Buffer> {
  const chunk = Buffer.alloc(10_000, 7);
  for (let left = total; left > 0; left -= chunk.length)
    yield chunk.subarray(0, Math.min(left, chunk.length));
}

const GROUP = K * SHARD;

test('every file a load writes is durable before its catalog transaction; groups were written back on the way', async (t) => {
  const { store, run } = setup();
  const bytes = 10 * GROUP + 123;
  t.is(await store.load('t', chunks(bytes)), bytes);
  t.is(run.files.size, 11 * (K + M));
  t.deepEqual(run.durableAtCommit, run.files);
  // Written back group by group, before the catalog transaction; makeDurable then left out the files whose
  // write-back had returned (it syncs their directories only).
  const commit = run.events.indexOf('addGroups');
  t.true(run.events.slice(0, commit).filter((e) => e.startsWith('writeBack')).length >= 10);
  const final = run.events.find((e) => e.startsWith('makeDurable'))!;
  t.regex(final, /^makeDurable 33 \((\d+) fdatasynced\)$/);
  t.true(Number(/\((\d+)/.exec(final)![1]) < 33);
});

test('a write-back that fails fails the load, catalogues nothing and removes every file', async (t) => {
  const { store, run } = setup({ writeBackFails: true });
  await t.throwsAsync(store.load('t', chunks(10 * GROUP)), { message: /EIO/ });
  t.false(run.events.includes('addGroups'));
  t.is(run.files.size, 0);
});
