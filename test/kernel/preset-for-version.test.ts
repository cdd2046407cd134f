/**
 * DOC: which preset a built tree's version selects (kernel prepare --from-build): the measured
 * stable sublevels of the alias table, then the series, then the newest era preset below it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseKernelVersion, presetForVersion } from '../../src/kernel/preset-for-version.js';
import { PRESETS } from '../../src/kernel/presets.js';

const pick = (v: string) => presetForVersion(v).preset;

test('versions parse from a Makefile triple, a release or a preset name', () => {
  assert.deepEqual(parseKernelVersion('6.1.176'), { major: 6, minor: 1, sublevel: 176 });
  assert.deepEqual(parseKernelVersion('6.8.0-rc1+'), { major: 6, minor: 8, sublevel: 0 });
  assert.deepEqual(parseKernelVersion('v5.10'), { major: 5, minor: 10, sublevel: 0 });
  assert.equal(parseKernelVersion('next-20240101'), null);
});

test('a measured stable sublevel and every later one of its series take the measured preset', () => {
  // Debian's 6.1.176 (linux-source-6.1) carries K12: v6.1-stable, and so does every later 6.1.y
  assert.deepEqual(presetForVersion('6.1.176'), { preset: 'v6.1-stable', reason: 'alias v6.1.176 → v6.1-stable, and 6.1.176 is not older' });
  assert.equal(pick('6.1.180'), 'v6.1-stable');
  // below the measured sublevel the backport is not known to be there: v6.1.0's preset
  assert.deepEqual(presetForVersion('6.1.100'), { preset: 'v6.1', reason: 'alias v6.1.0 → v6.1, and 6.1.100 is not older' });
  assert.deepEqual(presetForVersion('6.4.16'), { preset: 'v6.4', reason: 'series v6.4' });
  assert.equal(pick('5.10.223'), 'v5.10-stable');
  assert.equal(pick('5.10.230'), 'v5.10-stable');
});

test('a series without a preset of its own takes its alias or the newest era preset below it', () => {
  assert.equal(pick('6.6.30'), 'v6.5'); // alias v6.6 → v6.5
  assert.equal(pick('6.3.0'), 'v6.2');
  assert.deepEqual(presetForVersion('5.10.100'), { preset: 'v5.7', reason: 'era preset v5.7 (the newest not above v5.10)' });
  assert.equal(pick('6.8.12'), 'v6.5');
  assert.equal(pick('6.12.117'), 'v6.11'); // as debian-6.12 is modelled
  assert.equal(pick('7.2.13'), 'v7.1'); // alias v7.2 → v7.1 (init's -EEXIST as -EBUSY), as debian-sid is modelled
  assert.equal(pick('4.19.0'), 'v4.13');
});

test('every era preset selects itself', () => {
  for (const p of PRESETS.filter((x) => /^v\d+\.\d+$/.test(x.name))) assert.equal(pick(`${p.name.slice(1)}.0`), p.name, p.name);
});

test('no model below the oldest preset, and a version that is not one', () => {
  assert.throws(() => presetForVersion('4.4.302'), /^InputError: kernel 4\.4\.302: older than every preset \(oldest v4\.9\); choose one with --preset$/);
  assert.throws(() => presetForVersion('banana'), /kernel version "banana": not of the form X\.Y\[\.Z\]/);
});
