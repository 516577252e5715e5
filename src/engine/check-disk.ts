// check_disk: reads stored segments, recomputes their block checksums and compares them with the stored ones.
// One subtask per device (node and disk); devices of a node run side by side up to `parallelism`.
// Findings go to sys.result_cache; with fix = true, failing segments become DAMAGED and vanished ones MISSING.
// Segments are checked in the order of their catalog row ids, and each verified batch is a checkpoint at the
// last row id it covered: a resumed run starts after it, and a batch's findings are written with it.
import { nowText } from '../../catalog/db';
import { type SegmentToVerify, type StorageCatalog, VERIFY_COLUMN } from '../../catalog/storage';
import { payloadLengthOf, SegmentFault } from '../store/segment-file';
import { type VerifyJob, verifyJobFor } from '../store/verify-pool';
import { TaskError } from './errors';
import { array, boolean, nullable, object, optional, string } from './plan-decoder';
import { segmentRow } from './results';
import { option } from './task-options';
import { defineTaskType, type TaskLocation } from './task-type';

/** One device's share of the check. */
interface CheckDiskPlan {
  device_id: string;
  cluster?: string;
  node?: string;
  storage_ids: string[] | null;
  only_unhealthy: boolean;
}

async function locationFilter(input: { location: TaskLocation; storage: StorageCatalog }): Promise<{
  cluster?: string;
  node?: string;
}> {
  const { location, storage } = input;
  if (location.type === 'CLUSTER') {
    if (!(await storage.cluster(location.name!)))
      throw new TaskError('42704', `cluster "${location.name}" does not exist`);
    return { cluster: location.name! };
  }
  if (location.type === 'NODE') {
    if (!(await storage.node(location.name!)))
      throw new TaskError('42704', `node "${location.name}" does not exist`);
    return { node: location.name! };
  }
  return {};
}

/** Segments verified in one batch at most (one trip to a verifier thread, one catalog write). */
export const BATCH_SEGMENTS = 1024;
/** Segments read from the catalog at a time: a few batches' worth, bounded memory for any device. */
const PAGE_SEGMENTS = 4096;

const FINDING_RESULT: Record<string, string> = {
  CHECKSUM_MISMATCH: 'CHECKSUM_MISMATCH',
  BAD_HEADER: 'CHECKSUM_MISMATCH',
  MISSING: 'MISSING',
  UNREADABLE: 'UNREADABLE',
  WRONG_LENGTH: 'WRONG_LENGTH',
};

/** A catalog row with the payload length its file must have appended (index C.shardBytes). */
type Seg = readonly [...SegmentToVerify, shard_bytes: number];
const C = { ...VERIFY_COLUMN, shardBytes: 8 } as const;

export const checkDisk = defineTaskType({
  name: 'check_disk',
  locations: ['SYSTEM', 'CLUSTER', 'NODE'],
  options: {
    fix: option.bool(false, 'mark failing segments DAMAGED or MISSING'),
    sample: option.bool(false, 'check a random sample of blocks'),
    sample_rate: option.fraction(0.1, 'fraction of blocks when sample = true, in (0,1]', (_, o) =>
      o.sample ? null : { message: 'sample_rate is given but sample is false', hint: 'Add sample = true.' },
    ),
    only_unhealthy: option.bool(false, 'only segments whose status is not INTACT'),
    storage_ids: option.uuidList(null, 'only these segment storage ids'),
  },
  planDecoder: object<CheckDiskPlan>({
    device_id: string,
    cluster: optional(string),
    node: optional(string),
    storage_ids: nullable(array(string)),
    only_unhealthy: boolean,
  }),

  async plan(input) {
    const where = await locationFilter(input);
    const o = input.options;
    const storageIds = o.storage_ids;
    if (storageIds) {
      const unknown = await input.storage.unknownStorageIds(storageIds);
      if (unknown.length)
        throw new TaskError('42704', `segment storage id "${unknown[0]}" does not exist`, {
          hint: 'See sys.segments for the storage ids.',
        });
    }
    const rate = o.sample ? o.sample_rate : 1;
    const perDevice = await input.storage.segmentsPerDevice({
      ...where,
      storageIds,
      onlyUnhealthy: !!o.only_unhealthy,
    });
    return perDevice.map((d) => ({
      node_name: d.node_name,
      cluster_name: d.cluster_name,
      device_id: d.device_id,
      description: `check ${d.segments} segment(s) on device ${d.path} of node ${d.node_name}`,
      // With sampling, the expected reading is the headers plus the sampled share of the payload.
      bytes_total: Math.round(rate >= 1 ? d.bytes : d.bytes - d.payload + d.payload * rate),
      segments_total: d.segments,
      plan: {
        device_id: d.device_id,
        ...where,
        storage_ids: storageIds,
        only_unhealthy: !!o.only_unhealthy,
      },
    }));
  },

  async run({ plan, options, resumeFrom }, ctx) {
    const { storage } = ctx;
    const device = await storage.device(plan.device_id);
    const fix = options.fix;
    // Every segment of the device is read, in row-id order: a batch's runs of clean segments are all of the
    // device's segments in their row-id ranges, recorded as ranges (markCheckedRange). A filtered plan
    // records its clean segments one by one.
    const wholeDevice = !plan.storage_ids && !plan.only_unhealthy;
    const sampleRate = options.sample ? options.sample_rate : 1;
    // The device's I/O: in process, or its node's agent (which then does the hashing beside the data).
    const io = await ctx.store.io.forNode(device?.node_name ?? plan.node ?? '');
    let deviceGone = false;
    if (device) deviceGone = !(await io.usable(device.path));
    // A finding for one segment: reported, and with fix applied to its status.
    const report = async (seg: Seg, err: SegmentFault): Promise<boolean> => {
      // Look again: a segment that moved or is being rebuilt meanwhile is not a finding.
      const now = await storage.segment(seg[C.storageId]);
      if (
        !now ||
        now.path !== seg[C.path] ||
        now.status === 'REBUILDING' ||
        ctx.locks.isLocked(seg[C.groupId])
      ) {
        return false;
      }
      const kind = deviceGone && err.kind === 'MISSING' ? 'MISSING' : err.kind;
      const detail =
        kind === 'MISSING' && deviceGone
          ? `device directory ${device?.path} is gone; ${err.message}`
          : err.block !== undefined && err.block >= 0
            ? `first bad block ${err.block}: ${err.message}`
            : err.message;
      const tableId = (await storage.group(now.segment_group_id))?.table_id ?? null;
      ctx.result(segmentRow(now, tableId, FINDING_RESULT[kind] ?? kind, `${detail} (file ${now.path})`));
      if (fix) {
        const status = kind === 'MISSING' ? 'MISSING' : 'DAMAGED';
        if (now.status !== status)
          await storage.setSegmentStatus([{ storageId: now.storage_id, status, checkedAt: nowText() }]);
      }
      return true;
    };
    // Segments are verified on the verifier threads in batches: up to BATCH_SEGMENTS segments or the device
    // I/O's verifyBatchBytes, and with a throttle at most a quarter-second's worth, so that cancellation and
    // the throttle act promptly. Unthrottled, the next batch is verified while the last one's results are
    // written (two in flight), so that the verifier threads do not wait for the catalog.
    const throttleRate = options.max_bytes_per_sec;
    const batchBytes = throttleRate ? Math.max(1, throttleRate / 4) : io.verifyBatchBytes;
    const expectedOf = (seg: Seg) =>
      sampleRate >= 1
        ? seg[C.sizeBytes]
        : Math.round(seg[C.sizeBytes] - seg[C.shardBytes] + seg[C.shardBytes] * sampleRate);
    /** Starts verifying a batch; returns what writes its results and checkpoint, to run in batch order. */
    const verifyBatch = (segs: Seg[]) => {
      // A group another task is rewriting is skipped: its files are being replaced under us.
      const skipped = new Uint8Array(segs.length);
      const jobs: VerifyJob[] = [];
      for (const [i, seg] of segs.entries()) {
        if (seg[C.status] === 'REBUILDING' || ctx.locks.isLocked(seg[C.groupId])) {
          skipped[i] = 1;
          continue;
        }
        jobs.push(
          verifyJobFor(
            seg[C.path],
            seg[C.storageId],
            seg[C.groupId],
            seg[C.position],
            seg[C.shardBytes],
            sampleRate,
          ),
        );
      }
      const verified = io.verify(jobs);
      verified.catch(() => {}); // awaited by settle
      return async () => {
        const outcomes = await verified;
        // The batch's progress is counted here, with its checkpoint, so that what a restart shows never
        // drops below what was shown: the progress of a batch and its checkpoint are written together.
        // Counted per batch, not per segment (one call for the skipped, one for the clean).
        let skippedCount = 0;
        let skippedBytes = 0;
        let cleanCount = 0;
        let cleanBytes = 0;
        let verifiedBytes = 0;
        const clean: string[] = [];
        // The [first, last] row ids of each run of consecutive clean segments of the batch.
        const runs: [number, number][] = [];
        let run: [number, number] | null = null;
        let next = 0;
        for (const [i, seg] of segs.entries()) {
          const bytes = expectedOf(seg);
          if (skipped[i]) {
            skippedCount++;
            skippedBytes += bytes;
            run = null;
            continue;
          }
          verifiedBytes += bytes;
          const o = outcomes[next++];
          let fault: SegmentFault | null = null;
          if (!o.ok) fault = new SegmentFault(o.kind, o.message, o.block);
          else if (seg[C.checksum] && o.checksum !== seg[C.checksum]) {
            fault = new SegmentFault(
              'CHECKSUM_MISMATCH',
              'the file is intact but is not the segment the catalog records (whole-segment checksum differs)',
            );
          }
          if (fault) {
            run = null;
            const found = await report(seg, fault);
            ctx.progress({ segments: 1, failed: found ? 1 : 0, bytes });
            continue;
          }
          cleanCount++;
          cleanBytes += bytes;
          if (!wholeDevice) clean.push(seg[C.storageId]);
          else if (run) run[1] = seg[C.rowid];
          else {
            run = [seg[C.rowid], seg[C.rowid]];
            runs.push(run);
          }
        }
        if (skippedCount) ctx.progress({ segments: skippedCount, bytes: skippedBytes });
        if (cleanCount) ctx.progress({ segments: cleanCount, bytes: cleanBytes });
        // Clean segments keep their status: a DAMAGED one that now verifies is left for rebuild to judge.
        if (wholeDevice) await storage.markCheckedRange(plan.device_id, runs, nowText());
        else await storage.markChecked(clean, nowText());
        await ctx.checkpoint(segs[segs.length - 1][C.rowid]);
        await ctx.throttle(verifiedBytes);
      };
    };
    let batch: Seg[] = [];
    let bytesInBatch = 0;
    let previous: Promise<void> = Promise.resolve();
    const submit = async () => {
      const settle = verifyBatch(batch);
      batch = [];
      bytesInBatch = 0;
      const settled = previous.then(settle);
      settled.catch(() => {}); // awaited by the next submit or at the end
      if (throttleRate) await settled;
      else await previous;
      previous = settled;
    };
    // The device's segments are read from the catalog a page at a time, so that a device with a million
    // segments neither fills memory nor holds the event loop. Cancellation is looked at after each await
    // (nothing else can set it).
    let after = resumeFrom ?? 0;
    pages: while (!ctx.signal.aborted) {
      const page = await storage.segmentsToVerify({
        deviceId: plan.device_id,
        cluster: plan.cluster,
        node: plan.node,
        storageIds: plan.storage_ids,
        onlyUnhealthy: plan.only_unhealthy,
        afterRowid: after,
        limit: PAGE_SEGMENTS,
      });
      if (!page.length || ctx.signal.aborted) break;
      after = page[page.length - 1][C.rowid];
      for (const row of page) {
        // The payload length is derived from the file size every writer of segments records; a size no
        // payload of this format gives (none is written) falls back to the group's shard size, as before.
        let shard = payloadLengthOf(row[C.sizeBytes]);
        if (Number.isNaN(shard)) shard = (await storage.group(row[C.groupId]))?.shard_bytes ?? Number.NaN;
        (row as unknown as unknown[]).push(shard);
        const seg = row as unknown as Seg;
        batch.push(seg);
        bytesInBatch += expectedOf(seg);
        if (batch.length >= BATCH_SEGMENTS || bytesInBatch >= batchBytes) {
          await submit();
          if (ctx.signal.aborted) break pages;
        }
      }
      // A short page was the last: no query for the empty one after it, and the batch it ends is handed to
      // the verifier threads at once.
      if (page.length < PAGE_SEGMENTS) break;
      await new Promise((r) => setImmediate(r));
    }
    if (batch.length && !ctx.signal.aborted) await submit();
    await previous;
    if (fix && deviceGone && device && device.status !== 'FAILED')
      await storage.setDeviceStatus(device.id, 'FAILED');
  },
});
