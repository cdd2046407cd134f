/**
 * Presets as data: built-in table sanity, one-line errors naming the field, flag overrides.
 * (Reading JSON presets and policy plug-ins from files: test/io/.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getPreset, presetNames, PRESETS, resolvePreset } from '../../src/kernel/index.js';
import { oneLine } from '../one-line.js';
import { makeModuleFile } from './testing/fixtures.js';
import { finitAt, MS, tally, world } from './helpers.js';

test('built-in presets: the names of the issue, each a complete flag set', () => {
  for (const n of ['v4.9', 'v4.13', 'v5.3', 'v5.7', 'v6.1', 'v6.1-stable', 'v6.2', 'v6.4', 'v6.5', 'v6.11', 'newest', 'whatif-kread-dedup', 'whatif-exclusive-deny', 'whatif-merge-same-name']) {
    assert.ok(presetNames().includes(n), n);
  }
  const keys = Object.keys(getPreset('v4.9').flags).sort();
  for (const p of PRESETS) assert.deepEqual(Object.keys(p.flags).sort(), keys, p.name);
  // newest is the newest release preset (v7.1 since the sid 7.2 source was read; before, v6.11)
  assert.deepEqual(getPreset('newest').flags, getPreset('v7.1').flags);
  assert.equal(getPreset('v7.2').name, 'v7.1');
  assert.equal(getPreset('v6.12').name, 'v6.11');
  assert.equal(getPreset('v6.1-stable').flags.sameNameCheck, 'no-retry');
  assert.equal(getPreset('v6.1').flags.sameNameCheck, 'wait-going-retry');
  assert.equal(getPreset('v6.1.176').name, 'v6.1-stable');
});

test('unknown preset names, unknown flags, bad values: one line naming the field', () => {
  oneLine(() => getPreset('v7.0'), /^preset: unknown preset 'v7\.0' \(known: v4\.9, /);
  oneLine(() => resolvePreset('v6.4', { limiter: 'lifo' } as never), /^flags\.limiter: /);
  oneLine(() => resolvePreset('v6.4', { bogus: true } as never), /^flags\.bogus: unknown flag$/);
});

test('flag overrides in code: v6.2 + idempotent finit', () => {
  const f = makeModuleFile({ name: 'm', behaviour: { initSleepNs: 50 * MS } });
  const w = world('v6.2', [f], { flags: { idempotentFinit: 'interruptible' } });
  const ps = [0, 1, 2].map((i) => finitAt(w, f, i * MS));
  w.sim.run();
  assert.deepEqual(tally(ps.map((p) => p.result)), { '0': 3 });
});
