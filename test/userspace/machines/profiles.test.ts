/**
 * DOC: machine profiles: the shipped ones validate and say what the issue needs; bad profiles
 * fail with one line naming the field; CPU counts and timing overrides apply; the coldplug list
 * and the cpu modalias have the kernel's shape.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputError } from '../../../src/errors.js';
import { coldplugDevices, devpathCompare } from '../../../src/userspace/machines/coldplug.js';
import { featureNumber } from '../../../src/userspace/machines/cpufeatures.js';
import { forCpus, initDurationNs, initResult, listMachineNames, loadMachine, machinesDir, parseMachine } from '../../../src/userspace/machines/load.js';
import { cpuModalias, parseCpuModalias } from '../../../src/userspace/machines/modalias.js';

test('shipped profiles: kvm-guest, qemu-tcg, sr950', () => {
  assert.deepEqual(listMachineNames(), ['kvm-guest', 'qemu-tcg', 'sr950']);
  const kvm = loadMachine('kvm-guest');
  assert.equal(kvm.cpus, 8);
  assert.equal(kvm.cpufreq.driver, 'none');
  const sr = loadMachine('sr950');
  assert.equal(sr.cpus, 448);
  assert.equal(sr.cpufreq.driver, 'intel_pstate');
  assert.equal(sr.acpi.enabled, true);
  const tcg = loadMachine('qemu-tcg');
  assert.equal(tcg.cpus, 2);
  assert.equal(tcg.ramBytes, 4 * 1024 ** 3);
  assert.equal(tcg.cpu.vendor, 'amd');
});

test('feature numbers are the kernel\'s', () => {
  assert.equal(featureNumber('vmx'), 0x85);
  assert.equal(featureNumber('aes'), 0x99);
  assert.equal(featureNumber('sse4_2'), 0x94);
  assert.equal(featureNumber('pclmulqdq'), 0x81);
  assert.equal(featureNumber('ssse3'), 0x89);
  assert.equal(featureNumber('acpi'), 0x16);
  assert.equal(featureNumber('svm'), 0xc2);
  assert.equal(featureNumber('hw_pstate'), 0xe8);
  assert.equal(featureNumber('dtherm'), 0x1c0);
  assert.equal(featureNumber('lm'), 0x3d);
  assert.equal(featureNumber('nx'), 0x34);
  assert.equal(featureNumber('0x1c6'), 0x1c6);
  assert.equal(featureNumber(5), 5);
  assert.equal(featureNumber('frobnicate'), undefined);
});

test('cpu modalias format and round trip', () => {
  const a = cpuModalias({ vendor: 'intel', family: 6, model: 0x55, features: ['vmx', 'fpu', 'aes', 0x85] });
  assert.equal(a, 'cpu:type:x86,ven0000fam0006mod0055:feature:,0000,0085,0099');
  assert.deepEqual(parseCpuModalias(a), { vendor: 0, family: 6, model: 0x55, features: [0, 0x85, 0x99] });
  assert.equal(cpuModalias({ vendor: 'amd', family: 15, model: 107, features: [] }), 'cpu:type:x86,ven0002fam000Fmod006B:feature:');
  assert.equal(parseCpuModalias('cpu:type:aarch64:feature:,0001'), undefined);
});

test('CPU count override and timing overrides', () => {
  const t2 = loadMachine('qemu-tcg');
  const t8 = loadMachine('qemu-tcg', { cpus: 8 });
  assert.equal(t8.cpus, 8);
  assert.equal(t2.timings.forkExecNs, 6_000_000);
  assert.equal(t8.timings.forkExecNs, 15_000_000);
  assert.equal(t8.timings.fileOpenNs, t2.timings.fileOpenNs);
  assert.ok(initDurationNs(t8, 'xfs') > initDurationNs(t2, 'xfs'));
  const kvm = loadMachine('kvm-guest');
  assert.equal(initDurationNs(forCpus(kvm, 255), 'kvm_intel'), 20_000_000 + 255 * 500_000);
  assert.equal(initDurationNs(kvm, 'no_such_module'), kvm.timings.initDefaultNs);
  assert.equal(initResult(kvm, 'skx_edac'), -19);
  assert.equal(initResult(kvm, 'kvm_intel'), undefined);
  assert.throws(() => loadMachine('kvm-guest', { cpus: 0 }), InputError);
});

test('qemu-tcg timings add up to the calibration (2 vCPUs)', () => {
  const m = loadMachine('qemu-tcg');
  const t = m.timings;
  const xfsFile = 4_216_065;
  const ns = (bytes: number, perSec: number): number => (bytes / perSec) * 1e9;
  // insmod is /bin/kmod too: its own start costs what modprobe's does; the kernel then reads,
  // hashes and checks the whole file and lays out the allocated sections (0.36 of xfs.ko)
  const dup = t.modprobeStartNs + t.fileOpenNs + ns(xfsFile, t.kernelReadBytesPerSec) + t.sigCheckNs + ns(xfsFile, t.sigHashBytesPerSec) + ns(0.36 * xfsFile, t.layoutBytesPerSec);
  assert.ok(Math.abs(dup / 1e6 - 192) < 5, `insmod xfs while LIVE: ${dup / 1e6} ms`);
  const cold = dup + ns(xfsFile, t.relocBytesPerSec) + initDurationNs(m, 'xfs');
  assert.ok(Math.abs(cold / 1e6 - 946) < 5, `insmod xfs cold: ${cold / 1e6} ms`);
  assert.equal(t.modprobeStartNs + t.initstateReadNs, 58_000_000);
});

test('coldplug: one uevent per CPU, one per ACPI processor and the devices, in udevadm\'s devpath order', () => {
  const kvm = loadMachine('kvm-guest');
  const ev = coldplugDevices(kvm, 8);
  assert.equal(ev.length, 8 + 8 + kvm.devices.length);
  // sorted as sd-device's enumerator sorts: the ACPI processors (under /sys/devices/LNXSYSTM:00) come first, the CPUs (/sys/devices/system/cpu) late
  assert.deepEqual(ev.slice(0, 8).map((e) => e.devpath), Array.from({ length: 8 }, (_, i) => `/sys/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0007:0${i}`));
  const cpus = ev.filter((e) => e.subsystem === 'cpu');
  assert.deepEqual(cpus[3], { devpath: '/sys/devices/system/cpu/cpu3', subsystem: 'cpu', modalias: cpuModalias(kvm.cpu) });
  for (let i = 1; i < ev.length; i++) assert.ok(devpathCompare(ev[i - 1]!.devpath, ev[i]!.devpath) <= 0, `${ev[i - 1]!.devpath} before ${ev[i]!.devpath}`);
  assert.deepEqual(coldplugDevices(kvm, 16)[10], { devpath: '/sys/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0007:0a', subsystem: 'acpi', modalias: 'acpi:ACPI0007:' });
  // path_compare is byte-wise per component: cpu10 sorts before cpu2, as on a real 16-CPU trigger
  assert.deepEqual(coldplugDevices(kvm, 16).filter((e) => e.subsystem === 'cpu').slice(0, 4).map((e) => e.devpath.slice(-5)), ['/cpu0', '/cpu1', 'cpu10', 'cpu11']);
  assert.equal(coldplugDevices(kvm, 255).filter((e) => e.subsystem === 'cpu').length, 255);
  const noAcpi = { ...kvm, acpi: { enabled: false, processorHid: 'ACPI0007' as const } };
  assert.equal(coldplugDevices(noAcpi, 4).length, 4 + kvm.devices.length);
  const legacy = coldplugDevices({ ...kvm, acpi: { enabled: true, processorHid: 'LNXCPU' }, devices: ['pci:v00001AF4d00001000sv*'] }, 1);
  assert.deepEqual(legacy, [
    { devpath: '/sys/devices/LNXSYSTM:00/LNXCPU:00', subsystem: 'acpi', modalias: 'acpi:LNXCPU:' },
    { devpath: '/sys/devices/kmodlab/pci/0', subsystem: 'pci', modalias: 'pci:v00001AF4d00001000sv*' },
    { devpath: '/sys/devices/system/cpu/cpu0', subsystem: 'cpu', modalias: cpuModalias(kvm.cpu) },
  ]);
});

test('bad profiles: one line naming the file and the field', () => {
  // a loosely typed JSON tree, so each case can break one field
  type Json = { [k: string]: Json } & Json[] & { [k: number]: Json };
  const good = JSON.parse(fs.readFileSync(profileFile('kvm-guest'), 'utf8')) as Json;
  const bad = (mutate: (p: Json) => void): string => {
    const p = structuredClone(good);
    mutate(p);
    try {
      parseMachine(p, 'x.json');
    } catch (e) {
      assert.ok(e instanceof InputError);
      assert.ok(!e.message.includes('\n'));
      return e.message;
    }
    assert.fail('accepted a bad profile');
  };
  assert.match(bad((p) => (p.timings.fileOpenNs = 'fast' as unknown as Json)), /^x\.json: timings\.fileOpenNs: /);
  assert.match(bad((p) => (p.cpus = 0 as unknown as Json)), /^x\.json: cpus: /);
  assert.match(bad((p) => (p.cpu.features[3] = 'warp_drive' as unknown as Json)), /^x\.json: cpu\.features\.3: unknown CPU feature "warp_drive"/);
  assert.match(bad((p) => (p.moduleInit['kvm-intel'] = { baseNs: 1 } as unknown as Json)), /^x\.json: moduleInit\.kvm-intel: /);
  assert.match(bad((p) => (p.frobnicate = 1 as unknown as Json)), /^x\.json: \(top level\): .*frobnicate/);
  assert.match(bad((p) => delete p.acpi), /^x\.json: acpi: /);
  assert.throws(() => loadMachine('no-such-machine'), /unknown machine 'no-such-machine' \(known: kvm-guest, qemu-tcg, sr950\)/);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodlab-prof-'));
  fs.writeFileSync(path.join(dir, 'broken.json'), '{"name": ');
  assert.throws(() => loadMachine(path.join(dir, 'broken.json')), /broken\.json: not JSON/);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** the path of a shipped profile file */
function profileFile(name: string): string {
  return path.join(machinesDir(), `${name}.json`);
}
