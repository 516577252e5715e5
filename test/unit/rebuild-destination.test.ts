// Rebuild's choice of a destination device: a device whose agent cannot be reached (DeviceUnavailable) is
// passed over, any other error from the usability check is a fault that fails the choice, not a "no".
import test from 'ava';
import type { Segment, SegmentGroup } from '../../catalog/storage';
import { chooseDestination } from '../../src/engine/rebuild';
import type { RunContext } from '../../src/engine/task-type';
import { DeviceUnavailable } from '../../src/store/device-io';

const group: SegmentGroup = {
  id: 1,
  table_id: 't',
  seq: 0,
  cluster_name: 'c1',
  width: 4,
  parity_width: 2,
  data_bytes: 1000,
  shard_bytes: 250,
  status: 'INTACT',
};

const device = (id: string, node: string, free: number) => ({
  id,
  node_name: node,
  path: `/dev/${id}`,
  status: 'ACTIVE',
  node_status: 'ONLINE',
  capacity_bytes: 1_000_000,
  used_bytes: 1_000_000 - free,
});

// The lost segment's own device (d-own, node n1), the emptiest other device (d-big, n2), then d-small (n3).
const devices = [
  device('d-own', 'n1', 500_000),
  device('d-big', 'n2', 900_000),
  device('d-small', 'n3', 100_000),
];
const target = { storage_id: 's1', device_id: 'd-own', node_name: 'n1' } as Segment;

/** A run context whose device checks answer per device path: true, false, or an error to throw. */
function ctx(answers: Record<string, boolean | Error>, asked: string[] = []): RunContext {
  return {
    storage: { devicesOfCluster: async () => devices },
    store: {
      io: {
        forNode: async () => ({
          usable: async (path: string) => {
            asked.push(path);
            const a = answers[path] ?? true;
            if (a instanceof Error) throw a;
            return a;
          },
        }),
      },
    },
  } as unknown as RunContext;
}

test('a usable own device is chosen', async (t) => {
  const d = await chooseDestination(ctx({}), group, target, new Set(), new Map());
  t.is(d.dest.id, 'd-own');
  t.false(d.reduced);
});

test('a device whose agent is unreachable (DeviceUnavailable) is passed over for the next', async (t) => {
  const asked: string[] = [];
  const gone = new DeviceUnavailable('agent 10.0.0.1:7000 is unreachable: ECONNREFUSED');
  const d = await chooseDestination(
    ctx({ '/dev/d-own': gone, '/dev/d-big': gone }, asked),
    group,
    target,
    new Set(['n1']),
    new Map(),
  );
  t.is(d.dest.id, 'd-small');
  t.false(d.reduced);
  t.deepEqual(asked, ['/dev/d-own', '/dev/d-big', '/dev/d-small']);
});

test('a device that answers not usable is passed over too', async (t) => {
  const d = await chooseDestination(ctx({ '/dev/d-own': false }), group, target, new Set(['n1']), new Map());
  t.is(d.dest.id, 'd-big');
});

test('any other error from the check fails the choice with that error, not as an unusable device', async (t) => {
  const bug = new TypeError('cannot read properties of undefined');
  const err = await t.throwsAsync(
    chooseDestination(ctx({ '/dev/d-own': bug }), group, target, new Set(['n1']), new Map()),
  );
  t.is(err, bug);
  const later = new Error('SQLITE_BUSY: database is locked');
  const err2 = await t.throwsAsync(
    chooseDestination(
      ctx({ '/dev/d-own': false, '/dev/d-big': later }),
      group,
      target,
      new Set(['n1']),
      new Map(),
    ),
  );
  t.is(err2, later);
});

test('when every device is unreachable the choice fails saying there is no healthy device', async (t) => {
  const gone = new DeviceUnavailable('unreachable');
  await t.throwsAsync(
    chooseDestination(
      ctx({ '/dev/d-own': gone, '/dev/d-big': gone, '/dev/d-small': gone }),
      group,
      target,
      new Set(),
      new Map(),
    ),
    { message: /^no healthy device with \d+ bytes free in cluster c1 for segment s1$/ },
  );
});
