import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeModuleFile } from './testing/fixtures.js';
import { finitAt, requestAt, world, MS, tally } from './helpers.js';

test('smoke: request_module loads a module through the minimal modprobe', () => {
  const f = makeModuleFile({ name: 'test_module' });
  const w = world('v6.1-stable', [f]);
  const p = requestAt(w, 'test_module');
  w.sim.run();
  assert.equal(p.result, 0);
  assert.equal(w.k.moduleState('test_module'), 'live');
  assert.deepEqual(w.k.sysfsModule('test_module'), { dir: true, initstate: 'live' });
});

test('smoke: 4 finit of one file on v6.2 and v6.5', () => {
  for (const [preset, want] of [['v6.2', { '0': 1, '-17': 3 }], ['v6.5', { '0': 4 }]] as const) {
    const f = makeModuleFile({ name: 'm', behaviour: { initSleepNs: 100 * MS } });
    const w = world(preset, [f]);
    const ps = [0, 1, 2, 3].map((i) => finitAt(w, f, i * MS));
    w.sim.run();
    assert.deepEqual(tally(ps.map((p) => p.result)), want, preset);
  }
});
