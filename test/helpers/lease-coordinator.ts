// A coordinator of test/engine-leases.test.ts: a task engine with leases on a PostgreSQL catalog, running the
// fake task type with each file it writes recorded. Run as a child process (node lease-coordinator.js URL
// OWNER LEASES-JSON CREATE-TASK-SQL), it creates the task, prints `T <task id>` and `W <storage id>` for each
// file written, and runs until it is killed (kill -9 is the point).
import pino from 'pino';
import { openPostgresCatalog } from '../../catalog/postgres';
import { StorageCatalog } from '../../catalog/storage';
import { TaskCatalog } from '../../catalog/tasks';
import { validateTask } from '../../src/ddl/task-validation';
import { parseTaskStatement } from '../../src/ddl/tasks';
import { TaskEngine } from '../../src/engine/engine';
import { LeasedOwnership, type LeaseOptions } from '../../src/engine/ownership';
import { TaskTypeRegistry } from '../../src/engine/registry';
import type { TaskType } from '../../src/engine/task-type';
import { SegmentStore } from '../../src/store/store';
import { VerifyPool } from '../../src/store/verify-pool';
import { newProbe, type Probe, writeFilesType } from './fake-task-type';

/** The fake type, telling `onWrite` of each file it wrote (by its result row, before the engine gets it). */
export function recorded(probe: Probe, onWrite: (storageId: string) => void): TaskType {
  const type = writeFilesType(probe) as unknown as TaskType;
  return {
    ...type,
    run: (subtask, ctx) =>
      type.run(subtask, {
        ...ctx,
        result: (row) => {
          onWrite(row.storage_id!);
          ctx.result(row);
        },
      }),
  };
}

export async function leasedCoordinator(
  url: string,
  owner: string,
  lease: LeaseOptions,
  onWrite: (storageId: string) => void,
) {
  const catalog = await openPostgresCatalog(url);
  const tasks = new TaskCatalog(catalog);
  const storage = new StorageCatalog(catalog);
  const probe = newProbe();
  const engine = new TaskEngine(
    tasks,
    storage,
    new SegmentStore(storage),
    new TaskTypeRegistry([recorded(probe, onWrite)]),
    pino({ level: 'silent' }),
    new VerifyPool(1),
    { ownership: new LeasedOwnership(catalog, { owner, ...lease }) },
  );
  await engine.start();
  return { name: owner, catalog, tasks, engine, probe };
}

/** CREATE TASK as the statement module does it, without the wire. */
export async function createTask(e: TaskEngine, sql: string): Promise<string> {
  const stmt = parseTaskStatement(sql, e.types.names());
  if (stmt?.kind !== 'create_task') throw new Error(`not CREATE TASK: ${sql}`);
  return (await e.create(validateTask(stmt, [], e.types), 'admin')).id;
}

async function main(): Promise<void> {
  const [url, owner, lease, sql] = process.argv.slice(2);
  // Writes to a pipe are synchronous on Linux: a line printed is a line the test reads, kill -9 or not.
  const c = await leasedCoordinator(url, owner, JSON.parse(lease) as LeaseOptions, (id) =>
    process.stdout.write(`W ${id}\n`),
  );
  c.probe.beforeFile = () => new Promise((r) => setTimeout(r, 60));
  process.stdout.write(`T ${await createTask(c.engine, sql)}\n`);
  // The engine's timers do not keep a process alive; this one runs until it is killed.
  setInterval(() => {}, 1 << 30);
}

if (require.main === module)
  main().catch((err) => {
    process.stderr.write(`${(err as Error).stack}\n`);
    process.exit(1);
  });
