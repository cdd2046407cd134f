/**
 * What failing attempts really allocated and the loads in flight: a hand-computed event stream,
 * and the simulator's figure recounted from its own kept log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FailedAttempts } from '../../src/metrics/attempts.js';
import type { MetricEvent } from '../../src/metrics/events.js';
import { isUdevWorker } from '../../src/metrics/storm.js';
import { runStorm } from '../../src/experiments/storm.js';

const W = '(udev-worker)';
function alloc(t: number, pid: number, kind: string, bytes: number, area = 'vmalloc'): MetricEvent {
  return { type: 'alloc', t, pid, kind, bytes, area, module: 'xfs', ok: true };
}
function load(pid: number, start: number, end: number, ret: number, caller = W): MetricEvent {
  return { type: 'load', syscall: 'finit_module', module: 'xfs', pid, caller, ret, start, end };
}

test('a failing call owns the allocations its pid made during it; others are not counted', () => {
  const a = new FailedAttempts(isUdevWorker);
  const events: MetricEvent[] = [
    alloc(1, 10, 'kread', 12288), // pid 10: the winner, succeeds
    alloc(2, 10, 'core', 20480, 'module'),
    alloc(3, 11, 'kread', 12288), // pid 11: -EEXIST after copy + layout
    alloc(4, 11, 'core', 20480, 'module'),
    alloc(4, 11, 'percpu', 64, 'percpu'), // per-CPU: left out
    load(10, 0, 9, 0),
    load(11, 1, 10, -17),
    alloc(20, 12, 'kread', 8192), // pid 12: allocation before its call started: not its own
    load(12, 21, 30, -16),
    alloc(31, 13, 'decompress', 4096),
    alloc(32, 13, 'init', 8192, 'module'),
    load(13, 30, 40, -17, 'modprobe'), // not a udev worker: not the storm
    { type: 'alloc', t: 41, pid: 14, kind: 'kread', bytes: 4096, area: 'vmalloc', module: 'xfs', ok: false },
    load(14, 41, 42, -12),
  ];
  for (const e of events) a.observe(e);
  assert.deepEqual(a.byKind(), { file: 12288, module: 20480 });
  assert.equal(a.total, 32768);
  // calls by udev workers: [0,9] [1,10] [21,30] [41,42] → two at once at most
  assert.equal(a.peakInFlight(), 2);
});

test('a failing in-kernel decompression: the decompressor\'s workspace is in the total, the vmap()ed image part of file', () => {
  const a = new FailedAttempts(isUdevWorker);
  for (const e of [
    alloc(1, 20, 'kread', 12288),
    alloc(2, 20, 'decompress_workspace', 1052672), // xz's 1 MiB dictionary + guard
    alloc(3, 20, 'decompress', 40960), // 9 pages vmap()ed + guard
    alloc(4, 20, 'core', 20480, 'module'),
    load(20, 0, 10, -19),
  ]) a.observe(e);
  assert.deepEqual(a.byKind(), { file: 12288 + 40960, module: 20480, workspace: 1052672, vmap: 40960 });
  assert.equal(a.total, 12288 + 40960 + 20480 + 1052672);
});

test('a call that ends when another starts is not in flight with it; nothing failing allocates nothing', () => {
  const a = new FailedAttempts();
  for (const e of [alloc(1, 1, 'kread', 4096), load(1, 0, 5, 0), load(2, 5, 9, 0), load(3, 5, 6, 0), load(4, 9, 9, 0)]) a.observe(e);
  assert.equal(a.total, 0);
  assert.equal(a.peakInFlight(), 2);
  assert.equal(new FailedAttempts().peakInFlight(), 0);
});

test('the simulator\'s failedAttemptBytes recounted from its kept log', async () => {
  for (const p of [
    { machine: 'kvm-guest', cpus: 16, kernel: 'v6.1-stable', seed: 1 },
    { machine: 'kvm-guest', cpus: 16, kernel: 'v6.4', seed: 2 },
    { machine: 'qemu-tcg', cpus: 8, kernel: 'newest', seed: 2, snapshot: 'debian-6.12', kmodVersion: 30 },
    // kmod 34 hands the .ko.xz to finit_module: the kernel decompresses
    { machine: 'qemu-tcg', cpus: 8, kernel: 'v6.4', seed: 2, snapshot: 'debian-6.12', kmodVersion: 34 },
  ]) {
    const run = await runStorm(p, { log: true });
    const f = run.metrics.figures();
    // recount straight from the log: allocations per pid since that pid's last finit entry
    type Parts = { file: number; module: number; workspace: number; vmap: number };
    const since = new Map<number, Parts>();
    const want: Parts = { file: 0, module: 0, workspace: 0, vmap: 0 };
    for (const r of run.system.sim.log.records) {
      if ((r.kind === 'finit' || r.kind === 'init_module') && r.fields.phase === 'enter') since.set(r.pid, { file: 0, module: 0, workspace: 0, vmap: 0 });
      else if (r.kind === 'alloc' && r.fields.ok === true && r.fields.area !== 'percpu') {
        const s = since.get(r.pid);
        if (s === undefined) continue;
        const kind = r.fields.kind as string;
        const k = kind === 'decompress_workspace' ? 'workspace' : ['kread', 'init_module_copy', 'decompress'].includes(kind) ? 'file' : 'module';
        s[k] += r.fields.size as number;
        // the decompressed image is the one allocation the kernel marks as a vmap
        if (r.fields.vmap === true) s.vmap += r.fields.size as number;
      } else if ((r.kind === 'finit' || r.kind === 'init_module') && r.fields.phase !== 'enter') {
        const s = since.get(r.pid);
        since.delete(r.pid);
        if (s && (r.fields.ret as number) < 0 && isUdevWorker(r.proc)) for (const k of ['file', 'module', 'workspace', 'vmap'] as const) want[k] += s[k];
      }
    }
    const { workspace, vmap, ...always } = want;
    assert.deepEqual(f.failedAttemptBytesByKind, { ...always, ...(workspace > 0 ? { workspace } : {}), ...(vmap > 0 ? { vmap } : {}) }, JSON.stringify(p));
    assert.equal(f.failedAttemptBytes, want.file + want.module + want.workspace);
    // the kernel decompresses only where kmod passes the compressed file (kmod 31+)
    if (p.kmodVersion === 34) assert.ok(workspace > 0 && vmap > 0, JSON.stringify(want));
    else assert.equal(workspace + vmap, 0);
    // every storm here has failing loads; a failing -EEXIST/-EBUSY duplicate on v6.1-stable/v6.4
    // copied the file first, so the file part is at least MODULE_STATS's half of "twice the length"
    if (p.kernel !== 'newest') assert.ok(f.failedAttemptBytesByKind!.file >= f.wastedBytesByCategory.load / 2, JSON.stringify(f.failedAttemptBytesByKind));
    assert.ok(f.peakLoadsInFlight! >= 1 && f.peakLoadsInFlight! <= p.cpus * 8);
  }
});
