// The guard of the wire thread's reader connection (catalog/readers/inline-guard.ts): which JavaScript function
// calls a statement running inline may make.
import test from 'ava';
import { InlineGuard, NotInline } from '../../catalog/readers/inline-guard';

const refusal = (f: () => void) => {
  try {
    f();
  } catch (e) {
    if (e instanceof NotInline) return e;
    throw e;
  }
  return null;
};

test('deterministic calls with small arguments are allowed within the budget', (t) => {
  const g = new InlineGuard();
  t.is(
    refusal(() => g.within(50, () => g.beforeCall('pg_lpad', true, ['5', 12n, '0']))),
    null,
  );
  t.is(
    refusal(() => g.within(50, () => g.beforeCall('pg_to_uuid', true, ['x'.repeat(65536)]))),
    null,
  );
});

test('session functions, regular expressions and large arguments are refused for what they are', (t) => {
  const g = new InlineGuard();
  for (const [name, det, args] of [
    ['pg_now', false, []],
    ['pg_notify_fn', false, ['c', 'p']],
    ['pg_regex_match', true, ['a', 'a', '']],
    ['pg_lpad', true, ['x', 100_000_000, ' ']],
    ['pg_repeat', true, ['x', 65537n]],
    ['pg_md5', true, ['x'.repeat(65537)]],
    ['pg_md5', true, [Buffer.alloc(65537)]],
  ] as [string, boolean, unknown[]][]) {
    const e = refusal(() => g.within(50, () => g.beforeCall(name, det, args)));
    t.truthy(e, name);
    t.false(e!.outOfTime, name);
  }
});

test('a call after the budget has run out is refused for time', async (t) => {
  const g = new InlineGuard();
  const e = refusal(() =>
    g.within(1, () => {
      const until = performance.now() + 5;
      while (performance.now() < until);
      g.beforeCall('pg_lpad', true, ['5', 12n, '0']);
    }),
  );
  t.true(e?.outOfTime);
  // Outside a statement the guard allows anything deterministic (it has no budget to keep).
  t.is(
    refusal(() => g.beforeCall('pg_lpad', true, ['5', 12n, '0'])),
    null,
  );
});
