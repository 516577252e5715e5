// A fourth task type, written the way a real one is (one module, one line in a registry): each subtask
// writes a few segment files into a directory, throttled, through the store's own durable write. The probe
// lets a test watch and steer it: which subtasks ran, how many ran at once per node, and a hook before each
// file (to hold a subtask until the test says so).
import { randomUUID } from 'node:crypto';
import { TaskError } from '../../src/engine/errors';
import { array, number, object, string } from '../../src/engine/plan-decoder';
import { option } from '../../src/engine/task-options';
import { defineTaskType, type RunContext, type Subtask } from '../../src/engine/task-type';
import { fileSizeFor, writeSegmentFile } from '../../src/store/segment-file';

export interface WriteFilesPlan {
  node: string;
  index: number;
  files: string[];
}

export interface Probe {
  /** Subtask descriptions, once per run that started. */
  started: string[];
  /** Subtask descriptions, once per run that wrote all of its files. */
  finished: string[];
  /** Files written, over all runs. */
  written: number;
  /** Highest number of runs at once, per node and over all nodes. */
  maxPerNode: Map<string, number>;
  maxTotal: number;
  /** Awaited before each file is written. */
  beforeFile?: (subtask: Subtask<WriteFilesPlan, unknown>, ctx: RunContext) => Promise<void>;
}

export function newProbe(): Probe {
  return { started: [], finished: [], written: 0, maxPerNode: new Map(), maxTotal: 0 };
}

/**
 * Makes the probe's engine "die" before the first file for which `when` holds (before any file without it):
 * that run never returns, so the engine never writes to the catalog for it again, as after a kill -9.
 * Resolves once the crash has happened.
 */
export function crashWhen(probe: Probe, when: (plan: WriteFilesPlan) => boolean = () => true): Promise<void> {
  return new Promise<void>((crashed) => {
    probe.beforeFile = ({ plan }) => {
      if (!when(plan)) return Promise.resolve();
      crashed();
      return new Promise<void>(() => {});
    };
  });
}

const PAYLOAD_BYTES = 1000;
export const FILE_BYTES = fileSizeFor(PAYLOAD_BYTES);

export function writeFilesType(probe: Probe) {
  const now = new Map<string, number>();
  let total = 0;
  return defineTaskType({
    name: 'write_files',
    locations: ['SYSTEM', 'NODE'],
    refusedLocationHint: () => 'Use LOCATION NODE <node>, or SYSTEM with OPTIONS nodes = [...].',
    options: {
      dir: option.string('', 'directory the files go to'),
      nodes: option.stringList(null, 'nodes to write on (LOCATION SYSTEM)'),
      subtasks_per_node: option.int(3, 'subtasks per node'),
      files: option.int(2, 'files per subtask, at most 100', (v) =>
        (v as number) <= 100 ? null : { message: 'files must be at most 100', hint: 'Use more subtasks.' },
      ),
      checkpoints: option.bool(false, 'checkpoint after each file'),
    },
    planDecoder: object<WriteFilesPlan>({ node: string, index: number, files: array(string) }),

    async plan({ location, options }) {
      const nodes = location.type === 'NODE' ? [location.name!] : options.nodes;
      if (!nodes) throw new TaskError('22023', 'write_files at LOCATION SYSTEM needs the nodes option');
      return nodes.flatMap((node) =>
        Array.from({ length: options.subtasks_per_node }, (_, index) => ({
          node_name: node,
          cluster_name: null,
          device_id: null,
          description: `write ${options.files} file(s) on ${node} (#${index})`,
          bytes_total: options.files * FILE_BYTES,
          segments_total: options.files,
          plan: { node, index, files: Array.from({ length: options.files }, () => randomUUID()) },
        })),
      );
    },

    async run(subtask, ctx) {
      const { plan, options, row } = subtask;
      probe.started.push(row.description);
      now.set(plan.node, (now.get(plan.node) ?? 0) + 1);
      total++;
      probe.maxPerNode.set(plan.node, Math.max(probe.maxPerNode.get(plan.node) ?? 0, now.get(plan.node)!));
      probe.maxTotal = Math.max(probe.maxTotal, total);
      try {
        for (const [position, storageId] of plan.files.entries()) {
          if (position < (subtask.resumeFrom ?? 0)) continue;
          if (ctx.signal.aborted) return;
          await probe.beforeFile?.(subtask, ctx);
          await ctx.throttle(FILE_BYTES);
          if (ctx.signal.aborted) return;
          const payload = Buffer.alloc(PAYLOAD_BYTES, position + 1);
          const w = await writeSegmentFile(
            options.dir,
            { storageId, groupId: plan.index, position, isParity: false },
            payload,
            { signal: ctx.signal },
          );
          probe.written++;
          ctx.progress({ segments: 1, bytes: FILE_BYTES });
          ctx.result({
            node_name: plan.node,
            device_id: null,
            table_id: null,
            segment_group_id: plan.index,
            storage_id: storageId,
            result: 'WRITTEN',
            detail: w.path,
          });
          if (options.checkpoints) await ctx.checkpoint(position + 1);
        }
        probe.finished.push(row.description);
      } finally {
        now.set(plan.node, now.get(plan.node)! - 1);
        total--;
      }
    },
  });
}
