// A fake StorageCatalog for SegmentStore.load (a COPY FROM) in unit tests: one table `t` on cluster `c`, a
// space of K data and M parity shards of SHARD bytes, one device per node n0..n(K+M-1).
import type { StorageCatalog } from '../../catalog/storage';

export interface LoadCatalogShape {
  K: number;
  M: number;
  SHARD: number;
}

export function fakeLoadCatalog(
  { K, M, SHARD }: LoadCatalogShape,
  hooks: { addGroups?: () => void } = {},
): { catalog: StorageCatalog; nodes: string[] } {
  const nodes = Array.from({ length: K + M }, (_, i) => `n${i}`);
  const devices = nodes.map((node, i) => ({
    id: `d${i}`,
    node_name: node,
    node_status: 'ONLINE',
    status: 'ACTIVE',
    path: `/devices/${i}`,
    capacity_bytes: 1e12,
    used_bytes: 0,
  }));
  let nextGroup = 1;
  const catalog = {
    table: async (name: string) => ({ id: 1, name, cluster_name: 'c' }),
    cluster: async () => ({ name: 'c', storage_space: 's' }),
    space: async () => ({ width: K + M, parity_width: M, segment_size: SHARD }),
    devicesOfCluster: async () => devices,
    reserveGroupIds: async () => nextGroup++,
    addGroups: async () => hooks.addGroups?.(),
    durable: async () => {},
    setDeviceStatus: async () => {},
  } as unknown as StorageCatalog;
  return { catalog, nodes };
}
