/**
 * The trace-to-record conversion on a recorded guest: a real coldplug of Debian's 6.1.176 at
 * 2 vCPUs (q35, Cascadelake-Server, bookworm's udev 252 and kmod 30), data port as the guest
 * wrote it, with the sizes of the module files it opened (from the same module tree). Each
 * figure is checked against a second source in the same data: /proc/modules, the file sizes,
 * the raw return values — not against the converter's own output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFtrace, moduleNameOfPath } from '../../src/metrics/ftrace.js';
import { estimateModuleStats, parseModuleStats, traceEvents } from '../../src/metrics/coldplug-trace.js';
import { coldplugRecord, parseDataPort, captureProfile } from '../../src/targets/qemu/coldplug/record.js';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/coldplug');
const data = parseDataPort(readFileSync(path.join(fixtures, 'debian-6.1-2cpu.data'), 'utf8'));
const sizeTable = JSON.parse(readFileSync(path.join(fixtures, 'debian-6.1-2cpu.sizes.json'), 'utf8')) as Record<string, number>;
const sizes = (p: string) => (sizeTable[p] !== undefined ? { file: sizeTable[p]!, image: sizeTable[p]! } : undefined);
const v61 = { earlySameNameCheck: false, idempotentFinit: false };
const record = coldplugRecord({ data, kernelName: 'debian-6.1', machine: 'm', cpus: 2, seed: 1, kernel: v61, sizes });
const trace = data.sections.get('trace')!;
const PAGE = 4096;
const pageRound = (n: number) => Math.ceil(n / PAGE) * PAGE;

test('every finit_module return in the trace is one load attempt, its errno as the kernel returned it', () => {
  const rets = [...trace.matchAll(/sys_finit_module -> (0x[0-9a-f]+)/g)].map((m) => Number(BigInt.asIntN(64, BigInt(m[1]!))));
  assert.equal(record.loadAttempts, rets.length);
  const failed = Object.values(record.failuresByModule).flatMap((f) => Object.entries(f));
  const count = (e: string) => failed.filter(([k]) => k === e).reduce((s, [, n]) => s + n, 0);
  assert.equal(count('EEXIST'), rets.filter((r) => r === -17).length);
  assert.equal(count('EBUSY'), rets.filter((r) => r === -16).length);
  assert.equal(count('ENODEV'), rets.filter((r) => r === -19).length);
  assert.equal(record.source, 'measured');
  assert.equal(record.target, 'qemu:debian-6.1');
});

test('the modules the trace leaves LIVE are the ones /proc/modules lists at the end', () => {
  const proc = data.sections.get('modules')!.split('\n').filter(Boolean).map((l) => l.split(' ')[0]!).sort();
  assert.equal(record.modulesLoaded, proc.length);
  // and a module that failed in its init (acpi_cpufreq: -ENODEV on a guest without cpufreq) is not
  assert.ok(!proc.includes('acpi_cpufreq'));
  assert.deepEqual(record.failuresByModule.acpi_cpufreq, { EBUSY: 1, ENODEV: 1 });
});

test('a failed attempt is tied to its module by the .ko its process opened last', () => {
  const ev = parseFtrace(trace);
  const { calls } = traceEvents(ev, 0);
  for (const c of calls) {
    assert.ok(c.path?.endsWith('.ko'), `${c.module}: no .ko opened before the call`);
    assert.equal(c.module, moduleNameOfPath(c.path!));
  }
  assert.equal(moduleNameOfPath('/lib/modules/x/kernel/arch/x86/crypto/crc32-pclmul.ko.xz'), 'crc32_pclmul');
});

test("each failing attempt's first vmalloc is the kernel's copy of the file: its page-rounded size plus a guard page", () => {
  const { calls } = traceEvents(parseFtrace(trace), 0);
  const failing = calls.filter((c) => c.ret < 0);
  const fileBytes = failing.reduce((s, c) => s + pageRound(sizes(c.path!)!.file) + PAGE, 0);
  assert.equal(record.failedAttemptBytesByKind?.file, fileBytes);
  // a duplicate rejected at add_unformed_module (6.1) had its module memory allocated too
  assert.ok((record.failedAttemptBytesByKind?.module ?? 0) > 0);
});

test('MODULE_STATS estimate on 6.1: every duplicate counts twice its length as "load", init failures not at all', () => {
  const { calls } = traceEvents(parseFtrace(trace), 0);
  const dups = calls.filter((c) => c.ret === -17 || c.ret === -16);
  const bytes = dups.reduce((s, c) => s + 2 * sizes(c.path!)!.file, 0);
  assert.equal(record.wastedBytesSource, 'estimate');
  assert.equal(record.wastedBytesByCategory.load, bytes);
  assert.equal(record.wastedBytesByCategory.becoming, 0);
  assert.equal(record.failedLoad, dups.length);
  assert.equal(record.wastedBytes, bytes);
  assert.equal(record.duplicates.reduce((s, d) => s + d.count, 0), dups.length);
  assert.ok(record.duplicates.every((d) => d.reason === 'Load'));
});

test('the estimate follows the kernel: early check counts "becoming", idempotent waiters nothing', () => {
  const call = (pid: number, start: number, end: number, ret: number) => ({ syscall: 'finit_module' as const, start, end, pid, ret, comm: '(udev-worker)', path: '/lib/modules/r/a.ko', module: 'a', flags: 0, len: 0, allocs: 1, sawLoad: false });
  const calls = [call(1, 0, 10, 0), call(2, 5, 10, -17), call(3, 20, 21, -17)];
  const sz = () => ({ file: 1000, image: 1000 });
  const v64 = estimateModuleStats(calls, { earlySameNameCheck: true, idempotentFinit: false }, sz);
  assert.equal(v64.counters.invalid_becoming_bytes, 2000);
  assert.equal(v64.counters.failed_becoming, 2);
  assert.deepEqual(v64.duplicates, [{ module: 'a', count: 2, reason: 'Becoming' }]);
  // v6.5+: pid 2 waited for pid 1 on the same file; pid 3 came after it was LIVE
  const v65 = estimateModuleStats(calls, { earlySameNameCheck: true, idempotentFinit: true }, sz);
  assert.equal(v65.counters.failed_becoming, 1);
  assert.equal(v65.counters.invalid_becoming_bytes, 1000);
});

test("the kernel's own stats file, where there is one, is read in its format", () => {
  const text = [
    '         Mods ever loaded\t40',
    '  Mods failed on becoming\t7',
    '      Mods failed on load\t1',
    '    Failed becoming bytes\t123456',
    '        Failed kmod bytes\t2048',
    '',
    'Duplicate failed modules:',
    '              Module-name        How-many-times                    Reason',
    '                kvm_intel                     7                  Becoming',
    '                      kvm                     1           Becoming & Load',
  ].join('\n');
  const s = parseModuleStats(text);
  assert.equal(s.counters.failed_becoming, 7);
  assert.equal(s.counters.invalid_becoming_bytes, 123456);
  assert.equal(s.counters.invalid_mod_bytes, 2048);
  assert.deepEqual(s.duplicates, [{ module: 'kvm_intel', count: 7, reason: 'Becoming' }, { module: 'kvm', count: 1, reason: 'Becoming & Load' }]);
});

test('the guest-side capture is a machine profile of the q35 guest: its CPU model, virtio devices, ACPI processors', () => {
  const p = captureProfile(data.sections.get('capture')!, { name: 'g', release: '6.1.0-50-amd64', date: 'd', cpus: 2 });
  // Cascadelake-Server: Intel family 6 model 85, with AVX-512-era features
  assert.deepEqual([p.cpu.vendor, p.cpu.family, p.cpu.model], ['intel', 6, 85]);
  assert.ok(p.cpu.features.includes('aes') && p.cpu.features.includes('avx2'));
  const aliases = p.devices.map((d) => (typeof d === 'string' ? d : d.modalias));
  assert.ok(aliases.some((a) => a.startsWith('virtio:d00000001v')), 'virtio net');
  assert.ok(aliases.some((a) => a.startsWith('virtio:d00000002v')), 'virtio block');
  assert.ok(aliases.some((a) => a.startsWith('pci:v00008086d000029C0')), 'q35 host bridge');
  assert.equal(p.acpi.enabled, true);
  assert.equal(p.cpus, 2);
  assert.ok(p.ramBytes > 2 ** 31);
});

test('settle time runs from the trigger marker to the settled marker', () => {
  const t = (w: string) => Number(new RegExp(`(\\d+)\\.(\\d+): tracing_mark_write: ${w}`).exec(trace)!.slice(1).join(''));
  assert.equal(record.settleNs, (t('KML_SETTLED') - t('KML_TRIGGER')) * 1000);
});
