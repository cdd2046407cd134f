/**
 * Issue 17 item 2: the module memory layout against the real kernel. The figures are measured on
 * Debian 6.1.0-50-amd64 (data/calibration/module-layout-debian-6.1.json, from
 * scripts/kernel/module-layout.js: module_alloc sizes of each load through a kprobe, and each .ko
 * as src/userspace/depmod reads it). A rejected duplicate before v6.4 holds the file copy, the
 * core and the init area, each page-rounded with its guard page; the model must give the same
 * bytes within ±2% — from the .ko's own symbol table, and from a snapshot's, which keeps only the
 * table's size (the estimate).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { moduleLayout, pageAlign, PAGE_SIZE } from '../../src/kernel/memory.js';
import type { SectionSizes } from '../../src/kernel/api.js';
import { loadSnapshot } from '../../src/userspace/depmod/snapshot.js';
import { dataPath } from '../../src/userspace/depmod/paths.js';
import { createSystem } from '../../src/system/index.js';

interface Measured {
  module: string;
  fileSize: number;
  /** module_alloc sizes in call order: the load's core, then its init */
  moduleAlloc: number[];
  coresize: number | null;
  elf: { sections: SectionSizes };
}
const cal = JSON.parse(readFileSync(dataPath('calibration', 'module-layout-debian-6.1.json'), 'utf8')) as { release: string; modules: Measured[] };

const regions = (s: SectionSizes): { core: number; init: number } => {
  const l = moduleLayout(s, 'core-init');
  return { core: l.regions.find((r) => r.kind === 'core')?.size ?? 0, init: l.regions.find((r) => r.kind === 'init')?.size ?? 0 };
};
/** what a duplicate rejected in add_unformed_module held: kread copy + core + init, guards included */
const perDuplicate = (file: number, core: number, init: number): number => pageAlign(file) + PAGE_SIZE + core + PAGE_SIZE + init + PAGE_SIZE;
const within = (got: number, want: number, tol: number, what: string): void =>
  assert.ok(Math.abs(got / want - 1) <= tol, `${what}: ${got} vs real ${want} (${((got / want - 1) * 100).toFixed(2)}%)`);

test('the calibration covers xfs, kvm, kvm_intel and small modules, measured on 6.1', () => {
  assert.equal(cal.release, '6.1.0-50-amd64');
  const names = cal.modules.map((m) => m.module);
  for (const n of ['xfs', 'kvm', 'kvm_intel', 'libcrc32c', 'dummy', 'nls_utf8']) assert.ok(names.includes(n), n);
  // where the module loaded, sysfs's coresize is the first module_alloc of its load
  for (const m of cal.modules) if (m.coresize !== null) assert.equal(m.coresize, m.moduleAlloc[0], m.module);
});

test('layout from the .ko: core and init are the real module_alloc sizes, page for page', () => {
  for (const m of cal.modules) {
    const { core, init } = regions(m.elf.sections);
    assert.equal(core, m.moduleAlloc[0], `${m.module} core`);
    assert.equal(init, m.moduleAlloc[1], `${m.module} init`);
    within(perDuplicate(m.fileSize, core, init), perDuplicate(m.fileSize, m.moduleAlloc[0]!, m.moduleAlloc[1]!), 0.02, `${m.module} per duplicate`);
  }
});

test('xfs: kallsyms\' core copy is the 436 KiB the old layout left out', () => {
  const xfs = cal.modules.find((m) => m.module === 'xfs')!;
  const { core } = regions(xfs.elf.sections);
  const without = regions({ ...xfs.elf.sections, symtab: 0 }).core;
  assert.equal(core - without, 436 * 1024);
});

test('layout from a snapshot (symbol table size only): per-duplicate bytes within ±2%', () => {
  for (const m of cal.modules) {
    const { coreSymtab: _c, symbols: _s, ...snapshotSections } = m.elf.sections;
    const { core, init } = regions(snapshotSections);
    within(perDuplicate(m.fileSize, core, init), perDuplicate(m.fileSize, m.moduleAlloc[0]!, m.moduleAlloc[1]!), 0.02, `${m.module} (estimated)`);
  }
});

test('the shipped debian-6.1 snapshot: xfs, kvm, kvm_intel per duplicate within ±2% of the measured 6.1', () => {
  const set = loadSnapshot('debian-6.1');
  for (const name of ['xfs', 'kvm', 'kvm_intel']) {
    const m = cal.modules.find((x) => x.module === name)!;
    const info = set.modules.get(name)!;
    const { core, init } = regions(info.sections!);
    within(perDuplicate(info.fileSize, core, init), perDuplicate(m.fileSize, m.moduleAlloc[0]!, m.moduleAlloc[1]!), 0.02, `${name} (snapshot ${set.release})`);
  }
});

test('the kernel allocates what the layout says: xfs loaded on v6.1-stable holds core (+ init) with guards in the module area', () => {
  const sys = createSystem({ machine: 'qemu-tcg', kernel: 'v6.1-stable', seed: 1 });
  const p = sys.modprobe(['xfs']);
  sys.sim.runUntil(() => p.done);
  const want = regions(sys.moduleSet.modules.get('xfs')!.sections!);
  const live = [...sys.kernel.memory.live.values()].filter((a) => a.module === 'xfs' && a.area === 'module');
  assert.deepEqual(live.find((a) => a.kind === 'core')?.size, want.core + PAGE_SIZE, 'core + guard');
  // the init area, while it is still there (it is freed after init returns), is the layout's too
  for (const a of live.filter((x) => x.kind !== 'core')) assert.deepEqual([a.kind, a.size], ['init', want.init + PAGE_SIZE]);
  const line = sys.kernel.procModules(true).split('\n').find((l) => l.startsWith('xfs '))!;
  assert.equal(Number(line.split(' ')[1]), want.core, '/proc/modules size column');
});

test('v6.4+ layout (one allocation per module_memory type): Debian 6.12 coresize, from the .ko', () => {
  const trixie = JSON.parse(readFileSync(dataPath('calibration', 'module-layout-debian-trixie.json'), 'utf8')) as { release: string; modules: Measured[] };
  assert.match(trixie.release, /^6\.12\./);
  const measured = trixie.modules.filter((m) => m.coresize !== null);
  assert.ok(measured.length >= 7 && measured.some((m) => m.module === 'xfs') && measured.some((m) => m.module === 'kvm'));
  for (const m of measured) assert.equal(moduleLayout(m.elf.sections, 'module-memory').coreSize, m.coresize, m.module);
});
