// When a bounded plan stops running inline for being slow, and when it comes back
// (catalog/readers/inline-stalls.ts).
import test from 'ava';
import {
  CLEAN_RUNS,
  FIRST_PAUSE_MS,
  InlineStalls,
  MAX_PAUSE_MS,
  STALL_MS,
  STRIKES,
} from '../../catalog/readers/inline-stalls';

const SLOW = STALL_MS + 1;

test('stalls short of STRIKES in a row, or broken by a clean run, pause nothing', (t) => {
  const s = new InlineStalls();
  for (let i = 0; i < 10; i++) {
    for (let k = 1; k < STRIKES; k++) s.ran(SLOW, 1000);
    s.ran(0.05, 1000);
  }
  t.false(s.paused(1000));
});

test('STRIKES stalls in a row pause the plan for a while, not for good', (t) => {
  const s = new InlineStalls();
  for (let k = 0; k < STRIKES; k++) s.ran(SLOW, 1000);
  t.true(s.paused(1000));
  t.true(s.paused(1000 + FIRST_PAUSE_MS - 1));
  t.false(s.paused(1000 + FIRST_PAUSE_MS));
});

test('each further pause doubles, up to MAX_PAUSE_MS', (t) => {
  const s = new InlineStalls();
  let now = 0;
  const pauses: number[] = [];
  for (let p = 0; p < 10; p++) {
    for (let k = 0; k < STRIKES; k++) s.ran(SLOW, now);
    let until = now;
    while (s.paused(until)) until += 100;
    pauses.push(until - now);
    now = until;
  }
  t.is(pauses[0], FIRST_PAUSE_MS);
  t.is(pauses[1], 2 * FIRST_PAUSE_MS);
  t.is(pauses[2], 4 * FIRST_PAUSE_MS);
  t.is(pauses.at(-1), MAX_PAUSE_MS);
  // A plan that is slow every time stalls the thread at most STRIKES times per MAX_PAUSE_MS.
  t.true(pauses.every((p, i) => i === 0 || p >= pauses[i - 1]));
});

test('CLEAN_RUNS clean runs in a row forget the pauses: the next pause is the first again', (t) => {
  const s = new InlineStalls();
  let now = 0;
  for (let p = 0; p < 3; p++) {
    for (let k = 0; k < STRIKES; k++) s.ran(SLOW, now);
    now += MAX_PAUSE_MS;
  }
  for (let i = 0; i < CLEAN_RUNS - 1; i++) s.ran(0.05, now);
  s.ran(SLOW, now); // breaks the streak: the pauses are remembered
  s.ran(0.05, now);
  for (let k = 0; k < STRIKES; k++) s.ran(SLOW, now);
  t.true(s.paused(now + 4 * FIRST_PAUSE_MS), 'the fourth pause, 8 s');
  now += MAX_PAUSE_MS;
  for (let i = 0; i < CLEAN_RUNS; i++) s.ran(0.05, now);
  for (let k = 0; k < STRIKES; k++) s.ran(SLOW, now);
  t.true(s.paused(now + FIRST_PAUSE_MS - 1));
  t.false(s.paused(now + FIRST_PAUSE_MS), 'the first pause again');
});
