// Builds a storage topology through SQL (so the DDL itself is exercised), with device directories in the
// test server's data directory.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';

export interface TopologyOptions {
  nodes?: number;
  devicesPerNode?: number;
  width?: number;
  parity?: number;
  segmentSize?: number;
  cluster?: string;
}

export async function createTopology(
  client: pg.Client,
  dataDir: string,
  o: TopologyOptions = {},
): Promise<string[]> {
  const cluster = o.cluster ?? 'c1';
  const space = `${cluster}_space`;
  await client.query(
    `CREATE STORAGESPACE ${space} WIDTH ${o.width ?? 6} PARITY_WIDTH ${o.parity ?? 2} SEGMENT_SIZE ${o.segmentSize ?? 65536}`,
  );
  await client.query(`CREATE CLUSTER ${cluster} STORAGESPACE ${space}`);
  const nodes: string[] = [];
  for (let n = 1; n <= (o.nodes ?? 6); n++) {
    const name = `${cluster}_n${n}`;
    const devs: string[] = [];
    for (let d = 1; d <= (o.devicesPerNode ?? 2); d++) {
      const p = join(dataDir, 'devices', name, `d${d}`);
      mkdirSync(p, { recursive: true });
      devs.push(`'${p}'`);
    }
    await client.query(`CREATE NODE ${name} IN CLUSTER ${cluster} DEVICES (${devs.join(', ')})`);
    nodes.push(name);
  }
  return nodes;
}
