/**
 * Tests of the event log's listener kinds (src/sim/log.ts): a log switched on only for listeners
 * that name their kinds makes records of those kinds and no others; a stored log or a listener of
 * every kind still gets everything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sim } from '../../src/sim/index.js';

test('a log kept only for listeners of some kinds makes records of those kinds only', () => {
  const sim = new Sim();
  sim.log.store = false;
  const heard: string[] = [];
  sim.log.on((r) => heard.push(r.kind), ['alloc', 'free']);
  assert.equal(sim.log.wants('alloc'), true);
  assert.equal(sim.log.wants('same_name'), false);
  sim.log.emit('alloc', { size: 1 });
  sim.log.emit('same_name', { module: 'x' });
  sim.log.emit('free', { size: 1 });
  assert.deepEqual(heard, ['alloc', 'free']);
  assert.deepEqual(sim.log.records, []);
  // a listener of every kind: everything is made again, for both
  const all: string[] = [];
  sim.log.on((r) => all.push(r.kind));
  assert.equal(sim.log.wants('same_name'), true);
  sim.log.emit('same_name', { module: 'y' });
  assert.deepEqual(all, ['same_name']);
  assert.deepEqual(heard, ['alloc', 'free', 'same_name']);
});

test('a stored log keeps every kind whatever its listeners read; a log switched off wants nothing', () => {
  const sim = new Sim({ log: true });
  const heard: string[] = [];
  sim.log.on((r) => heard.push(r.kind), ['alloc']);
  sim.log.emit('wait', { on: 'q' });
  sim.log.emit('alloc', { size: 2 });
  assert.deepEqual(sim.log.records.map((r) => r.kind), ['wait', 'alloc']);
  assert.deepEqual(heard, ['wait', 'alloc']);
  const off = new Sim();
  assert.equal(off.log.wants('alloc'), false);
});
