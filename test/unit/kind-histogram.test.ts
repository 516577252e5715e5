// KindHistogram against prom-client's Histogram: the same observations expose the same text on /metrics.
import test from 'ava';
import { Histogram, Registry } from 'prom-client';
import { KindHistogram } from '../../src/http/kind-histogram';

const BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

test('the exposition is prom-client’s, bucket for bucket, for values on, between and beyond the bounds', async (t) => {
  const theirs = new Registry();
  const ours = new Registry();
  const h = new Histogram({
    name: 'q_seconds',
    help: 'help text',
    labelNames: ['kind'],
    buckets: BOUNDS,
    registers: [theirs],
  });
  const k = new KindHistogram('q_seconds', 'help text', 'kind', BOUNDS, [ours]);
  t.is(await ours.metrics(), await theirs.metrics(), 'nothing observed');
  let seed = 11;
  const next = () => {
    seed = (seed * 48271) % 2147483647;
    return seed / 2147483647;
  };
  const values = [...BOUNDS, 0, 40, 1e-7, ...Array.from({ length: 500 }, () => 10 ** (next() * 6 - 5))];
  const kinds = ['rows', 'command', 'error', 'copyIn'];
  values.forEach((v, i) => {
    const kind = kinds[i % kinds.length];
    h.observe({ kind }, v);
    k.observe(kind, v);
  });
  t.is(await ours.metrics(), await theirs.metrics());
});
