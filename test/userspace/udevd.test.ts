import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ENODEV } from '../../src/kernel/errno.js';
import { children_max, Udevd, type UdevTimings, type Uevent } from '../../src/userspace/udevd.js';
import { LoadCounter } from '../../src/metrics/loads.js';
import { observeSimLog } from '../../src/metrics/sim.js';
import { bench, MS, type BenchOptions } from '../system/fixtures.js';

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

test('children_max: old udevd 8 + 2·CPUs; current min(2·CPUs + 16, max(RAM/128 MiB, 10), 2048); override wins', () => {
  assert.equal(children_max('old', 8, 8 * GIB), 24);
  assert.equal(children_max('old', 255, 8 * GIB), 518);
  assert.equal(children_max('current', 8, 8 * GIB), 32); // CPU-bound: 2·8 + 16
  assert.equal(children_max('current', 255, 8 * GIB), 64); // RAM-bound: 8 GiB / 128 MiB
  assert.equal(children_max('current', 2, 512 * MIB), 10); // never below 10 from RAM …
  assert.equal(children_max('current', 1, 512 * MIB), 10); // … and 2·1 + 16 = 18 > 10
  assert.equal(children_max('current', 4096, 4096 * GIB), 2048); // capped
  assert.equal(children_max('current', 8, 8 * GIB, 3), 3);
});

const CPU_ALIAS = 'cpu:type:x86,ven0000fam0006mod0055:feature:,0000,0085,0094,00E8';
const TIMINGS: UdevTimings = { triggerNs: 20_000, dispatchNs: 10_000, forkNs: 250_000, workerKmodInitNs: 2 * MS, ruleNs: 100_000 };

function coldplug(cpus: number, childrenMax: number, o: BenchOptions = {}) {
  const b = bench({ cpus, ...o });
  const events: Uevent[] = [];
  for (let i = 0; i < cpus; i++) events.push({ devpath: `/sys/devices/system/cpu/cpu${i}`, subsystem: 'cpu', modalias: CPU_ALIAS });
  for (let i = 0; i < cpus; i++) events.push({ devpath: `/sys/devices/LNXSYSTM:00/ACPI0007:0${i}`, subsystem: 'acpi', modalias: 'acpi:ACPI0007:' });
  events.push({ devpath: '/sys/devices/pci0000:00/0000:00:19.0', subsystem: 'pci', modalias: 'pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00' });
  events.push({ devpath: '/sys/devices/platform/x', subsystem: 'platform', modalias: 'platform:nothing' });
  const u = new Udevd({ host: b.host, index: b.index, kmodVersion: 30, events, childrenMax, timings: TIMINGS, keepJournal: true });
  // the workers' loads, observed in the kernel's log (src/metrics/), beside udevd's own stats
  const loads = new LoadCounter();
  observeSimLog(b.sim.log, loads.observe);
  u.start();
  b.sim.run();
  const st = { ...u.stats(), loadAttempts: loads.total, loadAttemptsByModule: loads.attempts, failuresByModule: loads.failures, workerBlockedNs: loads.blockedNs };
  return { b, u, st };
}

test('coldplug: every event handled, at most children_max workers, per-CPU modules loaded by several workers at once', () => {
  const { b, u, st } = coldplug(8, 4, { initResult: { acpi_cpufreq: -ENODEV, pcc_cpufreq: -ENODEV }, initNs: { kvm_intel: 20 * MS } });
  assert.ok(u.settled);
  assert.equal(st.uevents, 18);
  assert.equal(st.finished, 18);
  assert.equal(st.workers, 4);
  // no cross-worker knowledge: the 4 workers that got the first CPU events all tried kvm_intel
  assert.equal(st.loadAttemptsByModule.kvm_intel, 4);
  assert.deepEqual(st.failuresByModule.kvm_intel, { EEXIST: 3 });
  // a failing module never turns LIVE: every matching event tries it again (8 cpu + 8 acpi)
  assert.equal(st.loadAttemptsByModule.acpi_cpufreq, 16);
  assert.equal(st.loadAttemptsByModule.pcc_cpufreq, 8);
  assert.equal(st.loadAttempts, b.kernel.calls.length);
  assert.ok(st.journal.includes("Inserted module 'kvm_intel'"));
  assert.ok(st.journal.includes("Inserted module 'e1000e'"));
  assert.ok(st.journal.includes("Module 'kvm_intel' is already loaded"));
  assert.ok(st.journal.includes("No module matches 'platform:nothing'"));
  assert.ok(st.journal.some((l) => l.startsWith("Failed to insert module 'acpi_cpufreq': No such device")));
  assert.ok(st.settleNs > 20 * MS);
  assert.ok(st.workerBlockedNs > 20 * MS);
});

test('coldplug: one worker means no duplicates of modules that load', () => {
  const { st } = coldplug(8, 1);
  for (const m of ['kvm_intel', 'kvm', 'irqbypass', 'crc32c_intel', 'e1000e']) assert.equal(st.loadAttemptsByModule[m], 1, m);
  assert.equal(st.workers, 1);
});

test('coldplug is deterministic', () => {
  const a = coldplug(16, 8).st;
  const b = coldplug(16, 8).st;
  assert.deepEqual(a, b);
});

test('event dependencies: a child device\'s event waits for its parent\'s; unrelated events do not', () => {
  const b = bench({ cpus: 4, initNs: { e1000e: 30 * MS } });
  const parent = '/sys/devices/pci0000:00/0000:00:19.0';
  const events: Uevent[] = [
    { devpath: parent, subsystem: 'pci', modalias: 'pci:v00008086d000010D3sv00008086sd0000A01Fbc02sc00i00' },
    { devpath: `${parent}/virtio0`, subsystem: 'virtio', modalias: 'virtio:child' },
    { devpath: '/sys/devices/pci0000:00/0000:00:19.1', subsystem: 'pci', modalias: 'pci:sibling' },
  ];
  const u = new Udevd({ host: b.host, index: b.index, kmodVersion: 30, events, childrenMax: 4, timings: TIMINGS, keepJournal: true });
  u.start();
  b.sim.run();
  // e1000e's pci alias is in the fixture's modules.alias twice: the lookup returns it twice and
  // the builtin walks both entries (the second finds it LIVE)
  assert.deepEqual(u.stats().journal, [
    "No module matches 'pci:sibling'",
    "Inserted module 'e1000e'",
    "Module 'e1000e' is already loaded",
    "No module matches 'virtio:child'",
  ]);
});
