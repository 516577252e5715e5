// Removals after a repair (relocate.ts): the files repaired copies replaced are removed once per node, and a
// removal that fails is told (where, which file, why), not swallowed; a file already gone is no failure. The
// files stay until the orphan scan at the next start, so nothing is lost either way.
import test from 'ava';
import type { Segment } from '../../catalog/storage';
import type { StorageIO } from '../../src/store/device-io';
import { removeTold } from '../../src/store/failed-removal';
import { removeReplaced, type VerifiedCopy } from '../../src/store/relocate';

const copy = (i: number, node: string): VerifiedCopy => ({
  seg: { storage_id: `s${i}`, path: `/old/${node}/s${i}.seg`, node_name: node } as Segment,
  dest: { id: 'new', node_name: 'n9', path: '/new' },
  path: `/new/s${i}.seg`,
  size: 1,
  checksum: 'c',
});

function errno(code: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: unlink '${path}'`), { code, path });
}

function world(fail: Record<string, NodeJS.ErrnoException>) {
  const removed: string[] = [];
  const told: { obj: Record<string, unknown>; msg: string }[] = [];
  const io = {
    forNode: async (node: string) => ({
      where: `node ${node}`,
      remove: async (paths: string[]) => {
        if (fail[node]) throw fail[node];
        removed.push(...paths);
      },
    }),
  } as unknown as StorageIO;
  const log = { warn: (obj: Record<string, unknown>, msg: string) => told.push({ obj, msg }) };
  return { io, log, removed, told };
}

test('a source that cannot be removed is told with its node, path and error; the other nodes are removed', async (t) => {
  const w = world({ n1: errno('EACCES', '/old/n1/s1.seg') });
  await removeReplaced(w.io, [copy(1, 'n1'), copy(2, 'n1'), copy(3, 'n2')], w.log as never);
  t.deepEqual(w.removed, ['/old/n2/s3.seg']);
  t.is(w.told.length, 1);
  t.is(w.told[0].msg, 'could not remove the files repaired copies replaced');
  t.like(w.told[0].obj, { where: 'node n1', files: 2, path: '/old/n1/s1.seg' });
  t.regex(String(w.told[0].obj.error), /EACCES/);
});

test('a source already gone is no failure: nothing is told', async (t) => {
  const w = world({ n1: errno('ENOENT', '/old/n1/s1.seg') });
  await removeReplaced(w.io, [copy(1, 'n1')], w.log as never);
  t.deepEqual(w.told, []);
});

test('removeTold never throws: the failure is told as what the caller names', async (t) => {
  const told: unknown[] = [];
  const dio = {
    where: 'in process',
    remove: async () => {
      throw errno('EROFS', '/x');
    },
  };
  await t.notThrowsAsync(
    removeTold(dio, ['/x'], { warn: (o: unknown, m: string) => told.push([o, m]) } as never, 'what'),
  );
  t.is(told.length, 1);
  t.is((told[0] as unknown[])[1], 'what');
});
