// check_disk: reads stored segments, recomputes their block checksums and compares them with the stored ones.
// One subtask per device (node and disk); devices of a node run side by side up to `parallelism`.
// Findings go to sys.result_cache; with fix = true, failing segments become DAMAGED and vanished ones MISSING.
// Segments are checked in the order of their catalog row ids, and each verified batch is a checkpoint at the
// last row id it covered: a resumed run starts after it, and a batch's findings are written with it.
import { nowText } from '../../catalog/db';
import type { SegmentToVerify, StorageCatalog } from '../../catalog/storage';
import { SegmentFault } from '../store/segment-file';
import { verifyJobFor } from '../store/verify-pool';
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
    // The device's segments are read from the catalog a page at a time, so that a device with a million
    // segments neither fills memory nor holds the event loop.
    async function* pages() {
      let after = resumeFrom ?? 0;
      for (;;) {
        const page = await storage.segmentsToVerify({
          deviceId: plan.device_id,
          cluster: plan.cluster,
          node: plan.node,
          storageIds: plan.storage_ids,
          onlyUnhealthy: plan.only_unhealthy,
          afterRowid: after,
          limit: PAGE_SEGMENTS,
        });
        if (!page.length) return;
        after = page[page.length - 1].rowid;
        yield* page;
        // A short page was the last: no query for the empty one after it, and the batch it ends is
        // handed to the verifier threads at once.
        if (page.length < PAGE_SEGMENTS) return;
        await new Promise((r) => setImmediate(r));
      }
    }
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
    const report = async (seg: (typeof batch)[number], err: SegmentFault): Promise<boolean> => {
      // Look again: a segment that moved or is being rebuilt meanwhile is not a finding.
      const now = await storage.segment(seg.storage_id);
      if (
        !now ||
        now.path !== seg.path ||
        now.status === 'REBUILDING' ||
        ctx.locks.isLocked(seg.segment_group_id)
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
      ctx.result(segmentRow(now, seg.table_id, FINDING_RESULT[kind] ?? kind, `${detail} (file ${seg.path})`));
      if (fix) {
        const status = kind === 'MISSING' ? 'MISSING' : 'DAMAGED';
        if (now.status !== status)
          await storage.setSegmentStatus([{ storageId: seg.storage_id, status, checkedAt: nowText() }]);
      }
      return true;
    };
    // Segments are verified on the verifier threads in batches: up to BATCH_SEGMENTS segments or the device
    // I/O's verifyBatchBytes, and with a throttle at most a quarter-second's worth, so that cancellation and
    // the throttle act promptly. Unthrottled, the next batch is verified while the last one's results are
    // written (two in flight), so that the verifier threads do not wait for the catalog.
    const throttleRate = options.max_bytes_per_sec;
    const batchBytes = throttleRate ? Math.max(1, throttleRate / 4) : io.verifyBatchBytes;
    type Seg = SegmentToVerify;
    let batch: Seg[] = [];
    let bytesInBatch = 0;
    const expectedOf = (seg: Seg) =>
      sampleRate >= 1
        ? seg.size_bytes
        : Math.round(seg.size_bytes - seg.shard_bytes + seg.shard_bytes * sampleRate);
    /** Starts verifying a batch; returns what writes its results and checkpoint, to run in batch order. */
    const verifyBatch = (segs: Seg[]) => {
      // A group another task is rewriting is skipped: its files are being replaced under us.
      const skipped = new Set(
        segs.filter((seg) => ctx.locks.isLocked(seg.segment_group_id) || seg.status === 'REBUILDING'),
      );
      const todo = segs.filter((seg) => !skipped.has(seg));
      const last = segs[segs.length - 1].rowid;
      const verified = io.verify(todo.map((seg) => verifyJobFor(seg, sampleRate)));
      verified.catch(() => {}); // awaited by settle
      return async () => {
        const outcomes = await verified;
        // The batch's progress is counted here, with its checkpoint, so that what a restart shows never
        // drops below what was shown: the progress of a batch and its checkpoint are written together.
        // Counted per batch, not per segment (one call for the skipped, one for the clean).
        if (skipped.size) {
          let skippedBytes = 0;
          for (const seg of skipped) skippedBytes += expectedOf(seg);
          ctx.progress({ segments: skipped.size, bytes: skippedBytes });
        }
        let bytes = 0;
        let cleanBytes = 0;
        const clean: string[] = [];
        for (const [i, seg] of todo.entries()) {
          const o = outcomes[i];
          bytes += expectedOf(seg);
          let fault: SegmentFault | null = null;
          if (!o.ok) fault = new SegmentFault(o.kind, o.message, o.block);
          else if (seg.checksum && o.checksum !== seg.checksum) {
            fault = new SegmentFault(
              'CHECKSUM_MISMATCH',
              'the file is intact but is not the segment the catalog records (whole-segment checksum differs)',
            );
          }
          if (!fault) {
            clean.push(seg.storage_id);
            cleanBytes += expectedOf(seg);
          } else {
            const found = await report(seg, fault);
            ctx.progress({ segments: 1, failed: found ? 1 : 0, bytes: expectedOf(seg) });
          }
        }
        if (clean.length) ctx.progress({ segments: clean.length, bytes: cleanBytes });
        // Clean segments keep their status: a DAMAGED one that now verifies is left for rebuild to judge.
        if (wholeDevice)
          await storage.markCheckedRange(plan.device_id, cleanRuns(segs, new Set(clean)), nowText());
        else await storage.markChecked(clean, nowText());
        await ctx.checkpoint(last);
        await ctx.throttle(bytes);
      };
    };
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
    for await (const seg of pages()) {
      if (ctx.signal.aborted) break;
      batch.push(seg);
      bytesInBatch += expectedOf(seg);
      if (batch.length >= BATCH_SEGMENTS || bytesInBatch >= batchBytes) await submit();
    }
    if (batch.length && !ctx.signal.aborted) await submit();
    await previous;
    if (fix && deviceGone && device && device.status !== 'FAILED')
      await storage.setDeviceStatus(device.id, 'FAILED');
  },
});

/** The [first, last] row ids of each run of consecutive segments of `segs` (in row-id order) that are clean. */
function cleanRuns(segs: { rowid: number; storage_id: string }[], clean: Set<string>): [number, number][] {
  const runs: [number, number][] = [];
  let open: [number, number] | null = null;
  for (const seg of segs) {
    if (!clean.has(seg.storage_id)) {
      open = null;
      continue;
    }
    if (open) open[1] = seg.rowid;
    else {
      open = [seg.rowid, seg.rowid];
      runs.push(open);
    }
  }
  return runs;
}
