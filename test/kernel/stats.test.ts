/**
 * MODULE_STATS (spec §5.9): the stats text of a hand-computed v6.4 run, byte for byte, and the
 * table's row limit / buffer size.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MODULE_INIT_COMPRESSED_FILE, ModuleStats, getPreset } from '../../src/kernel/index.js';
import { makeModuleFile } from './testing/fixtures.js';
import { finitAt, MS, proc, S, world } from './helpers.js';

const sec = (s: Partial<Record<'text' | 'data' | 'rodata' | 'initText' | 'initData', number>>) => ({
  text: 0, data: 0, rodata: 0, roAfterInit: 0, initText: 0, initData: 0, initRodata: 0, symtab: 0, percpu: 0, ...s,
});

test('stats text of a hand-computed v6.4 run is byte-exact', () => {
  // kvm_intel: regions text 8192 + data 4096 + init_text 4096 = 16384, text 12288
  const kvmIntel = makeModuleFile({ name: 'kvm_intel', size: 10000, sections: sec({ text: 5000, data: 1000, initText: 100 }), behaviour: { initSleepNs: 100 * MS } });
  // kvm: text 12288 + rodata 8192 + init_data 4096 = 24576, text 12288
  const kvm = makeModuleFile({ name: 'kvm', size: 20000, sections: sec({ text: 9000, rodata: 5000, initData: 2000 }), behaviour: { initSleepNs: 10 * MS } });
  const bad = makeModuleFile({ name: 'bad', size: 7001, badModinfo: true });
  const orphan = makeModuleFile({ name: 'orphan', size: 6000, symbolDeps: ['missing'] });
  const gz = makeModuleFile({ name: 'gz', size: 3000, compression: 'gzip' });
  const empty = makeModuleFile({ name: 'empty', size: 0 });
  const w = world('v6.4', []);
  [0, 1, 2, 3].forEach((i) => finitAt(w, kvmIntel, i * MS)); // 3 × Becoming, 3 × 10000 bytes
  finitAt(w, kvm, 1 * S);
  finitAt(w, { ...kvm, inode: kvm.inode + 100000 }, 1 * S); // same instant: fails at Load, 2 × 20000
  finitAt(w, bad, 2 * S); // becoming, 7001
  finitAt(w, orphan, 3 * S); // unknown symbol after allocation: load, 2 × 6000
  proc(w, 'gz', 4 * S, (t) => w.k.finit_module(t, gz, '', MODULE_INIT_COMPRESSED_FILE)); // xz kernel: decompress fails, 3000
  finitAt(w, empty, 5 * S); // kread fails (no bytes counted on the finit path)
  w.sim.run();
  const expected = [
    '         Mods ever loaded\t2',
    '     Mods failed on kread\t1',
    'Mods failed on decompress\t1',
    '  Mods failed on becoming\t4',
    '      Mods failed on load\t2',
    '        Total module size\t40960',
    '      Total mod text size\t24576',
    '       Failed kread bytes\t0',
    '  Failed decompress bytes\t3000',
    '    Failed becoming bytes\t37001',
    '        Failed kmod bytes\t52000',
    ' Virtual mem wasted bytes\t92001',
    '         Average mod size\t20480',
    '    Average mod text size\t12288',
    '  Avg fail becoming bytes\t9251',
    '    Avg fail decomp bytes\t3000',
    '  Average fail load bytes\t26000',
    'Duplicate failed modules:',
    '              Module-name\t How-many-times\t                   Reason',
    '                      kvm\t              1\t                     Load',
    '                kvm_intel\t              3\t                 Becoming',
    '',
  ].join('\n');
  assert.equal(w.k.statsText(), expected);
  assert.equal(w.k.stats.warnings.size, 0);
});

test('stats: the same scenario on v6.2 (no debugfs there) reports what MODULE_STATS would have said', () => {
  const f = makeModuleFile({ name: 'kvm_intel', size: 10000, sections: sec({ text: 5000, data: 1000, initText: 100 }), behaviour: { initSleepNs: 100 * MS } });
  const w = world('v6.2', []);
  [0, 1, 2, 3].forEach((i) => finitAt(w, f, i * MS));
  w.sim.run();
  assert.equal(getPreset('v6.2').flags.moduleStats, false);
  assert.match(w.k.statsText(), / {6}Mods failed on load\t3\n/);
  assert.match(w.k.statsText(), /kvm_intel\t {14}3\t {21}Load\n$/);
  // core-init layout: core 8192 + 4096, init 4096
  assert.match(w.k.statsText(), / {8}Total module size\t16384\n/);
});

test('stats: at most 111 duplicate rows (WARN at the 112th) and the 1024 + min(n,112)·64 buffer', () => {
  const s = new ModuleStats(getPreset('v6.4').constants);
  for (let i = 0; i < 120; i++) {
    s.try_add_failed_module(`m${i}`, i % 2 === 0 ? 'becoming' : 'load');
    s.mod_stat_bump_becoming(100, 0);
  }
  const t = s.text();
  assert.ok(s.warnings.has('max-failed-mod-print'));
  // newest first, 111 rows: m119 … m9
  assert.match(t, /\n {21}m119\t {14}1\t {21}Load\n/);
  const rows = t.split('\n').filter((l) => /^ +m\d+\t/.test(l));
  assert.equal(rows.length, 111);
  assert.match(rows[110]!, /^ +m9\t/);

  // long (55-character) names overflow the 64 bytes per row: scnprintf cuts at size - 1
  const long = new ModuleStats(getPreset('v6.4').constants);
  for (let i = 0; i < 100; i++) {
    long.try_add_failed_module(`${'x'.repeat(52)}${String(i).padStart(3, '0')}`, 'becoming');
    long.mod_stat_bump_becoming(100, 0);
  }
  assert.equal(long.text().length, 1024 + 100 * 64 - 1);

  const few = new ModuleStats(getPreset('v6.4').constants);
  few.try_add_failed_module('a', 'becoming');
  few.try_add_failed_module('a', 'load');
  few.mod_stat_bump_invalid(10, 5);
  assert.match(few.text(), /\n {24}a\t {14}2\t {10}Becoming & Load\n$/);
  assert.match(few.text(), / {8}Failed kmod bytes\t25\n/);
});
