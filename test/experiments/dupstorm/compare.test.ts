/**
 * DOC: the storm side of --compare (src/experiments/dupstorm/compare.ts): which real-vs-sim storm
 * differences count as explained (modprobe of a failing module, where the real processes
 * arrive spread out and a late one re-runs the failing init) and which are findings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareStorms, explainStorm, MODPROBE_TIMING_NOTE } from '../../../src/experiments/dupstorm/compare.js';
import type { DupStormRow } from '../../../src/results/dupstorm.js';

const row = (module: string, mode: DupStormRow['mode'], n: number, counts: Record<string, number>): DupStormRow => ({
  module, mode, n, counts, baselineVmallocKiB: 0, peakVmallocKiB: 0, spanUs: 0, calls: [],
});

test('modprobe of a failing module: more first-loader failures on the real side is explained', () => {
  assert.equal(explainStorm(['kml_fail', 'modprobe', '4'], 'outcomes', 'exit 1 EBUSY ×2, exit 1 ENODEV ×2', 'exit 1 EBUSY ×3, exit 1 ENODEV ×1'), MODPROBE_TIMING_NOTE);
});

test('the reverse, other paths, other outcomes or other totals are findings', () => {
  assert.equal(explainStorm(['kml_fail', 'modprobe', '4'], 'outcomes', 'exit 1 EBUSY ×3, exit 1 ENODEV ×1', 'exit 1 EBUSY ×2, exit 1 ENODEV ×2'), null);
  assert.equal(explainStorm(['kml_fail', 'finit', '4'], 'outcomes', 'EBUSY ×2, ENODEV ×2', 'EBUSY ×3, ENODEV ×1'), null);
  assert.equal(explainStorm(['kml_fail', 'modprobe', '4'], 'outcomes', 'exit 1 ENOMEM ×4', 'exit 1 EBUSY ×3, exit 1 ENODEV ×1'), null);
  assert.equal(explainStorm(['kml_fail', 'modprobe', '4'], 'outcomes', 'exit 1 ENODEV ×3', 'exit 1 EBUSY ×3, exit 1 ENODEV ×1'), null);
});

test('compareStorms marks every difference and counts the findings', () => {
  const real = [row('kml_slow', 'finit', 2, { '0': 1, EEXIST: 1 }), row('kml_fail', 'modprobe', 4, { 'exit 1 ENODEV': 2, 'exit 1 EBUSY': 2 }), row('xfs', 'finit-compressed', 1, { EOPNOTSUPP: 1 })];
  const sim = [row('kml_slow', 'finit', 2, { '0': 1, EEXIST: 1 }), row('kml_fail', 'modprobe', 4, { 'exit 1 ENODEV': 1, 'exit 1 EBUSY': 3 }), row('xfs', 'finit-compressed', 1, { EINVAL: 1 })];
  const c = compareStorms({ label: 'real', rows: real }, { label: 'sim', rows: sim });
  assert.equal(c.differences.length, 2);
  assert.equal(c.unexplained, 1);
  assert.match(c.text, /\| xfs .*EOPNOTSUPP ×1 .*EINVAL ×1 .*≠ outcomes/);
  assert.match(c.text, /\| kml_fail .*~ outcomes \[1\]/);
});
