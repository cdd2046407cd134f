/**
 * The module-set slices (src/system/module-slice.ts): each shipped one is what the snapshot gives
 * now, a sliced index answers every name as the full index does (reading the full one only for a
 * name outside the slice), and a machine built on a slice loads the same modules as one built on
 * the whole snapshot; a storm on every shipped machine profile runs on the slice alone and prints
 * what it prints on the full index (KMODLAB_FULL_INDEX=1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sliceNames, sliceText } from '../../scripts/snapshot/module-slice.js';
import { runStorm } from '../../src/experiments/storm.js';
import { createSystem, modulePath, TEST_MODULES, type System } from '../../src/system/index.js';
import { loadModuleSlice, sliceFile, SlicedKmodIndex } from '../../src/system/module-slice.js';
import { KmodIndex } from '../../src/userspace/libkmod.js';
import { loadSnapshot, SNAPSHOT_NAMES } from '../../src/userspace/depmod/snapshot.js';
import { listMachineNames } from '../../src/userspace/machines/load.js';
import { runCli } from '../cli/run-cli.js';

for (const name of SNAPSHOT_NAMES) {
  test(`the shipped slice of ${name} is up to date (node dist/scripts/snapshot/module-slice.js writes it)`, () => {
    assert.equal(fs.readFileSync(sliceFile(name), 'utf8'), sliceText(name));
    assert.notEqual(loadModuleSlice(name), null, 'it matches the snapshot bytes');
  });
}

function answers(ix: KmodIndex, n: string): unknown {
  return { dep: ix.dep(n), alias: [...ix.alias(n)], builtinAlias: [...ix.builtinAlias(n)], builtin: ix.isBuiltin(n), symbol: ix.symbol(n), fs: ix.filesystemsOf(n) };
}

test('a sliced index answers as the full index: its own names from the slice, any other after reading the full index once', () => {
  const slice = loadModuleSlice('debian-6.1')!;
  const opts = { extra: TEST_MODULES };
  const full = KmodIndex.forSet(loadSnapshot('debian-6.1'), opts);
  const told: KmodIndex[] = [];
  const sliced = new SlicedKmodIndex(slice, opts, (f) => told.push(f));
  for (const n of Object.keys(slice.names)) assert.deepEqual(answers(sliced, n), answers(full, n), n);
  assert.equal(told.length, 0, 'the slice answered its names alone');
  assert.ok(Object.keys(slice.names).includes('fs_xfs') && slice.names.crc32c!.alias.length === 2, 'fs-xfs and libcrc32c\'s softdep crc32c are in it');
  for (const n of ['btrfs', 'fs_btrfs', 'symbol:crc32c', 'pci:v00008086d00001234sv*', 'nope']) assert.deepEqual(answers(sliced, n), answers(full, n), n);
  assert.deepEqual(told, [full], 'read once, the shared full index');
  assert.equal([...sliced.allModules()].length, [...full.allModules()].length);
});

function modprobe(s: System, args: string[]): { exitCode: number; stderr: string } {
  const p = s.modprobe(args);
  s.sim.runUntil(() => p.done);
  return p.result!;
}

test('a machine on the slice loads what one on the whole snapshot loads, modules outside the slice included', () => {
  const runs = [true, false].map((moduleSlice) => {
    const s = createSystem({ machine: 'qemu-tcg', kernel: 'v6.1-stable', moduleSlice });
    const r = [['xfs'], ['test_kmod'], ['btrfs'], ['fs-vfat'], ['-r', 'btrfs'], ['nope']].map((a) => modprobe(s, a));
    // every file at the inode the whole tree gives it (the trace and idempotent finit show them)
    const inodes = ['xfs', 'libcrc32c', 'btrfs', 'vfat', 'test_kmod', 'test_module'].map((n) => s.fs.inodeOf(modulePath(s, s.index.dep(n)!.path)));
    return { r, modules: s.kernel.procModules(true), now: s.sim.now, size: s.moduleSet.modules.size, inodes, kmod: s.fs.inodeOf('/bin/kmod') };
  });
  assert.deepEqual(runs[0], runs[1]);
  assert.match(runs[0]!.modules, /^btrfs |^vfat /m, 'a module outside the slice was loaded from its file');
});

test('the slice names every shipped machine\'s coldplug modaliases and the udev rules\' by-name loads', () => {
  const names = sliceNames();
  assert.ok(names.includes('acpi:ACPI0007:') && names.includes('sg'), 'an ACPI processor modalias and Debian\'s `kmod load sg`');
  assert.ok(names.some((n) => n.startsWith('cpu:type:x86')) && names.some((n) => n.startsWith('pci:')));
});

test('a storm on each shipped machine and snapshot never reads the full index', async () => {
  for (const machine of listMachineNames()) {
    for (const snapshot of [undefined, 'debian-6.12']) {
      const run = await runStorm({ machine, cpus: 4, kernel: 'v6.1-stable', seed: 1, ...(snapshot !== undefined ? { snapshot } : {}) });
      const index = run.system.index;
      assert.ok(index instanceof SlicedKmodIndex && !index.readFull, `${machine} ${snapshot ?? ''}`);
    }
  }
});

test('a storm prints the same bytes on the slice as on the full index (KMODLAB_FULL_INDEX=1), and so does its trace', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kmodlab-slice-'));
  try {
    for (const machine of listMachineNames()) {
      const args = ['storm', '--machine', machine, '--cpus', '8,64', '--kernel', 'v6.1-stable,v6.4,newest', '--format', 'json', '--inline', '--no-progress'];
      const [sliced, full] = await Promise.all(['0', '1'].map((f) => runCli(args, { env: { KMODLAB_FULL_INDEX: f } })));
      assert.equal(sliced!.status, 0, sliced!.stderr);
      assert.match(sliced!.stdout, /"moduleSet": "snapshot debian-6\.1 \(6\.1\.0-\d+-amd64, 4023 modules\)"/);
      assert.equal(sliced!.stdout, full!.stdout, machine);
      // the trace names each finit_module's inode
      const traces = await Promise.all(['0', '1'].map(async (f) => {
        const out = path.join(dir, `${machine}-${f}.json`);
        const r = await runCli(['trace', '--machine', machine, '--cpus', '16', '--kernel', 'v6.5', '--out', out], { env: { KMODLAB_FULL_INDEX: f } });
        assert.equal(r.status, 0, r.stderr);
        return fs.readFileSync(out, 'utf8');
      }));
      assert.match(traces[0]!, /"inode":\d+/);
      assert.ok(traces[0] === traces[1], `${machine}: the traces differ`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
