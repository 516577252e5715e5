// The task engine with a task type it has never heard of (test/helpers/fake-task-type.ts), on a real SQLite
// catalog in a temporary directory and no server: that adding a type is one module and one registry line,
// that CREATE TASK's messages follow the registry, and that the engine's scheduling, cancellation and
// resumption hold for any type.
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import pino from 'pino';
import { openCatalog, type SqliteCatalog } from '../../catalog/db';
import { StorageCatalog } from '../../catalog/storage';
import { TaskCatalog } from '../../catalog/tasks';
import type { SqlError } from '../../pg/errors';
import { validateTask } from '../../src/ddl/task-validation';
import { parseTaskStatement } from '../../src/ddl/tasks';
import { checkDisk } from '../../src/engine/check-disk';
import { TaskEngine } from '../../src/engine/engine';
import { number } from '../../src/engine/plan-decoder';
import { rebalance } from '../../src/engine/rebalance';
import { rebuild } from '../../src/engine/rebuild';
import { TaskTypeRegistry } from '../../src/engine/registry';
import { option } from '../../src/engine/task-options';
import { defineTaskType } from '../../src/engine/task-type';
import { verifySegmentFile } from '../../src/store/segment-file';
import { SegmentStore } from '../../src/store/store';
import { VerifyPool } from '../../src/store/verify-pool';
import { crashWhen, FILE_BYTES, newProbe, type Probe, writeFilesType } from '../helpers/fake-task-type';

interface World {
  root: string;
  files: string;
  catalog: SqliteCatalog;
  tasks: TaskCatalog;
}

async function world(): Promise<World> {
  const root = mkdtempSync(join(tmpdir(), 'segtasks-engine-'));
  const files = join(root, 'files');
  mkdirSync(files);
  const catalog = await openCatalog(join(root, 'data'));
  return { root, files, catalog, tasks: new TaskCatalog(catalog) };
}

async function dispose(w: World, ...engines: TaskEngine[]): Promise<void> {
  for (const e of engines) await e.stop();
  await w.catalog.close();
  rmSync(w.root, { recursive: true, force: true });
}

/** The registry of this build plus the fourth type: one more entry in the list. */
function registry(probe: Probe): TaskTypeRegistry {
  return new TaskTypeRegistry([rebuild, checkDisk, rebalance, writeFilesType(probe)]);
}

async function engine(w: World, probe: Probe): Promise<TaskEngine> {
  const storage = new StorageCatalog(w.catalog);
  const e = new TaskEngine(
    w.tasks,
    storage,
    new SegmentStore(storage),
    registry(probe),
    pino({ level: 'silent' }),
    new VerifyPool(1),
  );
  await e.start();
  return e;
}

/** CREATE TASK as the statement module does it, without the wire. */
async function create(e: TaskEngine, sql: string): Promise<string> {
  const stmt = parseTaskStatement(sql, e.types.names());
  if (stmt?.kind !== 'create_task') throw new Error(`not CREATE TASK: ${sql}`);
  return (await e.create(validateTask(stmt, [], e.types), 'admin')).id;
}

function validationError(sql: string): SqlError {
  const types = registry(newProbe());
  try {
    const stmt = parseTaskStatement(sql, types.names());
    if (stmt?.kind === 'create_task') validateTask(stmt, [], types);
  } catch (err) {
    return err as SqlError;
  }
  throw new Error(`no error for ${sql}`);
}

/** Every file in the directory is a whole, verified segment file, and there is no temporary one. */
async function assertOnlyWholeFiles(t: { deepEqual: (a: unknown, b: unknown) => void }, dir: string) {
  const names = readdirSync(dir);
  t.deepEqual(
    names.filter((n) => !n.endsWith('.seg')),
    [],
  );
  for (const n of names) await verifySegmentFile(join(dir, n), {});
}

test('the registered types make the type list, and each type its own location and option messages', (t) => {
  t.like(validationError('CREATE TASK TYPE nope'), {
    code: '22023',
    message: 'unknown task type "nope"',
    extra: {
      position: 18,
      hint: 'Valid task types are rebuild, check_disk, rebalance, write_files (case-sensitive).',
    },
  });
  t.like(validationError('CREATE TASK TYPE WRITE_FILES'), {
    extra: {
      hint: 'Valid task types are rebuild, check_disk, rebalance, write_files (case-sensitive): did you mean write_files?',
    },
  });
  t.like(validationError('CREATE TASK TYPE 5'), {
    code: '42601',
    message:
      'syntax error at or near "5": expected a task type: rebuild, check_disk, rebalance or write_files',
  });
  t.like(validationError('CREATE TASK TYPE write_files LOCATION CLUSTER c1'), {
    code: '22023',
    message: 'write_files cannot run at LOCATION CLUSTER: it takes SYSTEM or NODE',
    extra: { hint: 'Use LOCATION NODE <node>, or SYSTEM with OPTIONS nodes = [...].' },
  });
  t.like(validationError('CREATE TASK TYPE write_files OPTIONS bogus = 1'), {
    code: '22023',
    message: 'unknown option "bogus" for write_files',
    extra: {
      hint: 'Valid options for write_files: dir, nodes, subtasks_per_node, files, checkpoints, max_bytes_per_sec, parallelism.',
    },
  });
  t.like(validationError('CREATE TASK TYPE write_files OPTIONS files = true'), {
    code: '22023',
    message: 'option "files" of write_files must be a positive integer',
    extra: { hint: 'files: files per subtask, at most 100' },
  });
  // The type's own rule of one option, pointing at that option.
  t.like(validationError("CREATE TASK TYPE write_files OPTIONS dir = 'x', files = 101"), {
    code: '22023',
    message: 'files must be at most 100',
    extra: { position: 49, hint: 'Use more subtasks.' },
  });
  const types = registry(newProbe());
  const stmt = parseTaskStatement("CREATE TASK TYPE write_files LOCATION NODE n1 OPTIONS dir = 'x'");
  t.deepEqual(stmt?.kind === 'create_task' && validateTask(stmt, [], types).options, {
    dir: 'x',
    nodes: null,
    subtasks_per_node: 3,
    files: 2,
    checkpoints: false,
    max_bytes_per_sec: null,
    parallelism: 2,
  });
  t.throws(() => types.register(writeFilesType(newProbe())), {
    message: 'task type write_files is registered twice',
  });
  const clash = defineTaskType({
    name: 'other',
    locations: ['SYSTEM'],
    options: { parallelism: option.int(1, 'its own parallelism') },
    planDecoder: number,
    plan: async () => [],
    run: async () => {},
  });
  t.throws(() => types.register(clash), {
    message: 'task type other redefines the engine option parallelism',
  });
});

test('subtasks run to the end, at most `parallelism` at once per node and the nodes side by side', async (t) => {
  const w = await world();
  const probe = newProbe();
  probe.beforeFile = () => sleep(20);
  const e = await engine(w, probe);
  const id = await create(
    e,
    `CREATE TASK TYPE write_files OPTIONS dir = '${w.files}', nodes = ['a', 'b', 'c'], subtasks_per_node = 4, files = 3`,
  );
  await e.wait(id);
  t.like(await w.tasks.task(id), { status: 'COMPLETE', segments_done: 36, fraction_complete: 1 });
  t.deepEqual(
    (await w.tasks.subtasks(id)).map((s) => s.status),
    Array(12).fill('COMPLETE'),
  );
  t.deepEqual([...probe.maxPerNode.entries()].sort(), [
    ['a', 2],
    ['b', 2],
    ['c', 2],
  ]);
  t.is(probe.maxTotal, 6);
  const results = await w.tasks.results(id);
  t.is(results.length, 36);
  t.is(new Set(results.map((r) => r.storage_id)).size, 36);
  t.is(readdirSync(w.files).length, 36);
  await assertOnlyWholeFiles(t, w.files);
  await dispose(w, e);
});

test('a stored plan that does not decode fails its subtask, not the engine', async (t) => {
  const w = await world();
  const e = await engine(w, newProbe());
  const id = await create(
    e,
    `CREATE TASK TYPE write_files LOCATION NODE a OPTIONS dir = '${w.files}', subtasks_per_node = 2`,
  );
  // Before the run starts (the next turn of the event loop), as if another version had written the plan.
  const [first] = await w.tasks.subtasks(id);
  w.catalog.db
    .prepare('UPDATE subtasks SET plan = ? WHERE id = ?')
    .run('{"node": "a", "files": []}', first.id);
  await e.wait(id);
  const subtasks = w.catalog.db
    .prepare('SELECT status, error FROM subtasks WHERE task_id = ? ORDER BY rowid')
    .all(id);
  t.deepEqual(subtasks, [
    { status: 'FAILED', error: 'stored plan is invalid: plan.index should be a number, is undefined' },
    { status: 'COMPLETE', error: null },
  ]);
  t.like(await w.tasks.task(id), { status: 'FAILED' });
  await dispose(w, e);
});

test('CANCEL TASK aborts the signal: a throttle wait ends at once, and nothing is left half written', async (t) => {
  const w = await world();
  const probe = newProbe();
  const e = await engine(w, probe);
  // One file per second: after the first file of each subtask, the throttle holds it for about a second.
  const id = await create(
    e,
    `CREATE TASK TYPE write_files LOCATION NODE a OPTIONS dir = '${w.files}', files = 20, max_bytes_per_sec = ${FILE_BYTES}`,
  );
  while (probe.written < 2) await sleep(10);
  const cancelledAt = Date.now();
  await e.cancel(id);
  await e.wait(id);
  t.true(Date.now() - cancelledAt < 500, `cancel took ${Date.now() - cancelledAt} ms`);
  t.like(await w.tasks.task(id), { status: 'CANCELLED', error: null });
  t.deepEqual(
    (await w.tasks.subtasks(id)).map((s) => s.status),
    ['CANCELLED', 'CANCELLED', 'CANCELLED'],
  );
  t.deepEqual(probe.finished, []);
  t.is(readdirSync(w.files).length, probe.written);
  t.is((await w.tasks.results(id)).length, probe.written);
  await assertOnlyWholeFiles(t, w.files);
  await dispose(w, e);
});

test('an AbortError from I/O given the signal ends the subtask CANCELLED, not FAILED', async (t) => {
  const w = await world();
  const probe = newProbe();
  // Stands for any I/O that takes the signal (a read, a timer): it rejects with an AbortError on cancel.
  probe.beforeFile = (_s, ctx) => sleep(60_000, undefined, { signal: ctx.signal });
  const e = await engine(w, probe);
  const id = await create(
    e,
    `CREATE TASK TYPE write_files LOCATION NODE a OPTIONS dir = '${w.files}', subtasks_per_node = 1`,
  );
  while (probe.started.length < 1) await sleep(5);
  await e.cancel(id);
  await e.wait(id);
  t.like(await w.tasks.task(id), { status: 'CANCELLED', error: null });
  t.deepEqual(w.catalog.db.prepare('SELECT status, error FROM subtasks WHERE task_id = ?').all(id), [
    { status: 'CANCELLED', error: null },
  ]);
  t.deepEqual(readdirSync(w.files), []);
  await dispose(w, e);
});

test('after a crash, a new engine on the same catalog reruns the interrupted subtask from its start and no finished one', async (t) => {
  const w = await world();
  const before = newProbe();
  // The process "dies" in the third subtask after its first file: that run never returns, and the first
  // engine never writes to the catalog again.
  const crash = crashWhen(before, (plan) => plan.index === 2 && before.written === 5);
  const first = await engine(w, before);
  const id = await create(
    first,
    `CREATE TASK TYPE write_files LOCATION NODE a OPTIONS dir = '${w.files}', subtasks_per_node = 4, files = 2, parallelism = 1`,
  );
  await crash;
  await sleep(300); // its last progress reaches the catalog, as it would before a crash
  t.deepEqual(
    (await w.tasks.subtasks(id)).map((s) => s.status),
    ['COMPLETE', 'COMPLETE', 'RUNNING', 'PENDING'],
  );
  // What the interrupted subtask did is in the catalog as progress, its result rows were not flushed yet.
  t.like((await w.tasks.subtasks(id))[2], { status: 'RUNNING' });
  t.deepEqual(
    w.catalog.db
      .prepare('SELECT segments_done FROM subtasks WHERE task_id = ? ORDER BY rowid')
      .pluck()
      .all(id),
    [2, 2, 1, 0],
  );
  t.is((await w.tasks.results(id)).length, 4);

  const after = newProbe();
  const second = await engine(w, after);
  await second.wait(id);
  t.like(await w.tasks.task(id), { status: 'COMPLETE', segments_done: 8 });
  t.deepEqual(
    w.catalog.db
      .prepare('SELECT segments_done FROM subtasks WHERE task_id = ? ORDER BY rowid')
      .pluck()
      .all(id),
    [2, 2, 2, 2],
  );
  t.deepEqual(after.started, ['write 2 file(s) on a (#2)', 'write 2 file(s) on a (#3)']);
  const results = await w.tasks.results(id);
  // The interrupted subtask ran again from its start: one row per file, its counters as if run once.
  t.is(results.length, 8);
  t.is(new Set(results.map((r) => r.storage_id)).size, 8);
  await assertOnlyWholeFiles(t, w.files);
  await dispose(w, second);
});

test('a stored task whose options lack parallelism (stored before the option existed) resumes with its default', async (t) => {
  const w = await world();
  const before = newProbe();
  const crash = crashWhen(before);
  const first = await engine(w, before);
  const id = await create(
    first,
    `CREATE TASK TYPE write_files OPTIONS dir = '${w.files}', nodes = ['a', 'b'], subtasks_per_node = 4, files = 2`,
  );
  await crash;
  const stored = JSON.parse((await w.tasks.task(id))!.options) as Record<string, unknown>;
  t.is(stored.parallelism, 2, 'CREATE TASK stores the default');
  delete stored.parallelism;
  await w.tasks.setTaskOptions(id, stored);

  const after = newProbe();
  after.beforeFile = () => sleep(20);
  const second = await engine(w, after);
  await second.wait(id);
  t.like(await w.tasks.task(id), { status: 'COMPLETE', segments_done: 16 });
  t.deepEqual([...after.maxPerNode.entries()].sort(), [
    ['a', 2],
    ['b', 2],
  ]);
  await dispose(w, second);
});

test('a task whose type this build lacks, found RUNNING after a crash, is FAILED saying so', async (t) => {
  const w = await world();
  const before = newProbe();
  const crash = crashWhen(before);
  const first = await engine(w, before);
  const id = await create(
    first,
    `CREATE TASK TYPE write_files LOCATION NODE a OPTIONS dir = '${w.files}', subtasks_per_node = 1, files = 1`,
  );
  await crash;
  // The next build on this catalog has no write_files type.
  const storage = new StorageCatalog(w.catalog);
  const second = new TaskEngine(
    w.tasks,
    storage,
    new SegmentStore(storage),
    new TaskTypeRegistry([rebuild, checkDisk, rebalance]),
    pino({ level: 'silent' }),
    new VerifyPool(1),
  );
  await second.start();
  const ended = await second.waitFor(id, new AbortController().signal);
  t.like(ended, { status: 'FAILED', error: 'task type write_files is not available in this build' });
  t.like(await w.tasks.task(id), { status: 'FAILED' });
  await dispose(w, second);
});

test('WAIT FOR TASK on a task that ended after it was read, before the wait listened, still ends', async (t) => {
  const w = await world();
  const e = await engine(w, newProbe());
  const id = await create(
    e,
    `CREATE TASK TYPE write_files LOCATION NODE a OPTIONS dir = '${w.files}', subtasks_per_node = 1, files = 1`,
  );
  const running = { ...(await w.tasks.task(id))!, status: 'RUNNING' as const };
  await e.wait(id);
  // The wait's read of the task saw it RUNNING; its end (and the event saying so) came before the wait listened.
  (e as unknown as { findTask: () => Promise<unknown> }).findTask = async () => running;
  const ended = await e.waitFor(id, AbortSignal.timeout(3000));
  t.like(ended, { status: 'COMPLETE' });
  await dispose(w, e);
});

test('after a crash, a subtask that checkpoints resumes after its checkpoint: its counters and results kept, nothing twice', async (t) => {
  const w = await world();
  const before = newProbe();
  // The process "dies" in the second subtask before its fourth file.
  const crash = crashWhen(before, (plan) => plan.index === 1 && before.written === 8 + 3);
  const first = await engine(w, before);
  const id = await create(
    first,
    `CREATE TASK TYPE write_files LOCATION NODE a OPTIONS dir = '${w.files}', subtasks_per_node = 2, files = 8, checkpoints = true, parallelism = 1`,
  );
  await crash;
  await sleep(300); // the batched checkpoints reach the catalog, as they would before a crash
  const shownBytes = w.catalog.db
    .prepare('SELECT bytes_done FROM tasks WHERE id = ?')
    .pluck()
    .get(id) as number;
  const after = newProbe();
  const second = await engine(w, after);
  // right after the restart, nothing checkpointed is taken back
  const resumed = w.catalog.db
    .prepare('SELECT segments_done, checkpoint FROM subtasks WHERE task_id = ? ORDER BY rowid')
    .all(id);
  t.deepEqual(resumed, [
    { segments_done: 8, checkpoint: 8 },
    { segments_done: 3, checkpoint: 3 },
  ]);
  const doneBytes = (task: string) =>
    w.catalog.db.prepare('SELECT bytes_done FROM tasks WHERE id = ?').pluck().get(task) as number;
  t.true(doneBytes(id) >= shownBytes);
  await second.wait(id);
  t.like(await w.tasks.task(id), { status: 'COMPLETE', segments_done: 16, bytes_done: 16 * FILE_BYTES });
  // the second run wrote only the five files after the checkpoint
  t.is(after.written, 5);
  const results = await w.tasks.results(id);
  t.is(results.length, 16);
  t.is(new Set(results.map((r) => r.storage_id)).size, 16);
  await assertOnlyWholeFiles(t, w.files);
  await dispose(w, second);
});

test('a batched checkpoint lost with a failed write fails its subtask, instead of its results vanishing', async (t) => {
  const w = await world();
  const probe = newProbe();
  // The engine's timer writes the checkpoint of the first file; that one write fails (the catalog's disk was
  // full for a moment), and the subtask goes on to checkpoint the next files.
  const writeProgress = w.tasks.writeProgress.bind(w.tasks);
  let failures = 0;
  let failNext = false;
  w.tasks.writeProgress = async (...args) => {
    if (failNext && args[0].size && [...args[0].values()].some((p) => p.checkpoint)) {
      failNext = false;
      failures++;
      throw new Error('database or disk is full');
    }
    return writeProgress(...args);
  };
  probe.beforeFile = async () => {
    if (probe.written !== 1) return;
    failNext = true;
    await sleep(600); // two ticks of the flush timer
  };
  const e = await engine(w, probe);
  const id = await create(
    e,
    `CREATE TASK TYPE write_files LOCATION NODE a OPTIONS dir = '${w.files}', subtasks_per_node = 1, files = 3, checkpoints = true`,
  );
  await e.wait(id);
  t.is(failures, 1);
  const sub = w.catalog.db.prepare('SELECT status, error FROM subtasks WHERE task_id = ?').get(id) as {
    status: string;
    error: string;
  };
  t.is(sub.status, 'FAILED');
  t.regex(sub.error, /database or disk is full/);
  t.like(await w.tasks.task(id), { status: 'FAILED' });
  await dispose(w, e);
});

test('after a shutdown, the next engine resumes the task where it stopped', async (t) => {
  const w = await world();
  const before = newProbe();
  before.beforeFile = () => sleep(30);
  const first = await engine(w, before);
  const id = await create(
    first,
    `CREATE TASK TYPE write_files LOCATION NODE a OPTIONS dir = '${w.files}', subtasks_per_node = 6, parallelism = 1`,
  );
  while (before.finished.length < 2) await sleep(5);
  await first.stop();
  t.like(await w.tasks.task(id), { status: 'RUNNING' });
  const done = before.finished.length;
  const after = newProbe();
  const second = await engine(w, after);
  await second.wait(id);
  t.like(await w.tasks.task(id), { status: 'COMPLETE' });
  t.is(after.finished.length, 6 - done);
  t.is((await w.tasks.results(id)).length, 12);
  await assertOnlyWholeFiles(t, w.files);
  await dispose(w, second);
});
