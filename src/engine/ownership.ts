// Who runs a task when several engines (coordinators) share one catalog: one policy injected into the engine.
// The sole owner is the embedded mode (SQLite, one process): every task is this engine's, nothing is checked
// and nothing is published, exactly as before leases existed. The leased owner is the PostgreSQL catalog's
// (docs/coordinators.md): a task runs on the engine that holds its lease (catalog/leases.ts), renewed by a
// heartbeat; an adoption loop takes the tasks whose lease expired; every write a run makes is fenced by the
// lease in its own transaction, so an engine that lost a task can never write its progress, results or end
// after the adopter started; task events and control reach the other engines through a catalog channel.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { TaskLeases } from '../../catalog/leases';
import type { PostgresCatalog } from '../../catalog/postgres';
import type { Sql } from '../../catalog/sql';
import { CatalogChannel, MAX_PAYLOAD_BYTES } from '../../catalog/task-channel';
import type { TaskCatalog, TaskRow } from '../../catalog/tasks';
import type { TaskEvent } from './task-events';

/** What a fenced write gives when this engine does not hold the task: nothing was written. */
export const LOST: unique symbol = Symbol('lost');

/** What the policy calls back in the engine. */
export interface OwnershipHost {
  /** The tasks this engine runs now. */
  runningTasks(): string[];
  /** Another engine took the task: stop its run at once, writing nothing. */
  lost(taskId: string): void;
  /** Takes and recovers what nobody holds (start() and each scan of the adoption loop). */
  adopt(): Promise<void>;
  /** Another engine may have changed a task this one runs (CANCEL, PAUSE, ALTER TASK): read it and act. */
  check(taskId: string): Promise<void>;
  /** A task event published by another engine. */
  remoteEvent(e: TaskEvent): void;
  error(err: unknown, what: string): void;
}

export interface TaskOwnership {
  /** Whether other engines share the catalog (events and control cross engines, writes are fenced). */
  readonly shared: boolean;
  /** Active tasks this engine may take now: every one for the sole owner, the adoptable ones with leases. */
  unowned(tasks: TaskCatalog): Promise<TaskRow[]>;
  /** Takes a task for this engine (inside `tx` when given, the one that inserts it): whether it holds it now. */
  take(taskId: string, tx?: Sql): Promise<boolean>;
  /** Gives a task up: it ended, was paused, or this engine stops. */
  release(taskId: string): Promise<void>;
  /**
   * Resolves once no other engine holds the task (a PAUSE given here winding down there): released, or expired
   * because its owner died; after 3 TTLs (30 s at least) in any case.
   */
  settled(taskId: string): Promise<void>;
  /** Runs `fn` in one transaction only while this engine holds the task; LOST (nothing written) otherwise. */
  fenced<T>(
    tasks: TaskCatalog,
    taskId: string,
    fn: (tasks: TaskCatalog) => Promise<T>,
  ): Promise<T | typeof LOST>;
  /** The check writeProgress runs per task inside its transaction; undefined: none needed. */
  readonly holds: ((tx: Sql, taskId: string) => Promise<boolean>) | undefined;
  /** Marks a PENDING subtask RUNNING for this engine's run: false when it may not run it (taken, or lost). */
  claimSubtask(tasks: TaskCatalog, taskId: string, subtaskId: string): Promise<boolean>;
  /** Sends this engine's task events, in order, to the others. */
  publish(events: TaskEvent[]): Promise<void>;
  /** Tells the owner of a task that its status or options changed (the one that changed them does not run it). */
  poke(taskId: string): Promise<void>;
  /** How often a waiter re-reads a task whose end may come from elsewhere; null: the events suffice. */
  readonly pollMs: number | null;
  start(host: OwnershipHost): Promise<void>;
  /** Stops the loops at once (before it awaits anything) and then the channel; releasing leases is the engine's. */
  stop(): Promise<void>;
}

/** The embedded mode: one engine on its catalog owns every task. */
export class SoleOwnership implements TaskOwnership {
  readonly shared = false;
  readonly holds = undefined;
  readonly pollMs = null;
  async unowned(tasks: TaskCatalog): Promise<TaskRow[]> {
    return tasks.activeTasks();
  }
  async take(): Promise<boolean> {
    return true;
  }
  async release(): Promise<void> {}
  async settled(): Promise<void> {}
  fenced<T>(tasks: TaskCatalog, _taskId: string, fn: (tasks: TaskCatalog) => Promise<T>): Promise<T> {
    return fn(tasks);
  }
  async claimSubtask(tasks: TaskCatalog, _taskId: string, subtaskId: string): Promise<boolean> {
    await tasks.setSubtaskStatus(subtaskId, 'RUNNING');
    return true;
  }
  async publish(): Promise<void> {}
  async poke(): Promise<void> {}
  async start(host: OwnershipHost): Promise<void> {
    await host.adopt();
  }
  async stop(): Promise<void> {}
}

export interface LeaseOptions {
  /** This engine's id in task_leases (default: host, pid and a random part). */
  owner?: string;
  /** How long a lease lasts without renewal (default 10 s). */
  ttlMs?: number;
  /** How often the leases are renewed and the running tasks' status and options read (default 2 s). */
  heartbeatMs?: number;
  /** How often the adoption loop looks for tasks whose lease expired (default 2 s). */
  adoptMs?: number;
}

/** How often settled() looks at the lease, and for how long at least. */
const SETTLE_POLL_MS = 50;
const SETTLE_MAX_MS = 30_000;

export const LEASE_DEFAULTS = { ttlMs: 10_000, heartbeatMs: 2_000, adoptMs: 2_000 } as const;

/** A message on the catalog channel: a task event, or a poke (a task's status or options changed). */
type Message = { from: string; event: TaskEvent } | { from: string; poke: string };

/** Several engines on one PostgreSQL catalog: tasks are leased (catalog/leases.ts). */
export class LeasedOwnership implements TaskOwnership {
  readonly shared = true;
  readonly leases: TaskLeases;
  readonly ttlMs: number;
  readonly heartbeatMs: number;
  readonly adoptMs: number;
  private readonly channel: CatalogChannel;
  private host: OwnershipHost | null = null;
  private timers: NodeJS.Timeout[] = [];
  /** One heartbeat or scan at a time: a slow catalog makes them late, never overlapping. */
  private beating = false;
  private scanning = false;

  constructor(catalog: Pick<PostgresCatalog, 'sql' | 'pool'>, options: LeaseOptions = {}) {
    this.ttlMs = options.ttlMs ?? LEASE_DEFAULTS.ttlMs;
    this.heartbeatMs = options.heartbeatMs ?? LEASE_DEFAULTS.heartbeatMs;
    this.adoptMs = options.adoptMs ?? LEASE_DEFAULTS.adoptMs;
    if (this.heartbeatMs >= this.ttlMs) throw new Error('the lease heartbeat must be shorter than its TTL');
    const owner = options.owner ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    this.leases = new TaskLeases(catalog, owner, this.ttlMs);
    this.channel = new CatalogChannel(
      catalog,
      (payload) => this.received(payload),
      (err) => this.host?.error(err, 'the catalog channel broke; listening again'),
    );
  }

  get owner(): string {
    return this.leases.owner;
  }

  get pollMs(): number {
    return this.heartbeatMs;
  }

  readonly holds = (tx: Sql, taskId: string) => this.leases.holds(tx, taskId);

  async unowned(tasks: TaskCatalog): Promise<TaskRow[]> {
    const rows: TaskRow[] = [];
    for (const id of await this.leases.adoptable()) {
      const row = await tasks.task(id);
      if (row) rows.push(row);
    }
    return rows;
  }

  take(taskId: string, tx?: Sql): Promise<boolean> {
    return (tx ? new TaskLeases({ sql: tx }, this.owner, this.ttlMs) : this.leases).acquire(taskId);
  }

  release(taskId: string): Promise<void> {
    return this.leases.release(taskId);
  }

  async settled(taskId: string): Promise<void> {
    // The owner sees the change within a heartbeat (at once through the channel), then winds its run down and
    // releases the lease; one that died meanwhile lets it expire. The bound is for an owner stuck stopping.
    const until = Date.now() + Math.max(3 * this.ttlMs, SETTLE_MAX_MS);
    for (;;) {
      const holder = await this.leases.holder(taskId);
      if (holder === null || holder === this.owner || Date.now() > until) return;
      await sleep(SETTLE_POLL_MS);
    }
  }

  async fenced<T>(
    tasks: TaskCatalog,
    taskId: string,
    fn: (tasks: TaskCatalog) => Promise<T>,
  ): Promise<T | typeof LOST> {
    const r = await tasks.guarded((tx) => this.leases.holds(tx, taskId), fn);
    return r.held ? r.value : LOST;
  }

  async claimSubtask(_tasks: TaskCatalog, taskId: string, subtaskId: string): Promise<boolean> {
    return (await this.leases.claimSubtask(taskId, subtaskId)) !== null;
  }

  async publish(events: TaskEvent[]): Promise<void> {
    const payloads = events
      .map((event) => JSON.stringify({ from: this.owner, event } satisfies Message))
      // Too long for NOTIFY (a finding with a long detail is cut well below: task-events.ts): the others miss it.
      .filter((payload) => Buffer.byteLength(payload) <= MAX_PAYLOAD_BYTES);
    await this.channel.publish(payloads);
  }

  async poke(taskId: string): Promise<void> {
    await this.channel.publish([JSON.stringify({ from: this.owner, poke: taskId } satisfies Message)]);
  }

  private received(payload: string): void {
    const host = this.host;
    if (!host) return;
    let m: Message;
    try {
      m = JSON.parse(payload) as Message;
    } catch {
      return;
    }
    if (m.from === this.owner) return;
    const taskId = 'poke' in m ? m.poke : m.event.task_id;
    if ('event' in m) host.remoteEvent(m.event);
    if (host.runningTasks().includes(taskId))
      host.check(taskId).catch((err) => host.error(err, 'could not read a task changed elsewhere'));
  }

  async start(host: OwnershipHost): Promise<void> {
    this.host = host;
    await this.channel.listen();
    await host.adopt();
    const every = (ms: number, fn: () => Promise<void>) => {
      const timer = setInterval(fn, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.heartbeatMs, () => this.heartbeat());
    every(this.adoptMs, async () => {
      if (this.scanning) return;
      this.scanning = true;
      try {
        await host.adopt();
      } catch (err) {
        host.error(err, 'task adoption failed');
      } finally {
        this.scanning = false;
      }
    });
  }

  /** Renews the leases; a task whose lease went to another engine stops here; the others are read for control. */
  private async heartbeat(): Promise<void> {
    const host = this.host;
    if (!host || this.beating) return;
    this.beating = true;
    try {
      const held = await this.leases.renew();
      for (const id of host.runningTasks()) {
        if (!held.has(id)) host.lost(id);
        else await host.check(id);
      }
    } catch (err) {
      host.error(err, 'lease heartbeat failed');
    } finally {
      this.beating = false;
    }
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.host = null;
    await this.channel.close();
  }
}
