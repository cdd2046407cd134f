/**
 * DOC: the duplicate-load storm's plan from option text (src/experiments/dupstorm/plan.ts): the N
 * list, and the module and load-path lists checked under the flag names the user typed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseParallel, parsePlan } from '../../../src/experiments/dupstorm/plan.js';

test('--parallel lists', () => {
  assert.deepEqual(parseParallel('1,2, 4'), [1, 2, 4]);
  for (const bad of ['', '0', '1,x', '2000', '-1']) assert.throws(() => parseParallel(bad), /--parallel/);
});

test('plans: a list left out is all of it; an unknown name is an error naming the flag', () => {
  assert.deepEqual(parsePlan({ parallel: '2' }), { parallel: [2], modules: ['xfs', 'kml_slow', 'kml_fail'], modes: ['finit', 'finit-compressed', 'init', 'modprobe'] });
  assert.deepEqual(parsePlan({ parallel: '1,4', modules: 'kml_fail', modes: 'modprobe,finit' }), { parallel: [1, 4], modules: ['kml_fail'], modes: ['modprobe', 'finit'] });
  assert.throws(() => parsePlan({ parallel: '1', modules: 'ext4' }), /--module ext4: unknown ext4 \(want xfs, kml_slow, kml_fail\)/);
  assert.throws(() => parsePlan({ parallel: '1', modes: 'finit,mmap' }, { modules: '--modules', modes: '--modes' }), /--modes finit,mmap: unknown mmap \(want finit, finit-compressed, init, modprobe\)/);
});

test('--state: cold when left out; live only for a module that can be LIVE', () => {
  assert.equal(parsePlan({ parallel: '2' }).states, undefined);
  assert.deepEqual(parsePlan({ parallel: '2', states: 'cold,live' }).states, ['cold', 'live']);
  assert.throws(() => parsePlan({ parallel: '2', states: 'warm' }), /--state warm: unknown warm \(want cold, live\)/);
  assert.throws(() => parsePlan({ parallel: '2', modules: 'kml_fail', states: 'live' }), /--state live: kml_fail is never LIVE/);
});
