/**
 * Issue 17 item 3 ("must show"): the coldplug storm on a developer kernel's module set. With the
 * unstripped modules of debian-6.1-dbg every duplicate holds a copy many times larger, so the
 * same boot wastes several times what it wastes with Debian's stripped modules — the order of the
 * upstream figures — while the idempotent finit_module of newer kernels still wastes nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPoint } from '../../src/experiments/storm.js';

const point = (snapshot: string, kernel: string) => ({ machine: 'kvm-guest', cpus: 8, kernel, seed: 1, snapshot });

test('kvm-guest, 8 CPUs: the -dbg set wastes several times the stripped set before v6.5, nothing after', async () => {
  for (const kernel of ['v6.1-stable', 'v6.4']) {
    const [stripped, dbg] = await Promise.all([runPoint(point('debian-6.1', kernel)), runPoint(point('debian-6.1-dbg', kernel))]);
    assert.equal(dbg.modulesLoaded, stripped.modulesLoaded, `${kernel}: the same modules load`);
    assert.ok(dbg.wastedBytes > 4 * stripped.wastedBytes, `${kernel}: ${dbg.wastedBytes} vs ${stripped.wastedBytes}`);
    assert.ok((dbg.failedAttemptBytes ?? 0) > 4 * (stripped.failedAttemptBytes ?? Infinity), `${kernel}: ${dbg.failedAttemptBytes} vs ${stripped.failedAttemptBytes}`);
  }
  const newest = await runPoint(point('debian-6.1-dbg', 'newest'));
  assert.equal(newest.wastedBytes, 0);
});
