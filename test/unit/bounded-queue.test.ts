// BoundedQueue: the work behind a load (write-back of its groups) runs in order, at most `parallel` at a time;
// the first failure is kept, the work not yet started is dropped, and settled() rejects with that failure.
import test from 'ava';
import { BoundedQueue } from '../../src/store/bounded-queue';

const tick = (ms = 1) => new Promise((r) => setTimeout(r, ms));

test('runs work in order, never more than `parallel` at once, and settles when all is done', async (t) => {
  const q = new BoundedQueue(2);
  let running = 0;
  let most = 0;
  const started: number[] = [];
  for (let i = 0; i < 7; i++)
    q.add(async () => {
      started.push(i);
      most = Math.max(most, ++running);
      await tick(2);
      running--;
    });
  await q.settled();
  t.deepEqual(started, [0, 1, 2, 3, 4, 5, 6]);
  t.is(most, 2);
  t.is(running, 0);
  t.is(q.failure, null);
  await q.settled(); // nothing left: resolves at once
});

test('the first failure is kept, later work is dropped, and settled() rejects with it', async (t) => {
  const q = new BoundedQueue(1);
  const ran: number[] = [];
  q.add(async () => {
    ran.push(0);
    await tick();
    throw new Error('first');
  });
  q.add(async () => {
    ran.push(1);
  });
  // Waited for while the work runs, and again once all of it has stopped: the same failure both times.
  await t.throwsAsync(q.settled(), { message: 'first' });
  t.is((q.failure as Error).message, 'first');
  t.deepEqual(ran, [0]);
  q.add(async () => {
    ran.push(2);
  });
  await t.throwsAsync(q.settled(), { message: 'first' });
  t.deepEqual(ran, [0]);
});
