// max_bytes_per_sec's token bucket: it makes callers wait for their share, and an abort ends the wait.
import test from 'ava';
import { Throttle } from '../../src/engine/throttle';

test('a caller past the rate waits for its share', async (t) => {
  const throttle = new Throttle(10_000);
  const start = Date.now();
  await throttle.take(10_000); // the first second's worth is there at once
  await throttle.take(2_000);
  t.true(Date.now() - start >= 150, `waited ${Date.now() - start} ms`);
});

test('an abort ends a throttle wait at once', async (t) => {
  const throttle = new Throttle(1_000);
  const abort = new AbortController();
  const start = Date.now();
  setTimeout(() => abort.abort(), 50);
  await throttle.take(60_000, abort.signal); // a minute's worth
  t.true(Date.now() - start < 1_000, `waited ${Date.now() - start} ms`);
});
