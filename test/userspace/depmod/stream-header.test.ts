/**
 * The decompression window a module file's header names, on the first bytes of real files:
 * intel-cstate.ko.xz of Debian trixie's 6.12.117 tree (kbuild: `xz --check=crc32
 * --lzma2=dict=1MiB`), two xz streams made with xz 5.4 (dict=64KiB; --x86 then dict=3MiB: a BCJ
 * filter before LZMA2) and two zstd 1.5.4 frames (`zstd -T0` of a 300,000-byte file: single
 * segment, and of a 5,000,000-byte one: a 2 MiB window descriptor). `xz -lvv` / `zstd -lv` name
 * the same sizes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compressionWindow, xzDictBytes, zstdWindowBytes } from '../../../src/userspace/depmod/stream-header.js';

const hex = (s: string) => Buffer.from(s, 'hex');
const KBUILD_XZ = hex('fd377a585a0000016922de3604c0b92aafa802210110000000000000385ff3c8');
const XZ_64K = hex('fd377a585a000004e6d6b4460200210108000000d80f2313e1869fb4985d003f');
const XZ_BCJ_3M = hex('fd377a585a000004e6d6b446020104002101130048724262e1869fa7f15d003f');
const ZSTD_SINGLE = hex('28b52ffda4e0930400f426096ea88eeb');
const ZSTD_2M = hex('28b52ffd8458404b4c00cc1807def549');

test('xz: the LZMA2 dictionary of the first block, after any BCJ filter', () => {
  assert.equal(xzDictBytes(KBUILD_XZ), 1 << 20);
  assert.equal(xzDictBytes(XZ_64K), 64 << 10);
  assert.equal(xzDictBytes(XZ_BCJ_3M), 3 << 20);
  assert.equal(compressionWindow(KBUILD_XZ, 'xz'), 1 << 20);
});

test('zstd: a single-segment frame\'s window is its content size; otherwise the window descriptor', () => {
  assert.equal(zstdWindowBytes(ZSTD_SINGLE), 300_000);
  assert.equal(zstdWindowBytes(ZSTD_2M), 2 << 20);
  assert.equal(compressionWindow(ZSTD_2M, 'zstd'), 2 << 20);
});

test('what does not parse, or has no window, gives undefined', () => {
  assert.equal(xzDictBytes(KBUILD_XZ.subarray(0, 14)), undefined); // block header cut short
  const emptyStream = Buffer.concat([KBUILD_XZ.subarray(0, 12), Buffer.from([0])]);
  assert.equal(xzDictBytes(Buffer.concat([emptyStream, Buffer.alloc(4)])), undefined);
  const badDict = Buffer.from(KBUILD_XZ);
  badDict[21] = 41; // LZMA2 dictionary byte above 40
  assert.equal(xzDictBytes(badDict), undefined);
  assert.equal(zstdWindowBytes(ZSTD_SINGLE.subarray(0, 7)), undefined);
  assert.equal(compressionWindow(KBUILD_XZ, 'gzip'), undefined);
  assert.equal(compressionWindow(KBUILD_XZ, 'none'), undefined);
});
