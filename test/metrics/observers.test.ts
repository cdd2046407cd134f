/**
 * The observers on hand-made event streams — what a real guest's trace would hand them — and the
 * simulator's log adapter on hand-made log records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EBUSY, EEXIST, ENOMEM } from '../../src/kernel/errno.js';
import type { MetricEvent } from '../../src/metrics/events.js';
import { LoadCounter } from '../../src/metrics/loads.js';
import { MemoryUse } from '../../src/metrics/memory.js';
import { ModuleStates } from '../../src/metrics/modules.js';
import { simEvents } from '../../src/metrics/sim.js';
import { isUdevWorker, StormMetrics } from '../../src/metrics/storm.js';
import type { LogRecord } from '../../src/sim/index.js';

function load(module: string, caller: string, ret: number, start: number, end: number, pid = 1): MetricEvent {
  return { type: 'load', syscall: 'finit_module', module, pid, caller, ret, start, end };
}

test('LoadCounter: calls per module, failures by errno name, time blocked; callers narrow it', () => {
  const all = new LoadCounter();
  const udev = new LoadCounter(isUdevWorker);
  const events = [
    load('kvm', '(udev-worker)', 0, 0, 10),
    load('kvm', 'systemd-udevd-worker-1', -EEXIST, 2, 12),
    load('kvm', 'systemd-udevd', -EBUSY, 3, 4),
    load('xfs', 'modprobe', 0, 5, 25),
  ];
  for (const e of events) {
    all.observe(e);
    udev.observe(e);
  }
  assert.deepEqual(all.attempts, { kvm: 3, xfs: 1 });
  assert.deepEqual(all.failures, { kvm: { EEXIST: 1, EBUSY: 1 } });
  assert.equal(all.total, 4);
  assert.equal(all.blockedNs, 10 + 10 + 1 + 20);
  assert.deepEqual(udev.attempts, { kvm: 3 });
  assert.equal(udev.blockedNs, 21);
  all.observe({ type: 'state', t: 0, module: 'kvm', state: 'live' });
  assert.equal(all.total, 4, 'other events are not loads');
});

test('MemoryUse: use is live allocations, the peak its maximum; failures name their modules', () => {
  const m = new MemoryUse();
  const ev: MetricEvent[] = [
    { type: 'alloc', t: 0, area: 'vmalloc', bytes: 8192, module: 'a', ok: true },
    { type: 'alloc', t: 1, area: 'vmalloc', bytes: 4096, module: 'b', ok: true },
    { type: 'free', t: 2, area: 'vmalloc', bytes: 8192, module: 'a' },
    { type: 'alloc', t: 3, area: 'vmalloc', bytes: 4096, module: 'c', ok: true },
    { type: 'alloc', t: 4, area: 'module', bytes: 1 << 20, module: 'd', ok: false },
    { type: 'alloc', t: 5, area: 'module', bytes: 1 << 20, module: 'd', ok: false },
  ];
  for (const e of ev) m.observe(e);
  assert.deepEqual(m.area('vmalloc'), { used: 8192, peak: 12288, failures: 0 });
  assert.deepEqual(m.area('module'), { used: 0, peak: 0, failures: 2 });
  assert.deepEqual([...m.failedModules], ['d']);
  assert.deepEqual(m.area('percpu'), { used: 0, peak: 0, failures: 0 });
});

test('ModuleStates: loaded = last state LIVE', () => {
  const s = new ModuleStates();
  const st = (module: string, state: 'unformed' | 'coming' | 'live' | 'going' | 'gone'): MetricEvent => ({ type: 'state', t: 0, module, state });
  for (const e of [st('a', 'unformed'), st('a', 'coming'), st('a', 'live'), st('b', 'coming'), st('b', 'going'), st('b', 'gone'), st('c', 'live'), st('c', 'going'), st('c', 'gone'), st('c', 'unformed'), st('c', 'coming'), st('c', 'live')]) s.observe(e);
  assert.deepEqual([...s.live()].sort(), ['a', 'c']);
});

test('StormMetrics: a record\'s figures from a stream a guest trace could produce', () => {
  const m = new StormMetrics();
  const ev: MetricEvent[] = [
    { type: 'alloc', t: 1, area: 'vmalloc', bytes: 20_480, module: 'kvm', ok: true },
    { type: 'alloc', t: 1, area: 'vmalloc', bytes: 20_480, module: 'kvm', ok: true },
    { type: 'state', t: 2, module: 'kvm', state: 'unformed' },
    { type: 'free', t: 3, area: 'vmalloc', bytes: 20_480, module: 'kvm' },
    { type: 'state', t: 4, module: 'kvm', state: 'live' },
    load('kvm', '(udev-worker)', 0, 0, 5, 10),
    load('kvm', '(udev-worker)', -EEXIST, 0, 4, 11),
    { type: 'alloc', t: 6, area: 'module', bytes: 1 << 20, module: 'nvme', ok: false },
    load('nvme', '(udev-worker)', -ENOMEM, 5, 7, 12),
    load('xfs', 'modprobe', 0, 0, 100, 13),
    { type: 'coldplug', start: 0, end: 50, uevents: 3 },
    {
      type: 'module_stats',
      t: 60,
      counters: { invalid_kread_bytes: 0, invalid_decompress_bytes: 0, invalid_becoming_bytes: 0, invalid_mod_bytes: 40_000, failed_becoming: 0, failed_load_modules: 1, modcount: 1 },
      duplicates: [{ module: 'kvm', count: 1, reason: 'Load' }],
    },
  ];
  for (const e of ev) m.observe(e);
  assert.deepEqual(m.figures(), {
    wastedBytes: 40_000,
    wastedBytesByCategory: { kread: 0, decompress: 0, becoming: 0, load: 40_000 },
    failedBecoming: 0,
    failedLoad: 1,
    modulesLoaded: 1,
    loadAttempts: 3,
    loadAttemptsByModule: { kvm: 2, nvme: 1 },
    failuresByModule: { kvm: { EEXIST: 1 }, nvme: { ENOMEM: 1 } },
    peakVmallocBytes: 40_960,
    peakModuleAreaBytes: 0,
    allocFailures: 1,
    modulesFailedByAllocation: ['nvme'],
    settleNs: 50,
    workerBlockedNs: 5 + 4 + 2,
    uevents: 3,
    duplicates: [{ module: 'kvm', count: 1, reason: 'Load' }],
    wastedBytesSource: 'module_stats',
    // the allocations name no pid, so none is a failing attempt's
    failedAttemptBytes: 0,
    failedAttemptBytesByKind: { file: 0, module: 0 },
    // workers' calls [0,5] [0,4] [5,7]: two at once
    peakLoadsInFlight: 2,
  });
});

test('StormMetrics: figures need the coldplug and the MODULE_STATS snapshot', () => {
  const m = new StormMetrics();
  assert.throws(() => m.figures(), /no coldplug event/);
  m.observe({ type: 'coldplug', start: 0, end: 1, uevents: 0 });
  assert.throws(() => m.figures(), /no module_stats event/);
});

test('simEvents: enter/exit records of one process make one load call; processes interleave; other kinds are skipped', () => {
  const out: MetricEvent[] = [];
  const feed = simEvents((e) => out.push(e));
  const rec = (t: number, pid: number, kind: string, fields: Record<string, unknown>): LogRecord => ({ t, pid, proc: `p${pid}`, kind, fields });
  feed(rec(5, 2, 'finit', { phase: 'exit', module: 'lost', inode: 1, ret: 0 })); // its entry came before the log was on
  feed(rec(10, 2, 'finit', { phase: 'enter', module: 'kvm', inode: 1, flags: 0 }));
  feed(rec(11, 3, 'init_module', { phase: 'enter', module: 'xfs', len: 100 }));
  feed(rec(12, 2, 'wait', { on: 'dups', name: 'kvm', phase: 'begin' }));
  feed(rec(13, 0, 'alloc', { id: 1, area: 'vmalloc', kind: 'kread', bytes: 100, size: 8192, module: 'xfs', ok: true, used: 8192 }));
  feed(rec(14, 3, 'init_module', { phase: 'exit', module: 'xfs', ret: -EEXIST }));
  feed(rec(15, 0, 'free', { id: 1, area: 'vmalloc', kind: 'kread', size: 8192, module: 'xfs', used: 0, heldNs: 2 }));
  feed(rec(16, 0, 'state', { module: 'kvm', from: 'coming', to: 'live' }));
  feed(rec(20, 2, 'finit', { phase: 'exit', module: 'kvm', inode: 1, ret: 0 }));
  assert.deepEqual(out, [
    { type: 'alloc', t: 13, area: 'vmalloc', bytes: 8192, module: 'xfs', ok: true, pid: 0, kind: 'kread' },
    { type: 'load', syscall: 'init_module', module: 'xfs', start: 11, pid: 3, caller: 'p3', ret: -EEXIST, end: 14 },
    { type: 'free', t: 15, area: 'vmalloc', bytes: 8192, module: 'xfs' },
    { type: 'state', t: 16, module: 'kvm', state: 'live' },
    { type: 'load', syscall: 'finit_module', module: 'kvm', start: 10, pid: 2, caller: 'p2', ret: 0, end: 20 },
  ]);
});
