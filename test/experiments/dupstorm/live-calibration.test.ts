/**
 * DOC: the "already LIVE" storm of each real kernel's sim model (its `sim` entry in
 * src/targets/qemu/kernels.ts, the side `storm --target qemu:NAME --state live --compare` runs)
 * against the outcomes measured on that kernel under QEMU at 8 vCPUs (2026-12-03; the tables
 * are in data/calibration/debian-*-storm.md, section "Already LIVE"). xfs is loaded and LIVE
 * before the N calls, so every direct call is a duplicate of a finished load; the kernels differ
 * only in what MODULE_INIT_COMPRESSED_FILE does (unknown flag before v5.17, no
 * CONFIG_MODULE_DECOMPRESS in Debian's 6.1, decompressed in-kernel on trixie and sid).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSimDupStorm, simMachineOf } from '../../../src/experiments/dupstorm/sim.js';
import { kernelSpec } from '../../../src/targets/qemu/kernels.js';
import type { DupStormMode } from '../../../src/results/dupstorm.js';

/** the real kernel's answer, per load path, to every one of N calls on a LIVE xfs */
const MEASURED: Record<string, Record<DupStormMode, string>> = {
  'debian-5.10': { finit: 'EEXIST', 'finit-compressed': 'EINVAL', init: 'EEXIST', modprobe: 'exit 0' },
  'debian-6.1': { finit: 'EEXIST', 'finit-compressed': 'EOPNOTSUPP', init: 'EEXIST', modprobe: 'exit 0' },
  'debian-trixie': { finit: 'EEXIST', 'finit-compressed': 'EEXIST', init: 'EEXIST', modprobe: 'exit 0' },
  'debian-sid': { finit: 'EEXIST', 'finit-compressed': 'EEXIST', init: 'EEXIST', modprobe: 'exit 0' },
};

for (const [name, want] of Object.entries(MEASURED)) {
  test(`${name}: its sim model answers a storm on a LIVE xfs as the real kernel did`, () => {
    const modes = Object.keys(want) as DupStormMode[];
    const r = runSimDupStorm(simMachineOf(kernelSpec(name).sim, 8), { parallel: [2, 8], modules: ['xfs'], modes, states: ['live'] });
    assert.equal(r.rows.length, modes.length * 2);
    for (const row of r.rows) assert.deepEqual(row.counts, { [want[row.mode]]: row.n }, `${name} ${row.mode} N=${row.n}`);
  });
}

test('a LIVE xfs: modprobe makes no kernel call; init_module holds one image per call; idempotent finit reads the file once', () => {
  const live = (name: string, mode: DupStormMode, n: number) => {
    const row = runSimDupStorm(simMachineOf(kernelSpec(name).sim, 8), { parallel: [n], modules: ['xfs'], modes: [mode], states: ['live'] }).rows[0]!;
    return row.peakVmallocKiB - row.baselineVmallocKiB;
  };
  // measured: +16..+144 KiB (process noise) for modprobe on every kernel
  for (const name of Object.keys(MEASURED)) assert.equal(live(name, 'modprobe', 8), 0, name);
  // measured on trixie: init +11.0 MiB at N = 2, +43.9 MiB at N = 8; finit +5.5 MiB at both
  assert.ok(live('debian-trixie', 'init', 8) > 3 * live('debian-trixie', 'init', 2));
  assert.equal(live('debian-trixie', 'finit', 8), live('debian-trixie', 'finit', 2));
});
