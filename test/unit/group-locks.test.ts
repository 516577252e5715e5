import test from 'ava';
import { GroupLocks } from '../../src/engine/locks';

test('a task holds a group as many times as it locked it; the group is free after the last unlock', (t) => {
  const locks = new GroupLocks();
  t.true(locks.tryLock([1, 2], 'a'));
  t.true(locks.tryLock([1], 'a'));
  t.false(locks.tryLock([1], 'b'));
  locks.unlock([1, 2], 'a');
  t.true(locks.isLocked(1));
  t.false(locks.isLocked(2));
  t.false(locks.tryLock([1], 'b'));
  locks.unlock([1], 'a');
  t.false(locks.isLocked(1));
  t.true(locks.tryLock([1], 'b'));
});

test('all of the groups or none; another task unlocking changes nothing', (t) => {
  const locks = new GroupLocks();
  t.true(locks.tryLock([3], 'a'));
  t.false(locks.tryLock([4, 3], 'b'));
  t.false(locks.isLocked(4));
  locks.unlock([3], 'b');
  t.true(locks.isLocked(3));
});
