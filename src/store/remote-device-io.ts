// The devices of a node served by a storage agent (src/agent/server.ts), through the agent protocol. The same
// contract as LocalDeviceIO: segment files are named by the catalog's path (<device>/segments/<id>.seg, a path
// on the agent's host), written durably before the agent acknowledges (or, with durable = false, once
// makeDurable asks the agent to sync a batch), read back as a stream that is checked
// block by block here (the checksums were computed where the data was coded: end to end), and verified for
// check_disk on the agent itself (only the outcomes cross the network).

import { SqlError } from '../../pg/errors';
import { type AgentClient, AgentError } from '../agent/client';
import {
  DeviceIdentityProblem,
  type DeviceIO,
  type DeviceRef,
  DeviceUnavailable,
  type Expected,
  type PeerRebuild,
  type PeerRebuildResult,
  type WriteOptions,
  type WrittenSegment,
} from './device-io';
import {
  copyHeader,
  type FindingKind,
  SegmentFault,
  type SegmentMeta,
  type VerifyResult,
} from './segment-file';
import { SegmentStreamCheck } from './segment-stream';
import type { VerifyJob, VerifyOutcome } from './verify-pool';

const SEGMENT_PATH = /^(.*)\/segments\/([0-9a-f-]{36})\.seg$/;

function splitSegmentPath(path: string): { device: string; id: string } {
  const m = SEGMENT_PATH.exec(path);
  if (!m) throw new SegmentFault('UNREADABLE', `"${path}" is not a segment file path`);
  return { device: m[1], id: m[2] };
}

function q(params: Record<string, string | number | boolean>): string {
  return new URLSearchParams(
    Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]),
  ).toString();
}

/** An agent's answer turned back into the error the local I/O would have thrown. */
function rethrow(err: unknown): never {
  if (err instanceof AgentError) {
    // Refused our signature (another secret, or a clock too far off): to this server the device is unavailable.
    if (err.status === 401) throw new DeviceUnavailable(err.message);
    const b = err.body;
    if (typeof b.fault === 'string')
      throw new SegmentFault(b.fault as FindingKind, String(b.message), b.block as number | undefined);
    if (typeof b.identity === 'string') throw new DeviceIdentityProblem(b.identity);
    if (typeof b.code === 'string')
      throw new SqlError(b.code, String(b.message), typeof b.hint === 'string' ? { hint: b.hint } : {});
  }
  throw err;
}

export class RemoteDeviceIO implements DeviceIO {
  readonly where: string;
  // An agent's disk may be slow: a batch must answer within the agent client's request timeout (10 s, 16 MiB
  // even at 2 MB/s).
  readonly verifyBatchBytes = 16 * 1024 * 1024;

  constructor(readonly client: AgentClient) {
    this.where = `agent ${client.address}`;
  }

  async inspectDevice(path: string) {
    return this.client
      .json<{ path: string; capacity: number }>('POST', '/v1/inspect', { path })
      .catch(rethrow);
  }

  async serve(node: string, devices: DeviceRef[], timeoutMs = 2000): Promise<void> {
    await this.client
      .json(
        'PUT',
        '/v1/devices',
        { node, devices: devices.map((d) => ({ id: d.id, path: d.path })) },
        { timeoutMs },
      )
      .catch(rethrow);
  }

  async identityProblem(d: DeviceRef): Promise<string | null> {
    const r = await this.client
      .json<{ problem: string | null }>('POST', '/v1/identity', { device: d.path, device_id: d.id })
      .catch(rethrow);
    return r.problem;
  }

  async writeIdentity(d: DeviceRef): Promise<void> {
    await this.client
      .json('POST', '/v1/identity', { device: d.path, device_id: d.id, node: d.node_name, write: true })
      .catch(rethrow);
  }

  /** Whether the agent can reach the device directory; DeviceUnavailable when the agent cannot be reached. */
  async usable(devicePath: string): Promise<boolean> {
    try {
      const r = await this.client.json<{ usable: boolean }>('POST', '/v1/usable', { device: devicePath });
      return r.usable;
    } catch (err) {
      if (err instanceof DeviceUnavailable) throw err;
      return false;
    }
  }

  async writeSegment(
    d: DeviceRef,
    meta: SegmentMeta,
    payload: Buffer,
    opts: WriteOptions,
  ): Promise<WrittenSegment> {
    opts.signal?.throwIfAborted();
    const { head, checksum } = copyHeader(meta, payload, {
      expectChecksum: opts.checksum,
      verifiedHead: opts.verifiedHead,
    });
    const path = `/v1/segment?${q({
      device: d.path,
      device_id: d.id,
      id: meta.storageId,
      group: meta.groupId,
      position: meta.position,
      parity: meta.isParity ? 1 : 0,
      durable: opts.durable ? 1 : 0,
    })}`;
    const r = await this.client
      .json<WrittenSegment>('PUT', path, undefined, {
        segment: meta.storageId,
        raw: [head, payload],
        signal: opts.signal,
      })
      .catch(rethrow);
    // The agent computed the checksum from the bytes it wrote; it must be the one computed here.
    if (r.checksum !== checksum)
      throw new DeviceUnavailable(
        `agent ${this.client.address} wrote segment ${meta.storageId} with another checksum`,
      );
    return r;
  }

  /**
   * The agent fsyncs the files (written with durable = false) and their directories, as a local batch does.
   * Files written back are left out: their writeBack synced them and their directories already.
   */
  async makeDurable(paths: string[], writtenBack?: ReadonlySet<string>): Promise<void> {
    if (writtenBack) paths = paths.filter((p) => !writtenBack.has(p));
    if (!paths.length) return;
    await this.client.json('POST', '/v1/sync', { paths }, { timeoutMs: 60_000 }).catch(rethrow);
  }

  /** The agent protocol has no files-only sync: the files and their directories are synced (POST /v1/sync). */
  writeBack(paths: string[]): Promise<void> {
    return this.makeDurable(paths);
  }

  async readSegment(
    path: string,
    expected: Expected,
    opts: { into?: Buffer; signal?: AbortSignal },
  ): Promise<VerifyResult> {
    const { device, id } = splitSegmentPath(path);
    let check: SegmentStreamCheck | null = null;
    const into = opts.into;
    // Nothing goes into `into` once the read is stopped or has settled (the stream's last chunk may come
    // after the abort has settled it): the caller may reuse the buffer from then on.
    let over = false;
    const signal = opts.signal;
    await this.client
      .stream(
        `/v1/segment?${q({ device, id })}`,
        id,
        {
          start(headers) {
            check = new SegmentStreamCheck(expected, Number(headers['x-segtasks-file-size']), into);
          },
          chunk(b) {
            if (over || signal?.aborted) return;
            check!.push(b);
          },
        },
        { signal },
      )
      .catch(rethrow)
      .finally(() => {
        over = true;
      });
    const r = check!.finish();
    return {
      header: r.header,
      checksum: r.checksum,
      bytesRead: r.bytes,
      blocksChecked: r.header.blockCount,
      head: into ? r.head : undefined,
    };
  }

  async verify(jobs: VerifyJob[]): Promise<VerifyOutcome[]> {
    if (!jobs.length) return [];
    const r = await this.client
      .json<{ results: VerifyOutcome[] }>('POST', '/v1/verify', { jobs })
      .catch(rethrow);
    return r.results;
  }

  async remove(paths: string[]): Promise<void> {
    if (!paths.length) return;
    await this.client.json('POST', '/v1/delete', { paths }).catch(rethrow);
  }

  async rebuildFromPeers(req: PeerRebuild, signal?: AbortSignal): Promise<PeerRebuildResult> {
    // A rebuild reads k survivors: its own, longer, request timeout.
    return this.client
      .json<PeerRebuildResult>('POST', '/v1/rebuild', req, {
        segment: req.target.storage_id,
        signal,
        timeoutMs: 60_000,
      })
      .catch(rethrow);
  }

  async listSegmentDir(devicePath: string): Promise<string[] | null> {
    const r = await this.client
      .json<{ names: string[] | null }>('POST', '/v1/list', { device: devicePath })
      .catch(rethrow);
    return r.names;
  }
}
