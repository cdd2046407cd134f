/**
 * DOC: the agent framing (src/targets/qemu/protocol.ts): frames survive any chunking, garbage
 * and printk noise around them, and a corrupted or torn frame is dropped without losing the next.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32, decodeNetstrings, encodeFrame, encodeNetstrings, FrameDecoder } from '../../../src/targets/qemu/protocol.js';

test('crc32 is the IEEE CRC-32', () => {
  assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
  assert.equal(crc32(Buffer.alloc(0)), 0);
});

test('netstrings round-trip binary fields, and malformed ones are rejected', () => {
  const fields = [Buffer.from('read'), Buffer.from([0, 1, 2, 255, 10, 44, 58]), Buffer.alloc(0)];
  assert.deepEqual(decodeNetstrings(encodeNetstrings(fields)), fields);
  for (const bad of ['4:abc,', '3:abc;', 'x:abc,', '3:abc', ':,', '99999999999:a,'])
    assert.equal(decodeNetstrings(Buffer.from(bad)), null, bad);
});

test('a frame split at every byte boundary decodes once', () => {
  const f = encodeFrame('R', 42, ['0', 'Custom trigger configuration for: test_kmod0\n']);
  for (let cut = 0; cut <= f.length; cut++) {
    const d = new FrameDecoder();
    const a = d.push(f.subarray(0, cut)).frames;
    const b = d.push(f.subarray(cut)).frames;
    const all = [...a, ...b];
    assert.equal(all.length, 1, `cut at ${cut}`);
    assert.equal(all[0]!.id, 42);
    assert.equal(all[0]!.fields[1]!.toString(), 'Custom trigger configuration for: test_kmod0\n');
  }
});

test('garbage, printk noise and fake magics between frames are skipped', () => {
  const d = new FrameDecoder();
  const noise = Buffer.concat([
    Buffer.from('[    7.2] test_kmod: loading out-of-tree module taints kernel.\r\n'),
    Buffer.from([0, 0xff, 0x1b, 0x5b, 0x32, 0x4a]),
    Buffer.from('@@KML1 R 7 notanumber zzzz\n'),
    Buffer.from('@@KML1 R 8 3 00000000\nabc\n'), // bad checksum
    Buffer.from('@@KML1 '), // a lone magic
  ]);
  const stream = Buffer.concat([noise, encodeFrame('R', 1, ['pong']), noise, encodeFrame('H', 0, ['6.1.0', 'ready']), noise]);
  const got = [];
  let noiseBytes = 0;
  for (let i = 0; i < stream.length; i += 5) {
    const r = d.push(stream.subarray(i, i + 5));
    got.push(...r.frames);
    noiseBytes += r.noise.reduce((s, b) => s + b.length, 0);
  }
  assert.deepEqual(
    got.map((f) => [f.kind, f.id, f.fields.map(String)]),
    [
      ['R', 1, ['pong']],
      ['H', 0, ['6.1.0', 'ready']],
    ],
  );
  assert.ok(d.rejected >= 4, `rejected ${d.rejected}`);
  assert.ok(noiseBytes > 2 * 60);
});

test('a torn frame (guest died mid-write) does not swallow the next good frame', () => {
  const d = new FrameDecoder();
  const good = encodeFrame('R', 5, ['0', 'x'.repeat(1000)]);
  const torn = good.subarray(0, 500);
  // the torn frame claims 1000+ bytes: the following frame ends up inside its payload, so the
  // checksum fails, the decoder skips ahead and finds the good frame's own magic
  const r = d.push(Buffer.concat([torn, encodeFrame('R', 6, ['pong']), Buffer.alloc(600, 0x20)]));
  assert.deepEqual(r.frames.map((f) => f.id), [6]);
});

test('a huge length in a header is rejected, not waited for', () => {
  const d = new FrameDecoder();
  const r = d.push(Buffer.concat([Buffer.from('@@KML1 R 3 9999999999 00000000\n'), encodeFrame('R', 4, ['ok'])]));
  assert.deepEqual(r.frames.map((f) => f.id), [4]);
});
