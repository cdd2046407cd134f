/**
 * The captured trigger on a recorded guest: debian-6.1's real coldplug at 2 vCPUs on a quiet host
 * (data/calibration/coldplug/debian-6.1-2cpu-devadd.data.log.gz: the `kml/devadd` kprobe on
 * device_add and the trigger's syspaths in order). Which devices a module's load created is
 * checked against the kernel facts the calibration note lists (rapl_init adds intel_rapl_msr.0,
 * lpc_ich's cell iTCO_wdt.1.auto, virtio_pci's probe virtio0/1); the model's trigger order
 * against the order the real udevadm emitted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { devicesAddedByLoads } from '../../../src/metrics/coldplug-trace.js';
import { parseFtrace } from '../../../src/metrics/ftrace.js';
import { addedByLoads, captureProfile, parseDataPort, parseTriggered } from '../../../src/targets/qemu/coldplug/record.js';
import { coldplugDevices, createdDevices, devpathCompare } from '../../../src/userspace/machines/coldplug.js';
import { parseMachine } from '../../../src/userspace/machines/load.js';
import { applyCapturedTrigger, perCpuFamilies } from '../../../src/userspace/machines/trigger.js';

const file = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../data/calibration/coldplug/debian-6.1-2cpu-devadd.data.log.gz');
const data = parseDataPort(gunzipSync(readFileSync(file)).toString('utf8'));
const events = parseFtrace(data.sections.get('trace')!);
const added = devicesAddedByLoads(events);
const triggered = parseTriggered(data.sections.get('triggered'))!;

function capturedProfile() {
  const p = captureProfile(data.sections.get('capture')!, { name: 'debian-6.1-q35', release: '6.1.0-50-amd64', date: 'test', cpus: 2 });
  const applied = applyCapturedTrigger(p, triggered, addedByLoads(added));
  return { p: parseMachine(p, 'captured'), applied };
}

test('devadd: a device added inside a module\'s load belongs to that module; a kworker\'s to none', () => {
  const by = (dev: string) => added.filter((a) => a.device === dev).map((a) => a.module);
  assert.deepEqual(by('intel_rapl_msr.0'), ['intel_rapl_common']);
  assert.deepEqual(by('iTCO_wdt.1.auto'), ['lpc_ich']);
  assert.deepEqual(by('virtio0'), ['virtio_pci']);
  assert.deepEqual(by('virtio1'), ['virtio_pci']);
  assert.deepEqual(by('input3'), ['pcspkr']);
  assert.deepEqual(by('input2'), ['button']);
  // psmouse's input4 comes from serio's asynchronous probe (a kworker), not from a load
  assert.deepEqual(by('input4'), []);
  assert.ok(events.some((e) => e.kind === 'devadd' && e.name === 'input4' && e.comm.startsWith('kworker')));
  // every attributed add happened between that module's module_load and its call's return
  for (const a of added) {
    const load = events.find((e) => e.kind === 'module_load' && e.module === a.module && e.t <= a.t);
    assert.ok(load !== undefined, `${a.device}: ${a.module} was loading`);
  }
});

test('capture: the devices absent at the trigger get createdBy; the trigger\'s other events are kept in order', () => {
  const { p, applied } = capturedProfile();
  const created = Object.fromEntries(p.devices.flatMap((d) => (typeof d !== 'string' && d.createdBy !== undefined ? [[d.devpath, d.createdBy]] : [])));
  assert.deepEqual(created, {
    '/sys/devices/LNXSYSTM:00/LNXPWRBN:00/input/input2': 'button',
    '/sys/devices/pci0000:00/0000:00:01.0/virtio0': 'virtio_pci',
    '/sys/devices/pci0000:00/0000:00:02.0/virtio1': 'virtio_pci',
    '/sys/devices/pci0000:00/0000:00:1f.0/iTCO_wdt.1.auto': 'lpc_ich',
    '/sys/devices/platform/intel_rapl_msr.0': 'intel_rapl_common',
    '/sys/devices/platform/pcspkr/input/input3': 'pcspkr',
  });
  assert.deepEqual(applied.unattributed, ['/sys/devices/platform/i8042/serio1/input/input4']);
  // every device the trigger emitted is an event of the profile: with a MODALIAS, per CPU, or plain
  const lines = data.sections.get('triggered')!.split('\n');
  assert.equal(p.trigger!.subsystems.length, lines.filter((l) => l.startsWith('S ')).length);
  const plainAt2 = p.trigger!.devices.reduce((n, d) => n + (d.devpath.includes('%d') ? 2 : 1), 0);
  const withModalias = p.devices.filter((d) => typeof d !== 'string' && d.createdBy === undefined && triggered.devices.some((t) => t.devpath === d.devpath)).length;
  assert.equal(plainAt2 + withModalias + 2 /* cpu0-1 */ + 2 /* LNXCPU:00-01 */, triggered.devices.length);
  assert.equal(p.acpi.processorParent, '/sys/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0010:00');
  // the families that grow with the vCPUs (compared with the 8-vCPU capture of the same guest)
  assert.deepEqual(p.trigger!.devices.filter((d) => d.devpath.includes('%d')).map((d) => d.devpath), [
    '/sys/devices/system/clockevents/clockevent%d',
    '/sys/devices/system/machinecheck/machinecheck%d',
    '/sys/devices/virtual/thermal/cooling_device%d',
  ]);
  assert.deepEqual(createdDevices(p).get('intel_rapl_common')?.map((e) => e.modalias), ['platform:intel_rapl_msr']);
});

test('trigger order: the model emits the subsystems, then every device in the order the real udevadm did', () => {
  const { p } = capturedProfile();
  const evs = coldplugDevices(p, 2);
  // input4 (psmouse's, added later by a kworker: no load to tie it to) is still triggered in the model
  const kworkers = new Set(['/sys/devices/platform/i8042/serio1/input/input4']);
  assert.deepEqual(evs.map((e) => e.devpath).filter((d) => !kworkers.has(d)), [...triggered.subsystems, ...triggered.devices.map((d) => d.devpath)]);
  // the MODALIAS events are the capture's, the others carry none
  const cpu0 = evs.find((e) => e.devpath === '/sys/devices/system/cpu/cpu0')!;
  assert.match(cpu0.modalias, /^cpu:type:x86,ven0000fam0006mod0055:feature:/);
  assert.equal(evs.find((e) => e.devpath === '/sys/devices/virtual/tty/tty7')!.modalias, '');
  // at 8 CPUs: 6 more CPUs, LNXCPU devices, clockevents, machinechecks and cooling devices
  assert.equal(coldplugDevices(p, 8).length, evs.length + 5 * 6);
  assert.ok(triggered.subsystems.includes('/sys/bus/i2c/drivers/CHT Whiskey Cove PMIC'));
  assert.ok(!evs.some((e) => e.devpath.endsWith('/intel_rapl_msr.0')), 'a created device is not triggered');
});

test('devpath order is path_compare\'s: component by component, a parent right before its children', () => {
  const sorted = ['/sys/devices/LNXSYSTM:00', '/sys/devices/LNXSYSTM:00/LNXSYBUS:00', '/sys/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0010:00', '/sys/devices/LNXSYSTM:00/LNXSYBUS:01',
    '/sys/devices/breakpoint', '/sys/devices/system/memory/memory1', '/sys/devices/system/memory/memory10', '/sys/devices/system/memory/memory2'];
  assert.deepEqual([...sorted].reverse().sort(devpathCompare), sorted);
  // a sibling with a byte below '/' ('-', '.') still comes after the parent's children
  assert.ok(devpathCompare('/sys/devices/a/b', '/sys/devices/a-x') < 0);
});

test('per-CPU families: only siblings numbered exactly 0…N−1 at N CPUs', () => {
  const ev = (devpath: string) => ({ devpath });
  const got = perCpuFamilies([ev('/s/mc0'), ev('/s/mc1'), ev('/s/mc2'), ev('/s/tty0'), ev('/s/tty1'), ev('/s/mem0'), ev('/s/mem1'), ev('/s/mem2'), ev('/s/mem3'), ev('/s/b:00'), ev('/s/b:01'), ev('/s/b:02')], 3);
  assert.deepEqual(got.map((e) => e.devpath), ['/s/mc%d', '/s/tty0', '/s/tty1', '/s/mem0', '/s/mem1', '/s/mem2', '/s/mem3', '/s/b:00', '/s/b:01', '/s/b:02']);
});
