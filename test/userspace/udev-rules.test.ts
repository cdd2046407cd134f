/**
 * DOC: udev's module-loading rules as data: the rules-file reader, the shipped sets per systemd
 * version, matching an event, and udevd running the loads the rules ask for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseKmodRules, udevRulesFor, kmodLoadsFor, MODALIAS_ONLY, type RuleDevice } from '../../src/userspace/udev-rules/index.js';
import { Udevd, type UdevTimings, type Uevent } from '../../src/userspace/udevd.js';
import type { ModuleInfo } from '../../src/userspace/moduleset.js';
import { bench, MS, smallSet } from '../system/fixtures.js';

const RULES = `# comment
ACTION!="add", GOTO="drivers_end"

ENV{MODALIAS}=="?*", RUN{builtin}+="kmod load"
SUBSYSTEM=="memstick", \\
  RUN{builtin}+="kmod load ms_block mspro_block"
SUBSYSTEM=="module", KERNEL=="parport_pc|parport_serial", RUN{builtin}+="kmod load ppdev"
SUBSYSTEM=="net", RUN{builtin}+="net_setup_link"

LABEL="drivers_end"
SUBSYSTEM=="scsi", ENV{DEVTYPE}=="scsi_device", TEST!="[module/sg]", RUN{builtin}+="kmod load sg"
`;

test('rules file: only kmod loads, with their keys, continuation lines and the GOTOs that jump over them', () => {
  const r = parseKmodRules(RULES, '80-x.rules');
  assert.deepEqual(
    r.map((x) => [x.line, x.load, x.match.map((m) => `${m.key}${m.op}${m.value}`), x.unless.length]),
    [
      [4, [], ['ENV{MODALIAS}==?*'], 1],
      [5, ['ms_block', 'mspro_block'], ['SUBSYSTEM==memstick'], 1],
      [7, ['ppdev'], ['SUBSYSTEM==module', 'KERNEL==parport_pc|parport_serial'], 1],
      // after the label: no jump applies
      [11, ['sg'], ['SUBSYSTEM==scsi', 'ENV{DEVTYPE}==scsi_device', 'TEST!=[module/sg]'], 0],
    ],
  );
  assert.deepEqual(r[0]!.unless, [[{ key: 'ACTION', op: '!=', value: 'add' }]]);
  assert.throws(() => parseKmodRules('ATTR{x}=="1", RUN{builtin}+="kmod load y"\n', 'a.rules'), /^InputError: a\.rules:1: a module-loading rule matches on ATTR\{x\}, which the udevd model cannot evaluate$/);
  assert.throws(() => parseKmodRules('SUBSYSTEM=="x" RUN\n', 'b.rules'), /^InputError: b\.rules:1: not a udev rule/);
});

test('the shipped sets: Debian bookworm (252) and bookworm-backports (254); another version gets the MODALIAS rule alone, and says so', () => {
  const r252 = udevRulesFor(252);
  assert.equal(r252.systemdVersion, 252);
  assert.match(r252.source, /^udev 252\.\S+ \(Debian bookworm\)$/);
  const key = (x: { file: string; line: number }) => `${x.file}:${x.line}`;
  // 80-debian-compat.rules sorts first, so its sg load runs before the MODALIAS load
  assert.deepEqual(r252.rules.map(key).slice(0, 2), ['80-debian-compat.rules:4', '80-drivers.rules:5']);
  assert.ok(r252.rules.some((x) => x.load.join(' ') === 'ppdev'));
  assert.equal(udevRulesFor(254).systemdVersion, 254);
  assert.match(udevRulesFor(254).source, /^udev 254\.\S+ \(Debian bookworm-backports\)$/);
  const none = udevRulesFor(253);
  assert.deepEqual(none.rules, MODALIAS_ONLY.rules);
  assert.equal(none.source, 'no rules shipped for systemd 253: the modalias rule of 80-drivers.rules only');
  assert.equal(udevRulesFor(undefined), MODALIAS_ONLY);
});

test('matching: subsystem, DEVTYPE, kernel name alternatives, /sys/module tests, the ACTION jump', () => {
  const rules = parseKmodRules(RULES, '80-x.rules');
  const none = { sysfsExists: () => false };
  const disk: RuleDevice = { action: 'add', devpath: '/sys/devices/pci0000:00/0000:00:01.1/ata1/host0/target0:0:0/0:0:0:0', subsystem: 'scsi', properties: { MODALIAS: 'scsi:t-0x00', DEVTYPE: 'scsi_device' } };
  assert.deepEqual(kmodLoadsFor(rules, disk, none).map((l) => l.names), [[], ['sg']]);
  assert.deepEqual(kmodLoadsFor(rules, disk, { sysfsExists: (p) => p === 'module/sg' }).map((l) => l.names), [[]], 'sg already there');
  assert.deepEqual(kmodLoadsFor(rules, { ...disk, action: 'change' }, none).map((l) => l.names), [['sg']], 'the jump skips 80-drivers');
  const mod: RuleDevice = { action: 'add', devpath: '/sys/module/parport_serial', subsystem: 'module', properties: {} };
  assert.deepEqual(kmodLoadsFor(rules, mod, none).map((l) => l.names), [['ppdev']]);
  assert.deepEqual(kmodLoadsFor(rules, { ...mod, devpath: '/sys/module/parport' }, none), []);
});

const TIMINGS: UdevTimings = { triggerNs: 20_000, dispatchNs: 10_000, forkNs: 250_000, workerKmodInitNs: 2 * MS, ruleNs: 100_000 };

test('udevd runs the rules\' loads: two SCSI disks load sg once (the second sees /sys/module/sg) and sd_mod by modalias', () => {
  const set = smallSet();
  const mod = (name: string): ModuleInfo => ({ name, path: `kernel/drivers/scsi/${name}.ko`, fileSize: 10_000, compression: 'none', imageSize: 9_300, signed: true, deps: [], softdeps: { pre: [], post: [] } });
  for (const n of ['sg', 'sd_mod']) set.modules.set(n, mod(n));
  set.aliases.push({ pattern: 'scsi:t-0x00*', module: 'sd_mod' });
  const b = bench({ set, cpus: 1 });
  const disk = (i: number): Uevent => ({ devpath: `/sys/devices/pci0000:00/0000:00:01.1/ata1/host0/target0:0:${i}/0:0:${i}:0`, subsystem: 'scsi', modalias: 'scsi:t-0x00', devtype: 'scsi_device' });
  const u = new Udevd({ host: b.host, index: b.index, kmodVersion: 30, events: [disk(0), disk(1)], childrenMax: 1, timings: TIMINGS, rules: udevRulesFor(252), keepJournal: true });
  u.start();
  b.sim.run();
  const st = u.stats();
  assert.deepEqual(st.journal, ["Inserted module 'sg'", "Inserted module 'sd_mod'", "Module 'sd_mod' is already loaded"]);
  assert.deepEqual(st.ruleHits, { '80-debian-compat.rules:4': 1, '80-drivers.rules:5': 2 });
  // without the rules (MODALIAS only), sg is never attempted
  const b2 = bench({ set, cpus: 1 });
  const u2 = new Udevd({ host: b2.host, index: b2.index, kmodVersion: 30, events: [disk(0), disk(1)], childrenMax: 1, timings: TIMINGS, keepJournal: true });
  u2.start();
  b2.sim.run();
  assert.ok(!u2.stats().journal.some((l) => l.includes("'sg'")));
});
