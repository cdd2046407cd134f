/**
 * DOC: the sim's duplicate-load storms (src/experiments/dupstorm/sim.ts) per kernel preset — the
 * predictions `kmodlab storm --target qemu:NAME --compare` checks against real kernels.
 *
 *   v6.1-stable (the v6.2 same-name check, no idempotent finit): a module still in its init →
 *     1 × 0 + (N−1) × EEXIST; a failing one → 1 × ENODEV + (N−1) × EBUSY; every path alike
 *   newest (idempotent finit_module keyed by inode): all N get the first caller's value via
 *     finit, plain or with the compressed-file flag; init_module is not deduplicated
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runDupStorm } from '../../../src/experiments/dupstorm/run.js';
import { outcomeName, runSimDupStorm, runSimStorm, simDupStormTarget, simMachineOf } from '../../../src/experiments/dupstorm/sim.js';
import { kernelSpec } from '../../../src/targets/qemu/kernels.js';
import { PAGE_SIZE, pageAlign } from '../../../src/kernel/index.js';
import { loadSnapshot } from '../../../src/userspace/depmod/snapshot.js';

const NS = [1, 2, 4];

function dupCounts(first: string, dup: string, n: number): Record<string, number> {
  return n === 1 ? { [first]: 1 } : { [first]: 1, [dup]: n - 1 };
}

test('outcome names are the guest’s', () => {
  assert.equal(outcomeName(0), '0');
  assert.equal(outcomeName(-17), 'EEXIST');
  assert.equal(outcomeName(-16), 'EBUSY');
  assert.equal(outcomeName(-19), 'ENODEV');
});

for (const mode of ['finit', 'init'] as const) {
  test(`v6.1-stable, ${mode}: slow module 1×0 + (N−1)×EEXIST; failing 1×ENODEV + (N−1)×EBUSY`, () => {
    for (const n of NS) {
      assert.deepEqual(runSimStorm({ kernel: 'v6.1-stable' }, {}, 'kml_slow', mode, n).counts, dupCounts('0', 'EEXIST', n), `kml_slow N=${n}`);
      assert.deepEqual(runSimStorm({ kernel: 'v6.1-stable' }, {}, 'kml_fail', mode, n).counts, dupCounts('ENODEV', 'EBUSY', n), `kml_fail N=${n}`);
    }
  });
}

test('v6.1-stable, modprobe: EEXIST becomes exit 0; the failing module’s errno is in the message', () => {
  const r = runSimDupStorm({ kernel: 'v6.1-stable' }, { parallel: [4], modules: ['kml_slow', 'kml_fail'], modes: ['modprobe'] });
  assert.deepEqual(r.rows[0]!.counts, { 'exit 0': 4 });
  assert.deepEqual(r.rows[1]!.counts, { 'exit 1 ENODEV': 1, 'exit 1 EBUSY': 3 });
});

for (const mode of ['finit', 'finit-compressed'] as const) {
  test(`newest, ${mode}: all N get the first caller's value`, () => {
    for (const n of NS) {
      assert.deepEqual(runSimStorm({ kernel: 'newest' }, {}, 'kml_slow', mode, n).counts, { '0': n });
      assert.deepEqual(runSimStorm({ kernel: 'newest' }, {}, 'kml_fail', mode, n).counts, { ENODEV: n });
    }
  });
}

test('newest, init_module: not deduplicated (no inode), falls to the same-name check', () => {
  for (const n of NS) {
    assert.deepEqual(runSimStorm({ kernel: 'newest' }, {}, 'kml_slow', 'init', n).counts, dupCounts('0', 'EEXIST', n));
    assert.deepEqual(runSimStorm({ kernel: 'newest' }, {}, 'kml_fail', 'init', n).counts, dupCounts('ENODEV', 'EBUSY', n));
  }
});

test('xfs: every duplicate allocates on v6.1-stable, none does with idempotent finit', () => {
  const peak = (kernel: string, n: number) => {
    const r = runSimStorm({ kernel }, {}, 'xfs', 'finit', n);
    return r.peakVmallocKiB - r.baselineVmallocKiB;
  };
  const old1 = peak('v6.1-stable', 1);
  const old4 = peak('v6.1-stable', 4);
  assert.ok(old1 > 4000, `xfs N=1 peak ${old1} KiB`);
  assert.ok(old4 > 3.5 * old1, `v6.1-stable N=4 peak ${old4} vs N=1 ${old1}`);
  assert.equal(peak('newest', 4), peak('newest', 1));
});

test('the debian-6.12 model: kmod 30 modprobe of a .ko.xz takes init_module, so it is not deduplicated', () => {
  const m = kernelSpec('debian-6.12').sim;
  const r = runSimDupStorm(simMachineOf(m, 2), { parallel: [4], modules: ['kml_fail'], modes: ['finit', 'modprobe'] });
  assert.deepEqual(r.rows[0]!.counts, { ENODEV: 4 });
  assert.deepEqual(r.rows[1]!.counts, { 'exit 1 ENODEV': 1, 'exit 1 EBUSY': 3 });
});

test('the debian-trixie model: a compressed load\'s VmallocUsed holds the kread buffer and the 1 MiB xz dictionary, not the vmap()ed image', () => {
  const m = kernelSpec('debian-trixie').sim;
  const machine = { kernel: m.preset, snapshot: m.snapshot, moduleCompression: m.moduleCompression, kmodVersion: m.kmodVersion };
  const rise = (module: string, mode: 'finit' | 'finit-compressed') => {
    const r = runSimStorm(machine, {}, module, mode, 1);
    return (r.peakVmallocKiB - r.baselineVmallocKiB) * 1024;
  };
  const plain = rise('xfs', 'finit');
  const xz = rise('xfs', 'finit-compressed');
  // the plain load's peak holds its whole image (the kread buffer of the .ko): the compressed
  // one would too if the vmap()ed pages were counted
  assert.ok(xz < plain - 3 * 2 ** 20, `compressed ${xz} B vs plain ${plain} B`);
  // xfs's module memory outweighs the dictionary; a small module's peak is the dictionary and
  // the compressed file's buffer, held together while decompressing (page-rounded, guard pages)
  const F = loadSnapshot(m.snapshot).modules.get('xfs')!.fileSize;
  assert.ok(xz >= pageAlign(F) + PAGE_SIZE + 2 ** 20 + PAGE_SIZE, `compressed ${xz} B, file ${F} B`);
  const small = rise('kml_slow', 'finit-compressed');
  assert.ok(small >= 2 ** 20 + 2 * PAGE_SIZE && small < 2 ** 20 + 512 * 1024, `kml_slow compressed ${small} B`);
});

test('deterministic: the same plan and seed give the same rows', () => {
  const m = { kernel: 'v6.1-stable', seed: 7 };
  const p = { parallel: [2, 4], modules: ['kml_slow'], modes: ['modprobe' as const] };
  assert.deepEqual(runSimDupStorm(m, p), runSimDupStorm(m, p));
});

test('the debian-6.1 model: MODULE_INIT_COMPRESSED_FILE without CONFIG_MODULE_DECOMPRESS is EOPNOTSUPP, as on the real kernel', () => {
  const m = kernelSpec('debian-6.1').sim;
  const r = runSimStorm({ kernel: m.preset, snapshot: m.snapshot, moduleCompression: m.moduleCompression }, {}, 'kml_slow', 'finit-compressed', 2);
  assert.deepEqual(r.counts, { EOPNOTSUPP: 2 });
});

test('runDupStorm on the sim target gives runSimDupStorm’s result', async () => {
  const m = { kernel: 'v6.1-stable' };
  const p = { parallel: [1, 2], modules: ['kml_fail'], modes: ['init' as const] };
  assert.deepEqual(await runDupStorm(p, simDupStormTarget(m)), runSimDupStorm(m, p));
  await assert.rejects(runDupStorm({ ...p, modules: ['ext4'] }, simDupStormTarget(m)), /storm module ext4: unknown/);
});

test('a LIVE module (--state live): every direct call is a duplicate of a finished load — N × EEXIST; modprobe sees it LIVE and makes no call', () => {
  for (const kernel of ['v6.1-stable', 'newest']) {
    const r = runSimDupStorm({ kernel }, { parallel: [1, 4], modules: ['kml_slow', 'kml_fail'], modes: ['finit', 'init', 'modprobe'], states: ['live'] });
    // kml_fail's init fails: it is never LIVE, so it has no live storm
    assert.deepEqual(r.rows.map((x) => `${x.module} ${x.mode} ${x.n} ${x.state}`), ['finit 1', 'finit 4', 'init 1', 'init 4', 'modprobe 1', 'modprobe 4'].map((s) => `kml_slow ${s} live`));
    for (const row of r.rows) {
      assert.deepEqual(row.counts, row.mode === 'modprobe' ? { 'exit 0': row.n } : { EEXIST: row.n }, `${kernel} ${row.mode} N=${row.n}`);
      // the module's own memory is in the baseline; no init runs, so no call waits a second
      assert.ok(row.baselineVmallocKiB > 0 && row.spanUs < 500_000, `${kernel} ${row.mode}: baseline ${row.baselineVmallocKiB} KiB, ${row.spanUs} µs`);
      if (row.mode === 'modprobe') assert.equal(row.peakVmallocKiB, row.baselineVmallocKiB);
    }
  }
});
