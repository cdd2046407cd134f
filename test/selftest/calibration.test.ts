/**
 * DOC: the real Debian 6.1 run (calibration/debian-6.1.md) reproduced on the `v6.1-stable`
 * preset, qemu-tcg machine at 2 CPUs, test_kmod/test_module out of tree and unsigned as in the
 * real guest: the same per-test outcomes and return values, the default run stopping at 0012
 * with `'(OE)' vs '(OE)'` after 336 iterations (0013 passes on its own), and 0012 passing once
 * test_module is built in tree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSelftest } from '../../src/selftest/index.js';
import { CALIBRATION_DEBIAN_61 } from './expected.js';
import { createSimTarget } from '../../src/targets/sim.js';

const quiet = { line: () => {} };

test('v6.1-stable reproduces the real Debian 6.1 outcomes and return values, test by test', async () => {
  const target = createSimTarget({ kernel: 'v6.1-stable', machine: 'qemu-tcg', cpus: 2, testModules: 'out-of-tree' });
  const lines: string[] = [];
  const r = await runSelftest({ target, args: [], era: 'v5.8', keepGoing: true, reporter: { line: (_s, l) => lines.push(l) } });
  for (const row of CALIBRATION_DEBIAN_61) {
    const got = r.tests.find((x) => x.id === row.id)!;
    assert.equal(got.status, row.status, `test ${row.id}`);
    if (row.status === 'pass') {
      // every run of the test printed the calibration's values (0001/0002: driver then fs)
      for (const run of got.runs) {
        assert.deepEqual(run.steps.filter((s) => s.expected !== 'visibility').map((s) => s.value), row.values, `test ${row.id} run ${run.run}`);
      }
    } else {
      assert.equal(got.runs.at(-1)!.failure, row.failure);
    }
  }
  assert.ok(lines.includes("kmod_check_visibility: FAIL, /proc/modules visible to unpriv: '(OE)' vs '(OE)'"));
  await target.close();
});

test('the default run stops at 0012 like the real one: exit 1 after 336 iterations', async () => {
  const target = createSimTarget({ kernel: 'v6.1-stable', cpus: 2 });
  const r = await runSelftest({ target, args: [], reporter: quiet });
  const stopped = r.tests.find((x) => x.status === 'fail')?.id;
  assert.equal(r.exitCode, 1);
  assert.equal(stopped, '0012');
  assert.equal(r.iterations, 336);
  assert.equal(r.tests.find((x) => x.id === '0013')!.status, 'not-run');
});

test('why 0012 fails: the last field of /proc/modules is the taint "(OE)"; in tree it is the address', async () => {
  const oot = createSimTarget({ kernel: 'v6.1-stable' });
  await oot.modprobe(['test_module']);
  const line = (await oot.readFile('/proc/modules')).split('\n').find((l) => l.startsWith('test_module '))!;
  assert.match(line, /^test_module \d+ 0 - Live 0x[0-9a-f]{16} \(OE\)$/);
  assert.doesNotMatch(line, / 0x0{16} /);
  const unpriv = (await oot.readFile('/proc/modules', { dropCapSyslog: true })).split('\n').find((l) => l.startsWith('test_module '))!;
  assert.match(unpriv, / 0x0{16} \(OE\)$/);
  // 0013 reads the section address and passes, out of tree or not
  const r13 = await runSelftest({ target: createSimTarget({ kernel: 'v6.1-stable' }), args: ['-t', '0013'], reporter: quiet });
  assert.equal(r13.exitCode, 0);
  const inTree = await runSelftest({ target: createSimTarget({ kernel: 'v6.1-stable', testModules: 'in-tree' }), args: ['-t', '0012'], reporter: quiet });
  assert.equal(inTree.exitCode, 0);
});
