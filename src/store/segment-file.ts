// The segment file format (docs/segment-format.md):
//
//   offset  size  field
//   0       4     magic "SEGT"
//   4       2     format version (1)
//   6       2     header length (64)
//   8       16    storage_id (uuid bytes)
//   24      8     segment_group_id
//   32      2     position in the group
//   34      1     1 = parity segment
//   35      1     reserved (0)
//   36      4     block size
//   40      8     payload length
//   48      4     block count
//   52      4     reserved (0)
//   56      8     xxHash3-64 of bytes 0..55 and of the block checksum table
//   64      8*n   xxHash3-64 of each payload block
//   ...           payload
//
// All integers little-endian. The header checksum covers the header and the checksum table, so a flipped bit
// anywhere in the file is found: in the header or table by the header checksum, in the payload by its block's
// checksum. Files are written to a temporary name, fsynced, renamed, and the directory fsynced (a new segment
// of a COPY is written under its final name directly: writeSegmentFile, `fresh`).
import { randomUUID } from 'node:crypto';
import {
  close,
  closeSync,
  fdatasync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  readvSync,
  renameSync,
  unlinkSync,
  writevSync,
} from 'node:fs';
import { constants, type FileHandle, mkdir, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { XXHash3 } from 'xxhash-addon';
import { SqlError } from '../../pg/errors';

export const MAGIC = 0x54474553; // "SEGT" read as little-endian uint32
export const FORMAT_VERSION = 1;
export const HEADER_LEN = 64;
export const BLOCK_SIZE = 128 * 1024;
export const SEGMENT_SUFFIX = '.seg';
export const TEMP_SUFFIX = '.tmp';

export interface SegmentMeta {
  storageId: string;
  groupId: number;
  position: number;
  isParity: boolean;
}

export interface SegmentHeader extends SegmentMeta {
  version: number;
  blockSize: number;
  payloadLength: number;
  blockCount: number;
}

export type FindingKind = 'CHECKSUM_MISMATCH' | 'MISSING' | 'UNREADABLE' | 'WRONG_LENGTH' | 'BAD_HEADER';

/** Something wrong with a segment file, as check_disk reports it. */
export class SegmentFault extends Error {
  constructor(
    readonly kind: FindingKind,
    message: string,
    /** First bad block, for checksum mismatches (0-based). */
    readonly block?: number,
  ) {
    super(message);
  }
}

const hash64 = (b: Buffer): Buffer => XXHash3.hash(b);

export function segmentFileName(storageId: string): string {
  return storageId + SEGMENT_SUFFIX;
}

/** Directory for segment files on a device. */
export function segmentDir(devicePath: string): string {
  return join(devicePath, 'segments');
}

export function uuidToBytes(u: string): Buffer {
  return Buffer.from(u.replace(/-/g, ''), 'hex');
}

export function bytesToUuid(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function fileSizeFor(payloadLength: number, blockSize = BLOCK_SIZE): number {
  return HEADER_LEN + 8 * Math.ceil(payloadLength / blockSize) + payloadLength;
}

/**
 * The payload length of a file of `fileSize` bytes written by this format (fileSizeFor's inverse: a file
 * of n blocks is HEADER_LEN + n * 8 + a payload in ((n-1) * blockSize, n * blockSize]), or NaN for a size
 * no payload gives. check_disk reads it from the segment's size_bytes instead of its group's shard_bytes,
 * so that a page of segments needs no join.
 */
export function payloadLengthOf(fileSize: number, blockSize = BLOCK_SIZE): number {
  const blocks = Math.ceil((fileSize - HEADER_LEN) / (blockSize + 8));
  const payload = fileSize - HEADER_LEN - 8 * blocks;
  return payload >= 0 && fileSizeFor(payload, blockSize) === fileSize ? payload : Number.NaN;
}

/** Builds header + checksum table for a payload. Also returns the whole-segment checksum (hex). */
export function buildHeader(
  meta: SegmentMeta,
  payload: Buffer,
  blockSize = BLOCK_SIZE,
): { head: Buffer; checksum: string } {
  const blockCount = Math.ceil(payload.length / blockSize);
  const head = Buffer.alloc(HEADER_LEN + 8 * blockCount);
  head.writeUInt32LE(MAGIC, 0);
  head.writeUInt16LE(FORMAT_VERSION, 4);
  head.writeUInt16LE(HEADER_LEN, 6);
  uuidToBytes(meta.storageId).copy(head, 8);
  head.writeBigInt64LE(BigInt(meta.groupId), 24);
  head.writeUInt16LE(meta.position, 32);
  head.writeUInt8(meta.isParity ? 1 : 0, 34);
  head.writeUInt32LE(blockSize, 36);
  head.writeBigUInt64LE(BigInt(payload.length), 40);
  head.writeUInt32LE(blockCount, 48);
  for (let b = 0; b < blockCount; b++) {
    hash64(payload.subarray(b * blockSize, Math.min(payload.length, (b + 1) * blockSize))).copy(
      head,
      HEADER_LEN + 8 * b,
    );
  }
  const table = head.subarray(HEADER_LEN);
  headerChecksum(head, table).copy(head, 56);
  return { head, checksum: hash64(table).toString('hex') };
}

/**
 * The header and checksum table of a verified source (VerifyResult.head), as the header of a copy of the very
 * payload buffer it was verified against (a move: docs/durability.md, "A moved segment"): the payload is not
 * hashed again. Refused (SegmentFault BAD_HEADER or CHECKSUM_MISMATCH) unless it is a well-formed header of
 * exactly this segment and payload length, with a valid header checksum; the whole-segment checksum it gives
 * is then compared with the catalog's by the caller, as a computed one would be.
 */
export function reuseHeader(
  meta: SegmentMeta,
  payloadLength: number,
  head: Buffer,
): { head: Buffer; checksum: string } {
  const h = parseHeader(head, { ...meta, payloadLength });
  const tableLength = 8 * h.blockCount;
  if (h.isParity !== meta.isParity || h.blockSize !== BLOCK_SIZE || head.length !== HEADER_LEN + tableLength)
    throw new SegmentFault(
      'BAD_HEADER',
      `the header given for segment ${meta.storageId} is not that of its copy`,
    );
  const table = head.subarray(HEADER_LEN);
  if (!headerChecksumMatches(head, table)) throw tableFault();
  return { head, checksum: tableChecksum(table) };
}

export function headerChecksum(head: Buffer, table: Buffer): Buffer {
  return hash64(Buffer.concat([head.subarray(0, 56), table]));
}

// The bytes headerChecksum hashes (0..55 of the header, then the table), laid out for headerChecksumMatches:
// one per thread, grown as needed (its use is synchronous, so nothing interleaves).
let sumScratch = Buffer.allocUnsafe(56 + 8 * 64);

/** Whether the checksum in `head` (bytes 56..63) is that of its bytes 0..55 and `table`; nothing allocated. */
export function headerChecksumMatches(head: Buffer, table: Buffer): boolean {
  if (sumScratch.length < 56 + table.length) sumScratch = Buffer.allocUnsafe(56 + table.length);
  const sum = sumScratch.subarray(0, 56 + table.length);
  head.copy(sum, 0, 0, 56);
  table.copy(sum, 56);
  return hash64(sum).compare(head, 56, 64) === 0;
}

/** Whole-segment checksum (as kept in the catalog) from a checksum table. */
export function tableChecksum(table: Buffer): string {
  return hash64(table).toString('hex');
}

/**
 * fdatasync of many files at once (the kernel can merge their write-back), then of their directories. A file
 * for which `opened` gives a descriptor (kept open since its write: open-copies.ts) is synced through it and
 * the descriptor closed; the others are opened for it.
 */
export async function syncFiles(
  paths: string[],
  dirs: Iterable<string>,
  opened?: (path: string) => number | undefined,
): Promise<void> {
  const queue = [...paths];
  const worker = async () => {
    for (let p = queue.pop(); p !== undefined; p = queue.pop()) {
      const fd = opened?.(p);
      if (fd !== undefined) {
        try {
          await fdatasyncFd(fd);
        } finally {
          await closeFd(fd);
        }
        continue;
      }
      const fh = await open(p, 'r+');
      try {
        await fh.datasync();
      } finally {
        await fh.close();
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  await Promise.all([...dirs].map((d) => fsyncDir(d)));
}

const fdatasyncFd = promisify(fdatasync);
const closeFd = promisify(close);

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, constants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** The payload to be written is not the segment the catalog records. */
export class CopyMismatch extends Error {}

/**
 * The header a write of `payload` starts with: a move's verified source header taken (reuseHeader), else one
 * built from the payload; a copy that must hash to the catalog's checksum is checked before anything is written.
 */
export function copyHeader(
  meta: SegmentMeta,
  payload: Buffer,
  { expectChecksum, verifiedHead }: Pick<SegmentFileWrite, 'expectChecksum' | 'verifiedHead'>,
): { head: Buffer; checksum: string } {
  const built = verifiedHead ? reuseHeader(meta, payload.length, verifiedHead) : buildHeader(meta, payload);
  if (expectChecksum !== undefined) checkCopy(meta, built.checksum, expectChecksum);
  return built;
}

/** A temporary name beside `path`, unique to one write, that a reader of the directory skips (TEMP_SUFFIX). */
function tempPathFor(path: string): string {
  return `${path}.${randomUUID().slice(0, 8)}${TEMP_SUFFIX}`;
}

/**
 * A copy of a catalogued segment (rebuilt or moved) must hash to the catalog's checksum: checked on the header
 * computed from the very buffer that is then written (hash before write), so a wrong copy is never written.
 */
export function checkCopy(meta: SegmentMeta, checksum: string, expected: string): void {
  if (checksum !== expected)
    throw new CopyMismatch(
      `the bytes computed for segment ${meta.storageId} (group ${meta.groupId}, position ${meta.position}) do not hash to its checksum in the catalog (${checksum}, expected ${expected}); nothing was written`,
    );
}

/**
 * Creates a new file (O_EXCL) in `dir`, making `dir` first if it is not there: only `dir` itself, never its
 * parent (mkdir is not recursive), so that a device directory that vanished (an unmounted disk) fails the
 * write with ENOENT instead of being recreated on the file system below it. The directory is made on the
 * first write that finds it missing, not checked before every write (a system call per segment).
 */
export async function createIn(dir: string, path: string): Promise<FileHandle> {
  try {
    return await open(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dir).catch(ignoreExists);
  return open(path, 'wx');
}

/** createIn with synchronous calls (the writer thread's): the same rule, `dir` only, never its parent. */
export function createInSync(dir: string, path: string): number {
  try {
    return openSync(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  try {
    mkdirSync(dir);
  } catch (err) {
    ignoreExists(err as NodeJS.ErrnoException);
  }
  return openSync(path, 'wx');
}

/** createIn's mkdir may find the directory made meanwhile by another write: that is fine. */
function ignoreExists(err: NodeJS.ErrnoException): void {
  if (err.code !== 'EEXIST') throw err;
}

/**
 * Writes a segment durably: temporary file, fsync, rename, directory fsync. Returns the final path and the
 * whole-segment checksum. On any error the temporary file is removed. With syncDir = false the caller fsyncs
 * the directory itself (once for many files) before it catalogues them. An abort of `signal` before the
 * rename removes the temporary file and throws its reason; once renamed, the write completes. With
 * `expectChecksum`, a payload that does not hash to it is refused before anything is written (CopyMismatch).
 * With `fresh`, the segment's storage id is new, so nothing names its file until the caller catalogues it:
 * the file is written under its final name directly (no temporary name, no rename; created exclusively, and
 * removed on any error or abort), which is as safe as the rename for such a file (docs/durability.md, "What
 * a torn write looks like").
 */
export interface SegmentFileWrite {
  /** fsync the directory after the rename (default true); false: the caller fsyncs it once for many files. */
  syncDir?: boolean;
  /** fsync the file (default true); false: the caller makes it durable (syncFiles) before cataloguing it. */
  syncFile?: boolean;
  signal?: AbortSignal;
  expectChecksum?: string;
  /** A move's verified source header and table, taken instead of hashing the payload (reuseHeader). */
  verifiedHead?: Buffer;
  fresh?: boolean;
}

export async function writeSegmentFile(
  dir: string,
  meta: SegmentMeta,
  payload: Buffer,
  {
    syncDir = true,
    syncFile = true,
    signal,
    expectChecksum,
    verifiedHead,
    fresh = false,
  }: SegmentFileWrite = {},
): Promise<{ path: string; checksum: string; size: number }> {
  const { head, checksum } = copyHeader(meta, payload, { expectChecksum, verifiedHead });
  const path = join(dir, segmentFileName(meta.storageId));
  const target = fresh ? path : tempPathFor(path);
  let fh: FileHandle | null = null;
  let created = false;
  try {
    signal?.throwIfAborted();
    fh = await createIn(dir, target);
    created = true;
    await fh.writev([head, payload]);
    // A caller that passes syncFile = false makes the file durable itself (syncFiles) before cataloguing it.
    if (syncFile) await fh.sync();
    await fh.close();
    fh = null;
    signal?.throwIfAborted();
    if (!fresh) await rename(target, path);
    if (syncDir) await fsyncDir(dir);
  } catch (err) {
    await fh?.close().catch(() => {});
    // Only a file this call created is removed (a fresh name that existed already is someone else's).
    if (created) await unlink(target).catch(() => {});
    throw deviceFull(err, path) ?? err;
  }
  return { path, checksum, size: head.length + payload.length };
}

/** Writes header and payload at the start of `fd`. */
function writeAllSync(fd: number, head: Buffer, payload: Buffer): number {
  const size = head.length + payload.length;
  // A write to a regular file is short only when it fails part way (a full device): go on until it says why.
  for (let at = 0; at < size; ) {
    const bufs = at < head.length ? [head.subarray(at), payload] : [payload.subarray(at - head.length)];
    at += writevSync(fd, bufs);
  }
  return size;
}

/** Closes `fd` and removes `path` (which this write created), after a failure: the failure is what counts. */
function dropSync(fd: number, path: string): void {
  try {
    closeSync(fd);
  } catch {}
  try {
    unlinkSync(path);
  } catch {}
}

/**
 * writeSegmentFile of a new segment (`fresh`), with synchronous calls, for a writer thread (segment-writer.ts):
 * the header hashed from the payload, the file created exclusively under its final name (createInSync),
 * written, fsynced with `syncFile`, closed; removed again on any error.
 */
export function writeFreshSegmentFileSync(
  dir: string,
  meta: SegmentMeta,
  payload: Buffer,
  syncFile: boolean,
): { path: string; checksum: string; size: number } {
  const { head, checksum } = buildHeader(meta, payload);
  const path = join(dir, segmentFileName(meta.storageId));
  const fd = createInSync(dir, path);
  try {
    const size = writeAllSync(fd, head, payload);
    if (syncFile) fsyncSync(fd);
    closeSync(fd);
    return { path, checksum, size };
  } catch (err) {
    dropSync(fd, path);
    throw err;
  }
}

/**
 * writeSegmentFile of a copy of a catalogued segment (rebuilt or moved; durable = false), with synchronous
 * calls, for the writer thread: its header computed from the payload (or a move's verified source header
 * taken, reuseHeader) and checked against `expectChecksum` before anything is written (CopyMismatch), then a
 * temporary file created, written and renamed to the segment's name. The file is left open: its descriptor
 * is returned for the fdatasync that makes it durable (makeDurable), which then needs no open of its own.
 * On any error before the rename the temporary file is closed and removed.
 */
export function writeCopySegmentFileSync(
  dir: string,
  meta: SegmentMeta,
  payload: Buffer,
  { expectChecksum, verifiedHead }: Pick<SegmentFileWrite, 'expectChecksum' | 'verifiedHead'>,
): { path: string; checksum: string; size: number; fd: number } {
  const { head, checksum } = copyHeader(meta, payload, { expectChecksum, verifiedHead });
  const path = join(dir, segmentFileName(meta.storageId));
  const target = tempPathFor(path);
  const fd = createInSync(dir, target);
  try {
    const size = writeAllSync(fd, head, payload);
    renameSync(target, path);
    return { path, checksum, size, fd };
  } catch (err) {
    dropSync(fd, target);
    throw err;
  }
}

const FULL: Record<string, string> = { ENOSPC: 'No space left on device', EDQUOT: 'Disk quota exceeded' };

/**
 * A write that failed because its device (or the owner's quota) is full, in PostgreSQL's words for a
 * relation file that cannot grow (md.c, mdextend): 53100 "could not extend file ...", HINT "Check free disk
 * space."; null for any other error.
 */
export function deviceFull(err: unknown, path: string): SqlError | null {
  const reason = FULL[(err as NodeJS.ErrnoException)?.code ?? ''];
  if (!reason) return null;
  return new SqlError('53100', `could not extend file "${path}": ${reason}`, {
    hint: 'Check free disk space.',
  });
}

/** A header's unsigned 64-bit integer at `at` as a number (exact below 2^53, as every length is). */
const u64At = (b: Buffer, at: number): number => b.readUInt32LE(at) + b.readUInt32LE(at + 4) * 2 ** 32;
/** A header's signed 64-bit integer at `at` as a number (exact below 2^53, as every group id is). */
const i64At = (b: Buffer, at: number): number => b.readUInt32LE(at) + b.readInt32LE(at + 4) * 2 ** 32;

/**
 * What makes `buf` not a valid header for `expected`, or null: the checks of parseHeader read in place, so
 * that a valid header costs no header object and no uuid string (the verifier threads check thousands a
 * second); the fault's message is built only for a fault.
 */
function headerFault(buf: Buffer, expected?: Expected): SegmentFault | null {
  if (buf.length < HEADER_LEN)
    return new SegmentFault('WRONG_LENGTH', `file is ${buf.length} bytes, shorter than a header`);
  if (buf.readUInt32LE(0) !== MAGIC) return new SegmentFault('BAD_HEADER', 'not a segment file (bad magic)');
  const version = buf.readUInt16LE(4);
  if (version !== FORMAT_VERSION)
    return new SegmentFault('BAD_HEADER', `unknown segment format version ${version}`);
  const blockSize = buf.readUInt32LE(36);
  if (!blockSize || buf.readUInt32LE(48) !== Math.ceil(u64At(buf, 40) / blockSize))
    return new SegmentFault('BAD_HEADER', 'header fields are inconsistent');
  if (!expected) return null;
  if (expected.storageId !== undefined && !uuidIs(buf, 8, expected.storageId))
    return differs('storageId', bytesToUuid(buf.subarray(8, 24)), expected.storageId);
  if (expected.groupId !== undefined && i64At(buf, 24) !== expected.groupId)
    return differs('groupId', i64At(buf, 24), expected.groupId);
  if (expected.position !== undefined && buf.readUInt16LE(32) !== expected.position)
    return differs('position', buf.readUInt16LE(32), expected.position);
  if (expected.payloadLength !== undefined && u64At(buf, 40) !== expected.payloadLength)
    return differs('payloadLength', u64At(buf, 40), expected.payloadLength);
  return null;
}

const differs = (field: string, actual: unknown, catalog: unknown) =>
  new SegmentFault('BAD_HEADER', `header ${field} is ${actual}, the catalog says ${catalog}`);

/** Parses and checks a header; throws SegmentFault when it is not a valid header for `expected`. */
export function parseHeader(buf: Buffer, expected?: Expected): SegmentHeader {
  const fault = headerFault(buf, expected);
  if (fault) throw fault;
  return {
    version: buf.readUInt16LE(4),
    storageId: bytesToUuid(buf.subarray(8, 24)),
    groupId: i64At(buf, 24),
    position: buf.readUInt16LE(32),
    isParity: buf[34] === 1,
    blockSize: buf.readUInt32LE(36),
    payloadLength: u64At(buf, 40),
    blockCount: buf.readUInt32LE(48),
  };
}

export const tableFault = () =>
  new SegmentFault('CHECKSUM_MISMATCH', 'header or block checksum table is corrupt', -1);
const blockFault = (b: number, blockCount: number) =>
  new SegmentFault('CHECKSUM_MISMATCH', `block ${b} of ${blockCount} does not match its checksum`, b);

/**
 * The first of blocks `first`..`last` whose bytes, read into `data` from block `first` on, do not hash to
 * their checksum in `table`; -1 when all do. Compared in place (no subarray of the table per block).
 */
function firstBadBlock(data: Buffer, first: number, last: number, table: Buffer, blockSize: number): number {
  for (let b = first; b <= last; b++) {
    const s0 = (b - first) * blockSize;
    const sum = hash64(data.subarray(s0, Math.min(data.length, s0 + blockSize)));
    if (sum.compare(table, 8 * b, 8 * b + 8) !== 0) return b;
  }
  return -1;
}

/**
 * Indexes of the blocks to check: all, or a random sample whose expected size is exactly `rate` of them
 * (blockCount * rate rounded up or down at random, in proportion), so that a table of small segments is not
 * checked far more than asked: with 8 blocks a segment at rate 0.1 gets one block 8 times in 10 and none
 * (header and checksum table only) 2 times in 10.
 */
export function chooseBlocks(blockCount: number, rate: number): number[] {
  const all = [...Array(blockCount).keys()];
  if (rate >= 1) return all;
  const exact = blockCount * rate;
  const want = Math.floor(exact) + (Math.random() < exact - Math.floor(exact) ? 1 : 0);
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, want).sort((a, b) => a - b);
}

export interface VerifyResult {
  header: SegmentHeader;
  checksum: string;
  bytesRead: number;
  blocksChecked: number;
  /** With `into`: the file's header and checksum table, which the payload left in `into` matched. */
  head?: Buffer;
}

type Expected = Partial<SegmentMeta> & { payloadLength?: number };

/** One read the checks need: fill `buf` from file offset `pos`. */
interface ReadAt {
  buf: Buffer;
  pos: number;
}

/**
 * The checks of a segment file, written once as a sequence of reads: header, checksum table, then every block
 * (or a random sample of blocks), each block hashed and compared. The caller performs each read, synchronously
 * or not, and resumes the generator. With `into` the whole payload is read into it (and so verified).
 */
function* checkSteps(
  size: number,
  expected: Expected,
  sampleRate: number,
  scratch: Buffer | null,
  into?: Buffer,
  chosen?: number[],
): Generator<ReadAt, VerifyResult, void> {
  const head = Buffer.alloc(HEADER_LEN);
  yield { buf: head, pos: 0 };
  const header = parseHeader(head, expected);
  const expectedSize = fileSizeFor(header.payloadLength, header.blockSize);
  if (size !== expectedSize) throw lengthFault(size, expectedSize);
  const table = Buffer.alloc(8 * header.blockCount);
  yield { buf: table, pos: HEADER_LEN };
  if (!headerChecksumMatches(head, table)) throw tableFault();
  const bs = header.blockSize;
  const dataStart = HEADER_LEN + table.length;
  // The blocks the caller chose for this file (from the catalog's payload length, which the header has
  // just been found to match), when its blocks are of the size they were chosen for.
  const blocks =
    chosen && header.blockSize === BLOCK_SIZE
      ? chosen
      : chooseBlocks(header.blockCount, into ? 1 : sampleRate);
  const chunk =
    into ?? scratch ?? Buffer.allocUnsafe(Math.max(bs, Math.min(READ_CHUNK, header.payloadLength)));
  const perRead = into ? blocks.length : Math.max(1, Math.floor(chunk.length / bs));
  let bytesRead = dataStart;
  // Runs of consecutive blocks are read at once, as much as the buffer holds.
  for (const [first, last] of blockRuns(blocks, perRead)) {
    const from = first * bs;
    const to = Math.min(header.payloadLength, (last + 1) * bs);
    const target = into ? into.subarray(from, to) : chunk.subarray(0, to - from);
    yield { buf: target, pos: dataStart + from };
    const bad = firstBadBlock(target, first, last, table, bs);
    if (bad >= 0) throw blockFault(bad, header.blockCount);
    bytesRead += to - from;
  }
  return {
    header,
    checksum: tableChecksum(table),
    bytesRead,
    blocksChecked: blocks.length,
    head: into ? Buffer.concat([head, table]) : undefined,
  };
}

const READ_CHUNK = 4 * 1024 * 1024;

function openFault(path: string, err: unknown): SegmentFault {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT')
    return new SegmentFault('MISSING', `segment file ${basename(path)} does not exist in ${dirname(path)}`);
  return new SegmentFault('UNREADABLE', `cannot open ${path}: ${e.message}`);
}

function readFault(path: string, err: unknown): SegmentFault {
  return err instanceof SegmentFault
    ? err
    : new SegmentFault('UNREADABLE', `cannot read ${path}: ${(err as Error).message}`);
}

/**
 * Reads a segment file and checks it (checkSteps). Throws SegmentFault for what is wrong; ENOENT becomes
 * MISSING, other I/O errors UNREADABLE. With `into`, the verified payload is left there. An abort of
 * `signal` stops the reading between two reads and throws its reason (an AbortError, not a SegmentFault).
 */
export async function verifySegmentFile(
  path: string,
  expected: Expected,
  opts: { into?: Buffer; signal?: AbortSignal } = {},
): Promise<VerifyResult> {
  opts.signal?.throwIfAborted();
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw openFault(path, err);
  }
  try {
    if (opts.into && expected.payloadLength === opts.into.length) {
      const quick = await readWhole(fh, expected, opts.into);
      if (quick) return quick;
    }
    const steps = checkSteps((await fh.stat()).size, expected, 1, null, opts.into);
    for (let r = steps.next(); ; r = steps.next()) {
      if (r.done) return r.value;
      opts.signal?.throwIfAborted();
      await readFully(fh, r.value.buf, r.value.pos);
    }
  } catch (err) {
    if (opts.signal?.aborted && err === opts.signal.reason) throw err;
    throw readFault(path, err);
  } finally {
    await fh.close().catch(() => {});
  }
}

/**
 * The common case of verifySegmentFile with `into`, in one system call: a file of the size the catalog
 * implies is read whole (header, checksum table, payload into `into`, and one byte more, which must not be
 * there) and checked in memory, in the order of checkSteps (the header, the length, the header checksum, the
 * blocks), with the same findings. Returns null only for a valid header whose blocks are not of BLOCK_SIZE,
 * which this read did not lay out: the step-by-step checks then read it as it says.
 */
async function readWhole(fh: FileHandle, expected: Expected, into: Buffer): Promise<VerifyResult | null> {
  const blockCount = Math.ceil(into.length / BLOCK_SIZE);
  const head = Buffer.allocUnsafe(HEADER_LEN + 8 * blockCount + 1);
  const tail = head.subarray(head.length - 1);
  let got = 0;
  const want = head.length - 1 + into.length;
  // readv may stop short (a signal, a large read): go on from where it stopped.
  while (got < want + 1) {
    const bufs =
      got < head.length - 1
        ? [head.subarray(got, head.length - 1), into, tail]
        : got < want
          ? [into.subarray(got - (head.length - 1)), tail]
          : [tail];
    const { bytesRead } = await fh.readv(bufs, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  if (got < HEADER_LEN) throw endsEarly();
  const header = parseHeader(head, expected);
  if (header.blockSize !== BLOCK_SIZE) return null;
  if (got !== want) throw lengthFault((await fh.stat()).size, want);
  const table = head.subarray(HEADER_LEN, HEADER_LEN + 8 * blockCount);
  if (!headerChecksumMatches(head, table)) throw tableFault();
  const bad = firstBadBlock(into, 0, blockCount - 1, table, BLOCK_SIZE);
  if (bad >= 0) throw blockFault(bad, blockCount);
  return {
    header,
    checksum: tableChecksum(table),
    bytesRead: want,
    blocksChecked: blockCount,
    head: head.subarray(0, head.length - 1),
  };
}

/** A file that is not of the length its header implies (`size` from fstat), as checkSteps reports it. */
function lengthFault(size: number, expectedSize: number): SegmentFault {
  // A read that came short of a file of the right length: it shrank meanwhile.
  if (size === expectedSize) return endsEarly();
  return new SegmentFault('WRONG_LENGTH', `file is ${size} bytes, expected ${expectedSize}`);
}

const endsEarly = () => new SegmentFault('WRONG_LENGTH', 'file ends early');

/**
 * The same checks with synchronous reads, for a dedicated verifier thread (verify-pool.ts): reads from the
 * page cache then cost no thread-pool round trip each. `sampleRate` < 1 checks a random share of the blocks.
 * With the catalog's payload length, the reads are laid out before the header is read (checkLaidOutSync),
 * a clean file in as few reads as its chosen blocks allow and a faulty one reported from those same reads;
 * without it, or for a header whose blocks are not of BLOCK_SIZE, step by step (checkSteps).
 */
export function verifySegmentFileSync(
  path: string,
  expected: Expected,
  sampleRate: number,
  buffer: Buffer,
): { checksum: string; bytesRead: number } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw openFault(path, err);
  }
  try {
    const { payloadLength } = expected;
    let blocks: number[] | undefined;
    if (payloadLength !== undefined) {
      blocks = chooseBlocks(Math.ceil(payloadLength / BLOCK_SIZE), sampleRate);
      const laidOut = checkLaidOutSync(fd, expected, payloadLength, blocks, buffer);
      if (laidOut) return laidOut;
    }
    const steps = checkSteps(fstatSync(fd).size, expected, sampleRate, buffer, undefined, blocks);
    for (let r = steps.next(); ; r = steps.next()) {
      if (r.done) return { checksum: r.value.checksum, bytesRead: r.value.bytesRead };
      let off = 0;
      while (off < r.value.buf.length) {
        const n = readSync(fd, r.value.buf, off, r.value.buf.length - off, r.value.pos + off);
        if (n === 0) throw endsEarly();
        off += n;
      }
    }
  } catch (err) {
    throw readFault(path, err);
  } finally {
    closeSync(fd);
  }
}

/**
 * The checks of checkSteps over a segment file of `payloadLength` (the catalog's: the reads are laid out
 * before the header is read) in as few system calls as its chosen `blocks` allow: the header and checksum
 * table in one read, together with the first run of blocks when that run starts at block 0 (a full check of
 * a segment that fits `buffer`: the whole file in one readv); one read per further run of consecutive
 * blocks; the length told by a read of one byte past the end with the last block, or when the last block is
 * not among the chosen by a read of the file's last byte and the one after (no fstat for a clean file, whose
 * Stats object costs more than the read). Each of these is one readv, taken as it comes: a read of a regular
 * file returns less than it asks for only where the file ends (POSIX; on Linux a read from the page cache is
 * not cut short by a signal, and the one other limit, MAX_RW_COUNT at 2 GiB, is far above these reads), so
 * one call tells both the bytes and whether the file ends there. (Only a filesystem that cut reads short in
 * the middle of a file could make a file with bytes beyond its payload pass the length check; every block
 * read is verified all the same.)
 *
 * A fault is reported from these reads, as checkSteps reports it: the header first, then the length (a
 * checksum that does not match is the finding only once the file's length is known to be right, from the
 * reads or else from an fstat, since checkSteps looks at the length before any checksum), then the header
 * checksum, then the blocks in order. Returns null only for a valid header of this segment whose blocks are
 * not of BLOCK_SIZE (the reads were laid out for those): the caller checks that file step by step.
 */
function checkLaidOutSync(
  fd: number,
  expected: Expected,
  payloadLength: number,
  blocks: number[],
  buffer: Buffer,
): { checksum: string; bytesRead: number } | null {
  const bs = BLOCK_SIZE;
  const blockCount = Math.ceil(payloadLength / bs);
  const dataStart = HEADER_LEN + 8 * blockCount;
  const fileSize = dataStart + payloadLength;
  const head = headScratch(dataStart);
  const table = head.subarray(HEADER_LEN);
  const runs = blockRuns(blocks, Math.max(1, Math.floor(buffer.length / bs)));
  let lengthSeen = false;
  let bytesRead = dataStart;
  /** Bytes the last read gave beyond the header and table it asked for (negative: short of them). */
  let got = 0;
  /**
   * Reads `run`'s blocks into the buffer, after the header and table when `withHead`, and where the file must
   * end one byte more (a clean file has none); returns the blocks' bytes.
   */
  const read = (withHead: boolean, run: [number, number] | undefined): Buffer => {
    const from = run ? run[0] * bs : 0;
    const to = run ? Math.min(payloadLength, (run[1] + 1) * bs) : 0;
    const data = buffer.subarray(0, to - from);
    const bufs = !withHead ? [data] : data.length ? [head, data] : [head];
    const atEnd = to === payloadLength;
    if (atEnd) bufs.push(probe1);
    got = readvSync(fd, bufs, withHead ? 0 : dataStart + from) - (withHead ? dataStart : 0);
    if (got === data.length) lengthSeen ||= atEnd;
    bytesRead += data.length;
    return data;
  };
  const first = runs[0]?.[0] === 0 ? runs[0] : undefined;
  let data = read(true, first);
  // The header decides first, then the length, then the checksums, as in checkSteps.
  if (got + dataStart < HEADER_LEN) throw endsEarly();
  const fault = headerFault(head, expected);
  if (fault) throw fault;
  if (head.readUInt32LE(36) !== bs) return null;
  if (got !== data.length) throw lengthFault(fstatSync(fd).size, fileSize);
  if (!headerChecksumMatches(head, table)) throw checksumFault(fd, lengthSeen, fileSize, tableFault());
  for (const [i, run] of runs.entries()) {
    if (i > 0 || !first) {
      data = read(false, run);
      if (got !== data.length) throw lengthFault(fstatSync(fd).size, fileSize);
    }
    const bad = firstBadBlock(data, run[0], run[1], table, bs);
    if (bad >= 0) throw checksumFault(fd, lengthSeen, fileSize, blockFault(bad, blockCount));
  }
  // The last byte must be there and nothing after it.
  if (!lengthSeen && readvSync(fd, [probe2], fileSize - 1) !== 1)
    throw lengthFault(fstatSync(fd).size, fileSize);
  return { checksum: tableChecksum(table), bytesRead };
}

/** A checksum fault of the file open as `fd`, unless its length is wrong, which comes first (as in checkSteps). */
function checksumFault(fd: number, lengthSeen: boolean, fileSize: number, fault: SegmentFault): SegmentFault {
  const size = lengthSeen ? fileSize : fstatSync(fd).size;
  return size === fileSize ? fault : lengthFault(size, fileSize);
}

// Scratch buffers of the laid-out checks (one set per thread: the checks are synchronous and do not
// interleave): the header and table of the file at hand, and the one- and two-byte reads of the length.
let headBuffer = Buffer.allocUnsafe(HEADER_LEN + 8 * 64);
const probe1 = Buffer.allocUnsafe(1);
const probe2 = Buffer.allocUnsafe(2);

function headScratch(length: number): Buffer {
  if (headBuffer.length < length) headBuffer = Buffer.allocUnsafe(length);
  return headBuffer.subarray(0, length);
}

/** Whether the 16 bytes at `at` are the uuid `u` exactly as bytesToUuid writes it (lower-case, dashed). */
function uuidIs(buf: Buffer, at: number, u: string): boolean {
  if (u.length !== 36) return false;
  let c = 0;
  for (let i = 0; i < 16; i++) {
    if (c === 8 || c === 13 || c === 18 || c === 23) {
      if (u.charCodeAt(c) !== 45) return false;
      c++;
    }
    const hi = hexDigit(u.charCodeAt(c));
    const lo = hexDigit(u.charCodeAt(c + 1));
    if (hi < 0 || lo < 0 || buf[at + i] !== hi * 16 + lo) return false;
    c += 2;
  }
  return true;
}

function hexDigit(ch: number): number {
  if (ch >= 48 && ch <= 57) return ch - 48;
  if (ch >= 97 && ch <= 102) return ch - 87;
  return -1;
}

/** The [first, last] of each run of consecutive block indexes (sorted), at most `most` blocks a run. */
function blockRuns(blocks: number[], most: number): [number, number][] {
  const runs: [number, number][] = [];
  for (const b of blocks) {
    const last = runs[runs.length - 1];
    if (last && b === last[1] + 1 && b - last[0] < most) last[1] = b;
    else runs.push([b, b]);
  }
  return runs;
}

async function readFully(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesRead } = await fh.read(buf, off, buf.length - off, position + off);
    if (bytesRead === 0) throw endsEarly();
    off += bytesRead;
  }
}
