// The embedded default: on an empty data directory, a storage space (WIDTH 6, PARITY_WIDTH 2), a cluster of
// six nodes with two devices each (directories under the data directory), and a demo table holding generated
// data, so that every task type has real work from the first minute.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { StorageCatalog } from '../../catalog/storage';
import { writeIdentity } from './device-identity';
import { DEFAULT_SEGMENT_SIZE, deviceCapacity, type SegmentStore } from './store';

export const DEMO = {
  space: 'default_space',
  cluster: 'cluster1',
  table: 'demo',
  nodes: 6,
  devicesPerNode: 2,
};

/** Deterministic text lines (printable, so that psql's text-mode \copy round-trips them too). */
export async function* demoData(totalBytes: number): AsyncGenerator<Buffer> {
  let produced = 0;
  let row = 0;
  let x = 0x9e3779b9;
  while (produced < totalBytes) {
    const lines: string[] = [];
    let size = 0;
    while (size < 256 * 1024 && produced + size < totalBytes) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      const line = `${row++}\tsensor-${(x >>> 0) % 997}\t${((x >>> 0) / 4294967296).toFixed(6)}\t${new Date(1_700_000_000_000 + row * 1000).toISOString()}\n`;
      lines.push(line);
      size += line.length;
    }
    const buf = Buffer.from(lines.join(''));
    produced += buf.length;
    yield buf;
  }
}

/** Creates the demo topology and table when the catalog has no storage at all. Returns what it did, or null. */
export async function ensureEmbeddedDefault(
  dataDir: string,
  catalog: StorageCatalog,
  store: SegmentStore,
  demoBytes = 32 * 1024 * 1024,
): Promise<string | null> {
  if ((await catalog.clusters()).length > 0 || (await catalog.space(DEMO.space))) return null;
  await catalog.createStorageSpace(DEMO.space, 6, 2, DEFAULT_SEGMENT_SIZE);
  await catalog.createCluster(DEMO.cluster, DEMO.space);
  for (let n = 1; n <= DEMO.nodes; n++) {
    const devices = [];
    for (let d = 1; d <= DEMO.devicesPerNode; d++) {
      const path = join(dataDir, 'devices', `node${n}`, `disk${d}`);
      await mkdir(path, { recursive: true });
      devices.push({ path, capacity: await deviceCapacity(path) });
    }
    await catalog.createNode(`node${n}`, DEMO.cluster, devices);
    for (const d of await catalog.devices(`node${n}`)) await writeIdentity(d);
  }
  await catalog.createTable(DEMO.table, DEMO.cluster, '(line text)', 'admin');
  const loaded = await store.load(DEMO.table, demoData(demoBytes));
  const groups = (await catalog.table(DEMO.table))!.segment_groups;
  return `created the embedded default: storage space ${DEMO.space} (WIDTH 6, PARITY_WIDTH 2), cluster ${DEMO.cluster} with ${DEMO.nodes} nodes x ${DEMO.devicesPerNode} devices under ${join(dataDir, 'devices')}, table ${DEMO.table} with ${(loaded / 2 ** 20).toFixed(0)} MiB in ${groups} segment groups`;
}
