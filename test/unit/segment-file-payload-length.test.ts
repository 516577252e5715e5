import test from 'ava';
import { BLOCK_SIZE, fileSizeFor, HEADER_LEN, payloadLengthOf } from '../../src/store/segment-file';

// check_disk derives the payload length a file must have from the segment's size_bytes (no join to its
// group): the inverse must be exact at every block boundary, and no size between two payloads' sizes may
// pass for one.
test('payloadLengthOf inverts fileSizeFor at and around block boundaries', (t) => {
  const lengths = [
    0,
    1,
    4096,
    BLOCK_SIZE - 1,
    BLOCK_SIZE,
    BLOCK_SIZE + 1,
    8 * BLOCK_SIZE,
    8 * BLOCK_SIZE + 7,
  ];
  for (let n = 1; n <= 40; n++) lengths.push(n * BLOCK_SIZE - 1, n * BLOCK_SIZE, n * BLOCK_SIZE + 1);
  lengths.push(1048576, 4 * 1048576 + 3);
  for (const p of lengths) t.is(payloadLengthOf(fileSizeFor(p)), p, `${p} bytes`);
});

test('payloadLengthOf rejects sizes no payload gives', (t) => {
  // After a full block the next file size is 8 (the next block's checksum) + 1 above it: the 8 between are none.
  for (let n = 1; n <= 3; n++) {
    const full = fileSizeFor(n * BLOCK_SIZE);
    for (let d = 1; d <= 8; d++) t.true(Number.isNaN(payloadLengthOf(full + d)), `${n} blocks + ${d}`);
    t.is(payloadLengthOf(full + 9), n * BLOCK_SIZE + 1);
  }
  t.true(Number.isNaN(payloadLengthOf(HEADER_LEN - 1)));
  t.is(payloadLengthOf(HEADER_LEN), 0);
});
