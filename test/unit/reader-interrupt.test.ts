import { Worker } from 'node:worker_threads';
import test from 'ava';
import {
  interrupt,
  newInterrupt,
  waitUnlessChanged,
  waitUnlessInterrupted,
} from '../../catalog/readers/interrupt';

test('a wait runs its time when nothing interrupts it, or another request is interrupted', (t) => {
  const cell = newInterrupt();
  interrupt(cell, 7);
  const t0 = performance.now();
  t.true(waitUnlessInterrupted(cell, 8, 30));
  t.true(performance.now() - t0 >= 29);
});

test('a wait for an interrupted request gives up at once', (t) => {
  const cell = newInterrupt();
  interrupt(cell, 8);
  t.false(waitUnlessInterrupted(cell, 8, 10_000));
  t.false(waitUnlessChanged(cell, 7, 10_000));
  t.true(waitUnlessChanged(cell, 8, 5));
});

test('another thread interrupting wakes the wait', async (t) => {
  const cell = newInterrupt();
  // The waiting side runs in a thread of its own, as a reader does; this thread interrupts it.
  const worker = new Worker(
    `const { workerData, parentPort } = require('node:worker_threads');
     const { waitUnlessInterrupted } = require(workerData.module);
     parentPort.postMessage('waiting');
     const t0 = performance.now();
     const ran = waitUnlessInterrupted(workerData.cell, 5, 10000);
     parentPort.postMessage({ ran, ms: performance.now() - t0 });`,
    { eval: true, workerData: { cell, module: require.resolve('../../catalog/readers/interrupt') } },
  );
  const answers: unknown[] = [];
  const done = new Promise<{ ran: boolean; ms: number }>((resolve) =>
    worker.on('message', (m) => {
      answers.push(m);
      if (m === 'waiting') setTimeout(() => interrupt(cell, 5), 50);
      else resolve(m);
    }),
  );
  const r = await done;
  await worker.terminate();
  t.false(r.ran);
  t.true(r.ms < 5000, `woke after ${r.ms} ms`);
});
