// The batches of rebuild and rebalance (copyInBatches) with a device I/O and a catalog that only record what is
// done to them: the next batch is written while the one before it is made durable, switched and its sources
// removed, and yet each batch keeps its order (durable, switch, commit made durable, removal), the
// checkpoints come in the plan's order, an item of a group the finishing batch changes waits for its end, and
// a batch written while the one before it failed to finish is removed, never switched.
import test from 'ava';
import {
  BATCH_BYTES,
  copyInBatches,
  evenShare,
  noTally,
  type PreparedItem,
} from '../../src/engine/copy-batches';
import type { RunContext } from '../../src/engine/task-type';
import type { DeviceIO } from '../../src/store/device-io';
import type { CopyBatch, VerifiedCopy } from '../../src/store/relocate';
import { recordingCopyContext } from '../helpers/copy-context';

/** Half a batch: two items fill one. */
const HALF = BATCH_BYTES / 2;

function copyOf(i: number): VerifiedCopy {
  return {
    seg: {
      storage_id: `s${i}`,
      path: `/old/s${i}`,
      node_name: 'n1',
      device_id: 'old',
    } as VerifiedCopy['seg'],
    dest: { id: 'new', node_name: 'n1', path: '/new' },
    path: `/new/s${i}`,
    size: HALF,
    checksum: 'c',
  };
}

interface Harness {
  log: string[];
  ctx: RunContext;
  /** Resolves once `entry` is in the log (or after 2 s, so that a build without overlap ends too). */
  seen(entry: string): Promise<void>;
  prepare(i: number): Promise<PreparedItem>;
}

function harness(
  makeDurable: (paths: string[], h: Harness) => Promise<void>,
  remove: (paths: string[], h: Harness) => Promise<void> = async () => {},
): Harness {
  const log: string[] = [];
  const dio = {
    makeDurable: async (paths: string[]) => {
      log.push(`durable ${paths.join(',')}`);
      await makeDurable(paths, h);
      log.push(`durable done ${paths.join(',')}`);
    },
    remove: async (paths: string[]) => {
      log.push(`remove ${paths.join(',')}`);
      await remove(paths, h);
      log.push(`remove done ${paths.join(',')}`);
    },
  } as unknown as DeviceIO;
  const ctx = recordingCopyContext(dio, log);
  const h: Harness = {
    log,
    ctx,
    seen: (entry) =>
      new Promise((resolve) => {
        const until = Date.now() + 2000;
        const look = () => (log.includes(entry) || Date.now() > until ? resolve() : setTimeout(look, 1));
        look();
      }),
    prepare: async (i) => {
      log.push(`prepare ${i}`);
      return {
        index: i,
        locked: [],
        tally: noTally(),
        outcomes: [],
        write: async (batch: CopyBatch) => {
          log.push(`write ${i}`);
          batch.addPending(dio, [copyOf(i)]);
        },
      };
    },
  };
  return h;
}

const at = (log: string[], entry: string) => {
  const i = log.indexOf(entry);
  if (i < 0) throw new Error(`${entry} not in the log: ${log.join('; ')}`);
  return i;
};

test('the next batch is written while one is made durable; each batch in the order of docs/durability.md, the checkpoints in the plan order', async (t) => {
  const h = harness(async (paths, h) => {
    // The first batch's sync lasts until the next batch has been written.
    if (paths.includes('/new/s0')) await h.seen('write 3');
  });
  await copyInBatches(h.ctx, 'task', 6, 0, 4, h.prepare);
  const { log } = h;
  t.true(at(log, 'write 3') < at(log, 'durable done /new/s0,/new/s1'), log.join('; '));
  for (const [a, b] of [
    [0, 1],
    [2, 3],
    [4, 5],
  ]) {
    const durable = at(log, `durable done /new/s${a},/new/s${b}`);
    const switched = at(log, `switch s${a}`);
    const checkpoint = at(log, `checkpoint ${b + 1}`);
    const removed = at(log, `remove /old/s${a},/old/s${b}`);
    t.true(at(log, `write ${b}`) < durable);
    t.true(durable < switched && switched < checkpoint, log.join('; '));
    t.true(
      checkpoint < log.indexOf('catalog durable', checkpoint) &&
        log.indexOf('catalog durable', checkpoint) < removed,
    );
  }
  t.deepEqual(
    log.filter((e) => e.startsWith('checkpoint')),
    ['checkpoint 2', 'checkpoint 4', 'checkpoint 6'],
  );
  // A batch's finish starts once the one before it has ended.
  t.true(at(log, 'remove done /old/s0,/old/s1') < at(log, 'durable /new/s2,/new/s3'));
});

test('an item of a group the batch being finished changes is prepared only after that batch has switched; the removal of what it replaced need not have ended', async (t) => {
  // The removal of the first batch's sources lasts until item 3 (of group 1, as item 0) has been prepared.
  const h = harness(
    async () => {},
    async (paths, h) => {
      if (paths.includes('/old/s0')) await h.seen('prepare 3');
    },
  );
  const groups = [1, 2, 3, 1, 4, 5];
  await copyInBatches(h.ctx, 'task', groups.length, 0, 4, h.prepare, (i) => groups[i]);
  const { log } = h;
  t.true(at(log, 'checkpoint 2') < at(log, 'prepare 3'), log.join('; '));
  t.true(at(log, 'switch s0') < at(log, 'prepare 3'), log.join('; '));
  t.true(at(log, 'prepare 3') < at(log, 'remove done /old/s0,/old/s1'), log.join('; '));
  const positions = log.filter((e) => e.startsWith('checkpoint')).map((e) => Number(e.split(' ')[1]));
  t.deepEqual(
    positions,
    [...positions].sort((a, b) => a - b),
  );
  t.is(positions[positions.length - 1], groups.length);
  t.is(log.filter((e) => e.startsWith('write')).length, groups.length);
});

test('a batch written while the one before it failed to be made durable is removed, not switched, and the failure thrown', async (t) => {
  const h = harness(async (paths, h) => {
    if (!paths.includes('/new/s0')) return;
    await h.seen('write 3');
    throw new Error('fdatasync failed');
  });
  await t.throwsAsync(copyInBatches(h.ctx, 'task', 6, 0, 4, h.prepare), { message: 'fdatasync failed' });
  const { log } = h;
  t.deepEqual(
    log.filter((e) => e.startsWith('checkpoint') || e.startsWith('switch')),
    [],
    log.join('; '),
  );
  // The failed batch's copies and the next one's, none of the sources.
  for (const i of [0, 1, 2, 3]) t.true(log.includes(`remove /new/s${i}`), `copy ${i} removed`);
  t.false(log.some((e) => e.startsWith('remove /old')));
  t.false(log.includes('write 4'));
});

test('subtasks are sized so that the engine runs them all side by side to the end: even, a multiple of the parallelism, at most about the limit', (t) => {
  const cuts = (count: number, most: number, p: number) => {
    const size = evenShare(count, most, p);
    return Array.from({ length: Math.ceil(count / size) }, (_, i) => Math.min(size, count - i * size));
  };
  t.deepEqual(cuts(85, 32, 2), [22, 22, 22, 19]); // in runs of 32: 32, 32, 21, the last one alone
  t.deepEqual(cuts(44, 32, 2), [22, 22]); // was 32, 12
  t.deepEqual(cuts(32, 16, 2), [16, 16]);
  t.deepEqual(cuts(65, 16, 2), [11, 11, 11, 11, 11, 10]); // was four of 16 and one of 1
  t.deepEqual(cuts(5, 32, 4), [2, 2, 1]); // fewer items than subtasks at once: one or two each
  t.deepEqual(cuts(7, 32, 1), [7]);
  for (let count = 1; count < 400; count++)
    for (const p of [1, 2, 3, 8]) {
      const c = cuts(count, 32, p);
      t.is(
        c.reduce((a, b) => a + b, 0),
        count,
      );
      // At most the limit, and all of one size but a smaller last one.
      t.true(c.every((n, i) => n <= 32 && (i === c.length - 1 ? n <= c[0] : n === c[0])));
    }
});
