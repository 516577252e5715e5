import test from 'ava';
import { FairQueue } from '../../catalog/readers/fair-queue';

test('users are served round-robin, each in the order of their own requests', (t) => {
  const q = new FairQueue<string>();
  for (let i = 1; i <= 3; i++) q.push('a', `a${i}`);
  q.push('b', 'b1');
  q.push('b', 'b2');
  const order: string[] = [];
  for (let next = q.take(() => true); next; next = q.take(() => true)) order.push(next.item);
  t.deepEqual(order, ['a1', 'b1', 'a2', 'b2', 'a3']);
  t.is(q.size, 0);
});

test('a user who may not take now is passed over, not blocking the others', (t) => {
  const q = new FairQueue<string>();
  q.push('a', 'a1');
  q.push('b', 'b1');
  const next = q.take((user) => (user === 'a' ? null : 7));
  t.deepEqual(next, { item: 'b1', place: 7 });
  t.is(
    q.take((user) => (user === 'a' ? null : 7)),
    null,
  );
  t.is(q.size, 1);
});

test('a request put back goes first in its user queue; remove and drain', (t) => {
  const q = new FairQueue<string>();
  q.push('a', 'a2');
  q.unshift('a', 'a1');
  q.push('b', 'b1');
  t.true(q.remove('b', 'b1'));
  t.false(q.remove('b', 'b1'));
  t.deepEqual([...q.users()], ['a']);
  t.deepEqual(q.drain(), ['a1', 'a2']);
  t.is(q.size, 0);
});
