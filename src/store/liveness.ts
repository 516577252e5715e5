// Liveness of the storage agents: the coordinator heartbeats every agent node (the heartbeat also declares the
// node's devices to its agent). A node whose agent has not answered for `offlineAfterMs` becomes OFFLINE by
// itself (reason 'unreachable': its segments are MISSING for reads and for rebuild); when the agent answers
// again, the node becomes ONLINE with its segments verified on the agent, as ALTER NODE SET ONLINE does, and
// the files of dropped tables still waiting on it are removed. A node the operator set OFFLINE stays so.
import type { Logger } from 'pino';
import type { StorageCatalog } from '../../catalog/storage';
import type { StorageIO } from './device-io';
import { setNodeOffline, setNodeOnline } from './node-status';
import { removeFiles } from './store';

export interface LivenessOptions {
  /** Time between two heartbeats of a node (default 1 s). */
  intervalMs?: number;
  /** Time without an answer after which a node is OFFLINE (default 5 s). */
  offlineAfterMs?: number;
}

export const DEFAULT_HEARTBEAT_MS = 1000;
export const DEFAULT_OFFLINE_AFTER_MS = 5000;

export class AgentLiveness {
  private readonly intervalMs: number;
  private readonly offlineAfterMs: number;
  /** When each agent node last answered (or when watching it began). */
  private readonly lastAnswer = new Map<string, number>();
  private readonly busy = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;

  constructor(
    private readonly catalog: StorageCatalog,
    private readonly io: StorageIO,
    private readonly logger: Logger,
    opts: LivenessOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? DEFAULT_HEARTBEAT_MS;
    this.offlineAfterMs = opts.offlineAfterMs ?? DEFAULT_OFFLINE_AFTER_MS;
  }

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.tick().catch((err) =>
        this.logger.error({ err: (err as Error).stack }, 'could not read the agent nodes for a heartbeat'),
      );
      this.schedule();
    }, this.intervalMs);
    this.timer.unref();
  }

  /** One round: a heartbeat to every agent node not still busy with the previous one. */
  private async tick(): Promise<void> {
    for (const node of await this.catalog.agentNodes()) {
      if (this.busy.has(node.name)) continue;
      this.busy.add(node.name);
      this.beat(node).finally(() => this.busy.delete(node.name));
    }
  }

  private async beat(node: { name: string; address: string; status: string; offline_reason: string | null }) {
    const now = Date.now();
    if (!this.lastAnswer.has(node.name)) this.lastAnswer.set(node.name, now);
    try {
      // Bounded by the interval, so that a silent agent does not hold its node's next beat.
      const devices = await this.catalog.devices(node.name);
      await this.io
        .forAddress(node.address)
        .serve(node.name, devices, Math.max(200, Math.min(this.intervalMs, this.offlineAfterMs)));
    } catch (err) {
      const silent = Date.now() - this.lastAnswer.get(node.name)!;
      if (node.status === 'ONLINE' && silent >= this.offlineAfterMs && !this.stopped) {
        const missing = await setNodeOffline(this.catalog, node.name, 'unreachable');
        // Another coordinator's heartbeat got there first: it said so.
        if (missing === null) return;
        this.logger.warn(
          {
            event: 'node_unreachable',
            node: node.name,
            address: node.address,
            silent_ms: silent,
            missing,
            reason: (err as Error).message,
          },
          'node OFFLINE: its agent did not answer',
        );
      }
      return;
    }
    this.lastAnswer.set(node.name, Date.now());
    if (node.status === 'OFFLINE' && node.offline_reason === 'unreachable' && !this.stopped) {
      const r = await setNodeOnline(this.catalog, this.io, node.name);
      const left = await removeFiles(this.catalog, this.io, await this.pendingOn(node.name));
      this.logger.info(
        { event: 'node_reachable', node: node.name, address: node.address, ...r, removals_left: left },
        'node ONLINE: its agent answers again',
      );
    }
  }

  private async pendingOn(node: string): Promise<string[]> {
    const pending = await this.catalog.pendingFileRemovals();
    const nodes = await this.catalog.pendingRemovalNodes(pending);
    return pending.filter((p) => nodes.get(p) === node);
  }
}
