// The RunContext a repair's copies (copyInBatches, relocate.ts) need, with every node's device I/O `dio` and a
// catalog that only record, in `log`, the switches, checkpoints and catalog syncs done to them: what the copy
// pipeline's unit tests compare against the order docs/durability.md gives.
import type { StorageCatalog } from '../../catalog/storage';
import { GroupLocks } from '../../src/engine/locks';
import type { RunContext } from '../../src/engine/task-type';
import type { DeviceIO } from '../../src/store/device-io';

export function recordingCopyContext(dio: DeviceIO, log: string[]): RunContext {
  const tx = {
    switchSegment: async (id: string) => {
      log.push(`switch ${id}`);
    },
  } as unknown as StorageCatalog;
  return {
    storage: {} as StorageCatalog,
    store: {
      io: { forNode: async () => dio },
      catalog: { durable: async () => log.push('catalog durable') },
    },
    locks: new GroupLocks(),
    signal: new AbortController().signal,
    progress: () => {},
    result: () => {},
    throttle: async () => {},
    checkpoint: async (position: number, apply?: (s: StorageCatalog) => Promise<void>) => {
      await apply?.(tx);
      log.push(`checkpoint ${position}`);
    },
  } as unknown as RunContext;
}
