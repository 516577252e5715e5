// pg/cancel.ts: a statement's cancellation that makes its AbortSignal only when something listens.
import test from 'ava';
import { onAbort, StatementCancel, signalOf } from '../../pg/cancel';

test('the signal made after the abort is aborted already, with the reason', (t) => {
  const c = new StatementCancel();
  const why = new Error('canceling statement due to user request');
  c.abort(why);
  t.true(c.aborted);
  t.is(c.reason, why);
  t.true(c.signal.aborted);
  t.is(c.signal.reason, why);
  c.abort(new Error('later'));
  t.is(c.signal.reason, why, 'the first reason stays');
});

test('a signal made before the abort is aborted by it; the same signal each time', (t) => {
  const c = new StatementCancel();
  const s = c.signal;
  t.is(c.signal, s);
  let seen: unknown = null;
  s.addEventListener('abort', () => {
    seen = s.reason;
  });
  const why = new Error('timeout');
  c.abort(why);
  t.is(seen, why);
});

test('onAbort listens without an AbortSignal, is called once, and can stop listening', (t) => {
  const c = new StatementCancel();
  const calls: unknown[] = [];
  const stop = onAbort(c, (r) => calls.push(r));
  const kept = onAbort(c, (r) => calls.push(['kept', r]));
  stop();
  c.abort('why');
  c.abort('again');
  t.deepEqual(calls, [['kept', 'why']]);
  kept();
  const late: unknown[] = [];
  onAbort(c, (r) => late.push(r));
  t.deepEqual(late, ['why'], 'called at once when aborted already');
});

test('onAbort and signalOf take a plain AbortSignal too', (t) => {
  const ac = new AbortController();
  t.is(signalOf(ac.signal), ac.signal);
  t.is(signalOf(undefined), undefined);
  const calls: unknown[] = [];
  const stop = onAbort(ac.signal, (r) => calls.push(r));
  ac.abort('r1');
  stop();
  t.deepEqual(calls, ['r1']);
  onAbort(undefined, () => calls.push('never'))();
  t.deepEqual(calls, ['r1']);
});
