/**
 * In-kernel decompression's memory (src/kernel/decompress.ts, spec §5.3/§5.8) against the
 * kernel's facts: a duplicate of an xz module on a kernel that decompresses holds kbuild's 1 MiB
 * dictionary (vmalloc) for the decompression only, then its decompressed image as vmap()ed
 * pages (not VmallocUsed) and its module memory for the whole wait; gzip vmallocs zlib's fixed
 * workspace, zstd a workspace sized by the frame's window; a kernel without in-kernel
 * decompression allocates none of it; a failed dictionary vmalloc is xz's XZ_MEM_ERROR → -EINVAL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EINVAL, ENOMEM, MODULE_INIT_COMPRESSED_FILE, PAGE_SIZE, pageAlign, type KFile } from '../../src/kernel/index.js';
import {
  KBUILD_XZ_DICT_BYTES, ZLIB_INFLATE_WORKSPACE_BYTES, ZSTD_DCTX_BYTES, decompressorWorkspaceBytes, zstdWorkspaceBytes,
} from '../../src/kernel/decompress.js';
import { makeModuleFile } from './testing/fixtures.js';
import { MS, proc, S, world, type World } from './helpers.js';

const KiB = 1024;
/** vmallocinfo's size of an allocation: whole pages + the guard page */
const area = (n: number) => pageAlign(n) + PAGE_SIZE;

function finitCompressed(w: World, f: KFile, atNs = 0, name = 'udev-worker'): ReturnType<typeof proc<number>> {
  return proc(w, name, atNs, (t) => w.k.finit_module(t, f, '', MODULE_INIT_COMPRESSED_FILE));
}

function allocs(w: World, kind: string): { pid: number; bytes: number; size: number; vmap: boolean }[] {
  return w.sim.log.records
    .filter((r) => r.kind === 'alloc' && r.fields.kind === kind && r.fields.ok === true)
    .map((r) => ({ pid: r.pid, bytes: r.fields.bytes as number, size: r.fields.size as number, vmap: r.fields.vmap === true }));
}

test('xz duplicate on 6.1: the 1 MiB dictionary during decompression only, then vmap()ed pages + module memory for the wait', () => {
  const D = 1200 * KiB;
  const f = makeModuleFile({ name: 'xfs', compression: 'xz', size: 400 * KiB, imageSize: D, behaviour: { initSleepNs: 1 * S } });
  const w = world('v6.1-stable', [f], { log: true });
  const first = finitCompressed(w, f);
  const dup = finitCompressed(w, f, 0, 'udev-worker-2');
  w.sim.run(500 * MS);
  // the winner is in its init, the duplicate waits in add_unformed_module with its copy and memory
  const live = [...w.k.memory.live.values()];
  const kinds = (k: string) => live.filter((a) => a.kind === k);
  assert.equal(kinds('decompress_workspace').length, 0, 'the dictionaries were freed when decompression ended');
  assert.equal(kinds('kread').length, 0);
  assert.equal(kinds('decompress').length, 1, "the duplicate's image");
  assert.ok(kinds('decompress')[0]!.vmap);
  assert.equal(w.k.memory.vmalloc.mapped, area(D));
  assert.equal(w.k.memory.vmalloc.used - w.k.memory.vmalloc.mapped, 0, 'nothing vmalloc\'ed is held in the vmalloc area while waiting');
  w.sim.run();
  assert.deepEqual([first.result, dup.result], [0, -17]);
  // each load vmalloc'ed kbuild's dictionary once, held for exactly the decompression's CPU time
  const dict = allocs(w, 'decompress_workspace');
  assert.deepEqual(dict.map((a) => [a.bytes, a.size, a.vmap]), [[KBUILD_XZ_DICT_BYTES, area(1 << 20), false], [KBUILD_XZ_DICT_BYTES, area(1 << 20), false]]);
  const held = w.sim.log.records.filter((r) => r.kind === 'free' && r.fields.kind === 'decompress_workspace').map((r) => r.fields.heldNs);
  assert.deepEqual(held, [Math.round((D / w.k.timings.decompressBytesPerSec.xz) * 1e9), Math.round((D / w.k.timings.decompressBytesPerSec.xz) * 1e9)]);
  // both decompressed at once: the vmalloc area's peak holds two file copies, two dictionaries, two images
  assert.equal(w.k.memory.vmalloc.peak, 2 * (area(400 * KiB) + area(1 << 20) + area(D)));
  assert.equal(w.k.memory.vmalloc.used, 0);
  assert.equal(w.k.memory.vmalloc.mapped, 0);
});

test('a dictionary size from the stream header replaces kbuild\'s', () => {
  const f = { ...makeModuleFile({ name: 'm', compression: 'xz' }), compressionWindow: 64 * KiB };
  const w = world('v6.1', [f], { log: true });
  finitCompressed(w, f);
  w.sim.run();
  assert.deepEqual(allocs(w, 'decompress_workspace').map((a) => a.bytes), [64 * KiB]);
});

test('gzip vmallocs zlib\'s inflate workspace (inflate_state + 32 KiB window)', () => {
  assert.equal(ZLIB_INFLATE_WORKSPACE_BYTES, 9544 + (1 << 15));
  const f = makeModuleFile({ name: 'm', compression: 'gzip', size: 40 * KiB });
  const w = world('v6.1', [f], { log: true, moduleCompression: 'gzip' });
  const p = finitCompressed(w, f);
  w.sim.run();
  assert.equal(p.result, 0);
  assert.deepEqual(allocs(w, 'decompress_workspace').map((a) => [a.bytes, a.size]), [[42_312, 12 * PAGE_SIZE]]);
});

test('zstd vmallocs zstd_dstream_workspace_bound(window): the frame\'s window, kbuild\'s min(image, 2 MiB) when unknown', () => {
  const block = 128 * KiB;
  assert.equal(zstdWorkspaceBytes(300_000), ZSTD_DCTX_BYTES + block + 300_000 + block + 64);
  const small = makeModuleFile({ name: 'small', compression: 'zstd', size: 100 * KiB, imageSize: 300_000 });
  const big = makeModuleFile({ name: 'big', compression: 'zstd', size: 2000 * KiB, imageSize: 6_000_000 });
  const w = world('v6.2', [small, big], { log: true, moduleCompression: 'zstd' });
  finitCompressed(w, small);
  finitCompressed(w, big);
  w.sim.run();
  assert.deepEqual(allocs(w, 'decompress_workspace').map((a) => a.bytes).sort((a, b) => a - b), [zstdWorkspaceBytes(300_000), zstdWorkspaceBytes(2 << 20)]);
  assert.equal(decompressorWorkspaceBytes('zstd', { ...small, compressionWindow: 1 << 20 }), zstdWorkspaceBytes(1 << 20));
});

test('no in-kernel decompression: no workspace and no vmap', () => {
  const f = makeModuleFile({ name: 'm', compression: 'xz' });
  // v5.10 does not know MODULE_INIT_COMPRESSED_FILE: -EINVAL before any allocation
  const old = world('v5.10-stable', [f], { log: true });
  const p = finitCompressed(old, f);
  // the image userspace decompressed, passed with init_module (what kmod does there)
  const q = proc(old, 'modprobe', 1 * MS, (t) => old.k.init_module(t, f, f.image.imageSize, ''));
  old.sim.run();
  assert.deepEqual([p.result, q.result], [-EINVAL, 0]);
  assert.deepEqual(allocs(old, 'decompress_workspace'), []);
  assert.deepEqual(allocs(old, 'decompress'), []);
  assert.equal(old.k.memory.vmalloc.peak, area(f.image.imageSize), 'only the init_module copy');
  // a kernel that can decompress but is given an uncompressed file
  const plain = makeModuleFile({ name: 'p' });
  const w = world('v6.1', [plain], { log: true });
  proc(w, 'insmod', 0, (t) => w.k.finit_module(t, plain, '', 0));
  w.sim.run();
  assert.deepEqual(allocs(w, 'decompress_workspace'), []);
});

test('a dictionary that does not fit: XZ_MEM_ERROR → -EINVAL; gzip\'s workspace → -ENOMEM; both failed decompressions', () => {
  const f = makeModuleFile({ name: 'm', compression: 'xz', size: 16 * KiB });
  const w = world('v6.4', [f], { memory: { vmallocBytes: area(16 * KiB) + 512 * KiB } });
  const p = finitCompressed(w, f);
  w.sim.run();
  assert.equal(p.result, -EINVAL);
  assert.ok(w.k.dmesg().some((l) => l.endsWith('decompression failed with status 3')));
  assert.equal(w.k.stats.failed_decompress, 1);
  assert.equal(w.k.stats.invalid_decompress_bytes, 16 * KiB);
  assert.equal(w.k.memory.vmalloc.used, 0);

  const g = makeModuleFile({ name: 'g', compression: 'gzip', size: 16 * KiB });
  const wg = world('v6.4', [g], { moduleCompression: 'gzip', memory: { vmallocBytes: area(16 * KiB) + 8 * KiB } });
  const pg = finitCompressed(wg, g);
  wg.sim.run();
  assert.equal(pg.result, -ENOMEM);
  assert.equal(wg.k.stats.failed_decompress, 1);
});
