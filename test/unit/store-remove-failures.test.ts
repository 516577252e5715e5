// Removals that fail are told, not swallowed: a failed COPY's cleanup logs the files it could not remove (and
// still removes the rest), start-up recovery reports the orphan and temporary files it could not remove (and
// does not count them as removed). A file already gone (ENOENT) is no failure. Fake catalog and device I/O.
import test from 'ava';
import type { StorageCatalog } from '../../catalog/storage';
import type { DeviceIO, StorageIO } from '../../src/store/device-io';
import { recoverStore } from '../../src/store/recovery';
import { SegmentStore } from '../../src/store/store';
import { fakeLoadCatalog } from '../helpers/load-catalog';

const errno = (code: string, path: string) =>
  Object.assign(new Error(`${code}: could not unlink '${path}'`), { code, path });

test('a failed COPY: a removal that fails is logged with its path and error, the other nodes’ files are removed', async (t) => {
  const K = 2;
  const M = 1;
  const SHARD = 64 * 1024;
  const files = new Set<string>();
  const { catalog, nodes } = fakeLoadCatalog({ K, M, SHARD });
  const ioOf = (node: string): DeviceIO =>
    ({
      where: `agent ${node}`,
      async serve() {},
      async writeSegment(d, meta) {
        const path = `${d.path}/segments/${meta.storageId}.seg`;
        files.add(path);
        return { path, checksum: '0', size: SHARD };
      },
      async writeBack() {},
      async makeDurable() {
        throw new Error('fsync: EIO');
      },
      async remove(paths) {
        if (node === 'n1') throw errno('EACCES', paths[0]);
        for (const p of paths) files.delete(p);
      },
    }) as Partial<DeviceIO> as DeviceIO;
  const ios = new Map(nodes.map((n) => [n, ioOf(n)]));
  const storageIO = { forNode: async (n: string) => ios.get(n)! } as unknown as StorageIO;
  const warned: [Record<string, unknown>, string][] = [];
  const store = new SegmentStore(catalog, storageIO, {
    warn: ((obj: Record<string, unknown>, msg: string) => warned.push([obj, msg])) as never,
  });
  async function* data() {
    for (let i = 0; i < 3; i++) yield Buffer.alloc(K * SHARD, i);
  }
  await t.throwsAsync(store.load('t', data()), { message: /EIO/ });
  // n1's files stay (for the orphan scan), every other file is gone
  t.true(files.size > 0);
  t.true([...files].every((p) => p.startsWith('/devices/1/')));
  t.is(warned.length, 1);
  const [line, msg] = warned[0];
  t.is(msg, 'could not remove the files of a failed COPY');
  t.like(line, {
    where: 'agent n1',
    files: files.size,
    error: `EACCES: could not unlink '${[...files][0]}'`,
  });
  t.is(line.path, [...files][0]);
  t.deepEqual(line.paths, [...files]);
});

function recoveryWorld(failures: Record<string, Error>) {
  const names: Record<string, string[]> = {
    '/dev/a': ['x.seg', 'known.seg', 'w.seg.tmp'],
    '/dev/b': ['y.seg'],
    '/dev/c': ['z.seg'],
  };
  const removed: string[] = [];
  const catalog = {
    pendingFileRemovals: async () => [],
    pendingRemovalNodes: async () => new Map(),
    allSegmentPaths: async () => new Set(['/dev/a/segments/known.seg']),
    devices: async () => Object.keys(names).map((path) => ({ node_name: 'n', path })),
  } as unknown as StorageCatalog;
  const local = {
    listSegmentDir: async (p: string) => names[p],
    remove: async (paths: string[]) => {
      const device = paths[0].replace(/\/segments\/.*$/, '');
      if (failures[device]) throw failures[device];
      removed.push(...paths);
    },
  } as unknown as DeviceIO;
  const io = { local, forNode: async () => local } as unknown as StorageIO;
  return { catalog, io, removed };
}

test('recovery: a device whose removal fails is reported with its path and error, not counted; the others are removed', async (t) => {
  const w = recoveryWorld({ '/dev/b': errno('EIO', '/dev/b/segments/y.seg') });
  const report = await recoverStore(w.catalog, w.io);
  t.deepEqual(w.removed, ['/dev/a/segments/w.seg.tmp', '/dev/a/segments/x.seg', '/dev/c/segments/z.seg']);
  t.is(report.removedOrphans, 2);
  t.is(report.removedTemp, 1);
  t.deepEqual(report.failedRemovals, [
    {
      where: '/dev/b',
      files: 1,
      path: '/dev/b/segments/y.seg',
      paths: ['/dev/b/segments/y.seg'],
      error: "EIO: could not unlink '/dev/b/segments/y.seg'",
    },
  ]);
});

test('recovery: a file already gone (ENOENT) is no failure', async (t) => {
  const w = recoveryWorld({ '/dev/c': errno('ENOENT', '/dev/c/segments/z.seg') });
  const report = await recoverStore(w.catalog, w.io);
  t.deepEqual(report.failedRemovals, []);
  t.is(report.removedOrphans, 3);
});
