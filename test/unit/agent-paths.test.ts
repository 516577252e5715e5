import test from 'ava';
import { checkDevicePath, PathRefused, ServedDevices } from '../../src/agent/served-devices';

const id = '5f0c6b3e-2a47-4c1e-9d0a-0b6c2f1e9a11';

function served(): ServedDevices {
  const s = new ServedDevices();
  s.add({ id: 'd1', node: 'n1', path: '/srv/d1' });
  return s;
}

test('a segment of a served device maps to its file under segments/', (t) => {
  const r = served().segmentFile('/srv/d1', id);
  t.is(r.file, `/srv/d1/segments/${id}.seg`);
  t.is(r.dir, '/srv/d1/segments');
  t.is(r.device.id, 'd1');
});

test('a device that is not served is refused', (t) => {
  t.throws(() => served().segmentFile('/srv/d2', id), { instanceOf: PathRefused, message: /not served/ });
  t.throws(() => served().segmentFile('/srv', id), { instanceOf: PathRefused });
  t.throws(() => served().segmentFile('/srv/d1/segments', id), { instanceOf: PathRefused });
});

test('device paths that are relative or not in normal form are refused', (t) => {
  for (const p of [
    'srv/d1',
    './srv/d1',
    '/srv/d1/',
    '/srv//d1',
    '/srv/d1/../d1',
    '/srv/./d1',
    '',
    '/srv/d1\0',
  ])
    t.throws(() => checkDevicePath(p), { instanceOf: PathRefused }, p);
  t.is(checkDevicePath('/srv/d1'), '/srv/d1');
});

test('a storage id that is not a uuid is refused (no name of its own reaches the file system)', (t) => {
  const s = served();
  for (const bad of ['../../etc/passwd', `${id}/../x`, `${id}.tmp`, id.toUpperCase(), '', 'x'])
    t.throws(() => s.segmentFile('/srv/d1', bad), { instanceOf: PathRefused }, bad);
});

test('segment paths from the catalog are accepted only in their exact shape on a served device', (t) => {
  const s = served();
  t.is(s.parseSegmentPath(`/srv/d1/segments/${id}.seg`).storageId, id);
  for (const bad of [
    `/srv/d1/segments/../segments/${id}.seg`,
    `/srv/d1/other/${id}.seg`,
    `/srv/d2/segments/${id}.seg`,
    `/srv/d1/segments/${id}.seg.abc.tmp`,
    `/srv/d1/segments/sub/${id}.seg`,
    `/etc/segments/${id}.seg`,
    '/etc/passwd',
  ])
    t.throws(() => s.parseSegmentPath(bad), { instanceOf: PathRefused }, bad);
});

test('declaring a device again updates it, and says whether it is new', (t) => {
  const s = served();
  t.false(s.add({ id: 'd1', node: 'n1', path: '/srv/d1' }));
  t.true(s.add({ id: 'd2', node: 'n1', path: '/srv/d2' }));
  t.is(s.list().length, 2);
});
