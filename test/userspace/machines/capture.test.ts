/**
 * DOC: `machines capture` on a fake sysfs/procfs tree (deterministic), on the real host when it
 * is Linux, and the `kmodlab machines` command itself (registered on a bare commander program).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { register } from '../../../src/cli/declare/machines.js';
import { captureHost, writeProfile } from '../../../src/userspace/machines/capture.js';
import { loadMachine } from '../../../src/userspace/machines/load.js';
import { cpuModalias } from '../../../src/userspace/machines/modalias.js';
import { coldplugDevices } from '../../../src/userspace/machines/coldplug.js';
import { runCommand } from '../../capture-stdout.js';

const CPU = 'cpu:type:x86,ven0000fam0006mod0055:feature:,0000,0016,0085,0099,01C0,0FFF';

function fakeRoot(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodlab-sys-'));
  const w = (rel: string, text: string): void => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  };
  w('sys/devices/system/cpu/modalias', `${CPU}\n`);
  for (let i = 0; i < 4; i++) w(`sys/devices/system/cpu/cpu${i}/uevent`, `MODALIAS=${CPU}\n`);
  w('sys/devices/system/cpu/cpufreq/policy0/scaling_driver', 'intel_pstate\n');
  for (let i = 0; i < 4; i++) w(`sys/devices/LNXSYSTM:00/LNXSYBUS:00/ACPI0007:0${i}/modalias`, 'acpi:ACPI0007:\n');
  w('sys/devices/pci0000:00/0000:00:1f.2/modalias', 'pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01\n');
  fs.symlinkSync('../../../bus/pci', path.join(root, 'sys/devices/pci0000:00/0000:00:1f.2/subsystem'));
  // a SCSI disk: Debian's 80-debian-compat.rules loads sg for every scsi_device
  const sd = 'sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0';
  w(`${sd}/modalias`, 'scsi:t-0x00\n');
  w(`${sd}/uevent`, 'DEVTYPE=scsi_device\nDRIVER=sd\nMODALIAS=scsi:t-0x00\n');
  fs.symlinkSync('../../../../../../../../bus/scsi', path.join(root, sd, 'subsystem'));
  w('sys/devices/platform/empty/modalias', '\n');
  w('sys/firmware/acpi/tables/x', '');
  w('proc/meminfo', 'MemTotal:       16318540 kB\nMemFree: 1 kB\n');
  w('lib/modules/6.1.0-test/modules.dep', '');
  return root;
}

test('capture a fake host', async () => {
  const root = fakeRoot();
  try {
    const p = captureHost({
      sysRoot: path.join(root, 'sys'), procRoot: path.join(root, 'proc'), modulesRoot: path.join(root, 'lib/modules'), release: '6.1.0-test', name: 'fake',
      date: '2026-01-01T00:00:00Z', systemdVersion: 252,
    });
    assert.equal(p.name, 'fake');
    assert.equal(p.cpus, 4);
    assert.equal(p.ramBytes, 16318540 * 1024);
    assert.equal(p.cpufreq.driver, 'intel_pstate');
    assert.deepEqual(p.acpi, { enabled: true, processorHid: 'ACPI0007', processorParent: '/sys/devices/LNXSYSTM:00/LNXSYBUS:00' });
    assert.deepEqual(p.cpu, { vendor: 'intel', family: 6, model: 0x55, features: ['fpu', 'acpi', 'vmx', 'aes', 'dtherm', '0xfff'] });
    assert.equal(cpuModalias(p.cpu), CPU, 'the captured CPU rebuilds the same modalias');
    // (the walk visits "ata1" before the function's own "modalias" file)
    assert.deepEqual(p.devices, [
      { devpath: '/sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0', subsystem: 'scsi', modalias: 'scsi:t-0x00', devtype: 'scsi_device', driver: 'sd' },
      { devpath: '/sys/devices/pci0000:00/0000:00:1f.2', subsystem: 'pci', modalias: 'pci:v00008086d00002922sv00001AF4sd00001100bc01sc06i01' },
    ]);
    assert.equal(p.udev.systemdVersion, 252);
    // 4 CPUs, 4 processors, the PCI function and the disk hit the MODALIAS rule; the disk also Debian's sg rule
    assert.deepEqual(p.captured?.udevRuleHits, { '80-debian-compat.rules:4': 1, '80-drivers.rules:5': 10 });
    assert.equal(p.modulesDir, path.join(root, 'lib/modules/6.1.0-test'));
    assert.equal(p.captured?.modulesDirExists, true);
    // coldplug of the captured host: 4 CPUs + 4 ACPI processors + 2 devices
    assert.equal(coldplugDevices(p).length, 10);
    // written atomically, and loads back as a profile
    const out = path.join(root, 'fake.json');
    await writeProfile(p, out);
    assert.deepEqual(loadMachine(out), p);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('capture this host', { skip: process.platform !== 'linux' && 'not Linux' }, () => {
  const p = captureHost({ date: 'now' });
  assert.ok(p.cpus >= 1);
  assert.ok(p.ramBytes > 0);
  if (p.captured?.cpuModalias?.startsWith('cpu:type:x86,')) assert.equal(cpuModalias(p.cpu), p.captured.cpuModalias);
});

const runCli = (...args: string[]): Promise<string> => runCommand(register, args);

test('kmodlab machines / list / show', async () => {
  const list = await runCli('machines');
  assert.match(list, /^NAME +CPUS +DESCRIPTION\n/);
  assert.match(list, /^sr950 +448 +Lenovo/m);
  assert.equal(await runCli('machines', 'list'), list);
  const shown = JSON.parse(await runCli('machines', 'show', 'kvm-guest', '--cpus', '255')) as { cpus: number };
  assert.equal(shown.cpus, 255);
  // what show prints loads back as the same profile
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodlab-show-'));
  fs.writeFileSync(path.join(dir, 'k.json'), JSON.stringify(shown));
  assert.deepEqual(loadMachine(path.join(dir, 'k.json')), loadMachine('kvm-guest', { cpus: 255 }));
  fs.rmSync(dir, { recursive: true, force: true });
  await assert.rejects(runCli('machines', 'show', 'kvm-guest', '--cpus', 'many'), /--cpus many: expected an integer/);
});
