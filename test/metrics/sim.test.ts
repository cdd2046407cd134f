/**
 * The simulator's log, adapted, loses nothing: what the metrics observe of a storm equals what the
 * kernel model and udevd hold themselves (memory peaks and failures, LIVE modules, the kernel's
 * syscall count), with and without the log kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runStorm } from '../../src/experiments/storm.js';

test('observed figures match the model\'s own state (small module area: allocation failures too)', async () => {
  for (const p of [
    { machine: 'kvm-guest', cpus: 64, kernel: 'v6.1-stable', seed: 1, moduleAreaBytes: 16 * 2 ** 20 },
    { machine: 'kvm-guest', cpus: 32, kernel: 'v6.4', seed: 3 },
    { machine: 'qemu-tcg', cpus: 8, kernel: 'newest', seed: 2, snapshot: 'debian-6.12', kmodVersion: 30 },
  ]) {
    const run = await runStorm(p);
    const f = run.metrics.figures();
    const k = run.system.kernel;
    const mem = k.memory.summary();
    const at = JSON.stringify(p);
    assert.equal(f.peakVmallocBytes, mem.vmalloc.peak, at);
    assert.equal(f.peakModuleAreaBytes, mem.module.peak, at);
    assert.equal(f.allocFailures, mem.vmalloc.failures + mem.module.failures, at);
    assert.deepEqual([...run.metrics.memory.failedModules].sort(), [...k.memory.failedModules].sort(), at);
    assert.equal(run.metrics.memory.area('vmalloc').used, mem.vmalloc.used, at);
    assert.equal(run.metrics.memory.area('module').used, mem.module.used, at);
    assert.deepEqual([...run.metrics.modules.live()].sort(), k.modules().filter((m) => k.moduleState(m.name) === 'live').map((m) => m.name).sort(), at);
    assert.equal(f.wastedBytes, k.stats.virtualMemWasted, at);
    assert.equal(f.uevents, run.coldplug.uevents, at);
    assert.equal(f.settleNs, run.coldplug.settleNs, at);
    assert.equal(run.system.sim.log.records.length, 0, 'a log on only for the metrics keeps nothing');
    // the same run with the log kept (kmodlab trace) observes the same
    const kept = await runStorm(p, { log: true });
    assert.deepEqual(kept.metrics.figures(), f, at);
    assert.ok(kept.system.sim.log.records.length > 0);
  }
});
