// Helpers for task tests: run a CREATE TASK and wait for the task to finish.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';

export async function load(client: pg.Client, table: string, bytes: number, cluster = 'c1'): Promise<Buffer> {
  const data = randomBytes(bytes);
  await client.query(`CREATE TABLE ${table} (b bytea) IN CLUSTER ${cluster}`);
  await pipeline(
    Readable.from([data]),
    client.query(copyFrom(`COPY ${table} FROM STDIN WITH (FORMAT binary)`)),
  );
  return data;
}

/** The bytes a COPY ... TO STDOUT statement sends. */
export async function copyOutBytes(client: pg.Client, sql: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of client.query(copyTo(sql))) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

export interface TaskInfo {
  id: string;
  name: string | null;
  status: string;
  fraction_complete: number;
  bytes_total: string;
  bytes_done: string;
  segments_total: string;
  segments_done: string;
  segments_failed: string;
  error: string | null;
  finished_at: Date | null;
}

export async function waitTask(client: pg.Client, id: string, ms = 60_000): Promise<TaskInfo> {
  const end = Date.now() + ms;
  for (;;) {
    const r = await client.query('SELECT * FROM sys.tasks WHERE id = $1', [id]);
    const t = r.rows[0] as TaskInfo;
    if (['COMPLETE', 'FAILED', 'CANCELLED'].includes(t.status)) return t;
    if (Date.now() > end) throw new Error(`task ${id} still ${t.status}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

/** Runs CREATE TASK and returns the new task's id (from its NOTICE). */
export async function createTask(client: pg.Client, sql: string): Promise<string> {
  let id = '';
  const onNotice = (n: { message?: string }) => {
    const m = /^task ([0-9a-f-]{36})/.exec(n.message ?? '');
    if (m) id = m[1];
  };
  client.on('notice', onNotice);
  try {
    await client.query(sql);
  } finally {
    client.off('notice', onNotice);
  }
  if (!id) throw new Error(`no task id in the NOTICE of: ${sql}`);
  return id;
}

export async function runTask(client: pg.Client, sql: string): Promise<TaskInfo> {
  return waitTask(client, await createTask(client, sql));
}

export async function findings(
  client: pg.Client,
  taskId: string,
): Promise<{ result: string; storage_id: string; detail: string }[]> {
  return (
    await client.query(
      'SELECT result, storage_id, detail FROM sys.result_cache WHERE task_id = $1 ORDER BY storage_id',
      [taskId],
    )
  ).rows;
}
