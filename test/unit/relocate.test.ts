// A batch of repair copies (CopyBatch, relocate.ts) through copyInBatches, with a device I/O and a catalog
// that only record what is done to them: in process, each copy is written back (fdatasynced) right after its
// write, before the batch's commit, which then syncs the directories (and whatever was not written back); on
// an agent nothing is written back early. A write-back or a write that fails mid-batch switches nothing the
// failure touches: the catalog never points at a copy that is not durable, the copies of the failed batch
// are removed, no source is, and the task gets the error.
import test from 'ava';
import type { Segment, SegmentGroup } from '../../catalog/storage';
import { copyInBatches, noTally, type PreparedItem } from '../../src/engine/copy-batches';
import type { DeviceIO } from '../../src/store/device-io';
import type { CopyBatch } from '../../src/store/relocate';
import { recordingCopyContext } from '../helpers/copy-context';

const group = { id: 1, width: 6, parity_width: 2, shard_bytes: 1024 } as SegmentGroup;
const seg = (i: number) =>
  ({
    storage_id: `s${i}`,
    position: 0,
    path: `/old/s${i}.seg`,
    node_name: 'n1',
    device_id: 'old',
    checksum: 'c',
  }) as Segment;
const dest = { id: 'new', node_name: 'n2', path: '/new' };

interface Faults {
  /** The write of this copy fails. */
  write?: string;
  /** The write-back of this copy fails. */
  writeBack?: string;
  /** The device I/O is an agent's: no files-only write-back. */
  agent?: boolean;
}

function harness(faults: Faults = {}) {
  const log: string[] = [];
  const dio = {
    writesBackFiles: !faults.agent,
    writeSegment: async (_d: unknown, meta: { storageId: string }) => {
      const path = `/new/${meta.storageId}.seg`;
      // Another turn of the event loop, as a real write takes: write-backs started before run meanwhile.
      await new Promise((r) => setImmediate(r));
      if (path === faults.write) throw new Error(`write of ${path} failed`);
      log.push(`write ${path}`);
      return { path, checksum: 'c', size: 1024 };
    },
    writeBack: async (paths: string[]) => {
      log.push(`writeBack ${paths.join(',')}`);
      await new Promise((r) => setImmediate(r));
      if (paths.includes(faults.writeBack ?? '')) throw new Error(`fdatasync of ${faults.writeBack} failed`);
    },
    makeDurable: async (paths: string[], writtenBack?: ReadonlySet<string>) => {
      log.push(`durable ${paths.join(',')} (written back: ${[...(writtenBack ?? [])].join(',')})`);
    },
    remove: async (paths: string[]) => {
      log.push(`remove ${paths.join(',')}`);
    },
  } as unknown as DeviceIO;
  const ctx = recordingCopyContext(dio, log);
  const prepare = async (i: number): Promise<PreparedItem> => ({
    index: i,
    locked: [],
    tally: noTally(),
    outcomes: [],
    write: async (batch: CopyBatch) => {
      await batch.addGroup([{ seg: seg(i), group, dest, payload: Buffer.alloc(1024) }]);
    },
  });
  return { log, ctx, prepare };
}

const at = (log: string[], entry: string) => {
  const i = log.indexOf(entry);
  if (i < 0) throw new Error(`${entry} not in the log: ${log.join('; ')}`);
  return i;
};

test('in process, each copy is written back right after its write, while the next ones are written; the commit then syncs the directories, and only then is the batch switched', async (t) => {
  const h = harness();
  await copyInBatches(h.ctx, 'task', 4, 0, 4, h.prepare);
  const { log } = h;
  // One batch of four (small copies, well within BATCH_MS on any machine but a stalled one).
  const durable = log.findIndex((e) => e.startsWith('durable'));
  for (let i = 0; i < 4; i++) {
    t.true(at(log, `write /new/s${i}.seg`) < at(log, `writeBack /new/s${i}.seg`), log.join('; '));
    t.true(at(log, `writeBack /new/s${i}.seg`) < durable, log.join('; '));
  }
  // The first write-back is under way before the last copy is written: the disk works during the batch.
  t.true(at(log, 'writeBack /new/s0.seg') < at(log, 'write /new/s3.seg'), log.join('; '));
  const batches = log.filter((e) => e.startsWith('durable'));
  t.true(batches.length >= 1);
  // What the commit is told was written back: every copy of its batch, whose write-back has returned.
  for (const b of batches) {
    const [files, back] = b.slice('durable '.length, -1).split(' (written back: ');
    t.deepEqual(back.split(',').sort(), files.split(',').sort(), b);
  }
  for (let i = 0; i < 4; i++) t.true(durable < at(log, `switch s${i}`));
});

test('on an agent nothing is written back early: the batch is synced at its commit, as before', async (t) => {
  const h = harness({ agent: true });
  await copyInBatches(h.ctx, 'task', 4, 0, 4, h.prepare);
  t.false(
    h.log.some((e) => e.startsWith('writeBack')),
    h.log.join('; '),
  );
  t.true(h.log.some((e) => e.startsWith('durable /new/s0.seg') && e.endsWith('(written back: )')));
  t.deepEqual(
    h.log.filter((e) => e.startsWith('checkpoint')),
    ['checkpoint 4'],
  );
});

test("a write-back that fails mid-batch: nothing of the batch is switched or checkpointed, its copies are removed, no source is, and the task gets the fdatasync's error", async (t) => {
  const h = harness({ writeBack: '/new/s2.seg' });
  await t.throwsAsync(copyInBatches(h.ctx, 'task', 4, 0, 4, h.prepare), {
    message: 'fdatasync of /new/s2.seg failed',
  });
  const { log } = h;
  t.deepEqual(
    log.filter((e) => e.startsWith('switch') || e.startsWith('checkpoint') || e.startsWith('durable')),
    [],
    log.join('; '),
  );
  // Every copy the batch wrote is removed (the failed one too: it is never synced again), no source.
  const removed = log.filter((e) => e.startsWith('remove')).flatMap((e) => e.slice(7).split(','));
  const written = log.filter((e) => e.startsWith('write /')).map((e) => e.slice(6));
  t.true(written.includes('/new/s2.seg'));
  t.deepEqual(removed.sort(), written.sort(), log.join('; '));
  t.false(log.some((e) => e.startsWith('remove /old')));
  // No file is removed under a write-back still running on it.
  const lastWriteBack = Math.max(...log.flatMap((e, i) => (e.startsWith('writeBack') ? [i] : [])));
  t.true(lastWriteBack < log.findIndex((e) => e.startsWith('remove')), log.join('; '));
});

test('a write that fails mid-batch: the copies written before it are made durable and switched with their checkpoint, the failed one is not, and the task gets the error', async (t) => {
  const h = harness({ write: '/new/s2.seg' });
  await t.throwsAsync(copyInBatches(h.ctx, 'task', 4, 0, 4, h.prepare), {
    message: 'write of /new/s2.seg failed',
  });
  const { log } = h;
  t.deepEqual(
    log.filter((e) => e.startsWith('switch') || e.startsWith('checkpoint')),
    ['switch s0', 'switch s1', 'checkpoint 2'],
    log.join('; '),
  );
  t.true(at(log, 'writeBack /new/s1.seg') < at(log, 'switch s0'));
  t.false(log.some((e) => e.includes('s2.seg') && e.startsWith('writeBack')));
  // The switched copies' sources are removed after the checkpoint; nothing of the failed copy is catalogued.
  t.true(at(log, 'checkpoint 2') < at(log, 'remove /old/s0.seg,/old/s1.seg'));
  t.false(log.some((e) => e.startsWith('write /new/s3.seg')));
});
